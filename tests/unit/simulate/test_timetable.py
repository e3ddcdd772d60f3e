"""Teachers' timetables look like a language school's, for any seed."""

import random
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trainquant.simulate.institution.school import generate
from trainquant.simulate.institution.timetable import (
    LINES,
    MAX_WEEKLY_HOURS,
    MIN_WEEKLY_HOURS,
    PRIME_PERIODS,
    Block,
    make_up_lessons,
    period_of,
    weekly_blocks,
)

TODAY = date(2026, 9, 1)


def hours(start: time, end: time) -> float:
    return (datetime.combine(TODAY, end) - datetime.combine(TODAY, start)).total_seconds() / 3600


def check_school_timetables(school) -> None:
    teachers = {e.employee_no: e for e in school.employees_of_kind("teaching")}
    by_teacher: dict[str, list] = {}
    for s in school.slots:
        by_teacher.setdefault(s.employee_no, []).append(s)
    assert set(by_teacher) == set(teachers)  # marketing and admin have no timetable
    for no, slots in by_teacher.items():
        total = sum(hours(s.start_time, s.end_time) for s in slots)
        assert MIN_WEEKLY_HOURS <= total <= MAX_WEEKLY_HOURS, (no, total)
        prime = sum(hours(s.start_time, s.end_time) for s in slots if period_of(s.weekday, s.start_time) in PRIME_PERIODS)
        assert prime / total > 0.6, (no, prime, total)
        blocks = [Block(s.weekday, s.start_time, s.end_time) for s in slots]
        for i, a in enumerate(blocks):
            assert 1.5 <= a.hours <= 3
            assert time(8, 30) <= a.start and a.end <= time(21, 0)
            assert not any(a.overlaps(b) for b in blocks[i + 1:]), (no, a)
        emp = teachers[no]
        assert all(s.valid_from == max(school.truth.term_start, emp.hire_date) and s.valid_to is None for s in slots)
        assert all(s.site == emp.site and s.course for s in slots)
        if emp.department == "TEACH-KIDS":  # children are at school on weekday daytime
            assert all(s.weekday >= 5 or s.start_time >= time(16, 30) for s in slots)
    for c in school.classes:
        weekly = [Block(s.weekday, s.start_time, s.end_time) for s in by_teacher[c.employee_no]]
        one_off = Block(c.day.weekday(), c.start_time, c.end_time)
        assert not any(one_off.overlaps(b) for b in weekly)
        assert abs((c.day - school.today).days) <= 21 and c.course.startswith("补课")


def test_the_default_school_timetables():
    school = generate(2026, today=TODAY)
    check_school_timetables(school)
    assert len(school.classes) > 20
    total = sum(hours(s.start_time, s.end_time) for s in school.slots)
    prime = sum(hours(s.start_time, s.end_time) for s in school.slots if period_of(s.weekday, s.start_time) in PRIME_PERIODS)
    assert prime / total > 0.8  # the school as a whole teaches mostly in the evening and at weekends
    weekday_day = sum(hours(s.start_time, s.end_time) for s in school.slots if s.weekday < 5 and s.start_time < time(16))
    assert weekday_day / total < 0.08
    weekly = [t.weekly_class_hours for t in school.truth.of_kind("teaching")]
    assert 18 <= sum(weekly) / len(weekly) <= 22


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(min_value=0, max_value=2**31), days=st.integers(min_value=0, max_value=3 * 365))
def test_invariants_hold_for_any_seed(seed, days):
    check_school_timetables(generate(seed, today=date(2025, 1, 1) + timedelta(days=days)))


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32), line=st.sampled_from(sorted(LINES)), target=st.floats(min_value=10, max_value=30))
def test_a_week_is_always_filled_without_overlaps(seed, line, target):
    blocks = weekly_blocks(random.Random(seed), line, target)
    total = sum(b.hours for b in blocks)
    assert MIN_WEEKLY_HOURS <= total <= MAX_WEEKLY_HOURS
    assert total >= min(max(target, MIN_WEEKLY_HOURS), MAX_WEEKLY_HOURS) - 1.5  # close to what was asked
    assert all(not a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1:])


@pytest.mark.parametrize(("weekday", "start", "period"), [
    (5, time(9), "weekend"), (6, time(19), "weekend"), (0, time(18), "evening"), (4, time(16, 30), "after_school"),
    (2, time(10), "daytime"),
])
def test_periods(weekday, start, period):
    assert period_of(weekday, start) == period


def test_make_up_lessons_avoid_the_weekly_classes_and_the_past_before_hiring():
    blocks = [Block(d, time(9), time(21)) for d in range(7) if d != 1]  # only Tuesdays are free
    lessons = make_up_lessons(random.Random(1), blocks, today=TODAY, not_before=TODAY, count=2)
    assert lessons and all(day.weekday() == 1 and day >= TODAY for day, _, _ in lessons)
