"""Pure training rules: who may enrol, how an enrolment moves between states (seats and a FIFO waiting list),
trainer clashes, mandatory enrolment and assessment scales. Standard library only; the time is a parameter."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation


class Refused(Exception):
    """A rule says no. ``kind`` is how the caller answers: conflict (409), forbidden (403), invalid (422);
    ``code`` is the stable reason pages translate, ``params`` what the translation fills in."""

    def __init__(self, kind: str, message: str, *, field: str | None = None, code: str | None = None, params: dict | None = None):
        super().__init__(message)
        self.kind, self.message, self.field, self.code = kind, message, field, code or kind
        self.params = params or {}


# ---------------------------------------------------------------- eligibility


@dataclass(frozen=True)
class Eligibility:
    """Who may enrol in a program (and, for a mandatory rule, who must). Empty: everyone."""

    department_kinds: frozenset[str] = frozenset()
    tags_any: frozenset[str] = frozenset()
    hired_within_days: int | None = None
    hired_at_least_days: int | None = None
    prerequisites: tuple[str, ...] = ()  # program codes to have completed first

    @classmethod
    def from_json(cls, data: Mapping | None) -> Eligibility:
        data = data or {}
        return cls(
            department_kinds=frozenset(data.get("department_kinds") or ()),
            tags_any=frozenset(data.get("tags_any") or ()),
            hired_within_days=data.get("hired_within_days"),
            hired_at_least_days=data.get("hired_at_least_days"),
            prerequisites=tuple(data.get("prerequisites") or ()),
        )


@dataclass(frozen=True)
class Candidate:
    department_kind: str
    tags: frozenset[str] = frozenset()
    hire_date: date | None = None
    status: str = "active"
    completed: frozenset[str] = frozenset()  # programs with an approved enrolment in a session that has ended


@dataclass(frozen=True)
class Failure:
    condition: str  # the key of Eligibility that failed, or "status"
    message: str


def eligibility_failures(rules: Eligibility, who: Candidate, *, today: date) -> tuple[Failure, ...]:
    out: list[Failure] = []
    if who.status == "left":
        out.append(Failure("status", "the employee has left"))
    if rules.department_kinds and who.department_kind not in rules.department_kinds:
        kinds = ", ".join(sorted(rules.department_kinds))
        out.append(Failure("department_kinds", f"only for {kinds} departments (this employee is in {who.department_kind})"))
    if rules.tags_any and not rules.tags_any & who.tags:
        out.append(Failure("tags_any", f"only for staff tagged {' or '.join(sorted(rules.tags_any))}"))
    days = (today - who.hire_date).days if who.hire_date else None
    if rules.hired_within_days is not None:
        if days is None:
            out.append(Failure("hired_within_days", "the employee's hire date is not recorded"))
        elif days > rules.hired_within_days:
            out.append(Failure("hired_within_days", f"only for staff hired within {rules.hired_within_days} days (hired {days} days ago)"))
    if rules.hired_at_least_days is not None:
        if days is None:
            out.append(Failure("hired_at_least_days", "the employee's hire date is not recorded"))
        elif days < rules.hired_at_least_days:
            out.append(Failure("hired_at_least_days", f"only for staff hired at least {rules.hired_at_least_days} days ago (hired {days} days ago)"))
    missing = [code for code in rules.prerequisites if code not in who.completed]
    if missing:
        out.append(Failure("prerequisites", f"complete {', '.join(missing)} first"))
    return tuple(out)


# ---------------------------------------------------------------- the enrolment state machine

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


# ---------------------------------------------------------------- trainers


@dataclass(frozen=True)
class Booking:
    session_id: int | None
    code: str
    starts_at: datetime
    ends_at: datetime
    trainer: str | None = None
    trainer_employee_id: int | None = None
    venue_id: int | None = None  # a room: two sessions cannot hold it at once


def _name(value: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", value or "").split()).casefold()


def same_trainer(a: Booking, b: Booking) -> bool:
    if a.trainer_employee_id is not None and b.trainer_employee_id is not None:
        return a.trainer_employee_id == b.trainer_employee_id
    return bool(_name(a.trainer)) and _name(a.trainer) == _name(b.trainer)


def trainer_clash(new: Booking, others: Iterable[Booking]) -> Booking | None:
    """The first other session the same trainer teaches at an overlapping time (touching ends are fine)."""
    for other in sorted(others, key=lambda b: b.starts_at):
        if new.session_id is not None and other.session_id == new.session_id:
            continue
        if same_trainer(new, other) and new.starts_at < other.ends_at and other.starts_at < new.ends_at:
            return other
    return None


def venue_clash(new: Booking, others: Iterable[Booking]) -> Booking | None:
    """The first other session holding the same room at an overlapping time (touching ends are fine)."""
    if new.venue_id is None:
        return None
    for other in sorted(others, key=lambda b: b.starts_at):
        if new.session_id is not None and other.session_id == new.session_id:
            continue
        if other.venue_id == new.venue_id and new.starts_at < other.ends_at and other.starts_at < new.ends_at:
            return other
    return None


# ---------------------------------------------------------------- mandatory enrolment


@dataclass(frozen=True)
class ProgramEnrolment:
    """An employee's earlier enrolment in the program a mandatory rule is about."""

    status: str
    session_ends_at: datetime
    session_cancelled: bool
    mandatory_rule_id: int | None = None


