"""``metrics.quick`` against the model it stands in for: whatever it reads, ``MetricRecordIn`` accepts
and reads to the same values; what it leaves alone, the model reads (or refuses, with its reason)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from trainquant.integrations.metrics import quick
from trainquant.integrations.metrics.schemas import MetricRecordIn

FIELDS = ("record_id", "metric", "value", "employee_no", "external_id", "system", "at", "period_start", "period_end")


def _times() -> st.SearchStrategy[str]:
    zones = st.sampled_from([UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-5, minutes=-30)), timezone(timedelta(hours=14))])
    usual = st.builds(lambda d, z, micro, zulu: (d.replace(tzinfo=z).isoformat(timespec="microseconds" if micro else "seconds")
                                                 .replace("+00:00", "Z" if zulu else "+00:00")),
                      st.datetimes(min_value=datetime(1899, 12, 30), max_value=datetime(2200, 1, 2)), zones, st.booleans(), st.booleans())
    odd = st.sampled_from(["2026-02-30T10:00:00+08:00", "2026-01-01T25:00:00Z", "2026-01-01 10:00:00+08:00", "2026-01-01T10:00:00",
                           "20260101T100000Z", "2026-01-01T10:00Z", "2026-01-01T10:00:00.1234567+08:00", "２０２６-01-01T10:00:00Z",
                           "2026-01-01T10:00:00+24:00", "1900-01-01T00:30:00+08:00", "2199-12-31T23:00:00-08:00", ""])
    return st.one_of(usual, odd)


ID = st.from_regex(r"[A-Za-z0-9:._ -]{1,30}", fullmatch=True)
TEXT = st.one_of(ID, ID, ID, st.text(min_size=0, max_size=130), st.sampled_from(["T-001", " T-001", "T-001 ", "教师01", "a\tb", "a\x00b", "x" * 81, "x" * 121]))
VALUES = st.one_of(st.integers(0, 1000), st.floats(0, 10), st.from_regex(r"-?[0-9]{1,6}(\.[0-9]{1,4})?", fullmatch=True), st.integers(min_value=-10**22, max_value=10**22), st.floats(allow_nan=True, allow_infinity=True), st.booleans(), st.none(),
                   st.sampled_from(["4.5", "-3", "1e5", " 4.5", "4.", ".5", "abc", "NaN", "４.5", "0.000001"]), st.just([1]))
PIECES = {
    "record_id": TEXT, "metric": st.one_of(st.sampled_from(["crm.leads", "teaching.rating.overall"]), TEXT), "value": VALUES,
    "employee_no": st.one_of(TEXT, st.none()), "external_id": st.one_of(TEXT, st.none()),
    "system": st.one_of(st.sampled_from(["crm", "oa", "teaching_platform", "CRM", "c r m", "x" * 41, ""]), st.none()),
    "at": st.one_of(_times(), st.none()), "period_start": _times(), "period_end": _times(),
}


@st.composite
def records(draw) -> dict:
    # Mostly the usual shape (who, a period, its end after its start), with each part sometimes odd.
    out: dict = {}
    for name in FIELDS:
        if draw(st.booleans()) or name in ("record_id", "metric", "value"):
            out[name] = draw(PIECES[name])
    when = draw(st.integers(0, 3))
    if when < 3:  # a usual when: a moment, or a period of zero to two weeks
        for name in ("at", "period_start", "period_end"):
            out.pop(name, None)
        start = draw(_times())
        if when == 0:
            out["at"] = start
        else:
            out["period_start"] = start
            parsed = quick.read({"record_id": "x", "metric": "m", "value": 1, "employee_no": "e", "at": start})
            end = parsed.at + timedelta(days=draw(st.integers(-1, 14))) if parsed is not None and parsed.at is not None else None
            out["period_end"] = end.isoformat() if end is not None and end.year < 2199 else draw(_times())
    if draw(st.booleans()):
        out.setdefault("external_id", draw(ID))
    if draw(st.integers(0, 4)) == 0:
        out[draw(st.sampled_from(["extra", "Value", "period"]))] = 1
    return out


def _model(raw: dict) -> quick.Fields | None:
    try:
        m = MetricRecordIn.model_validate(raw)
    except ValidationError:
        return None
    return quick.Fields(m.record_id, m.metric, m.value, m.employee_no, m.external_id, m.system, m.at, m.period_start, m.period_end)


@settings(max_examples=1500, deadline=None)
@given(records())
def test_what_quick_reads_the_model_reads_the_same(raw):
    got = quick.read(raw)
    if got is not None:
        expected = _model(raw)
        assert expected is not None, raw
        assert got == expected
        for name in ("value",):
            assert str(getattr(got, name)) == str(getattr(expected, name))  # the same digits, not only an equal number
        for name in ("at", "period_start", "period_end"):
            a, b = getattr(got, name), getattr(expected, name)
            assert (a is None) == (b is None) and (a is None or a.utcoffset() == b.utcoffset())


def test_the_usual_records_are_read_quickly():
    usual = [
        {"record_id": "W1:crm.leads", "metric": "crm.leads", "value": 12, "external_id": "C1",
         "period_start": "2026-01-05T00:00:00+08:00", "period_end": "2026-01-12T00:00:00+08:00"},
        {"record_id": "R-9", "metric": "teaching.rating.overall", "value": 4.65, "employee_no": "T001", "at": "2026-03-01T09:30:00.250000Z"},
        {"record_id": "o1", "metric": "crm.order_amount", "value": "12800.50", "external_id": "C1", "system": "crm",
         "period_start": "2026-01-05T00:00:00Z", "period_end": "2026-01-05T00:00:00Z"},
    ]
    for raw in usual:
        got = quick.read(raw)
        assert got is not None and got == _model(raw), raw
    assert quick.read(usual[2]).value == Decimal("12800.50")  # type: ignore[union-attr]


def test_the_unusual_ones_are_left_to_the_model():
    base = {"record_id": "W1", "metric": "crm.leads", "value": 12, "external_id": "C1", "at": "2026-01-05T00:00:00+08:00"}
    for change in ({"value": True}, {"value": "1e5"}, {"external_id": " C1"}, {"external_id": "教师"}, {"at": "2026-01-05 00:00:00+08:00"},
                   {"period_start": "2026-01-05T00:00:00+08:00"}, {"extra": 1}, {"external_id": None}, {"value": float("nan")}):
        assert quick.read({**base, **change}) is None, change
    # ...which reads some of them (a value in exponent notation, a time with a space) and refuses the rest.
    assert _model({**base, "value": "1e5"}) is not None and _model({**base, "value": True}) is None


@st.composite
def usual_records(draw) -> dict:
    at = draw(st.datetimes(min_value=datetime(1902, 1, 1), max_value=datetime(2197, 1, 1), timezones=st.sampled_from(
        [UTC, timezone(timedelta(hours=8)), timezone(timedelta(hours=-3, minutes=-30))])))
    text = at.isoformat(timespec=draw(st.sampled_from(["seconds", "microseconds"])))
    out = {"record_id": draw(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9:._ -]{0,40}[A-Za-z0-9]", fullmatch=True)),
           "metric": draw(st.sampled_from(["crm.leads", "teaching.rating.overall", "oa.process_minutes"])),
           "value": draw(st.one_of(st.integers(-10**6, 10**6), st.floats(-1e6, 1e6, allow_nan=False),
                                   st.from_regex(r"-?[0-9]{1,8}(\.[0-9]{1,6})?", fullmatch=True))),
           draw(st.sampled_from(["employee_no", "external_id"])): draw(st.from_regex(r"[A-Z]{1,3}[0-9]{1,6}", fullmatch=True))}
    if draw(st.booleans()):
        out["at"] = text
    else:
        out["period_start"], out["period_end"] = text, (at + timedelta(days=draw(st.integers(0, 31)))).isoformat()
    if draw(st.booleans()):
        out["system"] = draw(st.sampled_from(["crm", "oa", "teaching_platform"]))
    return out


@settings(max_examples=500, deadline=None)
@given(usual_records())
def test_every_usual_record_is_read_quickly_and_as_the_model_reads_it(raw):
    got = quick.read(raw)
    assert got is not None, raw
    assert got == _model(raw)
