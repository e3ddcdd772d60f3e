"""Slot ranking never counts a person free during a class; the cover seats everyone coverable, minimally on small cases."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from trainquant.training.scheduling import rules as sr

SH = ZoneInfo("Asia/Shanghai")
TUESDAY = date(2026, 9, 1)


def local(day: date, h: int, m: int = 0) -> datetime:
    return datetime.combine(day, time(h, m), SH).astimezone(UTC)


def teacher(eid: int, *classes: tuple[int, int]) -> sr.Person:
    return sr.Person(eid, f"T{eid}", f"t{eid}", "TEACH", "teaching", tuple(sr.Busy(local(TUESDAY, a), local(TUESDAY, b), sr.TEACHING, "class") for a, b in classes))


def test_candidates_on_the_grid_within_the_day():
    c = sr.candidates(TUESDAY, TUESDAY, length_minutes=120, tz=SH)
    assert c[0].start == local(TUESDAY, 8) and c[-1].end == local(TUESDAY, 21)
    assert len(c) == 23  # 08:00 ... 19:00 every 30 min


def test_the_free_tuesday_afternoon_wins():
    # R2.1: classes in the morning and evening; Tuesday 14:00-16:00 has none.
    people = [teacher(1, (9, 12), (18, 21)), teacher(2, (10, 12), (16, 18)), teacher(3, (8, 13))]
    ranked = sr.rank(sr.evaluate(people, sr.candidates(TUESDAY, TUESDAY, length_minutes=120, tz=SH), tz=SH))
    best = ranked[0]
    assert best.free_count == 3 and best.start == local(TUESDAY, 13)
    assert local(TUESDAY, 14) in [o.start for o in ranked if o.free_count == 3]
    nine = next(o for o in ranked if o.start == local(TUESDAY, 9))
    assert {m.employee_id: m.reason for m in nine.missing} == {1: "teaching", 2: "teaching", 3: "teaching"}


def test_marketing_weekend_peak():
    saturday = date(2026, 9, 5)
    m = sr.Person(7, "M7", "m", "MKT", "marketing")
    ranked = sr.evaluate([m], sr.candidates(saturday, saturday, length_minutes=60, tz=SH), peaks=sr.DEFAULT_PEAKS, tz=SH)
    at_ten = next(o for o in ranked if o.start == local(saturday, 10))
    assert at_ten.free_count == 0 and at_ten.missing[0].reason == "peak"
    assert next(o for o in ranked if o.start == local(saturday, 19)).free_count == 1


hours = st.tuples(st.integers(8, 20), st.integers(1, 3)).map(lambda t: (t[0], min(21, t[0] + t[1])))


@given(st.lists(st.lists(hours, max_size=3), min_size=1, max_size=6), st.integers(30, 180))
@settings(max_examples=60, deadline=None)
def test_never_free_during_a_class_and_ranking_is_deterministic(timetables, length):
    people = [teacher(i, *t) for i, t in enumerate(timetables)]
    options = sr.evaluate(people, sr.candidates(TUESDAY, TUESDAY, length_minutes=length, tz=SH), tz=SH)
    for o in options:
        for p in people:
            teaching = any(b.start < o.end and b.end > o.start for b in p.busy)
            assert (p.employee_id in o.free) == (not teaching)
    assert sr.rank(options) == sr.rank(list(reversed(options)))


def brute_force(options: list[sr.SlotOption], capacity: int) -> int:
    people = sorted({e for o in options for e in o.free})
    if not people:
        return 0
    for k in range(1, len(people) + 1):
        for combo in itertools.combinations_with_replacement(options, k):
            # feasible if every subset S of people fits: Hall's condition, checked by trying every assignment
            for choice in itertools.product(*[[i for i, o in enumerate(combo) if e in o.free] or [None] for e in people]):
                if None in choice:
                    break
                if all(choice.count(i) <= capacity for i in range(k)):
                    return k
    raise AssertionError("unreachable")


slot_sets = st.lists(st.frozensets(st.integers(0, 5), max_size=6), min_size=1, max_size=4)


@given(slot_sets, st.integers(1, 4))
@settings(max_examples=120, deadline=None)
def test_cover_is_complete_and_minimal_on_small_cases(sets, capacity):
    options = [sr.SlotOption(local(TUESDAY, 8 + i), local(TUESDAY, 9 + i), tuple(sorted(s)), tuple(sr.Missing(e, "teaching") for e in range(6) if e not in s))
               for i, s in enumerate(sets)]
    plan = sr.cover(options, capacity=capacity)
    coverable = set().union(*sets)
    seated = [e for s in plan.sessions for e in s.employee_ids]
    assert sorted(seated) == sorted(coverable)  # everyone coverable, once
    assert all(len(s.employee_ids) <= capacity for s in plan.sessions)
    for s in plan.sessions:
        slot = next(o for o in options if o.start == s.start)
        assert set(s.employee_ids) <= set(slot.free)
    assert set(plan.uncoverable) == set(range(6)) - coverable
    best = brute_force(options, capacity)
    assert plan.lower_bound <= best
    assert plan.optimal and len(plan.sessions) == best


def test_greedy_alone_can_be_beaten_and_the_plan_says_so():
    # The classic greedy trap: a big slot overlapping two halves.
    a, b, c = frozenset({0, 1, 2, 3}), frozenset({4, 5, 6, 7}), frozenset({0, 1, 4, 5, 8})
    opts = [sr.SlotOption(local(TUESDAY, 8 + i), local(TUESDAY, 9 + i), tuple(sorted(s)), ()) for i, s in enumerate([a, b, c, frozenset({2, 3, 6, 7, 8})])]
    plan = sr.cover(opts, capacity=10)
    assert len(plan.sessions) == 2 and plan.optimal
    greedy_only = sr.cover(opts, capacity=10, exact_up_to=0)
    assert len(greedy_only.sessions) >= 2 and greedy_only.lower_bound <= 2


@given(slot_sets, st.integers(1, 4), st.integers(1, 4))
@settings(max_examples=150, deadline=None)
def test_a_smallest_group_plans_no_session_below_it_and_loses_nobody(sets, capacity, min_group):
    min_group = min(min_group, capacity)
    options = [sr.SlotOption(local(TUESDAY, 8 + i), local(TUESDAY, 9 + i), tuple(sorted(s)), tuple(sr.Missing(e, "teaching") for e in range(6) if e not in s))
               for i, s in enumerate(sets)]
    plan = sr.cover(options, capacity=capacity, min_group=min_group)
    coverable = set().union(*sets)
    seated = [e for s in plan.sessions for e in s.employee_ids]
    assert len(seated) == len(set(seated))  # nobody twice
    assert set(seated) | set(plan.too_few) == coverable and not set(seated) & set(plan.too_few)  # nobody lost
    for s in plan.sessions:
        assert min_group <= len(s.employee_ids) <= capacity
        assert set(s.employee_ids) <= set(next(o for o in options if o.start == s.start).free)
    # Whoever is left over could not have been gathered: no slot has min_group of them free.
    for o in options:
        assert len(set(o.free) & set(plan.too_few)) < min_group or any(
            x.start == o.start and len(x.employee_ids) == capacity for x in plan.sessions)


def test_the_last_parallel_group_of_one_is_not_planned():
    # Issue 13: 31 people free at one slot, 30 seats: a second session for one person. With a smallest
    # group of 5, four move over from the first: two parallel groups of 26 and 5.
    one_slot = [sr.SlotOption(local(TUESDAY, 14), local(TUESDAY, 16), tuple(range(31)), ())]
    assert [len(s.employee_ids) for s in sr.cover(one_slot, capacity=30).sessions] == [30, 1]
    plan = sr.cover(one_slot, capacity=30, min_group=5)
    assert sorted(len(s.employee_ids) for s in plan.sessions) == [5, 26] and plan.too_few == ()
    # 3 free only at a slot nobody else is free at: no group of 5 gathers them; HR is told who.
    apart = [sr.SlotOption(local(TUESDAY, 14), local(TUESDAY, 16), tuple(range(20)), ()),
             sr.SlotOption(local(TUESDAY, 18), local(TUESDAY, 20), (40, 41, 42), ())]
    plan = sr.cover(apart, capacity=30, min_group=5)
    assert [len(s.employee_ids) for s in plan.sessions] == [20] and plan.too_few == (40, 41, 42)
    # A later slot where the one is free with others who can move there: a group of 5 meets then.
    two = [*one_slot, sr.SlotOption(local(TUESDAY, 18), local(TUESDAY, 20), tuple(range(25, 31)), ())]
    plan = sr.cover(two, capacity=30, min_group=5)
    assert sorted(len(s.employee_ids) for s in plan.sessions) == [5, 26] and plan.too_few == ()
