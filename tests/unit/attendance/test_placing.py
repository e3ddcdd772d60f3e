"""Placement of platform punches: hand-computed day examples, and the invariants of the module
(a punch outside every window changes nothing else, the order of the export changes nothing, and
neither changes the figures the attendance core computes from the placed punches)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from trainquant.attendance import rules
from trainquant.attendance.platforms import placing
from trainquant.attendance.platforms.placing import Fence, Placement, Punch, Slot, Windows, place

DAY = datetime(2026, 9, 8, tzinfo=UTC)  # 08:00 in Shanghai
W = Windows()  # 60 min before, 60 min after, 60 s double tap

# Three rooms in Shanghai, about 1 km apart, each with its device (venue id) and a 100 m fence.
FENCES = {
    1: Fence(31.2304, 121.4737, 100.0),
    2: Fence(31.2394, 121.4737, 100.0),  # ~1 km north of room 1
    3: Fence(31.2304, 121.4842, 100.0),  # ~1 km east of room 1
}


def at(hour: int, minute: int = 0, second: int = 0) -> datetime:
    return DAY.replace(hour=hour, minute=minute, second=second)


# --- figures via the attendance core, built independently of placing.py ----------------------------


def figures(punches: list[Punch], slots: list[Slot], placed: dict[str, Placement]) -> dict[tuple[int, str], rules.Attendance]:
    """The core's figures for every (person, slot) from the punches placed "attached"."""
    by_key = {p.key: p for p in punches}
    groups: dict[tuple[int, str], list[rules.Punch]] = {}
    for key, pl in placed.items():
        if pl.status == "attached":
            p = by_key[key]
            groups.setdefault((p.employee_id, pl.session), []).append(rules.Punch(p.at, pl.kind, key))
    people = {p.employee_id for p in punches}
    return {(person, s.code): rules.attended(groups.get((person, s.code), []), rules.Window(s.starts_at, s.ends_at)) for person in people for s in slots}


# --- strategies --------------------------------------------------------------------------------------


@st.composite
def slots_st(draw) -> list[Slot]:
    n = draw(st.integers(1, 3))
    out = []
    for i in range(n):
        start = DAY + timedelta(hours=6) + timedelta(minutes=draw(st.integers(0, 6 * 60)))
        length = timedelta(minutes=draw(st.integers(15, 180)))
        venue = i + 1
        with_device = draw(st.booleans())
        with_fence = draw(st.booleans())
        enrolled = frozenset(draw(st.sets(st.integers(1, 4), max_size=4)))
        out.append(
            Slot(
                code=f"S{i}",
                starts_at=start,
                ends_at=start + length,
                venue_id=venue if with_device else None,
                fence=FENCES[venue] if with_fence else None,
                enrolled=enrolled,
            )
        )
    return out


times = st.integers(0, 24 * 3600 - 1).map(lambda s: DAY + timedelta(seconds=s))
# Clusters near the interesting instants too, so double taps and window edges come up.
near = st.tuples(st.sampled_from([6, 7, 8, 9, 10, 12, 14]), st.integers(-3600, 3600)).map(lambda x: DAY + timedelta(hours=x[0], seconds=x[1]))


@st.composite
def where_st(draw) -> dict:
    choice = draw(st.sampled_from(["none", "device", "position"]))
    if choice == "device":
        return {"venue_id": draw(st.sampled_from([1, 2, 3, 99]))}
    if choice == "position":
        fence = FENCES[draw(st.sampled_from([1, 2, 3]))]
        dlat = draw(st.sampled_from([0.0, 0.0004, -0.0007, 0.002, 0.02]))
        dlng = draw(st.sampled_from([0.0, 0.0004, -0.003]))
        accuracy = draw(st.sampled_from([None, 5.0, 50.0, 150.0]))
        return {"lat": fence.lat + dlat, "lng": fence.lng + dlng, "accuracy_m": accuracy}
    return {}


@st.composite
def punch_st(draw, key: str, when=None) -> Punch:
    return Punch(
        key=key,
        employee_id=draw(st.integers(1, 4)),
        at=draw(when if when is not None else st.one_of(times, near, near)),
        kind=draw(st.sampled_from([None, "in", "out"])),
        **draw(where_st()),
    )


@st.composite
def day_st(draw) -> tuple[list[Slot], list[Punch]]:
    slots = draw(slots_st())
    n = draw(st.integers(0, 14))
    punches: list[Punch] = []
    for i in range(n):
        p = draw(punch_st(f"k{i}"))
        if punches and draw(st.integers(0, 4)) == 0:  # the same instant as an earlier punch: ties go by key
            twin = draw(st.sampled_from(punches))
            p = Punch(p.key, p.employee_id, twin.at, p.kind, p.lat, p.lng, p.accuracy_m, p.venue_id)
        punches.append(p)
    return slots, punches


def outside_every_window(t: datetime, slots: list[Slot], w: Windows = W) -> bool:
    return all(not (s.starts_at - w.before <= t <= s.ends_at + w.after) for s in slots)


