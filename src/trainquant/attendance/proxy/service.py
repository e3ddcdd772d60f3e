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
from trainquant.attendance.service import TeachingCalendar, people_with_timetables, recompute
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


class _Places:
    """What a punch takes from its session and venue (fence, site, the venue's position), looked up
    once per (session, device) rather than per punch."""

    def __init__(self, db: Session, rows: list[tuple], sessions: dict[int, TrainingSession]):
        missing = sorted({r[2] for r in rows if r[2] is not None and r[2] not in sessions})
        for chunk in chunks(missing, 900):
            sessions.update({s.id: s for s in db.scalars(select(TrainingSession).where(TrainingSession.id.in_(chunk)))})
        venue_ids = {s.venue_id for s in sessions.values() if s is not None and s.venue_id}
        self.venues = {v.id: v for v in db.scalars(select(Venue).where(Venue.id.in_(sorted(venue_ids))))} if venue_ids else {}
        device_ids = sorted({r[6] for r in rows if r[6]})
        self.device_venue = dict(db.execute(select(Device.device_id, Device.venue_id).where(Device.device_id.in_(device_ids))).all()) if device_ids else {}
        for vid in set(self.device_venue.values()) - set(self.venues):
            if vid is not None and (v := db.get(Venue, vid)) is not None:
                self.venues[vid] = v
        self.sessions = sessions
        self._cache: dict[tuple[int | None, str | None], tuple] = {}

    def of(self, sid: int | None, device_id: str | None) -> tuple:
        key = (sid, device_id)
        ctx = self._cache.get(key)
        if ctx is None:
            s = self.sessions.get(sid) if sid else None
            venue = self.venues.get(s.venue_id) if s is not None and s.venue_id else None
            if venue is None and device_id is not None and (device_venue := self.device_venue.get(device_id)):
                venue = self.venues.get(device_venue)
            ctx = self._cache[key] = (
                venue.radius_m if venue else None, (s.site_id if s is not None else None) or (venue.site_id if venue else None),
                venue.latitude if venue else None, venue.longitude if venue else None,
            )
        return ctx

    def place(self, r: tuple) -> tuple:
        """Where ``PunchFact.position`` (else the site) puts a punch: two punches at one place can never travel."""
        if r[8] is not None and r[9] is not None:
            return (r[8], r[9])
        _, site, vlat, vlng = self.of(r[2], r[6])
        return (vlat, vlng) if vlat is not None and vlng is not None else ("site", site)

    def facts(self, rows: Iterable[tuple]) -> list[proxy_rules.PunchFact]:
        Fact, of = proxy_rules.PunchFact, self.of
        return [Fact(id_, eid, sid, _utc(at), kind or "in", method, device_id, qr_step, lat, lng, accuracy_m, distance_m, *of(sid, device_id))
                for id_, eid, sid, at, kind, method, device_id, qr_step, lat, lng, accuracy_m, distance_m in rows]


def _to_facts(db: Session, rows: list[tuple], sessions: dict[int, TrainingSession]) -> list[proxy_rules.PunchFact]:
    """Facts from plain event rows (``_FACT_COLUMNS``); ``sessions`` is completed with the rows' sessions."""
    return _Places(db, rows, sessions).facts(rows)


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
    return [tuple(r) for r in db.connection().exec_driver_sql(sql, params).fetchall()]


def _merged(ranges: Iterable[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for lo, hi in sorted(set(ranges)):
        if out and lo <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], hi))
        else:
            out.append((lo, hi))
    return out


def new_event_rows(db: Session, ranges: Iterable[tuple[int, int]]) -> list[tuple]:
    """The accepted events (with a person and a time) in these id ranges, as plain rows (``_FACT_COLUMNS``)."""
    mark_ = "?" if db.connection().dialect.paramstyle == "qmark" else "%s"
    new: list[tuple] = []
    for chunk in chunks(_merged(ranges), 50):
        new += _rows_by(db, "(" + " OR ".join([f"id BETWEEN {mark_} AND {mark_}"] * len(chunk)) + ")", tuple(v for r in chunk for v in r))
    return new


