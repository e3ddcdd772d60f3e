"""Request bodies are parsed strictly; dates, times and decimals travel as text and are parsed with care."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import Field, ValidationError

from trainquant.schemas import (
    EARLIEST,
    LATEST,
    JsonAwareDateTime,
    JsonDate,
    JsonDecimal,
    JsonTime,
    StrictInput,
)


class Body(StrictInput):
    n: int = 0
    x: float = 0.0
    flag: bool = False
    day: JsonDate | None = None
    at: JsonAwareDateTime | None = None
    start: JsonTime | None = None
    amount: JsonDecimal | None = None


@pytest.mark.parametrize("data, field", [
    ({"n": "30"}, "n"), ({"n": True}, "n"), ({"n": 1.5}, "n"), ({"x": "88"}, "x"), ({"x": True}, "x"), ({"flag": 1}, "flag"),
    ({"flag": "true"}, "flag"), ({"day": 20260101}, "day"), ({"amount": True}, "amount"), ({"amount": "1e400x"}, "amount"),
    ({"amount": "NaN"}, "amount"), ({"at": "2026-09-01T10:00:00"}, "at"), ({"other": 1}, "other"),
])
def test_a_wrong_type_is_refused_naming_the_field(data, field):
    with pytest.raises(ValidationError) as exc:
        Body.model_validate(data)
    assert exc.value.errors()[0]["loc"][0] == field


def test_the_json_forms_are_parsed():
    body = Body.model_validate({"n": 3, "x": 2, "day": "2026-09-01", "at": "2026-09-01T10:00:00+08:00", "start": "08:30", "amount": "12.50"})
    assert (body.n, body.x, body.day, body.start, body.amount) == (3, 2.0, date(2026, 9, 1), time(8, 30), Decimal("12.50"))
    assert body.at == datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
    assert Body.model_validate({"amount": 12.5}).amount == Decimal("12.5")


@pytest.mark.parametrize("value", ["00:00:00Z", "08:30+08:00", "23:59:59-12:00"])
def test_a_time_with_an_offset_is_refused_not_stripped(value):
    with pytest.raises(ValidationError, match="without a UTC offset"):
        Body.model_validate({"start": value})


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-12:00", "1899-12-31T23:00:00+00:00"])
def test_a_time_at_the_calendars_edges_is_refused(value):
    with pytest.raises(ValidationError, match="between"):
        Body.model_validate({"at": value})


@given(st.dates())
def test_a_date_is_accepted_exactly_when_it_is_within_the_range(day):
    if EARLIEST <= day <= LATEST:
        assert Body.model_validate({"day": day.isoformat()}).day == day
    else:
        with pytest.raises(ValidationError):
            Body.model_validate({"day": day.isoformat()})


@given(st.datetimes(timezones=st.sampled_from([timezone(timedelta(hours=h)) for h in (-12, -5, 0, 8, 14)])))
def test_an_aware_time_is_accepted_exactly_when_it_and_its_utc_are_within_the_range(at):
    try:
        utc = at.astimezone(UTC)
        inside = EARLIEST <= utc.date() <= LATEST and EARLIEST <= at.date() <= LATEST
    except OverflowError:
        inside = False
    if inside:
        assert Body.model_validate({"at": at.isoformat()}).at == at
    else:
        with pytest.raises(ValidationError):
            Body.model_validate({"at": at.isoformat()})


def test_pages_validate_form_text_leniently():
    assert Body.model_validate({"n": "5", "flag": "true", "day": "2026-09-01"}, strict=False).n == 5


class Nested(StrictInput):
    name: str = ""
    tags: list[str] = Field(default_factory=list)
    params: dict[str, str] = Field(default_factory=dict)
    body: Body | None = None


@pytest.mark.parametrize(("data", "loc"), [
    ({"name": "a\x00b"}, ("name",)), ({"tags": ["ok", "\x00"]}, ("tags",)), ({"params": {"k\x00": "v"}}, ("params",)),
    ({"params": {"k": "\x00"}}, ("params",)),
])
def test_text_with_a_nul_character_is_refused_naming_the_field(data, loc):
    with pytest.raises(ValidationError, match="NUL") as exc:
        Nested.model_validate(data)
    assert exc.value.errors()[0]["loc"] == loc


def test_text_without_one_passes():
    assert Nested.model_validate({"name": "张三", "tags": ["a"], "params": {"k": "v"}}).name == "张三"
