"""Proxy review: detect suspected proxy sign-ins as cases, and apply HR's decision on each.

Detection never touches an event's verdict. A confirmed case's ``event_ids`` stop counting for the
people they claimed to be (``service.excluded_event_ids``), so confirming recomputes those pairs;
clearing keeps everything as it was. A decision is final: deciding again is a conflict.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import orjson
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trainquant.attendance.models import CheckinEvent, Device, ProxyCase
from trainquant.attendance.proxy import rules as proxy_rules
from trainquant.attendance.service import TeachingCalendar, recompute
from trainquant.db import chunks, driver_value, select_in
from trainquant.errors import Conflict, Invalid, NotFound
from trainquant.org.models import Employee, Venue
from trainquant.pagination import PageParams
from trainquant.training.models import TrainingSession

TRAVEL_LOOKAROUND = timedelta(hours=12)
DECISIONS = {"confirm": "confirmed", "clear": "cleared"}


_FACT_COLUMNS = "id, employee_id, session_id, at, kind, method, device_id, qr_step, lat, lng, accuracy_m, distance_m"


def _utc(value) -> datetime:
    # Straight from the driver: SQLite hands back UTC text, PostgreSQL aware datetimes.
    if isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.astimezone(UTC) if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _facts(db: Session, session_ids: set[int]) -> tuple[list[proxy_rules.PunchFact], dict[int, TrainingSession]]:
    sessions = {s.id: s for chunk in chunks(sorted(session_ids), 900) for s in db.scalars(select(TrainingSession).where(TrainingSession.id.in_(chunk)))}
    if not sessions:
        return [], sessions
    # Plain rows straight from the driver: detection reads every punch of the sessions, hundreds of
    # thousands after a burst of batches. First the sessions' own punches, through the session index.
    accepted = "verdict = 'accepted' AND employee_id IS NOT NULL AND at IS NOT NULL"
    rows = select_in(db, CheckinEvent.__table__, "session_id", _FACT_COLUMNS.split(", "), sorted(sessions), where=accepted)
    # Then the same people's other punches around each session (for impossible travel): one range
    # read per person through the (employee, at) index, kept if near one of the sessions.
    windows = sorted((s.starts_at - TRAVEL_LOOKAROUND, s.ends_at + TRAVEL_LOOKAROUND) for s in sessions.values())
    merged: list[list[datetime]] = []
    for lo, hi in windows:
        if merged and lo <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], hi)
        else:
            merged.append([lo, hi])
    people = sorted({r[1] for r in rows})
    conn = db.connection()
    to_db = driver_value(CheckinEvent.__table__.c.at, conn.dialect)
    starts = [lo for lo, _ in merged]
    if people:
        # Not the sessions' own punches again (after a burst of batches they are nearly all of them).
        others = f"(session_id IS NULL OR session_id NOT IN ({', '.join(str(int(s)) for s in sorted(sessions))}))"
        around = select_in(db, CheckinEvent.__table__, "employee_id", _FACT_COLUMNS.split(", "), people,
                           where=f"{accepted} AND {others} AND at >= {_literal(to_db(merged[0][0]))} AND at <= {_literal(to_db(merged[-1][1]))}")
        for r in around:
            at = _utc(r[3])
            k = bisect.bisect_right(starts, at) - 1
            if k >= 0 and at <= merged[k][1]:
                rows.append(r)
    return _to_facts(db, rows, sessions), sessions


def _to_facts(db: Session, rows: list[tuple], sessions: dict[int, TrainingSession]) -> list[proxy_rules.PunchFact]:
    """Facts from plain event rows (``_FACT_COLUMNS``), with their sessions' venues; ``sessions`` is
    completed with the sessions of the rows."""
    missing = sorted({r[2] for r in rows if r[2] is not None and r[2] not in sessions})
    for chunk in chunks(missing, 900):
        sessions.update({s.id: s for s in db.scalars(select(TrainingSession).where(TrainingSession.id.in_(chunk)))})
    venue_ids = {s.venue_id for s in sessions.values() if s is not None and s.venue_id}
    venues = {v.id: v for v in db.scalars(select(Venue).where(Venue.id.in_(sorted(venue_ids))))} if venue_ids else {}
    device_ids = sorted({r[6] for r in rows if r[6]})
    device_venue = dict(db.execute(select(Device.device_id, Device.venue_id).where(Device.device_id.in_(device_ids))).all()) if device_ids else {}
    for vid in set(device_venue.values()) - set(venues):
        if vid is not None and (v := db.get(Venue, vid)) is not None:
            venues[vid] = v
    # What a fact takes from its session and venue, once per (session, device) rather than per punch.
    context: dict[tuple[int | None, str | None], tuple] = {}
    facts = []
    Fact = proxy_rules.PunchFact
    for id_, eid, sid, at, kind, method, device_id, qr_step, lat, lng, accuracy_m, distance_m in rows:
        key = (sid, device_id)
        ctx = context.get(key)
        if ctx is None:
            s = sessions.get(sid) if sid else None
            venue = venues.get(s.venue_id) if s is not None and s.venue_id else None
            if venue is None and device_venue.get(device_id):
                venue = venues.get(device_venue[device_id])
            ctx = context[key] = (
                venue.radius_m if venue else None, (s.site_id if s is not None else None) or (venue.site_id if venue else None),
                venue.latitude if venue else None, venue.longitude if venue else None,
            )
        facts.append(Fact(id_, eid, sid, _utc(at), kind or "in", method, device_id, qr_step, lat, lng, accuracy_m, distance_m, *ctx))
    return facts


def _literal(value) -> str:
    """A bound for ``select_in``'s fixed SQL: the database's own text of a datetime (never input)."""
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return "'" + value.isoformat() + "'"


def _classes(db: Session, facts: list[proxy_rules.PunchFact], sessions: dict[int, TrainingSession], default_tz: str) -> list[proxy_rules.ClassTime]:
    people = {p.employee_id for p in facts}
    if not people:
        return []
    calendar = TeachingCalendar(db, people, default_tz)
    people = set(calendar.slots) | set(calendar.dated)  # only those with a timetable can contradict it
    span: dict[int, tuple[datetime, datetime]] = {}
    for p in facts:
        if p.employee_id not in people:
            continue
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


def _rows_by(db: Session, condition: str, params: tuple) -> list[tuple]:
    sql = f"SELECT {_FACT_COLUMNS} FROM checkin_events WHERE verdict = 'accepted' AND employee_id IS NOT NULL AND at IS NOT NULL AND {condition}"
    return [tuple(r) for r in db.connection().exec_driver_sql(sql, params)]


def signals_for_events(db: Session, ranges: Iterable[tuple[int, int]], *, default_tz: str) -> list[proxy_rules.Signal]:
    """``signals_for`` the sessions of the events in these id ranges, reading only what those events can
    change: the phone or QR-step groups they joined, their people's punches within the travel
    look-around of each new punch, and their own timetable checks. A group without a new event gives
    the signals it gave before (recorded then), so the cost follows the new events, not the sessions'
    history. Signals involving no new event are left out (they were recorded when they were new)."""
    conn = db.connection()
    mark_ = "?" if conn.dialect.paramstyle == "qmark" else "%s"
    new: list[tuple] = []
    for chunk in chunks(sorted(set(ranges)), 50):
        new += _rows_by(db, "(" + " OR ".join([f"id BETWEEN {mark_} AND {mark_}"] * len(chunk)) + ")", tuple(v for r in chunk for v in r))
    wanted = {r[2] for r in new if r[2] is not None}
    if not wanted:
        return []
    new_ids = {r[0] for r in new}
    rows = {r[0]: r for r in new}
    # Phone and QR groups (shared device, relayed token) are judged whole: every punch of the group.
    phone = {(r[6], r[2]) for r in new if r[5] in proxy_rules.PHONE_METHODS and r[6] and r[2] is not None}
    steps = {(r[2], r[7]) for r in new if r[5] == "qr" and r[7] is not None and r[2] is not None}
    group_sessions = sorted({sid for _, sid in phone} | {sid for sid, _ in steps})
    if group_sessions:
        for r in select_in(db, CheckinEvent.__table__, "session_id", _FACT_COLUMNS.split(", "), group_sessions,
                           where="verdict = 'accepted' AND employee_id IS NOT NULL AND at IS NOT NULL AND method IN ('qr', 'geo')"):
            if (r[6], r[2]) in phone or (r[2], r[7]) in steps:
                rows.setdefault(r[0], r)
    # Each new punch's neighbours in time for travel: its person's punches within the look-around.
    to_db = driver_value(CheckinEvent.__table__.c.at, conn.dialect)
    windows: dict[int, list[list[datetime]]] = {}
    for r in sorted(new, key=lambda r: (r[1], _utc(r[3]))):
        at = _utc(r[3])
        lo, hi = at - TRAVEL_LOOKAROUND, at + TRAVEL_LOOKAROUND
        mine = windows.setdefault(r[1], [])
        if mine and lo <= mine[-1][1]:
            mine[-1][1] = max(mine[-1][1], hi)
        else:
            mine.append([lo, hi])
    spans = [(person, to_db(lo), to_db(hi)) for person, ws in windows.items() for lo, hi in ws]
    travel_ids: set[int] = set(new_ids)
    for chunk in chunks(spans, 5000):
        if conn.dialect.name == "sqlite":
            params: tuple = (orjson.dumps([list(w) for w in chunk]).decode(),)
            sql_rows = conn.exec_driver_sql(
                f"SELECT {', '.join('e.' + c for c in _FACT_COLUMNS.split(', '))} FROM json_each(?) w JOIN checkin_events e "
                "ON e.employee_id = json_extract(w.value, '$[0]') AND e.at BETWEEN json_extract(w.value, '$[1]') AND json_extract(w.value, '$[2]') "
                "WHERE e.verdict = 'accepted' AND e.at IS NOT NULL", params)
        else:
            sql_rows = conn.exec_driver_sql(
                f"SELECT {', '.join('e.' + c for c in _FACT_COLUMNS.split(', '))} FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS w(p, lo, hi) "
                "JOIN checkin_events e ON e.employee_id = w.p AND e.at BETWEEN w.lo AND w.hi WHERE e.verdict = 'accepted' AND e.at IS NOT NULL",
                ([w[0] for w in chunk], [w[1] for w in chunk], [w[2] for w in chunk]))
        for r in sql_rows:
            r = tuple(r)
            rows.setdefault(r[0], r)
            travel_ids.add(r[0])
    sessions = {s.id: s for chunk in chunks(sorted(wanted), 900) for s in db.scalars(select(TrainingSession).where(TrainingSession.id.in_(chunk)))}
    facts = _to_facts(db, list(rows.values()), sessions)
    fresh = [f for f in facts if f.event_id in new_ids and f.session_id in wanted]
    in_groups = [f for f in facts if (f.device_id, f.session_id) in phone or (f.session_id, f.qr_step) in steps]
    travel = [f for f in facts if f.event_id in travel_ids]
    found = (proxy_rules.shared_device(in_groups) + proxy_rules.relayed_token(in_groups)
             + proxy_rules.timetable_contradiction(fresh, _classes(db, fresh, sessions, default_tz))
             + [t for t in proxy_rules.impossible_travel(travel) if new_ids.intersection(t.involved_event_ids)])
    return [sig for sig in found if sig.session_id in wanted]


def record_signals(db: Session, signals: list[proxy_rules.Signal], now: datetime) -> list[ProxyCase]:
    """The writing half of ``detect``."""
    fingerprints = sorted({sig.fingerprint[:160] for sig in signals})
    known: dict[tuple[str, str], ProxyCase] = {}
    for chunk in chunks(fingerprints, 500):  # one look for all of them, not one per signal
        known.update(((c.signal, c.fingerprint), c) for c in db.scalars(select(ProxyCase).where(ProxyCase.fingerprint.in_(chunk))))
    touched = []
    for sig in signals:
        key = (sig.signal, sig.fingerprint[:160])
        case = known.get(key)
        if case is None:
            case = known[key] = ProxyCase(
                session_id=sig.session_id, signal=sig.signal, fingerprint=key[1], score=sig.score,
                employee_ids=list(sig.employee_ids), event_ids=list(sig.event_ids), detail=sig.detail, status="open", created_at=now,
            )
            db.add(case)
            touched.append(case)
        elif case.status == "open" and (list(case.event_ids) != list(sig.event_ids) or case.score != sig.score):
            case.event_ids, case.employee_ids, case.score, case.detail = list(sig.event_ids), list(sig.employee_ids), sig.score, sig.detail
            touched.append(case)
    db.flush()
    return touched


def after_recompute(db: Session, pairs: set[tuple[int, int]], *, now: datetime, default_tz: str,
                    event_ranges: Iterable[tuple[int, int]] | None = None) -> None:
    """What follows fresh figures: proxy detection (of what the new events in ``event_ranges`` can
    change, or of the whole sessions), and participation alerts for sessions already over."""
    sessions = {s for s, _ in pairs}
    if event_ranges is None:
        detect(db, sessions, now, default_tz=default_tz)
    else:
        record_signals(db, signals_for_events(db, event_ranges, default_tz=default_tz), now)
    check_sessions_over(db, sessions, now=now, default_tz=default_tz)


def id_ranges(ids: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive runs of ids as (first, last) ranges."""
    out: list[tuple[int, int]] = []
    for i in sorted(set(ids)):
        if out and i == out[-1][1] + 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


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
