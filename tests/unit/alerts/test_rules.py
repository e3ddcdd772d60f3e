"""Alert cause selection and the department time pattern."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainquant.alerts import rules as ar
from trainquant.alerts.rules import Missed, month_of, summarise

H = 3600


@pytest.mark.parametrize(("figures", "cause"), [
    (ar.Figures(0, 2 * H, flags=frozenset({"absent"})), "absent"),
    (ar.Figures(H, 2 * H, late_seconds=H), "late"),
    (ar.Figures(H, 2 * H, early_leave_seconds=H), "left-early"),
    (ar.Figures(H, 2 * H, early_leave_seconds=H, flags=frozenset({"no-checkout"})), "no-checkout"),
    (ar.Figures(H, 2 * H, away_seconds=H), "away"),
    # teaching for an hour of the session explains the lost hour better than anything else
    (ar.Figures(H, 2 * H, teaching_seconds=H, flags=frozenset({"timetable-conflict"})), "timetable-conflict"),
    # late by 30 min because the class ended 30 min into the session: tie -> the class
    (ar.Figures(int(1.5 * H), 2 * H, late_seconds=H // 2, teaching_seconds=H // 2), "timetable-conflict"),
    # late 10 min, left 50 min early: most minutes lost wins
    (ar.Figures(H, 2 * H, late_seconds=600, early_leave_seconds=3000), "left-early"),
    # absent while teaching the whole session
    (ar.Figures(0, 2 * H, teaching_seconds=2 * H, flags=frozenset({"absent"})), "timetable-conflict"),
])
def test_likely_cause(figures, cause):
    assert ar.likely_cause(figures).cause == cause


def test_threshold():
    assert ar.is_low(ar.Figures(int(1.5 * H), 2 * H))  # 75% < 80%
    assert not ar.is_low(ar.Figures(int(1.6 * H), 2 * H))


@given(st.integers(0, 7200), st.integers(0, 7200), st.integers(0, 7200), st.integers(0, 7200))
def test_the_cause_is_the_largest_loss(late, early, away, teaching):
    f = ar.Figures(3600, 7200, late, early, away, teaching)
    got = ar.likely_cause(f)
    assert got.lost_seconds == max(ar.minutes_lost(f).values(), default=got.lost_seconds)


def test_clashing_sessions_and_alternatives():
    t = datetime(2026, 9, 8, 6, tzinfo=UTC)
    classes = [ar.Span(t, t + timedelta(hours=2))]
    a, b = ar.Upcoming("S2", t + timedelta(hours=1), t + timedelta(hours=3)), ar.Upcoming("S3", t + timedelta(days=1), t + timedelta(days=1, hours=2))
    assert ar.clashing([b, a], classes) == [a]
    assert ar.free_alternatives([a, b], classes) == [b]


def test_marketing_weekends_are_the_pattern():
    rows = [ar.Attendance(1, 0.95, 2, 14, 1)] * 5 + [ar.Attendance(1, 0.3, 5, 10, 2)] * 6 + [ar.Attendance(2, 0.9, 5, 10, 2)] * 5
    found = ar.department_patterns(rows)
    assert [p.department_id for p in found] == [1]
    assert found[0].cause == "weekend-sessions" and found[0].worst.name == "weekend"


def test_uniformly_low_is_low_overall():
    rows = [ar.Attendance(1, 0.5, d % 7, 9 + d % 10, d) for d in range(14)]
    assert ar.department_patterns(rows)[0].cause == "low-overall"


def test_one_session_is_not_a_pattern():
    assert ar.department_patterns([ar.Attendance(1, 0.2, 5, 10, 1)] * 20) == []


# ---------------------------------------------------------------- one alert per person per month

@given(st.dates(min_value=date(1900, 1, 1), max_value=date(9999, 11, 30)))
def test_a_month_holds_its_day_from_the_first_to_the_last(day):
    first, last = month_of(day)
    assert first.day == 1 and first <= day <= last
    assert (first.year, first.month) == (day.year, day.month) == (last.year, last.month)
    assert (last + timedelta(days=1)).day == 1


def test_month_of_by_hand():
    assert month_of(date(2026, 2, 14)) == (date(2026, 2, 1), date(2026, 2, 28))
    assert month_of(date(2028, 2, 29)) == (date(2028, 2, 1), date(2028, 2, 29))
    assert month_of(date(2026, 12, 31)) == (date(2026, 12, 1), date(2026, 12, 31))


def test_a_months_cause_is_each_sessions_cause_weighted_by_its_loss():
    # Late 20 min in three sessions (60 in all) beats one absence of 50 min... of a 50-minute session.
    missed = [Missed(i, 6000, 7200, 0.9, (("late", 1200),)) for i in (1, 2, 3)] + [Missed(4, 0, 3000, 0.9, (("absent", 3000),))]
    got = summarise(missed)
    assert got.cause == "late" and got.threshold == 0.9
    assert got.participation == 18000 / 24600
    # A tie goes to the cause named first in CAUSE_PRIORITY; thresholds that differ give none.
    tie = summarise([Missed(1, 0, 3600, 0.8, (("left-early", 3600),)), Missed(2, 0, 3600, 0.7, (("absent", 3600),))])
    assert (tie.cause, tie.threshold) == ("absent", None)