# --- properties --------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(day_st(), st.data())
def test_a_punch_outside_every_window_changes_nothing_and_is_unrelated(day, data):
    slots, punches = day
    extra = data.draw(punch_st("extra", when=st.one_of(times, near)))
    assume(outside_every_window(extra.at, slots))
    position = data.draw(st.integers(0, len(punches)))
    with_extra = [*punches[:position], extra, *punches[position:]]

    before = place(punches, slots, W)
    after = place(with_extra, slots, W)

    assert after["extra"].status == "unrelated" and after["extra"].session is None
    assert {k: v for k, v in after.items() if k != "extra"} == before
    # Every person (the extra punch's one too, maybe new) and slot: the same figures.
    assert figures(with_extra, slots, after) == figures(with_extra, slots, before)


@settings(max_examples=300, deadline=None)
@given(day_st(), st.randoms(use_true_random=False))
def test_the_order_of_the_punches_changes_nothing(day, rnd: random.Random):
    slots, punches = day
    shuffled = list(punches)
    rnd.shuffle(shuffled)
    reversed_ = list(reversed(punches))
    expected = place(punches, slots, W)
    assert set(expected) == {p.key for p in punches}
    for order in (shuffled, reversed_):
        got = place(order, slots, W)
        assert got == expected
        assert figures(order, slots, got) == figures(punches, slots, expected)


@settings(max_examples=200, deadline=None)
@given(day_st(), st.data(), st.randoms(use_true_random=False))
def test_figures_unchanged_by_an_outside_punch_and_a_shuffle_together(day, data, rnd: random.Random):
    slots, punches = day
    extras = data.draw(st.lists(punch_st("x", when=times), max_size=3))
    extras = [Punch(f"x{i}", e.employee_id, e.at, e.kind, e.lat, e.lng, e.accuracy_m, e.venue_id) for i, e in enumerate(extras)]
    assume(all(outside_every_window(e.at, slots) for e in extras))
    mixed = [*punches, *extras]
    rnd.shuffle(mixed)
    people = {p.employee_id for p in mixed}

    base = figures(punches, slots, place(punches, slots, W))
    got = figures(mixed, slots, place(mixed, slots, W))
    for person in people:
        for s in slots:
            expected = base.get((person, s.code)) or rules.attended([], rules.Window(s.starts_at, s.ends_at))
            assert got[(person, s.code)] == expected


# --- examples, hand-computed --------------------------------------------------------------------------

SESSION = Slot("S1", at(6, 0), at(7, 30), venue_id=1, fence=FENCES[1], enrolled=frozenset({7}))  # 14:00-15:30 Shanghai


def test_feishu_day_of_four_punches():
    # 08:58, 14:00, 15:30, 18:05 in Shanghai; Feishu gives no direction.
    punches = [
        Punch("a", 7, at(0, 58), None),
        Punch("b", 7, at(6, 0), None),
        Punch("c", 7, at(7, 30), None),
        Punch("d", 7, at(10, 5), None),
    ]
    placed = place(punches, [SESSION], W)
    assert placed["a"].status == "unrelated" and placed["a"].session is None
    assert placed["d"].status == "unrelated" and placed["d"].session is None
    assert (placed["b"].status, placed["b"].session, placed["b"].kind) == ("attached", "S1", "in")
    assert (placed["c"].status, placed["c"].session, placed["c"].kind) == ("attached", "S1", "out")
    assert placed["b"].inferred and placed["c"].inferred

    core = rules.attended(
        [rules.Punch(at(6, 0), "in", "b"), rules.Punch(at(7, 30), "out", "c")],
        rules.Window(at(6, 0), at(7, 30)),
    )
    assert core.attended_minutes == 90
    assert core.flags == frozenset()
    assert figures(punches, [SESSION], placed)[(7, "S1")] == core


def test_feishu_day_order_does_not_matter():
    punches = [Punch("d", 7, at(10, 5), None), Punch("c", 7, at(7, 30), None), Punch("a", 7, at(0, 58), None), Punch("b", 7, at(6, 0), None)]
    placed = place(punches, [SESSION], W)
    assert (placed["b"].kind, placed["c"].kind) == ("in", "out")


def test_double_tap_is_one_punch():
    punches = [Punch("t1", 7, at(6, 0, 0), None), Punch("t2", 7, at(6, 0, 40), None)]
    placed = place(punches, [SESSION], W)
    assert (placed["t1"].status, placed["t1"].session, placed["t1"].kind) == ("attached", "S1", "in")
    assert (placed["t2"].status, placed["t2"].session) == ("double-tap", "S1")
    assert "40 s after t1" in placed["t2"].note


def test_double_tap_in_the_other_order_keeps_the_first():
    punches = [Punch("t2", 7, at(6, 0, 40), None), Punch("t1", 7, at(6, 0, 0), None)]
    placed = place(punches, [SESSION], W)
    assert placed["t1"].status == "attached" and placed["t2"].status == "double-tap"


