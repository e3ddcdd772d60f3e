"""Properties of the training rules over generated input: seats and waiting lists, and assessment scales."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from trainquant.training import rules
from trainquant.training.rules import (
    ACTIONS,
    APPROVED,
    WAITLISTED,
    Actor,
    Refused,
    Result,
    Scale,
    SessionState,
)

NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
HR = Actor(name="hr", can_enrol=True, can_approve=True, can_manage=True, department_ids=None)
PEOPLE = range(1, 9)


def person(employee_id: int) -> Actor:
    return Actor(name=f"e{employee_id}", employee_id=employee_id, can_enrol=True)


steps = st.lists(
    st.tuples(st.sampled_from((*ACTIONS, "resize")), st.sampled_from(PEOPLE), st.booleans(), st.integers(1, 6)),
    max_size=60,
)


@settings(max_examples=300, deadline=None)
@given(capacity=st.none() | st.integers(1, 4), requires_approval=st.booleans(), steps=steps)
def test_seats_never_exceed_capacity_and_the_waiting_list_is_fifo(capacity, requires_approval, steps):
    session = SessionState(starts_at=NOW + timedelta(days=3), capacity=capacity, requires_approval=requires_approval)
    places: tuple[rules.Place, ...] = ()
    joined: dict[int, int] = {}  # employee -> the step at which they joined the waiting list
    for n, (action, who, by_self, new_capacity) in enumerate(steps):
        before = places
        try:
            if action == "resize":
                changes = rules.resize(places, capacity=new_capacity, started=False)
                session = SessionState(session.starts_at, new_capacity, requires_approval=requires_approval)
            else:
                actor = person(who) if by_self and action in ("request", "cancel") else HR
                changes = rules.act(action, actor=actor, employee_id=who, department_id=1, session=session, places=places, now=NOW, reason="r")
        except Refused as refused:
            assert refused.kind in ("conflict", "forbidden", "invalid")
            if action != "resize":
                current = next((p.status for p in places if p.employee_id == who), None)
                allowed_from = rules.TRANSITIONS[action][0]
                # HR may do anything the table allows; only the table (or HR's lack of an own record) says no.
                assert current not in allowed_from or (action == "request" and not by_self), (action, current, refused.message)
            continue
        promoted = [c for c in changes if c.actor == "system"]
        acted_on = None if action == "resize" else who
        waiting_before = [p.employee_id for p in rules.waiting_list(before) if p.employee_id != acted_on]
        # Promotions take the longest waiting first, in order.
        assert [c.employee_id for c in promoted] == waiting_before[: len(promoted)]
        places = rules.apply_changes(places, changes)
        for c in changes:
            if c.to_status == WAITLISTED:
                joined[c.employee_id] = n
        approved = [p for p in places if p.status == APPROVED]
        waiting = rules.waiting_list(places)
        if session.capacity is not None:
            assert len(approved) <= session.capacity
        # Nobody waits while a seat is free, and the queue keeps the order people joined it.
        if waiting:
            assert session.capacity is not None and len(approved) == session.capacity
        assert [joined[p.employee_id] for p in waiting] == sorted(joined[p.employee_id] for p in waiting)
        assert len({p.waitlist_position for p in waiting}) == len(waiting)
        assert all(p.waitlist_position is None for p in places if p.status != WAITLISTED)


# ---------------------------------------------------------------- scales: exactly the grid is accepted

SCALES = [
    Scale("ielts", "score", Decimal(0), Decimal(9), Decimal("0.5")),
    Scale("toefl", "score", Decimal(0), Decimal(120), Decimal(1)),
    Scale("trial_lecture", "score", Decimal(0), Decimal(100), Decimal("0.1"), Decimal(85)),
    Scale("odd", "score", Decimal("1.5"), Decimal("4.5"), Decimal("0.75")),
]


@settings(max_examples=500, deadline=None)
@given(kind=st.sampled_from(SCALES), units=st.integers(-2000, 14000), places=st.integers(0, 3))
def test_exactly_the_values_on_the_grid_are_accepted(kind, units, places):
    value = Decimal(units).scaleb(-places)  # e.g. 7.3, 7.5, 121, 85.05, -1
    on_grid = kind.min_value <= value <= kind.max_value and ((value - kind.min_value) / kind.step) == ((value - kind.min_value) / kind.step).to_integral_value()
    try:
        scored = rules.score_assessment(kind, Result(score=value))
    except Refused as refused:
        assert not on_grid, (value, refused.message)
        assert refused.field == "score"
    else:
        assert on_grid, value
        assert scored.score == value


@settings(max_examples=200, deadline=None)
@given(scores=st.lists(st.integers(0, 1000), min_size=1, max_size=6))
def test_raters_are_averaged_and_the_pass_mark_decides(scores):
    kind = Scale("trial_lecture", "score", Decimal(0), Decimal(100), Decimal("0.1"), Decimal(85), multiple_raters=True)
    ratings = tuple(rules.Rating(f"r{i}", Decimal(s).scaleb(-1)) for i, s in enumerate(scores))
    scored = rules.score_assessment(kind, Result(ratings=ratings))
    mean = sum(r.score for r in ratings) / len(ratings)
    assert abs(scored.score - mean) <= Decimal("0.005")
    assert scored.passed is (scored.score >= 85)


@settings(max_examples=200, deadline=None)
@given(operations=st.integers(1, 500), errors=st.integers(0, 600))
def test_error_rate(operations, errors):
    kind = Scale("error_rate", "ratio", Decimal(0), Decimal(1), None, Decimal(0), higher_is_better=False)
    try:
        scored = rules.score_assessment(kind, Result(errors=errors, operations=operations))
    except Refused:
        assert errors > operations
    else:
        assert errors <= operations and Decimal(0) <= scored.score <= Decimal(1)
        assert scored.passed is (errors == 0)
