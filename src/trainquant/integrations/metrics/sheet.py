"""A metric history sheet (xlsx/csv) turned into records for ``ingest_records``. Pure.

Columns (Chinese or English headers, as HR writes them): 指标 / metric, 数值 / value, 工号 /
employee_no or 外部账号 / external_id (with 系统 / system), and 时间 / at or 开始 / period_start with
结束 / period_end; 记录编号 / record_id is optional. A time without an offset is the school's local
time. Without a record id a row's id is its content's hash, so the same sheet uploaded again is
answered as repeats, row by row, and a changed row is a new record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from trainquant.imports.rules import DATETIME_FORMATS, cell_text, local_datetime, normalise_header

ALIASES = {
    "record_id": ("记录编号", "记录号", "recordid", "id"),
    "metric": ("指标", "指标代码", "metric", "metrickey"),
    "value": ("数值", "值", "value"),
    "employee_no": ("工号", "员工编号", "employeeno"),
    "external_id": ("外部账号", "外部编号", "externalid"),
    "system": ("系统", "来源系统", "system"),
    "at": ("时间", "日期", "at", "time", "date"),
    "period_start": ("开始", "开始时间", "periodstart", "start"),
    "period_end": ("结束", "结束时间", "periodend", "end"),
}
FORMATS = (*DATETIME_FORMATS, "%Y/%m/%d")  # and a bare date: the start of the day


class SheetError(ValueError):
    """The sheet as a whole is not a metric history."""


def columns(header: Sequence[object]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = normalise_header(cell)
        for field, names in ALIASES.items():
            if key in names and field not in found:
                found[field] = index
    if "metric" not in found or "value" not in found or not ({"employee_no", "external_id"} & set(found)) or not (
            "at" in found or {"period_start", "period_end"} <= set(found)):
        raise SheetError("the sheet needs the columns 指标 (metric), 数值 (value), 工号 (employee_no) or 外部账号 (external_id), "
                         "and 时间 (at) or 开始 and 结束 (period_start, period_end)")
    return found


def _time(value: object, zone: ZoneInfo) -> object:
    """ISO text with the offset, or the cell as it is (the record's validation then names it)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time())
    at = local_datetime(value, zone, formats=FORMATS)
    return at.isoformat() if at is not None else value


def records(header: Sequence[object], rows: Sequence[tuple[int, Sequence[object]]], *, zone: ZoneInfo) -> list[tuple[int, dict]]:
    """(row number, record) for every row."""
    at = columns(header)
    out = []
    for number, cells in rows:
        def cell(field: str, cells: Sequence[object] = cells) -> object:
            i = at.get(field)
            return cells[i] if i is not None and i < len(cells) else None

        record: dict[str, object] = {}
        for field in ("metric", "employee_no", "external_id", "system"):
            if (text := cell_text(cell(field))) is not None:
                record[field] = text
        record["value"] = cell_text(cell("value"))
        for field in ("at", "period_start", "period_end"):
            if cell(field) not in (None, ""):
                record[field] = _time(cell(field), zone)
        given = cell_text(cell("record_id"))
        content = json.dumps(record, sort_keys=True, ensure_ascii=False, default=str)
        record["record_id"] = given or "row-" + hashlib.sha256(content.encode()).hexdigest()[:32]
        out.append((number, record))
    return out
