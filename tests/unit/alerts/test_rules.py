"""Alert cause selection and the department time pattern."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainquant.alerts import rules as ar

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
