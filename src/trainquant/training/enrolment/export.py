"""The approvals inbox as an xlsx workbook, in the reader's language and the school's zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from trainquant.i18n import N_
from trainquant.i18n import gettext_ as _
from trainquant.sheets import add_sheet, workbook_bytes
from trainquant.training import schemas
from trainquant.web.templating import pick


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def approvals_xlsx(items: list[schemas.EnrolmentRead], *, zone: str) -> bytes:
    wb = Workbook(write_only=True)
    starts = _("Starts (%(zone)s)") % {"zone": zone}
    add_sheet(wb, N_("Approvals"), (N_("Employee no."), N_("Name"), N_("Department code"), N_("Program code"), N_("Program"), N_("Session code"),
                                    starts, N_("Requested"), N_("Note")), [
        [e.employee_no, e.employee_name, e.department_code, e.program_code, pick(e.program_title, e.program_title_en), e.session_code,
         _local(e.starts_at, zone), _local(e.created_at, zone), e.reason]
        for e in items
    ])
    return workbook_bytes(wb)
