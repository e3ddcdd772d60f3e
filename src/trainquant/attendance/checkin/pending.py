"""Figures follow events in the background, coalesced, without losing a batch on a crash.

A batch answered before its figures are computed leaves one ``attendance_pending`` row (the range
of event ids it stored) in its own transaction. After the response, the app's ``Drainer`` turns
*every* pending row into figures, proxy cases and alerts; while it works, later batches only add
rows and return at once, and the drainer takes them all in its next round. A burst of batches is
therefore recomputed a few times, not once per batch, and ingestion never waits for it except for
the short moment the drainer writes (SQLite has one writer).

A row is deleted in the transaction that finishes its work. If the process dies in between, the row
stays and the next drain (after the next batch, or ``trainquant attendance refresh``) does the work
again: recomputation is idempotent.

With several server workers, one drains at a time: it holds the lease (``attendance_drain_lease``),
and the others leave their rows to it; it looks for pending rows once more after letting go, so a row
stored just then is not left behind. Should two drains still overlap (a lease that ran out), the
write phase notices rows taken meanwhile and computes again under the lock.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from trainquant.attendance.models import CheckinEvent, DrainLease, PendingRefresh
from trainquant.attendance.proxy import service as review
from trainquant.attendance.service import excluded_event_ids, figures_for, store_figures
from trainquant.db import chunks, read_only, unit_of_work

log = logging.getLogger(__name__)
ROWS_PER_ROUND = 500  # pending batches taken at once (a batch holds up to 10,000 events)
LEASE = timedelta(minutes=2)  # a drainer silent for longer is taken to have died


def mark(db: Session, event_ids: list[int], *, now: datetime) -> None:
    """Remember, in the caller's transaction, that these stored events still need their figures."""
    if event_ids:
        db.add(PendingRefresh(first_event_id=min(event_ids), last_event_id=max(event_ids), created_at=now))
        db.flush()


def pending_count(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(PendingRefresh)) or 0


def _pairs(db: Session, ranges: list[tuple[int, int]]) -> set[tuple[int, int]]:
    pairs: set[tuple[int, int]] = set()
    for chunk in chunks(ranges, 50):
        q = select(CheckinEvent.session_id, CheckinEvent.employee_id).where(
            or_(*[CheckinEvent.id.between(lo, hi) for lo, hi in chunk]),
            CheckinEvent.verdict == "accepted", CheckinEvent.session_id.is_not(None), CheckinEvent.employee_id.is_not(None),
        ).distinct()
        pairs.update((s, e) for s, e in db.execute(q))
    return pairs


def drain_once(factory: sessionmaker[Session], *, now: datetime, default_tz: str) -> int:
    """Work off up to ``ROWS_PER_ROUND`` pending rows; returns how many were done (0: nothing pending).

    The reading and computing happen in a read-only transaction (on SQLite it does not hold the
    write lock, so event batches keep landing meanwhile); the results are written in one short
    transaction that also deletes the rows. A proxy decision taken in between changes which events
    count, and another drainer (a second worker process) may have done some of the rows meanwhile:
    the write transaction sees either and computes the figures again.
    """
    with unit_of_work(read_only(factory)) as db:
        rows = db.execute(select(PendingRefresh.id, PendingRefresh.first_event_id, PendingRefresh.last_event_id).order_by(PendingRefresh.id).limit(ROWS_PER_ROUND)).all()
        if not rows:
            return 0
        pairs = _pairs(db, [(lo, hi) for _, lo, hi in rows])
        sessions = {s for s, _ in pairs}
        excluded = excluded_event_ids(db, sessions)
        figures = figures_for(db, pairs, default_tz=default_tz)
        signals = review.signals_for(db, sessions, default_tz=default_tz)
    with unit_of_work(factory) as db:
        ids = [r[0] for r in rows]
        claimed = sum(db.execute(delete(PendingRefresh).where(PendingRefresh.id.in_(chunk))).rowcount for chunk in chunks(ids, 500))
        if claimed == 0:
            return len(rows)  # another drainer (a second worker process, ``attendance refresh``) did them all
        if claimed < len(rows) or excluded_event_ids(db, sessions) != excluded:
            # Another drainer took some of these rows from a snapshot that may be newer than ours, or
            # a proxy decision changed which events count: compute again here, under the write lock.
            figures = figures_for(db, pairs, default_tz=default_tz)
            signals = review.signals_for(db, sessions, default_tz=default_tz)
        store_figures(db, figures, now=now)
        review.record_signals(db, signals, now)
        review.check_sessions_over(db, sessions, now=now, default_tz=default_tz)
    return len(rows)


