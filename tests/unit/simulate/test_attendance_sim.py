"""The simulated check-ins: deterministic, valid events, every behaviour present, truth consistent."""

from collections import Counter
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from trainquant.attendance.checkin.schemas import MAX_BATCH, EventIn
from trainquant.simulate.attendance.generate import (
    COUNT_TO_LAST_EVENT,
    CREDIT_TO_END,
    MEASURED_SINCE_DAYS,
    expected,
    generate_checkins,
)
from trainquant.simulate.institution.school import generate
from trainquant.simulate.training.generate import generate_training

TODAY = date(2026, 9, 1)
EARLY = timedelta(hours=2)  # what ingest accepts around a session


@pytest.fixture(scope="module")
def school():
    return generate(2026, today=TODAY)


@pytest.fixture(scope="module")
def year(school):
    return generate_training(school, 2026)


@pytest.fixture(scope="module")
def stream(school, year):
    return generate_checkins(school, year)


def test_the_same_seed_gives_the_same_stream_and_another_seed_another(school, year, stream):
    again = generate_checkins(school, year)
    assert again.events == stream.events and again.truth == stream.truth and again.classes == stream.classes
    assert generate_checkins(school, year, seed=7).events != stream.events


def test_every_event_is_a_valid_event_in_with_the_sessions_method(year, stream):
    sessions = {s.code: s for s in year.sessions}
    for batch in stream.batches:
        assert 0 < len(batch.events) <= MAX_BATCH
        for raw in batch.events:
            e = EventIn.model_validate(raw)
            s = sessions[e.session]
            assert s.starts_at - EARLY <= e.at <= s.ends_at + EARLY and e.at.utcoffset() is not None
            if e.method == "manual":
                assert s.checkin_methods == ("qr",) and s.online and e.reason and batch.source == "wecom"
            else:
                assert e.method in s.checkin_methods
            if e.method in ("face", "fingerprint"):
                assert e.device_id in {d.device_id for d in stream.devices} and batch.source == "zkteco"
                assert e.external_system == "device_pin" and e.external_id
            if e.method == "geo":
                assert e.lat is not None and e.accuracy_m is not None and e.device_id and batch.source == "api"
    methods = Counter(raw["method"] for raw in stream.events)
    assert {"face", "fingerprint", "geo", "manual"} <= set(methods)
    assert {raw.get("coord_system") for raw in stream.events if raw["method"] == "geo"} == {"wgs84", "gcj02"}
    first = [raw["event_id"] for b in stream.batches if not b.resent for raw in b.events]
    assert len(first) == len(set(first))  # ids are unique except in the resent batch


def test_every_behaviour_occurs(stream):
    seen = stream.behaviours()
    for behaviour in ("full", "late", "early-leave", "forgot-checkout", "leaves-for-class", "teaches-while-checked-in", "absent", "proxied"):
        assert seen[behaviour] > 0, behaviour
    resent = [b for b in stream.batches if b.resent]
    assert len(resent) == 1 and resent[0].source == "zkteco"
    sent_before = {raw["event_id"] for b in stream.batches if not b.resent for raw in b.events}
    assert {raw["event_id"] for raw in resent[0].events} <= sent_before


def test_the_truth_follows_the_behaviour(stream):
    for t in stream.truth.values():
        assert 0 <= t.attended_seconds <= t.scheduled_seconds
        if t.behaviour in ("absent", "elsewhere", "teaching"):
            assert t.attended_seconds == t.real_seconds == 0 and t.late_seconds is None
        if t.behaviour == "proxied":
            assert t.real_seconds == 0 < t.attended_seconds
        if t.behaviour == "late":
            assert t.late_seconds >= 8 * 60
        if t.behaviour == "early-leave":
            assert t.early_leave_seconds >= 15 * 60
        if t.behaviour == "forgot-checkout":
            assert t.early_leave_seconds == 0 and t.attended_seconds >= t.real_seconds
        if t.behaviour in ("leaves-for-class", "teaches-while-checked-in"):
            assert t.attended_seconds < t.scheduled_seconds
    for g in stream.proxy_groups:
        assert stream.truth[(g.session_code, g.signer)].behaviour == "full"
        assert all(stream.truth[(g.session_code, no)].behaviour == "proxied" for no in g.absent)


@pytest.mark.parametrize("today", [TODAY, date(2026, 12, 1)])
def test_teachers_participation_goes_from_75_to_92_percent_once_the_school_measures(today):
    """The case school's line: the share of teachers' places attended at the session's minimum, in the
    half-year before the school began to measure and the half-year since."""
    school = generate(2026, today=today)
    year = generate_training(school, 2026)
    stream = generate_checkins(school, year)
    since = datetime.combine(today - timedelta(days=MEASURED_SINCE_DAYS), time.min, ZoneInfo("Asia/Shanghai"))
    start = since - timedelta(days=MEASURED_SINCE_DAYS)
    ends = {s.code: s.ends_at for s in year.sessions}
    teaching = {e.employee_no for e in school.employees if school.truth.employees[e.employee_no].kind == "teaching"}
    halves: dict[bool, list[bool]] = {False: [], True: []}
    for (session, no), t in stream.truth.items():
        if no in teaching and ends[session] >= start:
            halves[ends[session] >= since].append(t.participation >= 0.8)
    before, after = (sum(halves[h]) / len(halves[h]) for h in (False, True))
    assert 0.70 <= before <= 0.80 and 0.87 <= after <= 0.96, (before, after)


def test_expected_closes_a_forgotten_checkout_per_policy():
    window, classes = (0, 7200), [(3600, 4500)]
    assert expected([(60, 7000)], True, window, [], CREDIT_TO_END) == (7140, 60, 0)
    assert expected([(60, 7000)], True, window, [], COUNT_TO_LAST_EVENT) == (0, None, None)
    assert expected([(60, 3400), (4700, 7300)], False, window, classes, CREDIT_TO_END) == (3340 + 2500, 60, 0)
    assert expected([(60, 3400), (4700, 6000)], True, window, classes, CREDIT_TO_END) == (3340 + 2500, 60, 0)
