"""The effect reports as xlsx workbooks: one sheet per table, Chinese headers (HR lives in Excel)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from trainquant.analytics import effect

BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

FIGURE_HEADERS = ("报名人次", "已批准", "已拒绝", "候补", "待审批", "已取消", "已结束场次名额", "实际参训", "参与率", "考核人次", "通过率", "培训成本(元)")
KIND_HEADERS = ("考核类型", "人次", "平均分", "最低分", "最高分", "判定人次", "通过人次", "通过率")
INDICATOR_HEADERS = ("指标", "达标", "未达标", "无数据", "达标率")


def _pct(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def figure_cells(f: effect.Figures) -> list:
    p = f.participation
    return [p.enrolled, p.approved, p.rejected, p.waitlisted, p.requested, p.cancelled, p.completed, p.attended,
            _pct(p.participation), sum(s.count for s in f.assessments), _pct(f.pass_rate), f.cost]


def add_sheet(wb: Workbook, title: str, headers: Sequence[str], rows: Iterable[Sequence]) -> None:
    ws = wb.create_sheet(title[:31])
    header = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=h)
        cell.font, cell.fill = BOLD, HEADER_FILL
        header.append(cell)
    ws.append(header)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # names typed by people never become formulas
            cells.append(cell)
        ws.append(cells)


def _kinds(f: effect.Figures, names: dict[str, tuple[str, str, str]]) -> list[list]:
    rows = []
    for s in f.assessments:
        name, *_en, scale = names.get(s.kind, (s.kind, s.kind, "score"))
        if scale == "ratio":  # an error rate: 0.096154 is 9.6%
            rows.append([name, s.count, _pct(s.mean), _pct(s.min), _pct(s.max), s.judged, s.passed, _pct(s.pass_rate)])
        else:
            rows.append([name, s.count, None if s.mean is None else round(s.mean, 2), s.min, s.max, s.judged, s.passed, _pct(s.pass_rate)])
    return rows


def _indicators(f: effect.Figures, names: dict[str, tuple[str, str]]) -> list[list]:
    return [[names.get(i.indicator, (i.indicator,))[0], i.met, i.not_met, i.no_data, _pct(i.share_met)] for i in f.indicators]


def _common(wb: Workbook, label: str, f: effect.Figures, kinds: dict, indicators: dict) -> None:
    add_sheet(wb, "概况", ("对象", *FIGURE_HEADERS), [[label, *figure_cells(f)]])
    add_sheet(wb, "考核结果", KIND_HEADERS, _kinds(f, kinds))
    add_sheet(wb, "指标达标", INDICATOR_HEADERS, _indicators(f, indicators))


def workbook_bytes(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def overview_xlsx(rows: list[effect.Row]) -> bytes:
    wb = Workbook(write_only=True)
    add_sheet(wb, "培训项目", ("项目编码", "项目名称", *FIGURE_HEADERS), [[r.code, r.title, *figure_cells(r.figures)] for r in rows])
    return workbook_bytes(wb)


def _local(moment: datetime | None, zone: str) -> datetime | None:
    """A stored (UTC) moment as the school's clock reads it, without its zone (xlsx has none; the
    column's header names it)."""
    return None if moment is None else moment.astimezone(ZoneInfo(zone)).replace(tzinfo=None)


def program_xlsx(rep: effect.ProgramReport, kinds: dict, *, zone: str) -> bytes:
    wb = Workbook(write_only=True)
    _common(wb, f"{rep.program.code} {rep.program.title}", rep.figures, kinds, rep.names)
    add_sheet(wb, "场次", ("场次编码", f"开始时间（{zone}）", *FIGURE_HEADERS),
           [[r.code, _local(r.starts_at, zone), *figure_cells(r.figures)] for r in rep.sessions])
    return workbook_bytes(wb)


def session_xlsx(rep: effect.SessionReport, kinds: dict) -> bytes:
    wb = Workbook(write_only=True)
    _common(wb, rep.session.code, rep.figures, kinds, rep.names)
    add_sheet(wb, "学员", ("工号", "姓名", "报名状态", "参与率", "是否参训", "考核成绩", "原因"), [
        [p["employee"].employee_no, p["employee"].name, p["status"], _pct(p["participation"]), "是" if p["attended"] else "否",
         "; ".join(f"{kinds.get(a.kind_code, (a.kind_code,))[0]} {a.score if a.score is not None else ('通过' if a.passed else '未通过')}" for a in p["assessments"]),
         p["reason"]]
        for p in rep.people
    ])
    return workbook_bytes(wb)


def employee_xlsx(rep: effect.EmployeeReport, kinds: dict, *, zone: str) -> bytes:
    wb = Workbook(write_only=True)
    add_sheet(wb, "培训记录", ("项目编码", "项目名称", "场次编码", f"开始时间（{zone}）", "报名状态", "参与率", "是否参训"), [
        [t["program"].code, t["program"].title, t["session"].code, _local(t["session"].starts_at, zone), t["status"],
         _pct(t["participation"]), "是" if t["attended"] else "否"]
        for t in rep.trainings
    ])
    add_sheet(wb, "考核成绩", ("日期", "考核类型", "得分", "是否通过", "项目编码"), [
        [a.assessed_on, kinds.get(a.kind_code, (a.kind_code,))[0], a.score, None if a.passed is None else ("是" if a.passed else "否"),
         a.program.code if a.program else None]
        for a in rep.assessments
    ])
    status = {"met": "达标", "not_met": "未达标", "no_data": "无数据"}
    add_sheet(wb, "指标状态", ("指标", "状态", "数值", "阈值", "考核期末"), [
        [r.version.name, status.get(r.evaluation.status, r.evaluation.status), r.evaluation.value, r.evaluation.threshold, r.evaluation.period_end]
        for r in rep.indicators
    ])
    return workbook_bytes(wb)


def department_xlsx(rep: effect.DepartmentReport, kinds: dict) -> bytes:
    wb = Workbook(write_only=True)
    _common(wb, f"{rep.department.code} {rep.department.name}", rep.figures, kinds, rep.names)
    add_sheet(wb, "培训项目", ("项目编码", "项目名称", *FIGURE_HEADERS), [[r.code, r.title, *figure_cells(r.figures)] for r in rep.programs])
    return workbook_bytes(wb)
