"""Path and query parameters shared by every route: row ids and the dates and times of filters.

Ids are INTEGER columns: 64-bit on SQLite, 32-bit on PostgreSQL. An id past what the column holds can
be neither stored nor looked up (SQLite raises OverflowError past 2**63-1, PostgreSQL an out-of-range
error past 2**31-1), so an id outside 1 .. 2**31-1 is refused before any query, as a 422 naming the
parameter, whichever database serves the request. Dates and times given as filters stay within the same calendar range
as request bodies (``trainquant.schemas.EARLIEST`` .. ``LATEST``): a window or a UTC conversion from
0001-01-01 or 9999-12-31 would overflow.

Pages parse ids and dates out of text (form fields, query strings) with ``parse_id`` / ``parse_day``,
which answer None for anything that is not one.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Path, Query
from pydantic import TypeAdapter, ValidationError

from trainquant.ids import MAX_ID
from trainquant.schemas import EARLIEST, LATEST, JsonDate, JsonDateTime

PathId = Annotated[int, Path(ge=1, le=MAX_ID, description="a row id")]
QueryId = Annotated[int, Query(ge=1, le=MAX_ID, description="a row id")]
QueryDate = Annotated[JsonDate, Query(description=f"a date (YYYY-MM-DD) between {EARLIEST} and {LATEST}")]
QueryDateTime = Annotated[JsonDateTime, Query(description=f"an ISO 8601 time between {EARLIEST} and {LATEST}")]

_DAY = TypeAdapter(JsonDate)


def parse_id(text: str | None) -> int | None:
    """The id written in ``text`` ("42"), or None when it is not one a row could have."""
    value = (text or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 19:
        return None
    number = int(value)
    return number if 1 <= number <= MAX_ID else None


def parse_day(text: str | None) -> date | None:
    """The date written in ``text`` (YYYY-MM-DD) within the supported range, or None."""
    try:
        return _DAY.validate_python((text or "").strip())
    except ValidationError:
        return None

