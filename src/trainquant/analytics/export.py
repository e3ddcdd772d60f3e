"""The effect reports as xlsx workbooks: one sheet per table (HR lives in Excel), headers in the
reader's language. Headers and sheet names are msgids, translated when a workbook is written."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from openpyxl import Workbook

from trainquant.analytics import effect, rules
from trainquant.analytics.definitions import ALLOCATED_COST, ATTENDANCE_RATE, PARTICIPATION_RATE, SHARE_MET, text
from trainquant.i18n import N_, current_locale
from trainquant.i18n import gettext_ as _
from trainquant.sheets import add_sheet, workbook_bytes

FIGURE_HEADERS = (N_("Enrolment records"), N_("Approved"), N_("Rejected"), N_("Waitlisted"), N_("Awaiting approval"), N_("Cancelled"),
                  N_("Places in ended sessions"), N_("Attended"), N_("Attendance rate"), N_("Participation rate"), N_("Assessments"),
                  N_("Pass rate"), N_("Indicators met (share)"), N_("Training cost (CNY)"))
KIND_HEADERS = (N_("Assessment"), N_("Count"), N_("Mean"), N_("Min"), N_("Max"), N_("Judged"), N_("Passed"), N_("Pass rate"))
INDICATOR_HEADERS = (N_("Indicator"), N_("Met"), N_("Not met"), N_("No data"), N_("Share met"))


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def figure_cells(f: effect.Figures) -> list:
    p = f.participation
    return [p.enrolled, p.approved, p.rejected, p.waitlisted, p.requested, p.cancelled, p.completed, p.attended,
            _pct(p.attendance_rate), _pct(p.participation), sum(s.count for s in f.assessments), _pct(f.pass_rate),
            _pct(rules.share_met(f.indicators)), f.cost]


def _english() -> bool:
    return current_locale.get() == "en"


def _named(pair: tuple, fallback: str) -> str:
    """(name, English name, ...) in the reader's language; the Chinese name where no English one is kept."""
    if not pair:
        return fallback
    return (pair[1] or pair[0]) if _english() and len(pair) > 1 else pair[0]


def _title(title: str, title_en: str | None) -> str:
    return title_en if _english() and title_en else title


def _yes(value: bool) -> str:
    return _("yes") if value else _("no")


STATUS = {"approved": N_("Approved"), "rejected": N_("Rejected"), "waitlisted": N_("Waitlisted"), "requested": N_("Awaiting approval"),
          "cancelled": N_("Cancelled"), "met": N_("Met"), "not_met": N_("Not met"), "no_data": N_("No data")}


def _status(code: str) -> str:
    return _(STATUS[code]) if code in STATUS else code


def _kinds(f: effect.Figures, names: dict[str, tuple[str, str, str]]) -> list[list]:
    rows = []
    for s in f.assessments:
        pair = names.get(s.kind, (s.kind, s.kind, "score"))
        name, scale = _named(pair, s.kind), pair[2]
        if scale == "ratio":  # an error rate: 0.096154 is 9.6%
            rows.append([name, s.count, _pct(s.mean), _pct(s.min), _pct(s.max), s.judged, s.passed, _pct(s.pass_rate)])
        else:
            rows.append([name, s.count, None if s.mean is None else round(s.mean, 2), s.min, s.max, s.judged, s.passed, _pct(s.pass_rate)])
    return rows


def _indicators(f: effect.Figures, names: dict[str, tuple[str, str]]) -> list[list]:
    return [[_named(names.get(i.indicator, ()), i.indicator), i.met, i.not_met, i.no_data, _pct(i.share_met)] for i in f.indicators]


def _common(wb: Workbook, label: str, f: effect.Figures, kinds: dict, indicators: dict) -> None:
    add_sheet(wb, N_("Summary"), (N_("Of"), *FIGURE_HEADERS), [[label, *figure_cells(f)]])
    add_sheet(wb, N_("Assessment results"), KIND_HEADERS, _kinds(f, kinds))
    add_sheet(wb, N_("Indicators met"), INDICATOR_HEADERS, _indicators(f, indicators))


def _program_rows(wb: Workbook, rows: list[effect.Row]) -> None:
    add_sheet(wb, N_("Training programs"), (N_("Program code"), N_("Program"), *FIGURE_HEADERS),
              [[r.code, _title(r.title, r.title_en), *figure_cells(r.figures)] for r in rows])


