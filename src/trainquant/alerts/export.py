"""The alert inbox as an xlsx workbook: one row per alert, its sessions' sentences in the reader's language."""

from __future__ import annotations

from openpyxl import Workbook

from trainquant.alerts import texts
from trainquant.alerts.models import Alert
from trainquant.sheets import add_sheet, workbook_bytes
from trainquant.web.templating import shown

N_ = texts.N_
HEADERS = (N_("Kind"), N_("Status"), N_("Employee no."), N_("Name"), N_("Department"), N_("From"), N_("To"), N_("Sessions"),
           N_("Participation rate"), N_("Minimum"), N_("Cause"), N_("Detail"), N_("Raised at"), N_("Handled by"))


def alerts_xlsx(alerts: list[Alert], emps: dict, deps: dict, codes: dict, *, zone: str) -> bytes:
    wb = Workbook(write_only=True)
    rows = []
    for a in alerts:
        emp, dep = emps.get(a.employee_id), deps.get(a.department_id)
        sessions = [i["code"] for i in a.sessions or []] or ([codes[a.session_id]] if a.session_id in codes else [])
        rows.append([texts.kind(a.kind), texts.status(a.status), emp.employee_no if emp else None, emp.name if emp else None,
                     shown(dep, "name") if dep else None, a.period_start, a.period_end, ", ".join(sessions),
                     None if a.value is None else round(a.value * 100, 1), None if a.threshold is None else round(a.threshold * 100, 1),
                     texts.cause(a.cause), "\n".join(texts.lines(a, zone)), a.created_at.replace(tzinfo=None), a.handled_by])
    add_sheet(wb, N_("Participation alerts"), HEADERS, rows)
    return workbook_bytes(wb)
