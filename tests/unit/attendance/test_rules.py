"""The attended-time core: table cases from the mission, properties, and the batch version equal to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainquant.attendance.batch import attended_batch
from trainquant.attendance.rules import (
    COUNT_TO_LAST_EVENT,
    CREDIT_TO_END,
    IN,
    OUT,
    Interval,
    Punch,
    Window,
    attended,
)

T0 = datetime(2026, 9, 8, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
WIN = Window(T0, T0 + timedelta(hours=2))


def m(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def p(minutes: float, kind: str, eid: str = "") -> Punch:
    return Punch(m(minutes), kind, eid or f"{kind}@{minutes}")


def test_two_hours_attended_one_and_a_half_is_75_percent():
    a = attended([p(0, IN), p(60, OUT), p(90, IN), p(120, OUT)], WIN)
    assert a.attended_minutes == 90 and a.scheduled_minutes == 120 and a.participation == 0.75
    assert [(i.start, i.end) for i in a.away] == [(m(60), m(90))]
    assert a.flags == frozenset()


def test_late_and_early_leave_are_measured_in_the_window():
    a = attended([p(-10, IN), p(100, OUT)], WIN)  # checked in early: clipped to the start
    assert (a.attended_minutes, a.late_seconds, a.early_leave_seconds) == (100, 0, 20 * 60)
    a = attended([p(15, IN), p(130, OUT)], WIN)
    assert (a.attended_minutes, a.late_seconds, a.early_leave_seconds) == (105, 15 * 60, 0)


@pytest.mark.parametrize(
    "policy,expected_minutes",
    [(CREDIT_TO_END, 110), (COUNT_TO_LAST_EVENT, 0)],
)
def test_missing_checkout_policies(policy, expected_minutes):
    a = attended([p(10, IN)], Window(WIN.start, WIN.end, policy))
    assert a.attended_minutes == expected_minutes
    assert "no-checkout" in a.flags


def test_count_to_last_event_uses_the_last_punch():
    a = attended([p(10, IN), p(50, IN)], Window(WIN.start, WIN.end, COUNT_TO_LAST_EVENT))
    assert a.attended_minutes == 40 and {"no-checkout", "duplicate-in"} <= a.flags


def test_teaching_time_never_counts():
    # Checked in for the whole session, but the timetable has a class 14:30-15:30.
    teaching = [Interval(m(30), m(90))]
    a = attended([p(0, IN), p(120, OUT)], WIN, teaching)
    assert a.attended_minutes == 60 and "timetable-conflict" in a.flags
    assert a.late_seconds == 0 and [(i.start, i.end) for i in a.away] == [(m(30), m(90))]


def test_out_without_in_and_absence():
    a = attended([p(30, OUT)], WIN)
    assert a.attended_seconds == 0 and {"out-without-in", "absent"} <= a.flags
    a = attended([], WIN)
    assert a.participation == 0 and a.flags == {"absent"}


def test_punches_outside_the_window_count_nothing():
    a = attended([p(-60, IN), p(-10, OUT), p(125, IN), p(150, OUT)], WIN)
    assert a.attended_seconds == 0


# ---------------------------------------------------------------- properties

minutes_st = st.integers(min_value=-30, max_value=150)
punch_st = st.builds(lambda t, k, i: Punch(m(t), k, f"e{i}"), minutes_st, st.sampled_from([IN, OUT]), st.integers(0, 5))
punches_st = st.lists(punch_st, max_size=12)
teaching_st = st.lists(st.builds(lambda a, d: Interval(m(a), m(a + d)), st.integers(-20, 130), st.integers(1, 90)), max_size=3)
policy_st = st.sampled_from([CREDIT_TO_END, COUNT_TO_LAST_EVENT])


@given(punches_st, teaching_st, policy_st, st.randoms())
def test_any_order_gives_the_same_result(punches, teaching, policy, rnd):
    window = Window(WIN.start, WIN.end, policy)
    shuffled = list(punches)
    rnd.shuffle(shuffled)
    assert attended(punches, window, teaching) == attended(shuffled, window, teaching)


@given(punches_st, teaching_st, policy_st)
def test_attended_never_exceeds_scheduled(punches, teaching, policy):
    a = attended(punches, Window(WIN.start, WIN.end, policy), teaching)
    assert 0 <= a.attended_seconds <= a.scheduled_seconds
    assert 0 <= a.participation <= 1
    assert a.late_seconds >= 0 and a.early_leave_seconds >= 0


@given(punches_st, policy_st)
def test_a_duplicate_never_counts_twice(punches, policy):
    window = Window(WIN.start, WIN.end, policy)
    assert attended(punches + punches, window) == attended(punches, window)


@given(punches_st, teaching_st, policy_st, st.data())
def test_an_in_inside_presence_changes_no_figure(punches, teaching, policy, data):
    window = Window(WIN.start, WIN.end, policy)
    before = attended(punches, window, teaching)
    from trainquant.attendance.rules import pair

    raw, _ = pair(punches, policy, window.end)
    inside = [i for i in raw if (i.end - i.start) > timedelta(seconds=2)]
    if not inside:
        return
    iv = data.draw(st.sampled_from(inside))
    offset = data.draw(st.integers(1, int((iv.end - iv.start).total_seconds()) - 1))
    after = attended([*punches, Punch(iv.start + timedelta(seconds=offset), IN, "extra")], window, teaching)
    figures = lambda a: (a.attended_seconds, a.late_seconds, a.early_leave_seconds, a.present, a.away)  # noqa: E731
    assert figures(after) == figures(before)


# ---------------------------------------------------------------- batch == reference


def _epoch(d: datetime) -> int:
    return int(d.timestamp())


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(punches_st, teaching_st, policy_st, st.integers(60, 180)), min_size=1, max_size=8))
def test_batch_equals_reference(groups):
    g, at, out, tb = [], [], [], []
    ws, we, credit, teaching = [], [], [], {}
    expected = []
    for gid, (punches, classes, policy, length) in enumerate(groups):
        window = Window(T0, T0 + timedelta(minutes=length), policy)
        expected.append(attended(punches, window, classes))
        ws.append(_epoch(window.start))
        we.append(_epoch(window.end))
        credit.append(policy == CREDIT_TO_END)
        if classes:
            teaching[gid] = [(_epoch(c.start), _epoch(c.end)) for c in classes]
        for pu in punches:
            g.append(gid)
            at.append(_epoch(pu.at))
            out.append(pu.kind == OUT)
            tb.append(int(pu.event_id[1:]))
    res = attended_batch(
        np.array(g, dtype=np.int64), np.array(at, dtype=np.int64), np.array(out, dtype=bool), np.array(tb, dtype=np.int64),
        np.array(ws, dtype=np.int64), np.array(we, dtype=np.int64), np.array(credit, dtype=bool), teaching,
    )
    for gid, ref in enumerate(expected):
        assert (res.attended[gid], res.late[gid], res.early[gid]) == (ref.attended_seconds, ref.late_seconds, ref.early_leave_seconds), gid
        assert res.flag_names(gid) == ref.flags, gid
        assert res.away.get(gid, []) == [(_epoch(i.start), _epoch(i.end)) for i in ref.away], gid
