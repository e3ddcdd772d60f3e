"""Proxy review: detect suspected proxy sign-ins as cases, and apply HR's decision on each.

Detection never touches an event's verdict. A confirmed case's ``event_ids`` stop counting for the
people they claimed to be (``service.excluded_event_ids``), so confirming recomputes those pairs;
clearing keeps everything as it was. A decision is final: deciding again is a conflict.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from trainquant.attendance.models import CheckinEvent, Device, ProxyCase
from trainquant.attendance.proxy import rules as proxy_rules
from trainquant.attendance.service import TeachingCalendar, recompute
from trainquant.errors import Conflict, Invalid, NotFound
from trainquant.org.models import Employee, Venue
from trainquant.pagination import PageParams
from trainquant.training.models import TrainingSession

TRAVEL_LOOKAROUND = timedelta(hours=12)
DECISIONS = {"confirm": "confirmed", "clear": "cleared"}


def _facts(db: Session, session_ids: set[int]) -> tuple[list[proxy_rules.PunchFact], dict[int, TrainingSession]]:
    sessions = {s.id: s for s in db.scalars(select(TrainingSession).where(TrainingSession.id.in_(sorted(session_ids))))}
    if not sessions:
        return [], sessions
    # The same people's other punches around each session (for impossible travel), per session rather
    # than over the whole span of the batch, so the cost follows the batch and not the table.
    near = or_(*[(CheckinEvent.at >= s.starts_at - TRAVEL_LOOKAROUND) & (CheckinEvent.at <= s.ends_at + TRAVEL_LOOKAROUND) for s in sessions.values()])
    people = select(CheckinEvent.employee_id).where(CheckinEvent.session_id.in_(sorted(sessions)), CheckinEvent.verdict == "accepted")
    e_ = CheckinEvent
    # Plain rows, not ORM objects: detection reads thousands of punches per batch.
    rows = list(db.execute(
        select(e_.id, e_.employee_id, e_.session_id, e_.at, e_.kind, e_.method, e_.device_id, e_.qr_step, e_.lat, e_.lng,
               e_.accuracy_m, e_.distance_m).where(
            CheckinEvent.verdict == "accepted", CheckinEvent.employee_id.is_not(None), CheckinEvent.at.is_not(None),
            or_(CheckinEvent.session_id.in_(sorted(sessions)), (CheckinEvent.employee_id.in_(people) & near)),
        )
    ))
    for sid in {e.session_id for e in rows if e.session_id and e.session_id not in sessions}:
        sessions[sid] = db.get(TrainingSession, sid)
    venue_ids = {s.venue_id for s in sessions.values() if s is not None and s.venue_id}
    venues = {v.id: v for v in db.scalars(select(Venue).where(Venue.id.in_(sorted(venue_ids))))} if venue_ids else {}
    device_ids = sorted({e.device_id for e in rows if e.device_id})
    device_venue = dict(db.execute(select(Device.device_id, Device.venue_id).where(Device.device_id.in_(device_ids))).all()) if device_ids else {}
    facts = []
    for e in rows:
        s = sessions.get(e.session_id) if e.session_id else None
        venue = venues.get(s.venue_id) if s is not None and s.venue_id else None
        if venue is None and device_venue.get(e.device_id):
            venue = db.get(Venue, device_venue[e.device_id])
        facts.append(proxy_rules.PunchFact(
            event_id=e.id, employee_id=e.employee_id, session_id=e.session_id, at=e.at, kind=e.kind or "in", method=e.method,
            device_id=e.device_id, qr_step=e.qr_step, lat=e.lat, lng=e.lng, accuracy_m=e.accuracy_m, distance_m=e.distance_m,
            fence_m=venue.radius_m if venue else None, site_id=(s.site_id if s is not None else None) or (venue.site_id if venue else None),
            venue_lat=venue.latitude if venue else None, venue_lng=venue.longitude if venue else None,
        ))
    return facts, sessions


def _classes(db: Session, facts: list[proxy_rules.PunchFact], sessions: dict[int, TrainingSession], default_tz: str) -> list[proxy_rules.ClassTime]:
    people = {p.employee_id for p in facts}
    if not people:
        return []
    calendar = TeachingCalendar(db, people, default_tz)
    span: dict[int, tuple[datetime, datetime]] = {}
    for p in facts:
        lo, hi = span.get(p.employee_id, (p.at, p.at))
        span[p.employee_id] = (min(lo, p.at), max(hi, p.at))
    out = []
    for person in sorted(people):
        lo, hi = span[person]
        for iv in calendar.classes(person, lo - timedelta(hours=1), hi + timedelta(hours=1)):
            out.append(proxy_rules.ClassTime(person, iv.start, iv.end))
    return out


def detect(db: Session, session_ids: Iterable[int], now: datetime, *, default_tz: str = "Asia/Shanghai") -> list[ProxyCase]:
    """Open a case for every new signal about ``session_ids``; an open case whose evidence grew is updated.

    Running it again over the same events changes nothing (one case per signal and fingerprint).
    Decided cases are never touched.
    """
    return record_signals(db, signals_for(db, session_ids, default_tz=default_tz), now)


def signals_for(db: Session, session_ids: Iterable[int], *, default_tz: str) -> list[proxy_rules.Signal]:
    """The reading half of ``detect``: it may run in a read-only transaction."""
    ids = {int(s) for s in session_ids if s is not None}
    if not ids:
        return []
    facts, sessions = _facts(db, ids)
    return proxy_rules.all_signals(facts, _classes(db, facts, sessions, default_tz), session_ids=ids)


def record_signals(db: Session, signals: list[proxy_rules.Signal], now: datetime) -> list[ProxyCase]:
    """The writing half of ``detect``."""
    touched = []
    for sig in signals:
        case = db.scalar(select(ProxyCase).where(ProxyCase.signal == sig.signal, ProxyCase.fingerprint == sig.fingerprint[:160]))
        if case is None:
            case = ProxyCase(
                session_id=sig.session_id, signal=sig.signal, fingerprint=sig.fingerprint[:160], score=sig.score,
                employee_ids=list(sig.employee_ids), event_ids=list(sig.event_ids), detail=sig.detail, status="open", created_at=now,
            )
            db.add(case)
            touched.append(case)
        elif case.status == "open" and (list(case.event_ids) != list(sig.event_ids) or case.score != sig.score):
            case.event_ids, case.employee_ids, case.score, case.detail = list(sig.event_ids), list(sig.employee_ids), sig.score, sig.detail
            touched.append(case)
    db.flush()
    return touched


def after_recompute(db: Session, pairs: set[tuple[int, int]], *, now: datetime, default_tz: str) -> None:
    """What follows fresh figures: proxy detection, and participation alerts for sessions already over."""
    sessions = {s for s, _ in pairs}
    detect(db, sessions, now, default_tz=default_tz)
    check_sessions_over(db, sessions, now=now, default_tz=default_tz)


def check_sessions_over(db: Session, session_ids: Iterable[int], *, now: datetime, default_tz: str) -> None:
    from trainquant.alerts.service import check_session

    for sid in sorted(set(session_ids)):
        s = db.get(TrainingSession, sid)
        if s is not None and s.ends_at <= now:
            check_session(db, sid, now, default_tz=default_tz)


@dataclass(frozen=True)
class CaseFilter:
    status: str | None = None
    signal: str | None = None
    session_id: int | None = None


def list_cases(db: Session, flt: CaseFilter, paging: PageParams) -> tuple[list[ProxyCase], int]:
    stmt = select(ProxyCase)
    if flt.status:
        stmt = stmt.where(ProxyCase.status == flt.status)
    if flt.signal:
        stmt = stmt.where(ProxyCase.signal == flt.signal)
    if flt.session_id:
        stmt = stmt.where(ProxyCase.session_id == flt.session_id)
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = list(db.scalars(stmt.order_by(ProxyCase.status != "open", ProxyCase.score.desc(), ProxyCase.id.desc()).offset(paging.offset).limit(paging.page_size)))
    return rows, total


def people_of(db: Session, cases: Iterable[ProxyCase]) -> dict[int, Employee]:
    ids = sorted({int(e) for c in cases for e in c.employee_ids})
    return {e.id: e for e in db.scalars(select(Employee).where(Employee.id.in_(ids)))} if ids else {}


def session_codes(db: Session, cases: Iterable[ProxyCase]) -> dict[int, str]:
    ids = sorted({c.session_id for c in cases if c.session_id})
    return dict(db.execute(select(TrainingSession.id, TrainingSession.code).where(TrainingSession.id.in_(ids))).all()) if ids else {}


def decide(db: Session, case_id: int, decision: str, *, by: str, note: str | None, now: datetime, default_tz: str) -> ProxyCase:
    if decision not in DECISIONS:
        raise Invalid(f"decision must be one of {', '.join(DECISIONS)}")
    case = db.get(ProxyCase, case_id, with_for_update=True)
    if case is None:
        raise NotFound(f"no proxy case {case_id}")
    if case.status != "open":
        raise Conflict(f"case {case_id} was already {case.status} by {case.decided_by} on {case.decided_at:%Y-%m-%d %H:%M}")
    note = (note or "").strip() or None
    if decision == "confirm" and not note:
        raise Invalid("confirming a proxy case needs a note (what HR found)")
    case.status, case.decided_by, case.decided_at, case.decision_note = DECISIONS[decision], by, now, note[:500] if note else None
    db.flush()
    ids = [int(i) for i in case.event_ids]
    pairs = set(db.execute(select(CheckinEvent.session_id, CheckinEvent.employee_id).where(CheckinEvent.id.in_(ids))).all()) if ids else set()
    pairs = {(s, e) for s, e in pairs if s is not None and e is not None}
    if decision == "confirm" and pairs:
        recompute(db, pairs, now=now, default_tz=default_tz)
        from trainquant.alerts.service import check_session

        for sid in sorted({s for s, _ in pairs}):
            s = db.get(TrainingSession, sid)
            if s is not None and s.ends_at <= now:
                check_session(db, sid, now, default_tz=default_tz)
    return case