def mandatory_need(existing: Iterable[ProgramEnrolment], *, rule_id: int, now: datetime) -> str:
    """'completed', 'enrolled', 'exempted' (HR took this rule's enrolment back) or 'enrol'."""
    live = [e for e in existing if not e.session_cancelled]
    if any(e.status == APPROVED and e.session_ends_at <= now for e in live):
        return "completed"
    if any(e.status in ACTIVE and e.session_ends_at > now for e in live):
        return "enrolled"
    if any(e.mandatory_rule_id == rule_id and e.status in (CANCELLED, REJECTED) for e in live):
        return "exempted"
    return "enrol"


@dataclass(frozen=True)
class Opening:
    session_id: int
    starts_at: datetime
    capacity: int | None
    approved: int
    waiting: int = 0


def pick_session(openings: Iterable[Opening], *, now: datetime) -> Opening | None:
    """The earliest session not yet started with a free seat; else the earliest (its waiting list)."""
    upcoming = sorted((o for o in openings if o.starts_at > now), key=lambda o: (o.starts_at, o.session_id))
    for o in upcoming:
        if (o.capacity is None or o.approved < o.capacity) and not o.waiting:
            return o
    return upcoming[0] if upcoming else None


def mandatory_due_date(*, hire_date: date | None, rule_start: date, due_days: int) -> date:
    """Due ``due_days`` after hiring, but never counted from before the rule existed."""
    anchor = max(hire_date, rule_start) if hire_date else rule_start
    return anchor + timedelta(days=due_days)


# ---------------------------------------------------------------- assessments


@dataclass(frozen=True)
class Scale:
    code: str
    scale: str  # score | pass_fail | ratio
    min_value: Decimal | None = None
    max_value: Decimal | None = None
    step: Decimal | None = None
    pass_mark: Decimal | None = None
    higher_is_better: bool = True
    multiple_raters: bool = False


@dataclass(frozen=True)
class Rating:
    rater: str
    score: Decimal


@dataclass(frozen=True)
class Result:
    score: Decimal | None = None
    ratings: tuple[Rating, ...] = ()
    passed: bool | None = None
    errors: int | None = None
    operations: int | None = None


@dataclass(frozen=True)
class Scored:
    score: Decimal | None
    passed: bool | None


def _plain(value: Decimal) -> str:
    return format(value.normalize(), "f")