def signals_for_events(db: Session, ranges: Iterable[tuple[int, int]], *, default_tz: str, new: list[tuple] | None = None) -> list[proxy_rules.Signal]:
    """``signals_for`` the sessions of the events in these id ranges, reading only what those events can
    change: the phone or QR-step groups they joined, their people's punches within the travel
    look-around of each new punch, and their own timetable checks. A group without a new event gives
    the signals it gave before (recorded then), so the cost follows the new events, not the sessions'
    history. Signals involving no new event are left out (they were recorded when they were new).
    """
    conn = db.connection()
    ranges = _merged(ranges)
    if new is None:  # ``new``: ``new_event_rows`` of the ranges, already read
        new = new_event_rows(db, ranges)
    wanted = {r[2] for r in new if r[2] is not None}
    if not wanted:
        return []
    new_ids = {r[0] for r in new}
    # Phone and QR groups (shared device, relayed token) are judged whole: every punch of the group.
    phone = {(r[6], r[2]) for r in new if r[5] in proxy_rules.PHONE_METHODS and r[6] and r[2] is not None}
    steps = {(r[2], r[7]) for r in new if r[5] == "qr" and r[7] is not None and r[2] is not None}
    group_rows: dict[int, tuple] = {}
    group_sessions = sorted({sid for _, sid in phone} | {sid for sid, _ in steps})
    if group_sessions:
        for r in select_in(db, CheckinEvent.__table__, "session_id", _FACT_COLUMNS.split(", "), group_sessions,
                           where="verdict = 'accepted' AND employee_id IS NOT NULL AND at IS NOT NULL AND method IN ('qr', 'geo')"):
            if (r[6], r[2]) in phone or (r[2], r[7]) in steps:
                group_rows[r[0]] = r
    # Travel: each person's older punches from their first new punch to their last, with the
    # look-around (one range per person through the (employee, at) index; never the new ones again).
    to_db = driver_value(CheckinEvent.__table__.c.at, conn.dialect)
    new_at = {r[0]: _utc(r[3]) for r in new}
    span: dict[int, tuple[datetime, datetime]] = {}
    for r in new:
        at = new_at[r[0]]
        lo, hi = span.get(r[1], (at, at))
        span[r[1]] = (min(lo, at), max(hi, at))
    spans = [(person, to_db(lo - TRAVEL_LOOKAROUND), to_db(hi + TRAVEL_LOOKAROUND)) for person, (lo, hi) in sorted(span.items())]
    columns = ", ".join("e." + c for c in _FACT_COLUMNS.split(", "))
    not_new = " AND ".join(f"NOT (e.id BETWEEN {int(lo)} AND {int(hi)})" for lo, hi in ranges[:200]) or "TRUE"
    old: list[tuple] = []
    for chunk in chunks(spans, 5000):
        if conn.dialect.name == "sqlite":
            result = conn.exec_driver_sql(
                f"SELECT {columns} FROM json_each(?) w JOIN checkin_events e ON e.employee_id = json_extract(w.value, '$[0]') "
                f"AND e.at BETWEEN json_extract(w.value, '$[1]') AND json_extract(w.value, '$[2]') WHERE e.verdict = 'accepted' AND {not_new}",
                (orjson.dumps([list(w) for w in chunk]).decode(),))
        else:
            result = conn.exec_driver_sql(
                f"SELECT {columns} FROM unnest(%s::bigint[], %s::timestamptz[], %s::timestamptz[]) AS w(p, lo, hi) "
                f"JOIN checkin_events e ON e.employee_id = w.p AND e.at BETWEEN w.lo AND w.hi WHERE e.verdict = 'accepted' AND {not_new}",
                ([w[0] for w in chunk], [w[1] for w in chunk], [w[2] for w in chunk]))
        old += [tuple(r) for r in result.fetchall() if r[0] not in new_ids]
    sessions = {s.id: s for chunk in chunks(sorted(wanted), 900) for s in db.scalars(select(TrainingSession).where(TrainingSession.id.in_(chunk)))}
    places = _Places(db, new + old + list(group_rows.values()), sessions)
    # Only someone whose punches are in two places can have travelled impossibly between them.
    seen: dict[int, set] = {}
    for r in new + old:
        seen.setdefault(r[1], set()).add(places.place(r))
    movers = {person for person, where in seen.items() if len(where) > 1}
    travel = places.facts(r for r in new + old if r[1] in movers)
    if old and travel:  # older punches count only within the look-around of one of the person's new punches
        windows: dict[int, list[list[datetime]]] = {}
        for r in sorted((r for r in new if r[1] in movers), key=lambda r: (r[1], new_at[r[0]])):
            mine = windows.setdefault(r[1], [])
            lo, hi = new_at[r[0]] - TRAVEL_LOOKAROUND, new_at[r[0]] + TRAVEL_LOOKAROUND
            if mine and lo <= mine[-1][1]:
                mine[-1][1] = max(mine[-1][1], hi)
            else:
                mine.append([lo, hi])
        starts = {person: [w[0] for w in ws] for person, ws in windows.items()}

        def near(f: proxy_rules.PunchFact) -> bool:
            ws = windows[f.employee_id]
            k = bisect.bisect_right(starts[f.employee_id], f.at) - 1
            return k >= 0 and f.at <= ws[k][1]

        travel = [f for f in travel if f.event_id in new_ids or near(f)]
    teachers = people_with_timetables(db, {r[1] for r in new})
    fresh = places.facts(r for r in new if r[1] in teachers and r[2] in wanted)
    in_groups = places.facts(group_rows.values())
    found = (proxy_rules.shared_device(in_groups) + proxy_rules.relayed_token(in_groups)
             + _timetable_signals(db, fresh, sessions, default_tz)
             + [t for t in proxy_rules.impossible_travel(travel) if new_ids.intersection(t.involved_event_ids)])
    return [sig for sig in found if sig.session_id in wanted]