def take_lease(factory: sessionmaker[Session], holder: str, *, now: datetime) -> bool:
    """Become the one process that drains (or stay it, for another ``LEASE``); False if another holds it."""
    with unit_of_work(factory) as db:
        taken = db.execute(
            update(DrainLease).where(DrainLease.id == 1, or_(DrainLease.holder.is_(None), DrainLease.holder == holder, DrainLease.until < now))
            .values(holder=holder, until=now + LEASE)
        ).rowcount
        if not taken and db.get(DrainLease, 1) is None:  # a database made without the migration's row
            db.add(DrainLease(id=1, holder=holder, until=now + LEASE))
            taken = 1
    return bool(taken)


def release_lease(factory: sessionmaker[Session], holder: str) -> None:
    with unit_of_work(factory) as db:
        db.execute(update(DrainLease).where(DrainLease.id == 1, DrainLease.holder == holder).values(holder=None, until=None))


def _has_pending(factory: sessionmaker[Session]) -> bool:
    with read_only(factory)() as db:
        return db.scalar(select(PendingRefresh.id).limit(1)) is not None


class Drainer:
    """One per app: at most one drain runs at a time, and a kick during a drain is never lost.

    A round waits until ingestion has been quiet for ``quiet_s`` (no batch being stored, none in the
    last ``quiet_s``, in this process or — seen through the pending rows — in another worker process),
    but never longer than ``max_delay_s``: a burst of batches is stored at full speed and recomputed
    once after it, and under steady load figures are at most that late.
    """

    def __init__(self, factory: Callable[[], sessionmaker[Session]], now: Callable[[], datetime], default_tz: str, *, quiet_s: float = 0.2, max_delay_s: float = 10.0):
        self._factory, self._now, self._tz = factory, now, default_tz
        self.quiet_s, self.max_delay_s = quiet_s, max_delay_s
        self._lock = threading.Lock()
        self._kicked = threading.Event()
        self._state = threading.Lock()
        self._inflight = 0
        self._last_activity = time.monotonic()
        self.rounds = 0
        self.id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:64]
        self.renew_s = LEASE.total_seconds() / 4

    @contextmanager
    def _renewing(self, factory: sessionmaker[Session]) -> Iterator[None]:
        """Renew the lease every ``renew_s`` from a thread of its own while the body drains."""
        stop = threading.Event()

        def renew() -> None:
            while not stop.wait(self.renew_s):
                try:
                    take_lease(factory, self.id, now=self._now())
                except Exception:  # noqa: BLE001 - a missed renewal is retried; at worst another drainer takes over
                    log.warning("could not renew the attendance drain lease", exc_info=True)

        thread = threading.Thread(target=renew, name="drain-lease", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    @contextmanager
    def ingesting(self) -> Iterator[None]:
        """Wrap the storing of a batch: drains wait for it rather than compete with it."""
        with self._state:
            self._inflight += 1
        try:
            yield
        finally:
            with self._state:
                self._inflight -= 1
                self._last_activity = time.monotonic()

    def _newest_pending(self) -> int | None:
        with read_only(self._factory())() as db:
            return db.scalar(select(func.max(PendingRefresh.id)))

    def _wait_for_quiet(self) -> None:
        start = seen_at = time.monotonic()
        seen = self._newest_pending()
        while True:
            with self._state:
                busy, idle = self._inflight > 0, time.monotonic() - self._last_activity
            waited = time.monotonic() - start
            if waited >= self.max_delay_s:
                return
            # Quiet here, and no new pending row from another worker process over a whole quiet_s.
            if not busy and idle >= self.quiet_s and time.monotonic() - seen_at >= self.quiet_s:
                newest = self._newest_pending()
                if newest == seen:
                    return
                seen, seen_at = newest, time.monotonic()
            time.sleep(min(0.05, max(0.001, self.quiet_s - idle), self.max_delay_s - waited))

    def drain(self) -> int:
        """Work off everything pending; returns at once if another thread is already at it."""
        done = 0
        while True:
            self._kicked.set()
            if not self._lock.acquire(blocking=False):
                return done  # the running drain sees the kick and takes this batch's row too
            try:
                while self._kicked.is_set():
                    self._kicked.clear()
                    self._wait_for_quiet()
                    factory = self._factory()
                    if not take_lease(factory, self.id, now=self._now()):
                        break  # another process drains: it looks for pending rows again before it lets go
                    try:
                        with self._renewing(factory):  # a round over a big backlog can outlast the lease
                            while n := drain_once(factory, now=self._now(), default_tz=self._tz):
                                done += n
                                self.rounds += 1
                    finally:
                        release_lease(factory, self.id)
                    if _has_pending(factory):
                        self._kicked.set()  # stored by another process while this one held the lease
            except Exception:  # the rows stay pending; the next drain does the work again
                log.exception("refreshing attendance after ingestion failed; the batches stay pending")
                return done
            finally:
                self._lock.release()
            if not self._kicked.is_set():
                return done
