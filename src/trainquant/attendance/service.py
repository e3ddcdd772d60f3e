"""Attendance figures derived from stored events: recomputed whenever events arrive or a review decides."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from trainquant.attendance.models import AttendanceRecord, CheckinEvent, ProxyCase
from trainquant.attendance.rules import Attendance, Interval, Punch, Window, attended
from trainquant.org.models import DatedClass, Employee, Site, WeeklySlot
from trainquant.org.rules import Slot, expand_timetable
from trainquant.training.models import Enrolment, TrainingSession

CHUNK = 900


def _chunks(seq, size=CHUNK):
    seq = list(seq)
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


def excluded_event_ids(db: Session, session_ids: Iterable[int]) -> set[int]:
    """Events HR confirmed as proxied: they never count for the person they claim to be."""
    ids = sorted(set(session_ids))
    out: set[int] = set()
    for chunk in _chunks(ids):
        for (event_ids,) in db.execute(select(ProxyCase.event_ids).where(ProxyCase.session_id.in_(chunk), ProxyCase.status == "confirmed")):
            out.update(int(i) for i in event_ids)
    return out


class TeachingCalendar:
    """Each person's classes, expanded lazily per local day: what attendance must subtract."""

    def __init__(self, db: Session, employee_ids: Iterable[int], default_tz: str):
        ids = sorted(set(employee_ids))
        self.slots: dict[int, list[Slot]] = defaultdict(list)
        self.dated: dict[int, list[tuple[datetime, datetime, str | None]]] = defaultdict(list)
        self.zone: dict[int, ZoneInfo] = {}
        zones = dict(db.execute(select(Site.id, Site.timezone)).all())
        for chunk in _chunks(ids):
            for eid, site_id in db.execute(select(Employee.id, Employee.site_id).where(Employee.id.in_(chunk))):
                self.zone[eid] = ZoneInfo(zones.get(site_id) or default_tz)
            for s in db.scalars(select(WeeklySlot).where(WeeklySlot.employee_id.in_(chunk))):
                self.slots[s.employee_id].append(Slot(s.weekday, s.start_time, s.end_time, s.valid_from, s.valid_to, s.course))
            for c in db.scalars(select(DatedClass).where(DatedClass.employee_id.in_(chunk))):
                self.dated[c.employee_id].append((c.starts_at, c.ends_at, c.course))
        self.default_zone = ZoneInfo(default_tz)

    def classes(self, employee_id: int, start: datetime, end: datetime) -> list[Interval]:
        if employee_id not in self.slots and employee_id not in self.dated:
            return []
        zone = self.zone.get(employee_id, self.default_zone)
        first: date = start.astimezone(zone).date() - timedelta(days=1)
        last: date = end.astimezone(zone).date() + timedelta(days=1)
        occ = expand_timetable(self.slots.get(employee_id, []), self.dated.get(employee_id, []), start=first, end=last, tz=zone)
        return [Interval(o.starts_at, o.ends_at) for o in occ if o.ends_at > start and o.starts_at < end]


def figures_for(db: Session, pairs: set[tuple[int, int]], *, default_tz: str) -> dict[tuple[int, int], tuple[Attendance, int]]:
    """The reference computation for a set of (session, employee) pairs: (figures, events counted)."""
    if not pairs:
        return {}
    session_ids = sorted({s for s, _ in pairs})
    sessions = {s.id: s for s in db.scalars(select(TrainingSession).where(TrainingSession.id.in_(session_ids)))}
    excluded = excluded_event_ids(db, session_ids)
    punches: dict[tuple[int, int], list[Punch]] = defaultdict(list)
    people = sorted({e for _, e in pairs})
    for s_chunk in _chunks(session_ids, 400):
        for e_chunk in _chunks(people, 400):
            q = select(CheckinEvent.id, CheckinEvent.session_id, CheckinEvent.employee_id, CheckinEvent.at, CheckinEvent.kind).where(
                CheckinEvent.session_id.in_(s_chunk), CheckinEvent.employee_id.in_(e_chunk), CheckinEvent.verdict == "accepted"
            )
            for id_, sid, eid, at, kind in db.execute(q):
                if (sid, eid) in pairs and id_ not in excluded:
                    punches[(sid, eid)].append(Punch(at, kind, f"{id_:012d}"))
    calendar = TeachingCalendar(db, people, default_tz)
    out = {}
    for sid, eid in pairs:
        s = sessions.get(sid)
        if s is None:
            continue
        window = Window(s.starts_at, s.ends_at, s.missing_checkout_policy)
        teaching = calendar.classes(eid, s.starts_at, s.ends_at)
        got = punches.get((sid, eid), [])
        out[(sid, eid)] = (attended(got, window, teaching), len(got))
    return out


def recompute(db: Session, pairs: set[tuple[int, int]], *, now: datetime, default_tz: str) -> int:
    """Replace the stored figures of ``pairs`` with figures computed from their events."""
    figures = figures_for(db, pairs, default_tz=default_tz)
    for chunk in _chunks(sorted(figures), 400):
        for sid, eid in chunk:
            db.execute(delete(AttendanceRecord).where(AttendanceRecord.session_id == sid, AttendanceRecord.employee_id == eid))
    rows = [
        {
            "session_id": sid, "employee_id": eid,
            "attended_seconds": a.attended_seconds, "scheduled_seconds": a.scheduled_seconds,
            "participation": round(a.participation, 6), "late_seconds": a.late_seconds,
            "early_leave_seconds": a.early_leave_seconds,
            "away": [[i.start.isoformat(), i.end.isoformat()] for i in a.away],
            "flags": sorted(a.flags), "events": n, "computed_at": now,
        }
        for (sid, eid), (a, n) in figures.items()
    ]
    for chunk in _chunks(rows, 1000):
        db.execute(insert(AttendanceRecord), list(chunk))
    return len(rows)


def session_pairs(db: Session, session_id: int) -> set[tuple[int, int]]:
    """Everyone with a stake in a session's attendance: approved enrolments and anyone who punched."""
    enrolled = db.scalars(select(Enrolment.employee_id).where(Enrolment.session_id == session_id, Enrolment.status == "approved"))
    punched = db.scalars(
        select(CheckinEvent.employee_id).where(CheckinEvent.session_id == session_id, CheckinEvent.verdict == "accepted", CheckinEvent.employee_id.is_not(None)).distinct()
    )
    return {(session_id, e) for e in set(enrolled) | set(punched)}
