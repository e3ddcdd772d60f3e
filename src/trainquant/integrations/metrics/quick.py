"""The usual metric record read without the model, for the bulk ways in (a pull's pages, big batches). Pure.

``read(raw)`` gives the record's fields as ``MetricRecordIn`` reads them, or None when the record is
not of the usual shape: then the model reads it and says what is wrong. It accepts a subset of what
the model accepts and reads it to the same values (a property test compares the two on generated
records), so which reader took a record never shows in its verdict or its stored row. The usual shape:
known fields only, text in printable ASCII and already trimmed, a number or a plain decimal
string as the value, and times as ``YYYY-MM-DDTHH:MM:SS[.ffffff]`` with ``Z`` or ``±HH:MM`` in the years
1901-2198 (the model refuses times outside 1900-2199, and its wider formats are left to it).

The model's field validators run in Python: it takes about 2.3 times as long a record as this.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

FIELDS = frozenset({"record_id", "metric", "value", "employee_no", "external_id", "system", "at", "period_start", "period_end"})
_PRINTABLE = re.compile(r"[\x21-\x7e]|[\x21-\x7e][\x20-\x7e]*[\x21-\x7e]")
_SOURCE = re.compile(r"[a-z0-9_.-]{1,40}")
# ASCII digits only (``\d`` would take any script's).
_TIME = re.compile(r"(19|20|21)[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})")
_NUMBER = re.compile(r"-?[0-9]{1,20}(\.[0-9]{1,20})?")


@dataclass(slots=True, frozen=True)
class Fields:
    """A record's fields once read (by this module or by the model)."""

    record_id: str
    metric: str
    value: Decimal
    employee_no: str | None = None
    external_id: str | None = None
    system: str | None = None
    at: datetime | None = None
    period_start: datetime | None = None
    period_end: datetime | None = None


def _text(value: Any, longest: int) -> str | None:
    # Printable ASCII, no space at either end: what every strip agrees on, and no control character
    # (the model refuses those in ids and NUL anywhere). Other text is the model's to read.
    return value if type(value) is str and len(value) <= longest and _PRINTABLE.fullmatch(value) else None


def _time(value: Any) -> datetime | None:
    return _parse_time(value) if type(value) is str else None


@lru_cache(maxsize=4096)  # a batch's records share a few times (their weeks)
def _parse_time(value: str) -> datetime | None:
    if not _TIME.fullmatch(value):
        return None
    try:
        at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:  # a day or hour that does not exist (2026-02-30, 25:00)
        return None
    # Years 1901-2198: the model's limits are 1900-01-01 and 2199-12-31 in local and UTC time alike.
    return at if 1900 < at.year < 2199 else None


def _value(value: Any) -> Decimal | None:
    kind = type(value)
    if kind is int:
        return Decimal(value) if abs(value) < 10**20 else None
    if kind is float:
        text = str(value)
    elif kind is str and _NUMBER.fullmatch(value):
        text = value
    else:
        return None
    try:
        parsed = Decimal(text)
    except InvalidOperation:  # pragma: no cover  # both shapes above are decimals
        return None
    return parsed if parsed.is_finite() else None


def read(raw: Any) -> Fields | None:
    """The record's fields, or None: the model must read it (it may be wrong, or only unusual)."""
    if type(raw) is not dict or not raw.keys() <= FIELDS:
        return None
    record_id = _text(raw.get("record_id"), 120)
    metric = _text(raw.get("metric"), 64)
    value = _value(raw.get("value"))
    if record_id is None or metric is None or value is None:
        return None
    employee_no = external_id = system = None
    if "employee_no" in raw and (employee_no := _text(raw["employee_no"], 80)) is None:
        return None
    if "external_id" in raw and (external_id := _text(raw["external_id"], 80)) is None:
        return None
    if "system" in raw and (raw["system"] is None or type(raw["system"]) is not str or not _SOURCE.fullmatch(raw["system"])):
        return None
    system = raw.get("system")
    if employee_no is None and external_id is None:
        return None
    at = start = end = None
    if "at" in raw and (at := _time(raw["at"])) is None:
        return None
    if "period_start" in raw and (start := _time(raw["period_start"])) is None:
        return None
    if "period_end" in raw and (end := _time(raw["period_end"])) is None:
        return None
    if at is not None:
        if start is not None or end is not None:
            return None
    elif start is None or end is None or end < start:
        return None
    return Fields(record_id, metric, value, employee_no, external_id, system, at, start, end)
