from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from trainquant.org.rules import Slot, expand_timetable, weekly_hours

SH = ZoneInfo("Asia/Shanghai")
MONDAY = date(2026, 9, 7)


def test_weekly_slot_expands_on_its_weekday_in_local_time():
    occ = expand_timetable([Slot(5, time(9), time(11, 30), date(2026, 9, 1))], [], start=MONDAY, end=MONDAY + timedelta(days=6), tz=SH)
    assert len(occ) == 1
    assert occ[0].local_day == date(2026, 9, 12) and occ[0].local_start == time(9)
    assert occ[0].starts_at == datetime(2026, 9, 12, 1, 0, tzinfo=UTC)
    assert occ[0].ends_at - occ[0].starts_at == timedelta(hours=2, minutes=30)


def test_validity_window_is_inclusive():
    slot = Slot(0, time(18), time(20), date(2026, 9, 7), date(2026, 9, 14))
    occ = expand_timetable([slot], [], start=date(2026, 8, 31), end=date(2026, 9, 27), tz=SH)
    assert [o.local_day for o in occ] == [date(2026, 9, 7), date(2026, 9, 14)]


def test_dated_classes_are_kept_in_their_window():
    s = datetime(2026, 9, 9, 10, tzinfo=UTC)
    occ = expand_timetable([], [(s, s + timedelta(hours=2), "补课"), (s + timedelta(days=30), s + timedelta(days=30, hours=1), None)],
                           start=MONDAY, end=MONDAY + timedelta(days=6), tz=SH)
    assert [(o.course, o.recurring) for o in occ] == [("补课", False)]


def test_weekly_hours_counts_only_slots_in_force():
    slots = [Slot(0, time(18), time(20), date(2026, 1, 1)), Slot(1, time(9), time(10, 30), date(2027, 1, 1))]
    assert weekly_hours(slots, date(2026, 9, 7)) == 2.0


slots_strategy = st.lists(
    st.builds(
        lambda wd, start, length, offset: Slot(wd, time(start), (datetime(2000, 1, 1, start) + timedelta(minutes=length)).time(), MONDAY - timedelta(days=offset)),
        st.integers(0, 6), st.integers(8, 20), st.sampled_from([30, 60, 90, 120, 180]), st.integers(0, 60),
    ),
    max_size=12,
)


@given(slots_strategy, st.integers(1, 8))
def test_weeks_repeat_and_hours_add_up(slots, weeks):
    """Expanding n weeks of slots that are all in force gives n times one week, in order, hours intact."""
    one = expand_timetable(slots, [], start=MONDAY, end=MONDAY + timedelta(days=6), tz=SH)
    many = expand_timetable(slots, [], start=MONDAY, end=MONDAY + timedelta(days=7 * weeks - 1), tz=SH)
    assert len(many) == weeks * len(one)
    assert all(a.starts_at <= b.starts_at for a, b in pairwise(many))
    hours = sum((o.ends_at - o.starts_at).total_seconds() for o in one) / 3600
    assert abs(hours - weekly_hours(slots, MONDAY)) < 1e-9


@given(slots_strategy)
def test_expansion_is_independent_of_slot_order(slots):
    a = expand_timetable(slots, [], start=MONDAY, end=MONDAY + timedelta(days=13), tz=SH)
    b = expand_timetable(list(reversed(slots)), [], start=MONDAY, end=MONDAY + timedelta(days=13), tz=SH)
    assert [(o.starts_at, o.ends_at) for o in a] == [(o.starts_at, o.ends_at) for o in b]
