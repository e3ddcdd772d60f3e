"""The ingestion hot path validates into dicts (``validate_event``): it must judge every input exactly as ``EventIn`` does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from trainquant.attendance.checkin.schemas import EventIn, validate_event

aware = st.datetimes(timezones=st.sampled_from([UTC, timezone(timedelta(hours=8))])).map(datetime.isoformat)
# Near the calendar's edges (1900-01-01, 2199-12-31) with any offset, and datetime objects: the hot
# path judges these again exactly, so it must still agree.
offsets = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m)))
edges = st.one_of(
    st.datetimes(min_value=datetime(1899, 12, 29), max_value=datetime(1900, 1, 4), timezones=offsets),
    st.datetimes(min_value=datetime(2199, 12, 28), max_value=datetime(2200, 1, 2), timezones=offsets),
)
times = st.one_of(aware, edges.map(datetime.isoformat), edges)
short = st.text(min_size=1, max_size=20).filter(str.strip)
VALID_REQUIRED = {
    "kind": st.sampled_from(["in", "out"]),
    "at": times,
    "method": st.sampled_from(["face", "qr", "geo", "manual"]),
    "employee_no": st.sampled_from(["E1", " E2 "]),
}
VALID_OPTIONAL = {
    "event_id": short,
    "external_id": short,
    "external_system": st.sampled_from(["wecom", "dingtalk"]),
    "session": st.just("S1"),
    "device_id": st.one_of(st.none(), short),
    "accuracy_m": st.floats(0, 100),
    "coord_system": st.sampled_from(["wgs84", "gcj02"]),
    "qr_token": st.text(max_size=20),
    "reason": st.one_of(st.none(), st.text(max_size=5)),
    "evidence": st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
}
INVALID = {
    "kind": st.sampled_from(["IN", "", None]),
    "at": st.one_of(st.datetimes().map(datetime.isoformat), st.text(max_size=10)),  # no offset, or not a time
    "method": st.just("palm"),
    "employee_no": st.one_of(st.none(), st.just(" "), st.text(min_size=81, max_size=90)),
    "event_id": st.one_of(st.integers(), st.just(" ")),
    "external_system": st.just("fax"),
    "lat": st.one_of(st.floats(allow_nan=True), st.text(max_size=3), st.floats(-90, 90).map(str), st.booleans()),
    "lng": st.one_of(st.floats(-400, 400), st.sampled_from(["116.4", "1e2", True, False])),
    "accuracy_m": st.one_of(st.floats(-10, 200_000), st.booleans(), st.sampled_from(["10", "0"])),
    "device_id": st.one_of(st.integers(), st.just("ZK\x001"), st.just("\n")),
    "coord_system": st.just("bd09"),
    "qr_token": st.text(min_size=201, max_size=210),
    "evidence": st.integers(),
    "surplus": st.integers(),
}


@st.composite
def raw_events(draw):
    """A valid event, then none to a few things wrong with it (a wrong value, a missing field, half a coordinate)."""
    raw = draw(st.fixed_dictionaries(VALID_REQUIRED, optional=VALID_OPTIONAL))
    if draw(st.booleans()):
        raw["lat"], raw["lng"] = draw(st.floats(-90, 90)), draw(st.floats(-180, 180))
    for name in draw(st.lists(st.sampled_from(sorted(INVALID)), max_size=2)):
        raw[name] = draw(INVALID[name])
    for name in draw(st.lists(st.sampled_from(["kind", "at", "method", "employee_no", "lng"]), max_size=1)):
        raw.pop(name, None)
    return raw


def _judge(validate, raw):
    try:
        return "ok", validate(raw)
    except ValidationError as exc:
        return "error", [(e["loc"], e["msg"]) for e in exc.errors()]


@settings(max_examples=1000)
@given(raw_events())
def test_validate_event_judges_as_the_model_does(raw):
    model = _judge(EventIn.model_validate, raw)
    fast = _judge(validate_event, raw)
    event(model[0])
    if model[0] == "ok":
        assert fast == ("ok", model[1].model_dump())
    else:
        assert fast == model


@pytest.mark.parametrize("raw", [[], "x", 1, None])
def test_anything_but_an_object_is_refused_by_both(raw):
    assert _judge(validate_event, raw)[0] == _judge(EventIn.model_validate, raw)[0] == "error"


def test_defaults_are_filled_and_text_is_stripped():
    e = validate_event({"employee_no": " E1 ", "kind": "in", "at": "2026-09-01T08:00:00+08:00", "method": "face"})
    assert e["employee_no"] == "E1" and e["coord_system"] == "wgs84" and e["lat"] is None
    assert e["at"] == datetime(2026, 9, 1, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize("raw, loc, words", [
    ({"kind": "in", "at": "2026-09-01T08:00:00Z", "method": "face"}, (), "give employee_no"),
    ({"employee_no": "E", "kind": "in", "at": "2026-09-01T08:00:00Z", "method": "face", "lat": 1}, (), "lat and lng go together"),
    ({"employee_no": "E", "kind": "in", "at": "2026-09-01T08:00:00", "method": "face"}, ("at",), "timezone"),
])
def test_cross_field_rules_name_the_problem(raw, loc, words):
    with pytest.raises(ValidationError) as exc:
        validate_event(raw)
    assert exc.value.errors()[0]["loc"] == loc and words in exc.value.errors()[0]["msg"]


@pytest.mark.parametrize("field, value", [("lat", "39.9"), ("lng", "116.4"), ("accuracy_m", True), ("accuracy_m", "10"), ("kind", 1), ("employee_no", 7)])
def test_values_of_another_type_are_refused_naming_the_field_not_coerced(field, value):
    raw = {"employee_no": "E1", "kind": "in", "at": "2026-09-01T08:00:00+08:00", "method": "geo", "lat": 39.9, "lng": 116.4, field: value}
    for validate in (EventIn.model_validate, validate_event):
        with pytest.raises(ValidationError) as exc:
            validate(raw)
        assert exc.value.errors()[0]["loc"] == (field,)


@pytest.mark.parametrize("at", ["0001-01-01T00:00:00+08:00", "9999-12-31T23:59:59-12:00", "1899-12-31T23:59:59+00:00", "2200-01-01T00:00:00Z"])
def test_times_outside_the_calendar_every_body_keeps_are_refused(at):
    raw = {"employee_no": "E1", "kind": "in", "at": at, "method": "face"}
    with pytest.raises(ValidationError) as exc:
        validate_event(raw)
    assert exc.value.errors()[0]["loc"] == ("at",) and "between 1900-01-01 and 2199-12-31" in exc.value.errors()[0]["msg"]
