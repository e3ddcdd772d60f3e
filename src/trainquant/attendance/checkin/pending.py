"""Figures follow events in the background, coalesced, without losing a batch on a crash.

A batch answered before its figures are computed leaves one ``attendance_pending`` row (the range
of event ids it stored) in its own transaction: the rows, not any queue message, are what is left
to do. After the answer the app enqueues a drain job (``trainquant.jobs``); the drain turns *every*
pending row into figures, proxy cases and alerts. It first waits for ingestion to go quiet (no new
pending row, and no batch being stored in this process, for ``quiet_s``; at most ``max_delay_s``),
so a burst of batches is recomputed once after it, not once per batch.

A row is deleted in the transaction that finishes its work. A crash in between (or a queue message
lost with a killed worker) leaves the row, and the next drain does the work again: the periodic
sweep, the consumer's start, the next batch, or ``trainquant attendance refresh``. Recomputation is
idempotent.

One drain at a time holds the drain mutex (``drain_mutex``): a lock the operating system or the
database lets go of when its holder dies — ``flock`` beside a SQLite file, a session advisory lock
on PostgreSQL — so a killed process never blocks the next drain. A drain that finds the mutex taken
returns at once; the holder looks for pending rows once more after letting go, so a row stored just
then is not left behind. Should two drains still overlap (``attendance refresh`` beside a server
drain), the write phase notices rows taken meanwhile and computes again under the write lock.
"""

from __future__ import annotations

import gc
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from weakref import WeakKeyDictionary

from sqlalchemy import delete, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from trainquant.attendance.models import PendingRefresh
from trainquant.attendance.proxy import service as review
from trainquant.attendance.service import excluded_event_ids, figure_rows, store_rows
from trainquant.db import chunks, read_only, rows_matched, unit_of_work

log = logging.getLogger(__name__)
ROWS_PER_ROUND = 500  # pending batches taken at once (a batch holds up to 10,000 events)
ADVISORY_KEY = 0x7471_6472  # "tqdr": the PostgreSQL advisory lock of the drain


def mark(db: Session, event_ids: list[int], *, now: datetime) -> None:
    """Remember, in the caller's transaction, that these stored events still need their figures."""
    if event_ids:
        db.add(PendingRefresh(first_event_id=min(event_ids), last_event_id=max(event_ids), created_at=now))
        db.flush()


def pending_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(PendingRefresh)) or 0


def has_pending(factory: sessionmaker[Session]) -> bool:
    with read_only(factory)() as db:
        return db.scalar(select(PendingRefresh.id).limit(1)) is not None


def _newest_pending(factory: sessionmaker[Session]) -> int | None:
    with read_only(factory)() as db:
        return db.scalar(select(func.max(PendingRefresh.id)))


