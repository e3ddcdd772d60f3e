"""The error report of an import run (xlsx and JSON) and the empty templates users fill in."""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

from trainquant.imports import rules
from trainquant.imports.models import ImportRejection, ImportRun

REPORT_HEADERS = ("行 / row", "列 / column", "代码 / code", "说明 / message", "原始数据 / raw")
REPORT_WIDTHS = (10, 18, 22, 60, 80)
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


def errors_xlsx(run: ImportRun, rejections: Iterable[ImportRejection]) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("错误 errors")
    for i, width in enumerate(REPORT_WIDTHS):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    ws.freeze_panes = "A2"
    ws.append([_text_cell(ws, h, font=BOLD) for h in REPORT_HEADERS])
    for r in rejections:
        raw = "" if not r.raw else json.dumps(json.loads(r.raw), ensure_ascii=False)
        ws.append([_text_cell(ws, v) for v in (r.row, r.column or "", r.code, r.message, raw)])
    summary = wb.create_sheet("导入 run")
    for key, value in (
        ("文件 file", run.filename), ("类型 kind", run.kind), ("方式 mode", run.mode), ("结果 status", run.status),
        ("总行数 rows", run.total_rows), ("新增 created", run.created_count), ("更新 updated", run.updated_count),
        ("未变 unchanged", run.unchanged_count), ("拒绝 rejected", run.rejected_count),
        ("导入人 by", run.created_by), ("时间 at (UTC)", run.created_at.strftime("%Y-%m-%d %H:%M:%S")), ("sha256", run.sha256),
    ):
        summary.append([_text_cell(summary, key, font=BOLD), _text_cell(summary, value)])
    return _save(wb)


def template_xlsx(kind: str) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "员工" if kind == "employees" else "课表"
    headers = rules.template_headers(kind)
    ws.append(headers)
    for i, _ in enumerate(headers, start=1):
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
