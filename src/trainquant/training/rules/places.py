"""How an enrolment moves between states: seats, a FIFO waiting list, who may do what. Pure: standard library only; the time is a parameter."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from trainquant.training.rules.base import Refused

REQUESTED, APPROVED, REJECTED, WAITLISTED, CANCELLED = "requested", "approved", "rejected", "waitlisted", "cancelled"
ACTIVE = frozenset({REQUESTED, APPROVED, WAITLISTED})
SEAT = "seat"  # approved while a seat is free, otherwise waitlisted

# action -> (the states it may start from, where it leads). None is "no enrolment yet"; a cancelled
# enrolment can be requested again (same row, new events). Promotion off the waiting list is not an
# action anyone takes: it follows from a freed seat (see promotions).
TRANSITIONS: dict[str, tuple[frozenset[str | None], str]] = {
    "request": (frozenset({None, CANCELLED}), REQUESTED),  # SEAT when the program needs no approval
    "enrol": (frozenset({None, CANCELLED}), SEAT),  # HR, or a mandatory rule
    "approve": (frozenset({REQUESTED}), SEAT),
    "reject": (frozenset({REQUESTED}), REJECTED),
    "override_approve": (frozenset({REQUESTED, REJECTED}), SEAT),
    "override_reject": (frozenset({REQUESTED, APPROVED, WAITLISTED}), REJECTED),
    "cancel": (frozenset({REQUESTED, APPROVED, WAITLISTED}), CANCELLED),
}
ACTIONS = tuple(TRANSITIONS)
NEEDS_REASON = frozenset({"reject", "override_approve", "override_reject"})
CLAIMS_A_PLACE = frozenset({"request", "enrol", "approve", "override_approve"})  # refused once the session started


@dataclass(frozen=True)
class Actor:
    name: str
    employee_id: int | None = None
    can_enrol: bool = False
    can_approve: bool = False
    can_manage: bool = False
    department_ids: frozenset[int] | None = frozenset()  # whose requests they decide; None: everyone's


SYSTEM = Actor(name="system", can_manage=True, department_ids=None)


@dataclass(frozen=True)
class Place:
    """One employee's enrolment in the session, as the roster sees it."""

    employee_id: int
    status: str
    source: str = "self"
    waitlist_position: int | None = None


@dataclass(frozen=True)
class SessionState:
    starts_at: datetime
    capacity: int | None = None
    cancelled: bool = False
    requires_approval: bool = True
    program_active: bool = True


@dataclass(frozen=True)
class Change:
    employee_id: int
    from_status: str | None
    to_status: str
    waitlist_position: int | None
    actor: str
    reason: str | None


def _authorise(action: str, actor: Actor, *, employee_id: int, department_id: int, place: Place | None) -> None:
    own = actor.employee_id is not None and actor.employee_id == employee_id
    if action == "request":
        if not (own and actor.can_enrol):
            raise Refused("forbidden", "enrolment can only be requested for oneself; HR enrols others", code="enrol-self-only")
    elif action in ("enrol", "override_approve", "override_reject"):
        if not actor.can_manage:
            raise Refused("forbidden", "only HR may enrol others or override a decision", code="hr-only")
    elif action in ("approve", "reject"):
        if own:
            raise Refused("forbidden", "nobody decides on their own enrolment request; HR may override", code="own-request")
        if actor.can_manage:
            return
        if not actor.can_approve:
            raise Refused("forbidden", "deciding on enrolment requests needs the permission 'training:approve'", code="approve-permission")
        if actor.department_ids is not None and department_id not in actor.department_ids:
            raise Refused("forbidden", "this employee is not in a department you manage", code="not-your-department")
    elif action == "cancel":
        if actor.can_manage:
            return
        if not (own and actor.can_enrol):
            raise Refused("forbidden", "you can only cancel your own enrolment", code="cancel-own-only")
        if place is not None and place.source == "mandatory":
            raise Refused("forbidden", "a mandatory training can only be cancelled by HR", code="mandatory-hr-only")


def _not_allowed(action: str, current: str | None) -> Refused:
    if action in ("request", "enrol") and current in ACTIVE:
        return Refused("conflict", f"already enrolled in this session (status {current})", code="already-enrolled")
    if action in ("request", "enrol") and current == REJECTED:
        return Refused("conflict", "the request was rejected; HR may override the decision", code="request-rejected")
    if current is None:
        return Refused("conflict", f"there is no enrolment to {action.replace('_', ' ')}", code="no-enrolment")
    return Refused("conflict", f"cannot {action.replace('_', ' ')} an enrolment that is {current}", code="already-decided")


