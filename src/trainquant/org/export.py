"""The employee list as an xlsx workbook, its headers and statuses in the reader's language."""

from __future__ import annotations

from collections.abc import Iterable

from openpyxl import Workbook

from trainquant.i18n import N_
from trainquant.i18n import gettext_ as _
from trainquant.org import schemas
from trainquant.org.tags import tag_name
from trainquant.sheets import add_sheet, workbook_bytes

STATUSES = {"active": N_("Active"), "probation": N_("Probation"), "on_leave": N_("On leave"), "left": N_("Left")}
HEADERS = (N_("Employee no."), N_("Name"), N_("Department"), N_("Department code"), N_("Position"), N_("Campus"), N_("Hire date"),
           N_("Status"), N_("Manager"), N_("Email"), N_("Phone"), N_("Tags"))


def employees_xlsx(items: Iterable[schemas.EmployeeRead], *, show_cost: bool) -> bytes:
    wb = Workbook(write_only=True)
    rows = []
    for e in items:
        row: list = [e.employee_no, e.name, e.department_name, e.department_code, e.position, e.site_code, e.hire_date,
               _(STATUSES[e.status]) if e.status in STATUSES else e.status, e.manager_no, e.email, e.phone,
               ", ".join(tag_name(t) for t in e.tags)]
        if show_cost:
            row.append(None if e.hourly_cost is None else float(e.hourly_cost))
        rows.append(row)
    add_sheet(wb, N_("Employees"), (*HEADERS, *((N_("Hourly cost (CNY)"),) if show_cost else ())), rows)
    return workbook_bytes(wb)
