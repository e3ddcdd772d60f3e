"""The one ingestion path for check-in events: the API, ZKTeco terminals, WeCom/DingTalk/Feishu
exports, sign-in sheets and the phone check-in page all end here.

Each event gets a verdict — accepted, duplicate or rejected with a reason code — and is stored as
received (a duplicate of an accepted event is answered, not stored again). Nothing in a batch is
lost because another event of the batch was bad. ``IngestOutcome.affected`` names the (session,
employee) pairs whose figures the caller must recompute (``api.refresh`` or ``service.recompute_batch``).

Idempotency keys belong to their sender (``origin_of``): the key is (origin, event id), see
``CheckinEvent``. Junk cannot grow the database without bound: a rejected record sent again
identically (same sender, same reason) is answered as a repeat of the stored rejection, and each
sender may store at most ``rejected_cap`` rejected records per hour; beyond it they are answered
``rejected-cap``, not stored, and counted in ``RejectionsPerHour``.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from trainquant.attendance.checkin.keys import PLATFORM_ORIGINS, PRINCIPAL_SOURCES, content_key, dedup_key, legacy_key, origin_of
from trainquant.attendance.checkin.rows import Row, live_rows
from trainquant.attendance.checkin.schemas import (
    MAX_BATCH,
    validate_event,
)
from trainquant.attendance.checkin.store import IngestOutcome, insert_values, store_batch
from trainquant.attendance.checkin.verify import resolve_sessions, used_qr_steps, verify
from trainquant.attendance.models import (
    CheckinEvent,
    LegacyEventKey,
)
from trainquant.attendance.rules import CONVERTER_CODES, UNUSABLE, UNUSABLE_CODE
from trainquant.auth.permissions import Principal
from trainquant.config import Settings
from trainquant.db import chunks, driver_value, select_in
from trainquant.errors import Invalid, PayloadTooLarge
from trainquant.memory import gc_paused
from trainquant.org.models import Employee, ExternalId

DEFAULT_REJECTED_CAP: int = Settings.model_fields["rejected_per_source_per_hour"].default


def ingest(
    db: Session,
    raw_events: Sequence[Any],
    *,
    source: str,
    principal: Principal | None,
    now: datetime,
    secret_key: str,
    batch_id: str | None = None,
    reader: sessionmaker[Session] | None = None,
    rejected_cap: int = DEFAULT_REJECTED_CAP,
    walk_ins: bool = False,
    origin: str | None = None,
) -> IngestOutcome:
    """Judge and store a batch in ``db``'s transaction (the caller commits).

    A punch placed in a session by its time and place (sent without a session code: a terminal's) is
    rejected ``walk-in`` when its owner is not enrolled (approved) there: not an attendance record
    until HR accepts it (``walkins.py``). With ``walk_ins`` (platform exports, placed by their
    importer) so is every punch; a punch that names its session (an API client's, a sign-in sheet's,
    the phone page's) is the sender's statement and is judged without it. ``origin`` stores the batch as its original sender's
    (an accepted walk-in's punches, so that the sender's retry repeats them).

    With ``reader`` (``db.read_only`` sessions), the batch is judged in a read-only transaction and
    ``db`` is first used to store it: on SQLite the write lock is then held only while storing, so
    concurrent requests and worker processes overlap their parsing and checking. What another writer
    stored in between is caught under the lock — a key (accepted event id, or rejected content) stored
    meanwhile trips its unique index, a QR code used meanwhile is looked up again — and then the batch
    is judged once more, under the lock. The hourly allowance of rejected records (``rejected_cap``
    per sender) is counted under the lock only.
    """
    if len(raw_events) > MAX_BATCH:
        raise PayloadTooLarge(f"at most {MAX_BATCH} events per request, got {len(raw_events)}; split the batch")
    if not raw_events:
        raise Invalid("no events: send one event object, or {\"events\": [...]} with at least one")
    batch_id = batch_id or uuid.uuid4().hex
    judge = partial(_judge, raw_events, source=source, principal=principal, now=now, secret_key=secret_key, batch_id=batch_id, walk_ins=walk_ins,
                    origin=origin)
    store = partial(store_batch, now=now, rejected_cap=rejected_cap)
    with gc_paused():
        if reader is None:
            return store(db, *judge(db))
        with reader() as look:
            rows, values = judge(look)
        if _qr_uses_taken_meanwhile(db, rows):
            return store(db, *judge(db))
        try:
            with db.begin_nested():
                return store(db, rows, values)
        except IntegrityError:
            return store(db, *judge(db))


def _judge(
    raw_events: Sequence[Any], db: Session, *, source: str, principal: Principal | None, now: datetime, secret_key: str, batch_id: str,
    walk_ins: bool = False, origin: str | None = None,
) -> tuple[list[Row], list[tuple]]:
    """Verdicts for the batch, and the rows to insert (everything but their ids, which are drawn under the lock)."""
    if origin is None and source != "zkteco":  # ZKTeco: one per terminal, from each record
        origin = origin_of(source, principal, None)
    legacy_source = source if source in PRINCIPAL_SOURCES and _legacy_keys_kept(db) else None
    rows = [_parse(i, raw, origin or origin_of(source, principal, raw), legacy_source) for i, raw in enumerate(raw_events)]
    parsed = [r for r in rows if r.event is not None]
    _mark_duplicates(db, rows)
    _resolve_employees(db, parsed, principal)
    _mark_retries_of_legacy_events(parsed)
    sessions = resolve_sessions(db, parsed)
    verify(db, parsed, sessions, principal=principal, now=now, secret_key=secret_key, walk_ins=walk_ins)
    _mark_repeated_rejections(db, rows)
    return rows, insert_values(rows, when=driver_value(CheckinEvent.__table__.c.at, db.get_bind().dialect), source=source, now=now, batch_id=batch_id)


def _qr_uses_taken_meanwhile(db: Session, rows: list[Row]) -> bool:
    scans = [r for r in rows if r.verdict == "accepted" and r.qr_step is not None]
    if not scans:
        return False
    uses = set()
    for r in scans:
        assert r.session is not None and r.event is not None  # qr_step is set by verify only, on an event with its session
        uses.add((r.session.id, r.employee_id, r.qr_step, r.event["kind"]))
    return bool(uses & used_qr_steps(db, scans))


def _parse(index: int, raw: Any, origin: str, legacy_source: str | None) -> Row:
    raw_id = raw.get("event_id") if isinstance(raw, dict) else None
    row = Row(index=index, raw=raw, origin=origin, event_id=raw_id if isinstance(raw_id, str) else "")
    if not isinstance(raw, dict):
        row.reject("invalid", "an event must be a JSON object")
    elif isinstance(raw.get(UNUSABLE), str):
        # A converter (ZKTeco line, platform record, sheet row) could not make an event of it: keep it
        # with the converter's own reason rather than a schema message about missing fields.
        # Only the platform importers (HR's imports) name other codes: a quiet code from anyone else
        # would let a sender store junk past its hourly allowance.
        code = raw.get(UNUSABLE_CODE) if origin in PLATFORM_ORIGINS else None
        row.reject(code if code in CONVERTER_CODES else "malformed", raw[UNUSABLE][:300].replace("\x00", "\\x00"))
    else:
        try:
            row.event = validate_event(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first.get("loc", ())) or "event"
            row.reject("invalid", f"{where}: {first.get('msg')}" + (f" (+{len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""))
    # Only a validated event id goes into a key (text columns; PostgreSQL refuses NUL): others are hashed.
    event_id = row.event["event_id"] if row.event is not None else None
    row.key = dedup_key(origin, raw, event_id)
    row.event_id = event_id or row.event_id or row.key.split("|", 1)[1]
    if legacy_source is not None and row.event is not None:
        row.legacy_key = legacy_key(legacy_source, raw, raw_id)
    return row


def _legacy_keys_kept(db: Session) -> bool:
    return db.execute(select(LegacyEventKey.dedup_key).limit(1)).first() is not None


def _mark_duplicates(db: Session, rows: list[Row]) -> None:
    parsed = [r for r in rows if r.event is not None]
    known: dict[str, int] = dict(select_in(
        db, CheckinEvent.__table__, "dedup_key", ("dedup_key", "id"), list({r.key for r in parsed}), where="verdict = 'accepted'"
    ))
    legacy = {k: (id_, employee) for k, id_, employee in select_in(
        db, LegacyEventKey.__table__, "dedup_key", ("dedup_key", "event_id", "employee_id"), list({r.legacy_key for r in parsed if r.legacy_key})
    )}
    first_of_key: dict[str, int] = {}
    for r in parsed:
        if r.key in known:
            r.verdict, r.code, r.reason, r.duplicate_of = "duplicate", "duplicate", "already received", known[r.key]
        elif r.key in first_of_key:
            r.verdict, r.code, r.reason, r.first_index = "duplicate", "duplicate", "given twice in this batch", first_of_key[r.key]
        else:
            first_of_key[r.key] = r.index
            if r.legacy_key is not None:
                r.legacy_match = legacy.get(r.legacy_key)


def _mark_retries_of_legacy_events(rows: list[Row]) -> None:
    """An event stored before origins were recorded, with this event's id, about the same person: this
    is its retry (a sender not known then cannot be told apart now). About someone else it is not."""
    for r, _ in live_rows(rows):
        if r.legacy_match is not None and r.legacy_match[1] is not None and r.legacy_match[1] == r.employee_id:
            r.verdict, r.code, r.reason, r.duplicate_of = "duplicate", "duplicate", "already received", r.legacy_match[0]


def _mark_repeated_rejections(db: Session, rows: list[Row]) -> None:
    """A rejected record identical to a stored rejection (same sender, reason and content), or to an
    earlier one of the batch, is answered as its repeat and not stored again. Judged after everything
    else, so a record whose cause was fixed (a PIN registered since) is accepted."""
    rejected = [r for r in rows if r.verdict == "rejected"]
    if not rejected:
        return
    keyed = [(r, content_key(r.origin, r.code, r.raw)) for r in rejected]
    for r, key in keyed:
        r.content_key = key
    known: dict[str, int] = dict(select_in(
        db, CheckinEvent.__table__, "content_key", ("content_key", "id"), list({key for _, key in keyed}), where="content_key IS NOT NULL"
    ))
    first_of_content: dict[str, int] = {}
    for r, key in keyed:
        if key in known:
            r.verdict, r.reason, r.duplicate_of = "duplicate", f"already received and rejected: {r.reason}"[:300], known[key]
        elif key in first_of_content:
            r.verdict, r.reason, r.first_index = "duplicate", f"given twice in this batch and rejected: {r.reason}"[:300], first_of_content[key]
        else:
            first_of_content[key] = r.index


def _resolve_employees(db: Session, rows: list[Row], principal: Principal | None) -> None:
    live = live_rows(rows)
    numbers = list({e["employee_no"] for _, e in live if e["employee_no"]})
    by_no: dict[str, int] = dict(select_in(db, Employee.__table__, "employee_no", ("employee_no", "id"), numbers))
    pairs = sorted({(e["external_system"], e["external_id"]) for _, e in live if not e["employee_no"]})
    by_ext: dict[tuple[str, str], int] = {}
    for chunk in chunks(pairs, 400):
        for system, ext, eid in db.execute(
            select(ExternalId.system, ExternalId.external_id, ExternalId.employee_id).where(tuple_(ExternalId.system, ExternalId.external_id).in_(chunk))
        ):
            by_ext[(system, ext)] = eid
    # A user who does not manage attendance may check in only themself.
    own_only = principal if principal is not None and principal.kind == "user" and not principal.can("attendance:manage") else None
    for r, e in live:
        if e["employee_no"]:
            r.employee_id = by_no.get(e["employee_no"])
            if r.employee_id is None:
                r.reject("unknown-employee", f"no employee with employee_no {e['employee_no']!r}")
                continue
        else:
            r.employee_id = by_ext.get((e["external_system"], e["external_id"]))
            if r.employee_id is None:
                r.reject("unknown-employee", f"no employee with {e['external_system']} id {e['external_id']!r}")
                continue
        if own_only is not None and r.employee_id != own_only.employee_id:
            r.reject("not-your-record", "you can check in only yourself")