@contextmanager
def _no_gc_pauses() -> Iterator[None]:
    """A round allocates hundreds of thousands of rows and tuples at once, each allocation burst
    triggering the cycle collector over every live object; reference counting frees them anyway."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def drain_once(factory: sessionmaker[Session], *, now: datetime, default_tz: str) -> int:
    with _no_gc_pauses():
        return _drain_once(factory, now=now, default_tz=default_tz)


def _drain_once(factory: sessionmaker[Session], *, now: datetime, default_tz: str) -> int:
    """Work off up to ``ROWS_PER_ROUND`` pending rows; returns how many were done (0: nothing pending).

    The reading and computing happen in a read-only transaction (on SQLite it does not hold the
    write lock, so event batches keep landing meanwhile); the results are written in one short
    transaction that also deletes the rows. A proxy decision taken in between changes which events
    count, and another drain may have done some of the rows meanwhile: the write transaction sees
    either and computes the figures again.
    """
    with unit_of_work(read_only(factory)) as db:
        rows = db.execute(select(PendingRefresh.id, PendingRefresh.first_event_id, PendingRefresh.last_event_id).order_by(PendingRefresh.id).limit(ROWS_PER_ROUND)).all()
        if not rows:
            return 0
        ranges = [(lo, hi) for _, lo, hi in rows]
        new = review.new_event_rows(db, ranges)  # read once: pairs, punches and proxy facts come from it
        pairs = {(r[2], r[1]) for r in new if r[2] is not None}
        sessions = {s for s, _ in pairs}
        excluded = excluded_event_ids(db, sessions)
        figures = figure_rows(db, pairs, default_tz=default_tz, known=(new, ranges))
        signals = review.signals_for_events(db, ranges, default_tz=default_tz, new=new)
    with unit_of_work(factory) as db:
        ids = [r[0] for r in rows]
        claimed = sum(rows_matched(db.execute(delete(PendingRefresh).where(PendingRefresh.id.in_(chunk)))) for chunk in chunks(ids, 500))
        if claimed == 0:
            return len(rows)  # another drain (``attendance refresh``, say) did them all
        if claimed < len(rows) or excluded_event_ids(db, sessions) != excluded:
            # Another drain took some of these rows from a snapshot that may be newer than ours, or
            # a proxy decision changed which events count: compute again here, under the write lock.
            figures = figure_rows(db, pairs, default_tz=default_tz)
            signals = review.signals_for_events(db, ranges, default_tz=default_tz)
        store_rows(db, figures, now=now)
        review.record_signals(db, signals, now)
        review.check_sessions_over(db, sessions, now=now, default_tz=default_tz)
    return len(rows)


# ---------------------------------------------------------------- batches in flight (this process)

_state = threading.Lock()
_inflight = 0
_last_activity = 0.0


@contextmanager
def ingesting() -> Iterator[None]:
    """Wrap the storing of a batch: a drain in this process waits for it rather than compete with it.
    (Batches stored by other processes show as new pending rows.)"""
    global _inflight, _last_activity
    with _state:
        _inflight += 1
    try:
        yield
    finally:
        with _state:
            _inflight -= 1
            _last_activity = time.monotonic()


def wait_for_quiet(factory: sessionmaker[Session], *, quiet_s: float, max_delay_s: float, stop: threading.Event | None = None) -> None:
    """Return once ingestion has been quiet for ``quiet_s`` — no batch being stored in this process, and
    no new pending row from any process over a whole ``quiet_s`` — or after ``max_delay_s`` in any case
    (under steady load the figures are at most that late), or when ``stop`` is set."""
    if quiet_s <= 0:
        return
    start = seen_at = time.monotonic()
    seen = _newest_pending(factory)
    while True:
        with _state:
            busy, idle = _inflight > 0, time.monotonic() - _last_activity
        waited = time.monotonic() - start
        if waited >= max_delay_s or (stop is not None and stop.is_set()):
            return
        if not busy and idle >= quiet_s and time.monotonic() - seen_at >= quiet_s:
            newest = _newest_pending(factory)
            if newest == seen:
                return
            seen, seen_at = newest, time.monotonic()
        pause = min(0.05, max(0.005, quiet_s - idle), max_delay_s - waited)
        if stop is not None:
            stop.wait(pause)
        else:
            time.sleep(pause)


# ---------------------------------------------------------------- one drain at a time


_THREAD_LOCKS: WeakKeyDictionary[object, threading.Lock] = WeakKeyDictionary()
_THREAD_LOCKS_GUARD = threading.Lock()


def _lock_file(engine: Engine) -> Path | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database).with_name(Path(database).name + ".drain.lock")


@contextmanager
def drain_mutex(factory: sessionmaker[Session], *, wait_s: float = 0.0) -> Iterator[bool]:
    """Hold the one drain mutex while the body runs; yields False (and holds nothing) if another drain
    kept it for ``wait_s``. Its holder's death lets it go: ``flock`` on a file beside a SQLite database,
    a session-level advisory lock on PostgreSQL; within one process (tests bound to one connection, an
    in-memory database) a thread lock.
    """
    bind = factory.kw.get("bind")
    deadline = time.monotonic() + wait_s
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        with bind.connect() as conn:
            conn.commit()  # no transaction left open while the lock is held: it outlives transactions
            while not conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": ADVISORY_KEY}):
                conn.rollback()
                if time.monotonic() >= deadline:
                    yield False
                    return
                time.sleep(0.05)
            conn.commit()
            try:
                yield True
            finally:
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": ADVISORY_KEY})
                    conn.commit()
                except Exception:
                    conn.invalidate()  # closing the connection lets the lock go; never back to the pool holding it
                    raise
        return
    path = _lock_file(bind) if isinstance(bind, Engine) else None
    if path is not None:
        import fcntl

        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        yield False
                        return
                    time.sleep(0.05)
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
        return
    key = bind if bind is not None else factory
    with _THREAD_LOCKS_GUARD:
        lock = _THREAD_LOCKS.setdefault(key, threading.Lock())
    acquired = lock.acquire(timeout=wait_s) if wait_s > 0 else lock.acquire(blocking=False)
    if not acquired:
        yield False
        return
    try:
        yield True
    finally:
        lock.release()


def drain_all(
    factory: sessionmaker[Session], *, now: Callable[[], datetime], default_tz: str, quiet_s: float = 0.0, max_delay_s: float = 10.0,
    wait_s: float = 0.0, stop: threading.Event | None = None, on_round: Callable[[int], None] | None = None,
) -> int:
    """Work off everything pending, one drain at a time; returns how many pending rows this call did.

    Returns at once when nothing is pending or another drain holds the mutex (after ``wait_s``); that
    drain looks again before it stops. Errors propagate (the job is retried; the rows stay pending).
    """
    done = 0
    while has_pending(factory):
        with drain_mutex(factory, wait_s=wait_s) as held:
            if not held:
                return done  # the holder looks for pending rows again after letting go
            wait_for_quiet(factory, quiet_s=quiet_s, max_delay_s=max_delay_s, stop=stop)
            if stop is not None and stop.is_set():
                return done  # shutting down: the rows stay pending for the next start
            while n := drain_once(factory, now=now(), default_tz=default_tz):
                done += n
                if on_round is not None:
                    on_round(n)
        # Let go, then look once more: a row stored while this drain held the mutex, whose own drain
        # found the mutex taken, is taken here.
    return done
