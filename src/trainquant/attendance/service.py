"""Attendance figures derived from stored events: recomputed whenever events arrive or a review decides."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from trainquant.attendance.models import AttendanceRecord, CheckinEvent, ProxyCase
from trainquant.attendance.rules import Attendance, Interval, Punch, Window, attended
from trainquant.db import chunks
from trainquant.org.models import DatedClass, Employee, Site, WeeklySlot
from trainquant.org.rules import Slot, expand_timetable
from trainquant.training.models import Enrolment, TrainingSession

CHUNK = 900


def excluded_event_ids(db: Session, session_ids: Iterable[int]) -> set[int]:
    """Events HR confirmed as proxied: they never count for the person they claim to be."""
    ids = sorted(set(session_ids))
    out: set[int] = set()
    for chunk in chunks(ids, CHUNK):
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
        for chunk in chunks(ids, CHUNK):
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
    # By session only: a session's events are bounded by its room, and the pairs filter in Python.
    for s_chunk in chunks(session_ids, 400):
        q = select(CheckinEvent.id, CheckinEvent.session_id, CheckinEvent.employee_id, CheckinEvent.at, CheckinEvent.kind).where(
            CheckinEvent.session_id.in_(s_chunk), CheckinEvent.verdict == "accepted"
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
    return store_figures(db, figures_for(db, pairs, default_tz=default_tz), now=now)


def store_figures(db: Session, figures: dict[tuple[int, int], tuple[Attendance, int]], *, now: datetime) -> int:
    """Write what ``figures_for`` computed (possibly in an earlier, read-only transaction)."""
    table = AttendanceRecord.__table__
    for chunk in chunks(sorted(figures), 400):
        db.execute(table.delete().where(tuple_(table.c.session_id, table.c.employee_id).in_(chunk)))
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
    for chunk in chunks(rows, 5000):
        db.execute(table.insert(), list(chunk))
    return len(rows)


def session_pairs(db: Session, session_id: int) -> set[tuple[int, int]]:
    """Everyone with a stake in a session's attendance: approved enrolments and anyone who punched."""
    enrolled = db.scalars(select(Enrolment.employee_id).where(Enrolment.session_id == session_id, Enrolment.status == "approved"))
    punched = db.scalars(
        select(CheckinEvent.employee_id).where(CheckinEvent.session_id == session_id, CheckinEvent.verdict == "accepted", CheckinEvent.employee_id.is_not(None)).distinct()
    )
    return {(session_id, e) for e in set(enrolled) | set(punched)}


def recompute_batch(db: Session, session_ids: Iterable[int], *, now: datetime, default_tz: str) -> int:
    """``recompute`` for whole sessions at once, through the NumPy twin of the rules (``batch.py``).

    For the nightly or after-import recomputation of many sessions; the figures equal the
    reference ones (a test holds them together).
    """
    import numpy as np

    from trainquant.attendance.batch import FLAG_BITS, attended_batch

    sids = sorted(set(session_ids))
    if not sids:
        return 0
    pairs: set[tuple[int, int]] = set()
    for sid in sids:
        pairs |= session_pairs(db, sid)
    if not pairs:
        return 0
    sessions = {s.id: s for s in db.scalars(select(TrainingSession).where(TrainingSession.id.in_(sids)))}
    order = sorted(pairs)
    gid = {p: i for i, p in enumerate(order)}
    excluded = excluded_event_ids(db, sids)
    g, at, out, tb = [], [], [], []
    for chunk in chunks(sids, 400):
        q = select(CheckinEvent.id, CheckinEvent.session_id, CheckinEvent.employee_id, CheckinEvent.at, CheckinEvent.kind).where(
            CheckinEvent.session_id.in_(chunk), CheckinEvent.verdict == "accepted", CheckinEvent.employee_id.is_not(None)
        )
        for id_, sid, eid, when, kind in db.execute(q):
            if id_ in excluded:
                continue
            g.append(gid[(sid, eid)])
            at.append(int(when.timestamp()))
            out.append(kind == "out")
            tb.append(id_)
    ws = np.array([int(sessions[s].starts_at.timestamp()) for s, _ in order], dtype=np.int64)
    we = np.array([int(sessions[s].ends_at.timestamp()) for s, _ in order], dtype=np.int64)
    credit = np.array([sessions[s].missing_checkout_policy == "credit-to-end" for s, _ in order], dtype=bool)
    calendar = TeachingCalendar(db, {e for _, e in order}, default_tz)
    teaching = {}
    for i, (s, e) in enumerate(order):
        classes = calendar.classes(e, sessions[s].starts_at, sessions[s].ends_at)
        if classes:
            teaching[i] = [(int(c.start.timestamp()), int(c.end.timestamp())) for c in classes]
    res = attended_batch(
        np.array(g, dtype=np.int64), np.array(at, dtype=np.int64), np.array(out, dtype=bool), np.array(tb, dtype=np.int64),
        ws, we, credit, teaching,
    )
    counts = np.bincount(np.array(g, dtype=np.int64), minlength=len(order)) if g else np.zeros(len(order), dtype=np.int64)
    for chunk in chunks(sids, 400):
        db.execute(delete(AttendanceRecord).where(AttendanceRecord.session_id.in_(chunk)))
    rows = []
    for i, (s, e) in enumerate(order):
        scheduled = int(we[i] - ws[i])
        rows.append(
            {
                "session_id": s, "employee_id": e, "attended_seconds": int(res.attended[i]), "scheduled_seconds": scheduled,
                "participation": round(int(res.attended[i]) / scheduled, 6) if scheduled else 0.0,
                "late_seconds": int(res.late[i]), "early_leave_seconds": int(res.early[i]),
                "away": [[datetime.fromtimestamp(a, UTC).isoformat(), datetime.fromtimestamp(b, UTC).isoformat()] for a, b in res.away.get(i, [])],
                "flags": sorted(n for n, bit in FLAG_BITS.items() if res.flags[i] & bit),
                "events": int(counts[i]), "computed_at": now,
            }
        )
    table = AttendanceRecord.__table__
    for chunk in chunks(rows, 5000):
        db.execute(table.insert(), list(chunk))
    return len(rows)
