"""What every request body shares: strict parsing and the JSON forms of dates, times and money.

A request body is parsed strictly: a number sent as a string, a boolean sent for a number or a
number for a boolean is a 422 naming the field, never silently coerced ("88" is not 88.0). JSON has
no date, time or decimal type, so those travel as text and are parsed here:

- ``JsonDate`` / ``JsonDateTime`` / ``JsonAwareDateTime``: ISO 8601 text, within ``EARLIEST`` ..
  ``LATEST`` (a time at the calendar's edge, such as 0001-01-01T00:00:00+08:00, cannot be converted to
  UTC or have a window before it; no training record is that old or that far ahead);
- ``JsonTime``: a local wall-clock time without an offset (the site's time zone applies; an offset is
  refused rather than dropped);
- ``JsonDecimal``: a JSON number or a decimal string (the string keeps every digit exactly).

Text never holds the NUL character (PostgreSQL cannot store it). HTML forms send only text; pages
validate the same models with ``strict=False``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    TypeAdapter,
    WithJsonSchema,
    field_validator,
)

EARLIEST = date(1900, 1, 1)
LATEST = date(2199, 12, 31)

_LAX_DATE = TypeAdapter(date)
_LAX_DATETIME = TypeAdapter(datetime)
_LAX_TIME = TypeAdapter(time)


class StrictInput(BaseModel):
    """The base of every request body: unknown fields refused, text trimmed, types strict, no NUL in text."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, strict=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        # PostgreSQL text cannot hold U+0000 and no field means one: refused here, naming the field,
        # rather than by the database as a 500. Nested models check their own fields.
        if has_nul(value):
            raise ValueError("the text must not contain the NUL character (U+0000)")
        return value


def has_nul(value: Any) -> bool:
    """Whether text anywhere in ``value`` (nested dicts and lists included) holds U+0000."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return any(has_nul(v) for v in value)
    return False


def _text_to(adapter: TypeAdapter[Any], kind: type) -> Any:
    def parse(value: Any) -> Any:
        # Only text is parsed; anything else (a number, a boolean) reaches the strict check and fails there.
        return adapter.validate_python(value) if isinstance(value, str) and not isinstance(value, kind) else value

    return parse


def _date_in_range(value: date) -> date:
    if not EARLIEST <= value <= LATEST:
        raise ValueError(f"the date must be between {EARLIEST} and {LATEST}")
    return value


def _datetime_in_range(value: datetime) -> datetime:
    if value.tzinfo is not None:
        try:
            utc = value.astimezone(UTC)
        except OverflowError:
            raise ValueError(f"the time must be between {EARLIEST} and {LATEST}") from None
        _date_in_range(utc.date())
    _date_in_range(value.date())
    return value


def _naive_time(value: time) -> time:
    if value.tzinfo is not None:
        raise ValueError("give a local time without a UTC offset (such as 08:30); the site's time zone applies")
    return value


def _decimal(value: Any) -> Any:
    if isinstance(value, bool):
        return value  # refused by the strict check: true is not a number
    if isinstance(value, int | float | str) and not isinstance(value, Decimal):
        try:
            parsed = Decimal(str(value).strip())
        except InvalidOperation:
            raise ValueError("not a decimal number") from None
        if not parsed.is_finite():
            raise ValueError("not a finite decimal number")
        return parsed
    return value


JsonDate = Annotated[date, BeforeValidator(_text_to(_LAX_DATE, date)), AfterValidator(_date_in_range)]
JsonDateTime = Annotated[datetime, BeforeValidator(_text_to(_LAX_DATETIME, datetime)), AfterValidator(_datetime_in_range)]
JsonAwareDateTime = Annotated[AwareDatetime, BeforeValidator(_text_to(_LAX_DATETIME, datetime)), AfterValidator(_datetime_in_range)]
JsonTime = Annotated[
    time, BeforeValidator(_text_to(_LAX_TIME, time)), AfterValidator(_naive_time),
    WithJsonSchema({"type": "string", "pattern": r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?$",
                    "description": "local wall-clock time, HH:MM or HH:MM:SS, without an offset"}),
]
JsonDecimal = Annotated[
    Decimal, BeforeValidator(_decimal),
    WithJsonSchema({"anyOf": [{"type": "number"}, {"type": "string", "pattern": r"^-?\d+(\.\d+)?$"}]}),
]