@dataclass(frozen=True)
class OffScale:
    code: str  # score-not-a-number | score-out-of-range | score-below-minimum | score-off-step
    message: str
    params: dict


def scale_error(kind: Scale, value: Decimal) -> OffScale | None:
    """Why ``value`` is not on the kind's scale, or None when it is."""
    try:
        if not value.is_finite():
            return OffScale("score-not-a-number", "must be a number", {})
        low, high = kind.min_value, kind.max_value
        if (low is not None and value < low) or (high is not None and value > high):
            if high is not None:
                bounds = {"low": _plain(low or Decimal(0)), "high": _plain(high)}
                return OffScale("score-out-of-range", "must be between {low} and {high}".format(**bounds), bounds)
            minimum = _plain(low or Decimal(0))
            return OffScale("score-below-minimum", f"must be at least {minimum}", {"low": minimum})
        if kind.step is not None and (value - (low or Decimal(0))) % kind.step != 0:
            return OffScale("score-off-step", f"must be in steps of {_plain(kind.step)}", {"step": _plain(kind.step)})
    except InvalidOperation:
        return OffScale("score-not-a-number", "must be a number on the scale", {})
    return None


def _bad(message: str, field: str, code: str, params: dict | None = None) -> Refused:
    return Refused("invalid", message, field=field, code=code, params=params)


def score_assessment(kind: Scale, result: Result) -> Scored:
    """Validate a result against its kind's scale; the score (raters averaged) and whether it passed."""
    has_counts = result.errors is not None or result.operations is not None
    if kind.scale == "pass_fail":
        if result.score is not None or result.ratings or has_counts:
            raise _bad(f"{kind.code} is pass/fail: give passed true or false, not a score", "score", "pass-fail-no-score")
        if result.passed is None:
            raise _bad(f"{kind.code} needs passed: true or false", "passed", "needs-passed")
        return Scored(None, result.passed)
    if kind.scale == "ratio":
        if result.score is not None or result.ratings:
            raise _bad(f"{kind.code} is computed from errors and operations; give those, not a score", "score", "ratio-no-score")
        if result.errors is None or result.operations is None:
            raise _bad(f"{kind.code} needs errors and operations", "errors" if result.errors is None else "operations", "needs-errors-operations")
        if result.operations < 1:
            raise _bad("operations must be at least 1", "operations", "operations-min")
        if not 0 <= result.errors <= result.operations:
            raise _bad("errors must be between 0 and the number of operations", "errors", "errors-exceed-operations")
        score = (Decimal(result.errors) / Decimal(result.operations)).quantize(Decimal("0.000001"))
    else:
        if has_counts:
            raise _bad("only an error rate takes errors and operations", "errors", "counts-not-taken")
        if result.ratings:
            if not kind.multiple_raters:
                raise _bad(f"{kind.code} has one rater: give score, not ratings", "ratings", "one-rater")
            if result.score is not None:
                raise _bad("give either score or ratings, not both", "score", "score-or-ratings")
            names = [_name(r.rater) for r in result.ratings]
            if len(set(names)) != len(names):
                raise _bad("each rater may rate once", "ratings", "rater-once")
            for i, r in enumerate(result.ratings):
                if (error := scale_error(kind, r.score)) is not None:
                    raise _bad(f"{kind.code} rating {error.message}", f"ratings.{i}.score", error.code, error.params)
            score = (sum((r.score for r in result.ratings), Decimal(0)) / len(result.ratings)).quantize(Decimal("0.01"))
        else:
            if result.score is None:
                raise _bad(f"{kind.code} needs a score", "score", "needs-score")
            if (error := scale_error(kind, result.score)) is not None:
                raise _bad(f"{kind.code} score {error.message}", "score", error.code, error.params)
            score = result.score
    passed = result.passed
    if passed is None and kind.pass_mark is not None:
        passed = score >= kind.pass_mark if kind.higher_is_better else score <= kind.pass_mark
    return Scored(score, passed)
