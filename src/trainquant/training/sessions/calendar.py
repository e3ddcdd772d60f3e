"""The training calendar (培训日历): the sessions of a week or a month in the school's clock, with what
clashes: two sessions in one room, one trainer in two places, people in two sessions at once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from trainquant.training.models import Enrolment, TrainingSession


@dataclass
class Entry:
    session: TrainingSession
    local_day: date
    local_start: time
    local_end: time
    course: str  # the program's title: what the week view writes in the block
    approved: int
    recurring: bool = True
    clashes: list[str] = field(default_factory=list)  # "room", "trainer"; and people below
    people_clashing: int = 0  # approved here and in another session at an overlapping time


def month_grid(day: date) -> tuple[date, date]:
    """The Monday before the month's first day and the Sunday after its last: whole weeks."""
    first = day.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first - timedelta(days=first.weekday()), following - timedelta(days=1) + timedelta(days=6 - (following - timedelta(days=1)).weekday())


def entries(db: Session, *, first: date, last: date, zone: str, site_code: str | None = None) -> list[Entry]:
    """Every session not cancelled starting on the days first..last (in ``zone``), oldest first."""
    tz = ZoneInfo(zone)
    lo, hi = datetime.combine(first, time(), tz), datetime.combine(last + timedelta(days=1), time(), tz)
    stmt = (select(TrainingSession).where(TrainingSession.starts_at >= lo, TrainingSession.starts_at < hi, TrainingSession.status != "cancelled")
            .options(joinedload(TrainingSession.program), joinedload(TrainingSession.venue), joinedload(TrainingSession.site))
            .order_by(TrainingSession.starts_at, TrainingSession.code))
    sessions = [s for s in db.scalars(stmt).unique() if site_code is None or (s.site is not None and s.site.code == site_code)]
    ids = [s.id for s in sessions]
    approved: dict[int, set[int]] = defaultdict(set)
    if ids:
        for sid, eid in db.execute(select(Enrolment.session_id, Enrolment.employee_id).where(Enrolment.session_id.in_(ids), Enrolment.status == "approved")):
            approved[sid].add(eid)
    out = []
    for s in sessions:
        start, end = s.starts_at.astimezone(tz), s.ends_at.astimezone(tz)
        out.append(Entry(s, start.date(), start.time(), end.time() if end.date() == start.date() else time(23, 59), s.program.title, len(approved[s.id])))
    _mark_clashes(out, approved)
    return out


def _mark_clashes(items: list[Entry], approved: dict[int, set[int]]) -> None:
    """Pairs that overlap in time: the same room, the same trainer, shared people."""
    ordered = sorted(items, key=lambda e: e.session.starts_at)
    clashing: dict[int, set[int]] = defaultdict(set)  # session id -> its people who are elsewhere meanwhile
    for i, a in enumerate(ordered):
        for b in ordered[i + 1 :]:
            if b.session.starts_at >= a.session.ends_at:
                break  # sorted by start: every later one starts after a has ended
            if a.session.venue_id is not None and a.session.venue_id == b.session.venue_id:
                _add(a, b, "room")
            if a.session.trainer_employee_id is not None and a.session.trainer_employee_id == b.session.trainer_employee_id:
                _add(a, b, "trainer")
            both = approved[a.session.id] & approved[b.session.id]
            clashing[a.session.id] |= both
            clashing[b.session.id] |= both
    for e in items:
        e.people_clashing = len(clashing[e.session.id])


def _add(a: Entry, b: Entry, what: str) -> None:
    for e in (a, b):
        if what not in e.clashes:
            e.clashes.append(what)