def _timetable_signals(db: Session, punches: list[proxy_rules.PunchFact], sessions: dict[int, TrainingSession], default_tz: str) -> list[proxy_rules.Signal]:
    classes = _classes(db, punches, sessions, default_tz)
    teachers = {c.employee_id for c in classes}  # only they can contradict a timetable
    return proxy_rules.timetable_contradiction([p for p in punches if p.employee_id in teachers], classes)


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
                employee_ids=list(sig.employee_ids), event_ids=list(sig.event_ids), detail=sig.detail, evidence=sig.evidence, status="open", created_at=now,
            )
            db.add(case)
            touched.append(case)
        elif case.status == "open" and (list(case.event_ids) != list(sig.event_ids) or case.score != sig.score):
            case.event_ids, case.employee_ids, case.score, case.detail = list(sig.event_ids), list(sig.employee_ids), sig.score, sig.detail
            case.evidence = sig.evidence
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
    from trainquant.alerts.service import check_sessions

    check_sessions(db, session_ids, now, default_tz=default_tz)


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
        raise Invalid(f"decision must be one of {', '.join(DECISIONS)}", code="case-decision")
    case = db.get(ProxyCase, case_id, with_for_update=True)
    if case is None:
        raise NotFound(f"no proxy case {case_id}", code="no-proxy-case")
    if case.status != "open":
        raise Conflict(f"case {case_id} was already {case.status} by {case.decided_by} on {case.decided_at:%Y-%m-%d %H:%M} UTC",
                       code="case-already-decided", status_was=case.status, decided_by=case.decided_by,
                       decided_at=case.decided_at.isoformat() if case.decided_at else None)
    note = (note or "").strip() or None
    if decision == "confirm" and not note:
        raise Invalid("confirming a proxy case needs a note (what HR found)", code="case-note-required")
    case.status, case.decided_by, case.decided_at, case.decision_note = DECISIONS[decision], by, now, note[:500] if note else None
    db.flush()
    ids = [int(i) for i in case.event_ids]
    found = db.execute(select(CheckinEvent.session_id, CheckinEvent.employee_id).where(CheckinEvent.id.in_(ids))).all() if ids else []
    pairs = {(s, e) for s, e in found if s is not None and e is not None}
    if decision == "confirm" and pairs:
        recompute(db, pairs, now=now, default_tz=default_tz)
        from trainquant.alerts.service import check_session

        for sid in sorted({s for s, _ in pairs}):
            s = db.get(TrainingSession, sid)
            if s is not None and s.ends_at <= now:
                check_session(db, sid, now, default_tz=default_tz)
    return case
