"""Storing a judged batch: one executemany with ids reserved up front, the hourly allowance of
rejected records per sender, and the answer built from plain tuples."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from trainquant.attendance.checkin.rows import Row
from trainquant.attendance.checkin.schemas import REJECTED_CAP, IngestResult, Verdict
from trainquant.attendance.models import CheckinEvent, RejectionsPerHour
from trainquant.attendance.rules import QUIET_CODES
from trainquant.db import insert_rows, reserve_ids

log = logging.getLogger("trainquant.checkin")


_VERDICT_FIELDS = ("index", "event_id", "status", "reason_code", "reason", "id")


@dataclass
class IngestOutcome:
    """Verdicts as plain tuples (index, event_id, status, reason_code, reason, id): a batch answers 10,000."""

    counts: dict[str, int]
    verdicts: list[tuple]
    affected: set[tuple[int, int]] = field(default_factory=set)  # (session_id, employee_id)
    stored_ids: list[int] = field(default_factory=list)
    not_stored: int = 0  # rejections over the sender's hourly allowance

    @property
    def result(self) -> IngestResult:
        return IngestResult(results=[Verdict(**dict(zip(_VERDICT_FIELDS, v, strict=True))) for v in self.verdicts], **self.counts)

    def json(self) -> bytes:
        """The ``IngestResult`` body, serialised without building 10,000 models."""
        return orjson.dumps({
            **self.counts, "rejected_not_stored": self.not_stored, "results": [dict(zip(_VERDICT_FIELDS, v, strict=True)) for v in self.verdicts],
        })


_COLUMNS = (
    "id", "dedup_key", "source", "origin", "received_at", "batch_id", "batch_index", "employee_id", "employee_ref", "session_id",
    "kind", "at", "method", "device_id", "lat", "lng", "accuracy_m", "distance_m", "qr_step", "verdict", "reason_code", "reason",
    "content_key", "raw",
)


def insert_values(rows: list[Row], *, when: Callable[[datetime], Any], source: str, now: datetime, batch_id: str) -> list[tuple]:
    """The insert's parameters for every row to store (a duplicate is not stored again), but the id."""
    received = when(now)
    values: list[tuple[Any, ...]] = []
    for r in rows:
        if r.verdict == "duplicate":
            continue
        e = r.event
        raw = r.raw if isinstance(r.raw, (dict, list)) else {"value": r.raw}
        if e is None:
            values.append((r.key, source, r.origin, received, batch_id, r.index, None, None, None, None, None, None, None, None, None, None,
                           None, None, r.verdict, r.code, r.reason, r.content_key, _json(raw)))
            continue
        values.append((
            r.key, source, r.origin, received, batch_id, r.index, r.employee_id, e["employee_no"] or f"{e['external_system']}:{e['external_id']}",
            r.session.id if r.session else None, e["kind"], when(e["at"]), e["method"], e["device_id"],
            r.lat if r.lat is not None else e["lat"], r.lng if r.lng is not None else e["lng"], e["accuracy_m"], r.distance_m, r.qr_step,
            r.verdict, r.code, r.reason, r.content_key, _json(raw),
        ))
    return values


def _unstored(r: Row) -> bool:
    return r.verdict == "rejected" and r.code == REJECTED_CAP


def store_batch(db: Session, rows: list[Row], values: list[tuple], *, now: datetime, rejected_cap: int) -> IngestOutcome:
    """One driver-level executemany with ids reserved up front (see ``db.insert_rows``)."""
    table = CheckinEvent.__table__
    candidates = [r for r in rows if r.verdict != "duplicate"]
    not_stored = _hold_to_allowance(db, candidates, now=now, cap=rejected_cap)
    if not_stored:
        by_index = {r.index: r for r in rows}
        for r in rows:  # a repeat of a record left unstored is left unstored too
            if r.verdict == "duplicate" and r.first_index is not None and _unstored(by_index[r.first_index]):
                r.verdict, r.code, r.reason, r.first_index = "rejected", REJECTED_CAP, by_index[r.first_index].reason, None
                not_stored += 1
        kept = [(r, v) for r, v in zip(candidates, values, strict=True) if not _unstored(r)]
        candidates, values = [r for r, _ in kept], [v for _, v in kept]
    ids = reserve_ids(db, table, len(candidates))
    insert_rows(db, table, _COLUMNS, [(id_, *v) for id_, v in zip(ids, values, strict=True)])
    id_of = {r.index: i for r, i in zip(candidates, ids, strict=True)}
    verdicts = []
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    affected: set[tuple[int, int]] = set()
    for r in rows:
        counts[r.verdict] += 1
        # A repeat points at the event it repeats: stored before, or earlier in this batch.
        stored = id_of.get(r.index) or r.duplicate_of or (id_of.get(r.first_index) if r.first_index is not None else None)
        verdicts.append((r.index, r.event_id, r.verdict, r.code, r.reason, stored))
        if r.verdict == "accepted":
            # An accepted event has its person and session: each was resolved, or the event rejected.
            assert r.session is not None and r.employee_id is not None
            affected.add((r.session.id, r.employee_id))
    return IngestOutcome(counts, verdicts, affected, ids, not_stored)


def _hold_to_allowance(db: Session, rows: list[Row], *, now: datetime, cap: int) -> int:
    """Mark the rejected records past their sender's allowance for this hour as not to be stored;
    count stored and refused ones per sender and hour. Under the write lock (the counter row's lock on
    PostgreSQL), so concurrent batches of one sender share one allowance."""
    rejected = [r for r in rows if r.verdict == "rejected" and r.code not in QUIET_CODES]
    if not rejected:
        return 0
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    by_origin: dict[str, list[Row]] = {}
    for r in rejected:
        by_origin.setdefault(r.origin, []).append(r)
    refused_total = 0
    for origin, group in by_origin.items():
        allowance = max(cap - _stored_this_hour(db, origin, hour), 0)
        over = group[allowance:]
        for r in over:
            r.code, r.reason = REJECTED_CAP, (
                f"not stored: {origin} has had {cap} rejected records stored this hour (TQ_REJECTED_PER_SOURCE_PER_HOUR); "
                f"{r.code}: {r.reason}"
            )[:300]
        table = RejectionsPerHour.__table__
        db.execute(update(table).where(table.c.origin == origin, table.c.hour == hour).values(
            stored=table.c.stored + len(group) - len(over), refused=table.c.refused + len(over),
        ))
        if over:
            log.warning("checkin: %s sent more rejected records than the %d an hour that are stored; %d more not stored (hour %s)",
                        origin, cap, len(over), hour.isoformat())
        refused_total += len(over)
    return refused_total


def _stored_this_hour(db: Session, origin: str, hour: datetime) -> int:
    """The counter row for (origin, hour), made if missing, locked until the transaction ends."""
    table = RejectionsPerHour.__table__
    insert = postgresql.insert(table) if db.get_bind().dialect.name == "postgresql" else sqlite.insert(table)
    stmt = insert.values(origin=origin, hour=hour, stored=0, refused=0).on_conflict_do_update(
        index_elements=[table.c.origin, table.c.hour], set_={"stored": table.c.stored},
    ).returning(table.c.stored)
    return db.execute(stmt).scalar_one()


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()