# Two sessions at the same time in rooms 1 and 2 (about 1 km apart); person 7 is enrolled in A only.
A = Slot("A", at(6, 0), at(7, 30), fence=FENCES[1], enrolled=frozenset({7}))
B = Slot("B", at(6, 0), at(7, 30), fence=FENCES[2], enrolled=frozenset({8}))
INSIDE_B = (31.2395, 121.4738)  # ~15 m from room 2's centre


def test_in_the_other_sessions_fence_is_a_walk_in_there():
    # The position puts the punch elsewhere for A (~1 km away) and here for B: walk-in at B.
    p = Punch("p", 7, at(6, 10), None, lat=INSIDE_B[0], lng=INSIDE_B[1], accuracy_m=10.0)
    q = Punch("q", 7, at(7, 20), None, lat=INSIDE_B[0], lng=INSIDE_B[1], accuracy_m=10.0)
    assert placing.evidence(p, A)[0] == placing.ELSEWHERE
    assert placing.evidence(p, B)[0] == placing.HERE
    placed = place([p, q], [A, B], W)
    assert (placed["p"].status, placed["p"].session, placed["p"].kind) == ("walk-in", "B", "in")
    assert (placed["q"].status, placed["q"].session, placed["q"].kind) == ("walk-in", "B", "out")
    # One punch alone is no stay (leaving work while the session runs): unrelated.
    assert place([p], [A, B], W)["p"].status == "unrelated"


def test_without_evidence_against_the_enrolled_session_it_is_placed_there():
    # A has no fence: nothing says the punch is not in A's room, so A (the person's own) wins.
    a_unfenced = Slot("A", at(6, 0), at(7, 30), enrolled=frozenset({7}))
    p = Punch("p", 7, at(6, 10), None, lat=INSIDE_B[0], lng=INSIDE_B[1], accuracy_m=10.0)
    placed = place([p], [a_unfenced, B], W)
    assert (placed["p"].status, placed["p"].session) == ("attached", "A")
    # No position at all: the same.
    q = Punch("q", 7, at(6, 10), None)
    placed = place([q], [A, B], W)
    assert (placed["q"].status, placed["q"].session) == ("attached", "A")
    # Inside A's own fence: A.
    r = Punch("r", 7, at(6, 10), None, lat=31.2305, lng=121.4737, accuracy_m=10.0)
    placed = place([r], [A, B], W)
    assert (placed["r"].status, placed["r"].session) == ("attached", "A")


def test_not_enrolled_without_evidence_is_unrelated():
    p = Punch("p", 9, at(6, 30), None)
    placed = place([p], [SESSION], W)
    assert placed["p"] == Placement("unrelated", note=placed["p"].note)
    assert placed["p"].session is None


def test_not_enrolled_on_the_rooms_device_is_a_walk_in():
    p = Punch("p", 9, at(6, 30), "in", venue_id=1)
    q = Punch("q", 9, at(7, 10), "out", venue_id=1)
    placed = place([p, q], [SESSION], W)
    assert (placed["p"].status, placed["p"].session, placed["p"].kind) == ("walk-in", "S1", "in")
    assert (placed["q"].status, placed["q"].session, placed["q"].kind) == ("walk-in", "S1", "out")
    # Two check-ins and no check-out are no stay.
    r = Punch("r", 9, at(6, 50), "in", venue_id=1)
    assert {k: v.status for k, v in place([p, r], [SESSION], W).items()} == {"p": "unrelated", "r": "unrelated"}


def test_not_enrolled_on_another_rooms_device_is_unrelated():
    p = Punch("p", 9, at(6, 30), "in", venue_id=2)
    assert place([p], [SESSION], W)["p"].status == "unrelated"


def test_enrolled_a_kilometre_away_while_the_session_runs_is_away():
    # 0.009 degrees of latitude north of room 1: about 1000 m.
    p = Punch("p", 7, at(6, 45), None, lat=31.2394, lng=121.4737, accuracy_m=10.0)
    slot = Slot("S1", at(6, 0), at(7, 30), fence=FENCES[1], enrolled=frozenset({7}))  # fence, no device
    pl = place([p], [slot], W)["p"]
    assert pl.status == "away" and pl.session is None
    assert pl.distance_m is not None and 980 < pl.distance_m < 1020
    assert "S1" in pl.note


def test_enrolled_away_on_another_rooms_device_while_it_runs():
    p = Punch("p", 7, at(6, 45), None, venue_id=2)
    pl = place([p], [SESSION], W)["p"]
    assert pl.status == "away" and pl.distance_m is None


def test_enrolled_away_before_the_session_is_only_unrelated():
    p = Punch("p", 7, at(5, 30), None, lat=31.2394, lng=121.4737, accuracy_m=10.0)
    slot = Slot("S1", at(6, 0), at(7, 30), fence=FENCES[1], enrolled=frozenset({7}))
    pl = place([p], [slot], W)["p"]
    assert pl.status == "unrelated" and pl.distance_m is None
