"""Check-in use cases: every source (the events API, ZKTeco PUSH, platform imports, the phone page)
stores its events through these, so the figures, proxy cases and alerts follow in one way."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from trainquant.attendance.checkin import pending
from trainquant.attendance.checkin.ingest import ingest
from trainquant.attendance.checkin.schemas import IngestResult
from trainquant.attendance.checkin.store import IngestOutcome
from trainquant.attendance.proxy import service as review
from trainquant.attendance.service import recompute
from trainquant.auth.permissions import Principal
from trainquant.config import Settings
from trainquant.db import read_only, unit_of_work

# One event batch at a time per process (worker processes run theirs side by side). Threads share
# one GIL: while one thread judges a batch in Python, another's executemany gives the GIL up at every
# row and waits up to the 5 ms switch interval to get it back, so two batches at once take longer
# than one after the other. Taken before the batch's transaction writes anything, so it never waits
# while holding SQLite's write lock.
_ONE_BATCH_AT_A_TIME = threading.Lock()


def refresh(db: Session, pairs: set[tuple[int, int]], *, now: datetime, settings: Settings, event_ids: list[int] | None = None) -> None:
    """Everything derived from new events: figures, proxy cases, alerts for sessions already over.
    With ``event_ids`` (the events just stored), proxy detection reads only what they can change."""
    recompute(db, pairs, now=now, default_tz=settings.default_timezone)
    ranges = review.id_ranges(event_ids) if event_ids is not None else None
    review.after_recompute(db, pairs, now=now, default_tz=settings.default_timezone, event_ranges=ranges)


def ingest_now(
    db: Session, events: list[Any], *, source: str, principal: Principal | None, now: datetime, settings: Settings,
    reader: sessionmaker[Session] | None = None, walk_ins: bool = False, origin: str | None = None,
) -> IngestOutcome:
    """Store, then recompute everything the batch touched, in the caller's transaction."""
    outcome = ingest(db, events, source=source, principal=principal, now=now, secret_key=settings.secret_key, reader=reader,
                     rejected_cap=settings.rejected_per_source_per_hour, walk_ins=walk_ins, origin=origin)
    refresh(db, outcome.affected, now=now, settings=settings, event_ids=outcome.stored_ids)
    return outcome


def ingest_and_recompute(db: Session, events: list[Any], *, source: str, principal: Principal | None, now: datetime, settings: Settings) -> IngestResult:
    return ingest_now(db, events, source=source, principal=principal, now=now, settings=settings).result


def ingest_for_later(
    db: Session, events: list[Any], *, source: str, principal: Principal | None, now: datetime, settings: Settings,
    reader: sessionmaker[Session] | None = None,
) -> IngestOutcome:
    """Store and answer now; the figures are left to the drain job (``pending.py``, ``trainquant.jobs``)."""
    outcome = ingest(db, events, source=source, principal=principal, now=now, secret_key=settings.secret_key, reader=reader,
                     rejected_cap=settings.rejected_per_source_per_hour)
    if outcome.affected:
        pending.mark(db, outcome.stored_ids, now=now)
    return outcome


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def ingest_batch(
    factory: sessionmaker[Session], events: list[Any], *, source: str, principal: Principal | None, now: datetime, settings: Settings,
    wait: bool = False, ingesting: Any = None,
) -> IngestOutcome:
    """An API batch in a unit of work of its own: judged read-only, stored under the write lock,
    committed before the caller serialises the answer (so the lock is let go first).

    ``wait`` recomputes the figures in the same transaction; otherwise they are left pending.
    ``ingesting`` is a context manager the drain uses to see a batch in flight (``pending.ingesting``).
    """
    store = ingest_now if wait else ingest_for_later
    with _ONE_BATCH_AT_A_TIME, (ingesting or _nothing)(), unit_of_work(factory) as db:
        return store(db, events, source=source, principal=principal, now=now, settings=settings, reader=read_only(factory))
