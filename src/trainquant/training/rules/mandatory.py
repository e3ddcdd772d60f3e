"""Mandatory enrolment: who still needs a program, which session to offer, by when. Pure: standard library only; the time is a parameter."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from trainquant.training.rules.places import ACTIVE, APPROVED, CANCELLED, REJECTED


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
    ends_at: datetime | None = None  # None: not known, so never judged to clash


def free_of(openings: Iterable[Opening], busy: Iterable[tuple[datetime, datetime]]) -> list[Opening]:
    """The openings at a time the person is free: none overlaps one of their other sessions (``busy``,
    start and end; touching ends are fine). A rule run has nobody to ask whether to split their time."""
    spans = list(busy)
    return [o for o in openings if o.ends_at is None or not any(start < o.ends_at and end > o.starts_at for start, end in spans)]


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
