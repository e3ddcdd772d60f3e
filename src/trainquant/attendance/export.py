"""A session's attendance board as an xlsx workbook, in the reader's language and the school's zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from trainquant.attendance.live import Board
from trainquant.i18n import N_
from trainquant.i18n import gettext_ as _
from trainquant.sheets import add_sheet, workbook_bytes

STATES = {"in": N_("In the room"), "stayed": N_("Stayed to the end, no check-out"), "left": N_("Left the room"), "never-came": N_("Never came")}
FLAGS = {"no-checkout": N_("No check-out"), "timetable-conflict": N_("Timetable conflict"), "duplicate-in": N_("Checked in twice"),
         "out-without-in": N_("Check-out without check-in"), "absent": N_("Absent")}


def _local(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    return None if moment is None else moment.astimezone(zone).replace(tzinfo=None)


def board_xlsx(board: Board, *, zone: str) -> bytes:
    tz = ZoneInfo(zone)
    wb = Workbook(write_only=True)
    first_in, left = _("First check-in (%(zone)s)") % {"zone": zone}, _("Left at (%(zone)s)") % {"zone": zone}
    add_sheet(wb, N_("Attendance board"), (N_("Employee no."), N_("Name"), N_("Department"), N_("State"), first_in, left,
                                           N_("Attended minutes"), N_("Scheduled minutes"), N_("Participation rate"), N_("Flags")), [
        [r.employee_no, r.name, r.department, _(STATES[r.state]) if r.state in STATES else r.state, _local(r.first_in, tz), _local(r.left_at, tz),
         round(r.figures.attended_seconds / 60, 1), round(r.figures.scheduled_seconds / 60, 1), round(r.figures.participation * 100, 1),
         ", ".join(_(FLAGS[f]) if f in FLAGS else f for f in r.flags)]
        for r in board.rows
    ])
    return workbook_bytes(wb)

