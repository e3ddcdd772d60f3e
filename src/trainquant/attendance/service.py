"""Attendance figures derived from stored events: recomputed whenever events arrive or a review decides."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from itertools import repeat
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import orjson
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from trainquant.attendance.models import AttendanceRecord, CheckinEvent, ProxyCase
from trainquant.attendance.rules import Attendance, Interval, Punch, Window, attended
from trainquant.db import chunks, driver_value, insert_rows, select_in
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
                site_zone = zones.get(site_id) if site_id is not None else None
                self.zone[eid] = ZoneInfo(site_zone or default_tz)
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
            # An event's person is gone once the employee is deleted (SET NULL): it is nobody's punch.
            if sid is not None and eid is not None and (sid, eid) in pairs and id_ not in excluded:
                assert at is not None and kind is not None  # an accepted event always has its time and kind
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
    return store_rows(db, figure_rows(db, pairs, default_tz=default_tz), now=now)


# A stored figure without its ``computed_at``: (attended, scheduled, participation, late, early, away, flags, events).
FigureRow = tuple[int, int, float, int, int, list, list, int]


def _row(a: Attendance, n: int) -> FigureRow:
    return (a.attended_seconds, a.scheduled_seconds, round(a.participation, 6), a.late_seconds, a.early_leave_seconds,
            [[i.start.isoformat(), i.end.isoformat()] for i in a.away], sorted(a.flags), n)


def store_figures(db: Session, figures: dict[tuple[int, int], tuple[Attendance, int]], *, now: datetime) -> int:
    """Write what ``figures_for`` computed (possibly in an earlier, read-only transaction)."""
    return store_rows(db, {pair: _row(a, n) for pair, (a, n) in figures.items()}, now=now)


def _pairs_param(conn, pairs: Iterable[tuple[int, int]]) -> tuple[str, tuple]:
    """``(session_id, employee_id) IN <pairs>`` for a driver-level statement, whatever the number of pairs:
    SQLite reads them from one JSON parameter, PostgreSQL from two arrays."""
    pairs = list(pairs)
    if conn.dialect.name == "sqlite":
        return ("(session_id, employee_id) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))",
                (orjson.dumps(pairs).decode(),))
    return "(session_id, employee_id) IN (SELECT * FROM unnest(%s::bigint[], %s::bigint[]))", ([s for s, _ in pairs], [e for _, e in pairs])


def store_rows(db: Session, rows: dict[tuple[int, int], FigureRow], *, now: datetime) -> int:
    """Replace the stored figures of these pairs, straight through the driver (hundreds of thousands
    of rows after a burst of batches: SQLAlchemy's per-row processing cost more than the writes)."""
    if not rows:
        return 0
    table = AttendanceRecord.__table__
    conn = db.connection()
    # In the unique index's order, each delete and insert lands beside the last (sorted by NumPy:
    # comparing Python tuples costs more than the writes).
    pairs = list(rows)
    keyed = np.array(pairs, dtype=np.int64).reshape(-1, 2)
    pairs = [pairs[i] for i in np.lexsort((keyed[:, 1], keyed[:, 0])).tolist()]
    condition, params = _pairs_param(conn, pairs)
    conn.exec_driver_sql(f"DELETE FROM {table.name} WHERE {condition}", params)
    stamp = driver_value(table.c.computed_at, conn.dialect)(now)
    columns = ("session_id", "employee_id", "attended_seconds", "scheduled_seconds", "participation", "late_seconds",
               "early_leave_seconds", "away", "flags", "events", "computed_at")
    dumps = orjson.dumps
    flag_texts: dict[tuple, str] = {}  # a handful of distinct flag sets among hundreds of thousands of rows

    def flags_text(flags: list) -> str:
        key = tuple(flags)
        text_ = flag_texts.get(key)
        if text_ is None:
            text_ = flag_texts[key] = dumps(flags).decode()
        return text_

    # Column by column (zip runs in C), then back into rows.
    attended, scheduled, participation, late, early, away, flags, events = zip(*(rows[p] for p in pairs), strict=True)
    away_text = [dumps(a).decode() if a else "[]" for a in away]
    values = list(zip((p[0] for p in pairs), (p[1] for p in pairs), attended, scheduled, participation, late, early,
                      away_text, map(flags_text, flags), events, repeat(stamp, len(pairs)), strict=True))
    insert_rows(db, table, columns, values)
    return len(values)


def people_with_timetables(db: Session, people: Iterable[int]) -> set[int]:
    """Who of ``people`` has a teaching timetable at all (weekly slots or dated classes)."""
    ids = sorted(set(people))
    found: set[int] = set()
    for table in (WeeklySlot.__table__, DatedClass.__table__):
        found.update(r[0] for r in select_in(db, table, "employee_id", ["DISTINCT employee_id"], ids))
    return found


def _epoch_us(values: list) -> np.ndarray:
    """Event times as microseconds since the epoch: SQLite hands back UTC text, PostgreSQL datetimes."""
    if not values:
        return np.zeros(0, dtype=np.int64)
    if isinstance(values[0], str):
        return np.array(values, dtype="datetime64[us]").astype(np.int64)
    return np.array([v if v.tzinfo is None else v.astimezone(UTC).replace(tzinfo=None) for v in values], dtype="datetime64[us]").astype(np.int64)


def figure_rows(
    db: Session, pairs: set[tuple[int, int]], *, default_tz: str, known: tuple[list[tuple], list[tuple[int, int]]] | None = None,
) -> dict[tuple[int, int], FigureRow]:
    """``figures_for`` for many pairs at once: the NumPy twin of the rules (``batch.py``), reading each
    pair's punches through the (session, employee) index rather than whole sessions. Pairs with a
    punch or a session bound off the whole second go through the reference rules, so every figure is
    exactly the reference's (a test holds them together).

    ``known``: the accepted events of some id ranges, already read (rows of ``id, employee_id,
    session_id, at, kind``, the ranges): only the pairs' other events are read again."""
    from trainquant.attendance.batch import FLAG_BITS, attended_batch

    if not pairs:
        return {}
    session_ids = sorted({s for s, _ in pairs})
    sessions = {s.id: s for chunk in chunks(session_ids, CHUNK) for s in db.scalars(select(TrainingSession).where(TrainingSession.id.in_(chunk)))}
    order = [p for p in pairs if p[0] in sessions]  # any order: the figures are keyed by pair
    if not order:
        return {}
    excluded = excluded_event_ids(db, session_ids)
    conn = db.connection()
    condition, params = _pairs_param(conn, order)
    not_known = "".join(f" AND NOT (id BETWEEN {int(lo)} AND {int(hi)})" for lo, hi in known[1]) if known else ""
    rows: list[Sequence[Any]] = list(conn.exec_driver_sql(
        f"SELECT id, session_id, employee_id, at, kind FROM checkin_events WHERE {condition} AND verdict = 'accepted' AND at IS NOT NULL{not_known}",
        params,
    ))
    if known:  # rows of another shape; those of other pairs (no session) are dropped below
        rows += [(r[0], r[2], r[1], r[3], r[4]) for r in known[0] if r[2] is not None]
    if excluded:
        rows = [r for r in rows if r[0] not in excluded]
    # Each punch's group (its pair's index in ``order``), by sorted 64-bit keys rather than a dict.
    order_s = np.array([s for s, _ in order], dtype=np.int64)
    order_e = np.array([e for _, e in order], dtype=np.int64)
    by_key = np.argsort(order_s << 32 | order_e)
    keys = (order_s << 32 | order_e)[by_key]
    row_keys = np.array([r[1] for r in rows], dtype=np.int64) << 32 | np.array([r[2] for r in rows], dtype=np.int64)
    at_pos = np.minimum(np.searchsorted(keys, row_keys), max(len(keys) - 1, 0))
    mine = keys[at_pos] == row_keys if len(rows) else np.zeros(0, dtype=bool)
    g = by_key[at_pos][mine]
    ids = np.array([r[0] for r in rows], dtype=np.int64)[mine]
    at_us = _epoch_us([r[3] for r in rows])[mine]
    out_ = np.array([r[4] == "out" for r in rows], dtype=bool)[mine]
    # Per session once, then spread over its pairs.
    sid_list = sorted(sessions)
    pos = {sid: k for k, sid in enumerate(sid_list)}
    pair_session = np.array([pos[s] for s, _ in order], dtype=np.int64)
    ws_us = _epoch_us([sessions[s].starts_at for s in sid_list])[pair_session]
    we_us = _epoch_us([sessions[s].ends_at for s in sid_list])[pair_session]
    # Off the whole second: the reference rules (the batch counts whole seconds).
    exact = (ws_us % 1_000_000 == 0) & (we_us % 1_000_000 == 0)
    if len(g):
        fractional = np.zeros(len(order), dtype=bool)
        fractional[g[at_us % 1_000_000 != 0]] = True
        exact &= ~fractional
    teachers = people_with_timetables(db, {e for _, e in order})
    calendar = TeachingCalendar(db, teachers, default_tz)
    teaching = {}
    for i in np.flatnonzero(np.isin(order_e, np.array(sorted(teachers), dtype=np.int64))).tolist() if teachers else ():
        s, e = order[i]
        classes = calendar.classes(e, sessions[s].starts_at, sessions[s].ends_at)
        if classes:
            teaching[i] = [(int(c.start.timestamp()), int(c.end.timestamp())) for c in classes]
            if any(c.start.microsecond or c.end.microsecond for c in classes):
                exact[i] = False
    credit = np.array([sessions[s].missing_checkout_policy == "credit-to-end" for s in sid_list], dtype=bool)[pair_session]
    res = attended_batch(g, at_us // 1_000_000, out_, ids, ws_us // 1_000_000, we_us // 1_000_000, credit, teaching)
    counts = (np.bincount(g, minlength=len(order)) if len(g) else np.zeros(len(order), dtype=np.int64)).tolist()
    names = sorted(FLAG_BITS.items())
    flag_names = {mask: [n for n, bit in names if mask & bit] for mask in set(res.flags.tolist())}
    iso = lambda t: datetime.fromtimestamp(t, UTC).isoformat()  # noqa: E731
    away_iso = {i: [[iso(x), iso(y)] for x, y in gaps] for i, gaps in res.away.items()}
    no_gaps: list = []  # shared by every pair without gaps, never changed
    attended_s, scheduled = res.attended.tolist(), ((we_us - ws_us) // 1_000_000).tolist()
    participation = [round(a / sch, 6) if sch else 0.0 for a, sch in zip(attended_s, scheduled, strict=True)]
    away = [away_iso.get(i, no_gaps) for i in range(len(order))] if away_iso else [no_gaps] * len(order)
    flags = [flag_names[f] for f in res.flags.tolist()]
    figures: dict[tuple[int, int], FigureRow] = dict(zip(order, zip(
        attended_s, scheduled, participation, res.late.tolist(), res.early.tolist(), away, flags, counts, strict=True), strict=True))
    rest = {p for i, p in enumerate(order) if not exact[i]}
    for p in rest:
        del figures[p]
    if rest:
        figures.update({p: _row(a, n) for p, (a, n) in figures_for(db, rest, default_tz=default_tz).items()})
    return figures


def session_pairs(db: Session, session_id: int) -> set[tuple[int, int]]:
    """Everyone with a stake in a session's attendance: approved enrolments and anyone who punched."""
    enrolled = db.scalars(select(Enrolment.employee_id).where(Enrolment.session_id == session_id, Enrolment.status == "approved"))
    punched = db.scalars(
        select(CheckinEvent.employee_id).where(CheckinEvent.session_id == session_id, CheckinEvent.verdict == "accepted", CheckinEvent.employee_id.is_not(None)).distinct()
    )
    return {(session_id, e) for e in set(enrolled) | set(punched) if e is not None}


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
        for id_, event_sid, eid, when, kind in db.execute(q):
            if id_ in excluded:
                continue
            # The query reads accepted events of these sessions with their person: each has its time.
            assert event_sid is not None and eid is not None and when is not None
            g.append(gid[(event_sid, eid)])
            at.append(int(when.timestamp()))
            out.append(kind == "out")
            tb.append(id_)
    ws = np.array([int(sessions[s].starts_at.timestamp()) for s, _ in order], dtype=np.int64)
    we = np.array([int(sessions[s].ends_at.timestamp()) for s, _ in order], dtype=np.int64)
    credit = np.array([sessions[s].missing_checkout_policy == "credit-to-end" for s, _ in order], dtype=bool)
    calendar = TeachingCalendar(db, people_with_timetables(db, {e for _, e in order}), default_tz)
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
    rows: list[dict[str, Any]] = []
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
    for batch in chunks(rows, 5000):
        db.execute(table.insert(), list(batch))
    return len(rows)
