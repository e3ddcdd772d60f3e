"""The error report of an import run (xlsx and JSON) and the empty templates users fill in."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

from trainquant import sheets
from trainquant.i18n import N_
from trainquant.i18n import gettext_ as _
from trainquant.imports import rules, texts
from trainquant.imports.models import ImportRejection, ImportRun

BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")

# What each template column expects, shown on the template's second sheet.
HINTS = {
    "employee_no": "必填;字母、数字、_ . -,最多 32 位 / required; letters, digits, _ . -",
    "name": "新员工必填,最多 64 字 / required for a new employee",
    "department": "部门编码或名称 / department code or name",
    "position": "最多 64 字",
    "hire_date": "2026-09-01、2026/9/1 或 2026年9月1日",
    "status": "在职 / 试用 / 休假 / 离职(留空 = 不变)",
    "hourly_cost": "元,最多两位小数,>= 0",
    "manager_no": "上级的工号",
    "site": "校区编码或名称",
    "email": "name@example.com",
    "phone": "数字、+、-、空格、括号",
    "tags": "用 , ; 、 或 | 分隔",
    "weekday": "1-7(1 = 周一)或 周一..周日 / Mon..Sun;一次性课程留空并填日期",
    "start_time": "09:00",
    "end_time": "10:30,须晚于开始时间",
    "course": "最多 100 字",
    "valid_from": "每周课程必填:从哪天起生效",
    "valid_to": "可空:最后一天",
    "date": "一次性课程的日期(此时星期留空)",
}


def error_dicts(rejections: Iterable[ImportRejection]) -> list[dict[str, Any]]:
    """The JSON form: one object per error, with the row as received."""
    return [
        {"row": r.row, "column": r.column, "code": r.code, "message": r.message, "raw": json.loads(r.raw) if r.raw else None}
        for r in rejections
    ]


def _text_cell(ws: Any, value: object, *, font: Font | None = None) -> WriteOnlyCell:
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # never let "=..." from an uploaded file become a formula in the report
    if font is not None:
        cell.font = font
    return cell


ERROR_HEADERS = (N_("Row"), N_("Column"), N_("Code"), N_("Message"), N_("Raw data"))


def errors_xlsx(run: ImportRun, rejections: Iterable[ImportRejection], *, zone: str) -> bytes:
    """The rejected rows in the reader's language: each message from its stored template (texts.detail),
    the code beside it for whoever searches the documentation; times in the school's zone, named."""
    wb = Workbook(write_only=True)
    rows = (
        (r.row, r.column or "", r.code, texts.detail({"params": r.params, "message": r.message}),
         "" if not r.raw else json.dumps(json.loads(r.raw), ensure_ascii=False))
        for r in rejections
    )
    sheets.add_sheet(wb, N_("Rejected rows"), ERROR_HEADERS, rows)
    at = run.created_at.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M")
    summary = (
        (_("File"), run.filename), (_("Kind"), texts.label("kind", run.kind)), (_("Mode"), texts.label("mode", run.mode)),
        (_("Status"), texts.label("status", run.status)), (_("Rows"), run.total_rows), (_("Created"), run.created_count),
        (_("Updated"), run.updated_count), (_("Unchanged"), run.unchanged_count), (_("Rejected rows"), run.rejected_count),
        (_("Imported by"), run.created_by), (_("Imported at (%(zone)s)") % {"zone": zone}, at), ("sha256", run.sha256),
    )
    sheets.add_sheet(wb, N_("Import"), (N_("Item"), N_("Value")), summary)
    return sheets.workbook_bytes(wb)


def template_xlsx(kind: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "员工" if kind == "employees" else "课表"
    headers = rules.template_headers(kind)
    ws.append(headers)
    for i in range(1, len(headers) + 1):
        cell = ws.cell(row=1, column=i)
        cell.font, cell.fill, cell.alignment = BOLD, HEADER_FILL, Alignment(horizontal="center")
        letter = cell.column_letter
        ws.column_dimensions[letter].width = 16
        # Text format keeps the leading zeros of 工号 and device PINs that Excel would drop.
        if i == 1:
            for row in range(2, 1002):
                ws.cell(row=row, column=i).number_format = "@"
    ws.freeze_panes = "A2"
    notes = wb.create_sheet("说明")
    notes.append(["列 / column", "也可写作 / also accepted", "格式 / format"])
    for c in notes[1]:
        c.font = BOLD
    for fld, aliases in rules.COLUMNS[kind].items():
        notes.append([aliases[0], ", ".join(aliases[1:]), HINTS.get(fld, "最多 64 字符 / up to 64 characters")])
    notes.column_dimensions["A"].width, notes.column_dimensions["B"].width, notes.column_dimensions["C"].width = 16, 50, 60
    return _save(wb)


def _save(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