def _notes(wb: Workbook, allocated: bool, unallocated: Decimal | None) -> None:
    """How the workbook's rates and costs are defined, as the page says on hover."""
    lines: list[list] = [[_("Attendance rate"), text(ATTENDANCE_RATE)], [_("Participation rate"), text(PARTICIPATION_RATE)],
             [_("Indicators met (share)"), text(SHARE_MET)]]
    if allocated:
        lines.append([_("Training cost (CNY)"), text(ALLOCATED_COST)])
    if unallocated:
        lines.append([_("Not allocated (CNY)"), unallocated])
    add_sheet(wb, N_("Definitions"), (N_("Figure"), N_("Definition")), lines)


def overview_xlsx(overview: effect.Overview) -> bytes:
    wb = Workbook(write_only=True)
    _program_rows(wb, overview.rows)
    _notes(wb, overview.allocated, overview.unallocated)
    return workbook_bytes(wb)


def _local(moment: datetime | None, zone: str) -> datetime | None:
    """A stored (UTC) moment as the school's clock reads it, without its zone (xlsx has none; the
    column's header names it)."""
    return None if moment is None else moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def _starts(zone: str) -> str:
    return _("Starts (%(zone)s)") % {"zone": zone}


def program_xlsx(rep: effect.ProgramReport, kinds: dict, *, zone: str) -> bytes:
    wb = Workbook(write_only=True)
    _common(wb, f"{rep.program.code} {_title(rep.program.title, rep.program.title_en)}", rep.figures, kinds, rep.names)
    add_sheet(wb, N_("Sessions"), (N_("Session code"), _starts(zone), *FIGURE_HEADERS),
              [[r.code, _local(r.starts_at, zone), *figure_cells(r.figures)] for r in rep.sessions])
    _notes(wb, False, None)
    return workbook_bytes(wb)


def _score(a, kinds: dict) -> str:
    name = _named(kinds.get(a.kind_code, ()), a.kind_code)
    return f"{name} {a.score if a.score is not None else (_('passed') if a.passed else _('failed'))}"


def session_xlsx(rep: effect.SessionReport, kinds: dict) -> bytes:
    wb = Workbook(write_only=True)
    _common(wb, rep.session.code, rep.figures, kinds, rep.names)
    add_sheet(wb, N_("Participants"), (N_("Employee no."), N_("Name"), N_("Enrolment status"), N_("Participation rate"), N_("Attended"),
                                      N_("Assessment results"), N_("Reason")), [
        [p["employee"].employee_no, p["employee"].name, _status(p["status"]), _pct(p["participation"]), _yes(p["attended"]),
         "; ".join(_score(a, kinds) for a in p["assessments"]), p["reason"]]
        for p in rep.people
    ])
    _notes(wb, False, None)
    return workbook_bytes(wb)


def employee_xlsx(rep: effect.EmployeeReport, kinds: dict, *, zone: str) -> bytes:
    wb = Workbook(write_only=True)
    add_sheet(wb, N_("Trainings"), (N_("Program code"), N_("Program"), N_("Session code"), _starts(zone), N_("Enrolment status"),
                                   N_("Participation rate"), N_("Attended")), [
        [t["program"].code, _title(t["program"].title, t["program"].title_en), t["session"].code,
         _local(t["session"].starts_at, zone), _status(t["status"]), _pct(t["participation"]), _yes(t["attended"])]
        for t in rep.trainings
    ])
    add_sheet(wb, N_("Assessment results"), (N_("Date"), N_("Assessment"), N_("Score"), N_("Passed"), N_("Program code")), [
        [a.assessed_on, _named(kinds.get(a.kind_code, ()), a.kind_code), a.score, None if a.passed is None else _yes(a.passed),
         a.program.code if a.program else None]
        for a in rep.assessments
    ])
    add_sheet(wb, N_("Indicator status"), (N_("Indicator"), N_("Status"), N_("Value"), N_("Threshold"), N_("Period end")), [
        [_named((r.version.name, r.version.name_en), r.indicator.code), _status(r.evaluation.status), r.evaluation.value,
         r.evaluation.threshold, r.evaluation.period_end]
        for r in rep.indicators
    ])
    return workbook_bytes(wb)


def department_xlsx(rep: effect.DepartmentReport, kinds: dict) -> bytes:
    wb = Workbook(write_only=True)
    name = rep.department.name_en if _english() and rep.department.name_en else rep.department.name
    _common(wb, f"{rep.department.code} {name}", rep.figures, kinds, rep.names)
    _program_rows(wb, rep.programs)
    _notes(wb, True, None)
    return workbook_bytes(wb)