def apply_changes(places: Iterable[Place], changes: Iterable[Change], *, source: str = "self") -> tuple[Place, ...]:
    """The roster after ``changes``; an employee without a place gets one with ``source``."""
    by_employee = {p.employee_id: p for p in places}
    for c in changes:
        old = by_employee.get(c.employee_id) or Place(c.employee_id, c.to_status, source)
        by_employee[c.employee_id] = replace(old, status=c.to_status, waitlist_position=c.waitlist_position)
    return tuple(by_employee.values())


def waiting_list(places: Iterable[Place]) -> list[Place]:
    return sorted((p for p in places if p.status == WAITLISTED), key=lambda p: (p.waitlist_position or 0, p.employee_id))


def promotions(places: Sequence[Place], *, capacity: int | None, started: bool) -> tuple[Change, ...]:
    """Whoever has waited longest gets each free seat; nobody moves once the session has started."""
    if started:
        return ()
    waiting = waiting_list(places)
    approved = sum(1 for p in places if p.status == APPROVED)
    free = len(waiting) if capacity is None else max(0, capacity - approved)
    return tuple(Change(p.employee_id, WAITLISTED, APPROVED, None, SYSTEM.name, "a seat became free") for p in waiting[:free])


def act(
    action: str,
    *,
    actor: Actor,
    employee_id: int,
    department_id: int,
    session: SessionState,
    places: Sequence[Place],
    now: datetime,
    reason: str | None = None,
) -> tuple[Change, ...]:
    """The changes ``action`` makes to the session's roster: the enrolment's own, then any promotions."""
    if action not in TRANSITIONS:
        raise ValueError(f"unknown action {action!r}")
    place = next((p for p in places if p.employee_id == employee_id), None)
    _authorise(action, actor, employee_id=employee_id, department_id=department_id, place=place)
    if session.cancelled:
        raise Refused("conflict", "the session is cancelled", code="session-cancelled")
    allowed_from, target = TRANSITIONS[action]
    current = place.status if place else None
    if current not in allowed_from:
        raise _not_allowed(action, current)
    if action in ("request", "enrol") and not session.program_active:
        raise Refused("conflict", "the program is retired", code="program-retired")
    started = now >= session.starts_at
    reason = reason.strip() if reason and reason.strip() else None
    # A late or past entry (a walk-in, trainings held before the platform): HR only, with its reason.
    late = started and action == "enrol" and actor.can_manage and reason is not None
    if started and not late and (action in CLAIMS_A_PLACE or (action == "cancel" and not actor.can_manage)):
        hint = "; HR may record a late or past entry with a reason" if action == "enrol" and actor.can_manage else ""
        raise Refused("invalid", "the session has already started" + hint, field="session_code", code="session-started")
    if action in NEEDS_REASON and reason is None:
        raise Refused("invalid", "a reason is required", field="reason", code="reason-required")
    if action == "request" and not session.requires_approval:
        target = SEAT
    position = None
    if target == SEAT and late:  # nobody waits for a session under way or over: a seat, or raise the capacity first
        approved = sum(1 for p in places if p.status == APPROVED)
        if session.capacity is not None and approved >= session.capacity:
            raise Refused("conflict", "the session has no free seat; raise its capacity to record this entry", field="session_code", code="no-seat-for-late-entry")
        target = APPROVED
    if target == SEAT:
        waiting = waiting_list(places)
        approved = sum(1 for p in places if p.status == APPROVED)
        if (session.capacity is None or approved < session.capacity) and not waiting:
            target = APPROVED
        else:
            target = WAITLISTED
            position = max((p.waitlist_position or 0 for p in waiting), default=0) + 1
    change = Change(employee_id, current, target, position, actor.name, reason)
    if current != APPROVED:
        return (change,)
    after = apply_changes(places, [change])
    return (change, *promotions(after, capacity=session.capacity, started=started))


def resize(places: Sequence[Place], *, capacity: int | None, started: bool) -> tuple[Change, ...]:
    """A new capacity: never below the seats already given; extra seats go to the waiting list."""
    approved = sum(1 for p in places if p.status == APPROVED)
    if capacity is not None and capacity < approved:
        raise Refused("conflict", f"{approved} people are already approved; the capacity cannot be lower", field="capacity", code="capacity-below-approved", params={"approved": approved})
    return promotions(places, capacity=capacity, started=started)


def cancel_session(places: Iterable[Place], *, actor: Actor, reason: str) -> tuple[Change, ...]:
    return tuple(Change(p.employee_id, p.status, CANCELLED, None, actor.name, f"session cancelled: {reason}") for p in places if p.status in ACTIVE)
