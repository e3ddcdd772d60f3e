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

import hashlib
import json
import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import orjson
from pydantic import ValidationError
from sqlalchemy import select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from trainquant.attendance import geo
from trainquant.attendance.checkin import qr
from trainquant.attendance.checkin.schemas import (
    MAX_BATCH,
    REJECTED_CAP,
    IngestResult,
    Verdict,
    validate_event,
)
from trainquant.attendance.models import (
    CheckinEvent,
    Device,
    LegacyEventKey,
    RejectionsPerHour,
)
from trainquant.attendance.rules import CONVERTER_CODES, QUIET_CODES, UNUSABLE, UNUSABLE_CODE
from trainquant.auth.permissions import Principal
from trainquant.config import Settings
from trainquant.db import chunks, driver_value, insert_rows, reserve_ids, select_in
from trainquant.errors import Invalid, PayloadTooLarge
from trainquant.memory import gc_paused
from trainquant.org.models import Employee, ExternalId, Venue
from trainquant.training.models import Enrolment, TrainingSession

WALK_IN = "walk-in"  # the reason code of a punch whose owner is not enrolled in its session
EARLY_MARGIN = timedelta(hours=2)  # a punch this long before the start or after the end still belongs
FUTURE_TOLERANCE = timedelta(minutes=5)
QR_CLOCK_TOLERANCE = timedelta(minutes=2)
BIOMETRIC = ("face", "fingerprint", "card")
CHUNK = 900
# Sources whose sender is the principal (an API key, a logged-in user). Their events from before
# origins were recorded keep the key "<source>:<event id>" (``LegacyEventKey``).
PRINCIPAL_SOURCES = ("api", "qr-page")
PLATFORM_ORIGINS = ("wecom", "dingtalk", "feishu")
DEFAULT_REJECTED_CAP: int = Settings.model_fields["rejected_per_source_per_hour"].default

log = logging.getLogger("trainquant.checkin")


@dataclass(slots=True, frozen=True)
class _SessionInfo:
    """What verification needs of a session, read as plain columns (ORM attribute access costs per event)."""

    id: int
    code: str
    status: str
    starts_at: datetime
    ends_at: datetime
    checkin_methods: tuple[str, ...]
    venue_id: int | None


_SESSION_COLUMNS = (
    TrainingSession.id, TrainingSession.code, TrainingSession.status, TrainingSession.starts_at, TrainingSession.ends_at,
    TrainingSession.checkin_methods, TrainingSession.venue_id,
)


def _session_infos(db: Session, *where: Any) -> list[_SessionInfo]:
    return [_SessionInfo(i, c, st, a, b, tuple(m or ()), v) for i, c, st, a, b, m, v in db.execute(select(*_SESSION_COLUMNS).where(*where))]


@dataclass(slots=True)
class _Row:
    index: int
    raw: Any
    origin: str
    event_id: str  # as answered: the client's, else the key's record hash
    key: str = ""
    event: dict[str, Any] | None = None  # ``schemas.validate_event``: EventIn's fields as a dict
    legacy_key: str | None = None  # the key this event would have had before origins were recorded
    legacy_match: tuple[int, int | None] | None = None  # (event id, employee id) of the old event with that key
    content_key: str | None = None  # rejected records: their sender, reason code and content
    first_index: int | None = None  # a repeat within the batch: the row it repeats
    verdict: str = "accepted"
    code: str | None = None
    reason: str | None = None
    employee_id: int | None = None
    session: _SessionInfo | None = None
    by_time: bool = False  # the session was found by the punch's time and place, not named by the sender
    distance_m: float | None = None
    qr_step: int | None = None
    lat: float | None = None
    lng: float | None = None
    duplicate_of: int | None = None

    def reject(self, code: str, reason: str) -> None:
        if self.verdict == "accepted":
            self.verdict, self.code, self.reason = "rejected", code, reason


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


def origin_of(source: str, principal: Principal | None, raw: Any) -> str:
    """Who sent a record: the API key or logged-in user (``apikey:<id>``, ``user:<id>``) for the events
    API and the phone page, the terminal (``zkteco:<SN>``) for ZKTeco, else the importer (``wecom`` ...).

    A ZKTeco record's ``device_id`` is the serial its upload was allow-listed by: the converter sets it.
    Without a principal (internal callers) the sender is the bare source.
    """
    if principal is not None and source in PRINCIPAL_SOURCES:
        return f"{principal.kind}:{principal.id}"
    if source == "zkteco" and isinstance(raw, dict) and isinstance(device := raw.get("device_id"), str) and device:
        return f"zkteco:{device}"
    return source


def record_hash(raw: Any) -> str:
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def dedup_key(origin: str, raw: Any, event_id: str | None) -> str:
    """``<origin>|<event id>``, or ``<origin>|h:<record hash>`` without one. Origins hold no "|"."""
    return f"{origin}|{event_id}" if event_id else f"{origin}|h:{record_hash(raw)}"


def legacy_key(source: str, raw: Any, event_id: str | None) -> str:
    """The key an event of ``source`` had before origins were recorded: ``<source>:<event id>``."""
    return f"{source}:{event_id}"[:160] if event_id else f"{source}:h:{record_hash(raw)}"


def content_key(origin: str, reason_code: str | None, raw: Any) -> str:
    """A rejected record's identity: sender, reason and content. A converter's verdict text
    (``UNUSABLE``) is not content: it names the record's position in its upload."""
    content = {k: v for k, v in raw.items() if k != UNUSABLE} if isinstance(raw, dict) and UNUSABLE in raw else raw
    packed = orjson.dumps([origin, reason_code, content], option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    return hashlib.sha256(packed).hexdigest()


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
    store = partial(_store, now=now, rejected_cap=rejected_cap)
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
) -> tuple[list[_Row], list[tuple]]:
    """Verdicts for the batch, and the rows to insert (everything but their ids, which are drawn under the lock)."""
    if origin is None and source != "zkteco":  # ZKTeco: one per terminal, from each record
        origin = origin_of(source, principal, None)
    legacy_source = source if source in PRINCIPAL_SOURCES and _legacy_keys_kept(db) else None
    rows = [_parse(i, raw, origin or origin_of(source, principal, raw), legacy_source) for i, raw in enumerate(raw_events)]
    parsed = [r for r in rows if r.event is not None]
    _mark_duplicates(db, rows)
    _resolve_employees(db, parsed, principal)
    _mark_retries_of_legacy_events(parsed)
    sessions = _resolve_sessions(db, parsed)
    _verify(db, parsed, sessions, principal=principal, now=now, secret_key=secret_key, walk_ins=walk_ins)
    _mark_repeated_rejections(db, rows)
    return rows, _values(rows, when=driver_value(CheckinEvent.__table__.c.at, db.get_bind().dialect), source=source, now=now, batch_id=batch_id)


def _qr_uses_taken_meanwhile(db: Session, rows: list[_Row]) -> bool:
    scans = [r for r in rows if r.verdict == "accepted" and r.qr_step is not None]
    if not scans:
        return False
    uses = set()
    for r in scans:
        assert r.session is not None and r.event is not None  # qr_step is set by _verify only, on an event with its session
        uses.add((r.session.id, r.employee_id, r.qr_step, r.event["kind"]))
    return bool(uses & _used_qr_steps(db, scans))


def _parse(index: int, raw: Any, origin: str, legacy_source: str | None) -> _Row:
    raw_id = raw.get("event_id") if isinstance(raw, dict) else None
    row = _Row(index=index, raw=raw, origin=origin, event_id=raw_id if isinstance(raw_id, str) else "")
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


def _mark_duplicates(db: Session, rows: list[_Row]) -> None:
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


def _mark_retries_of_legacy_events(rows: list[_Row]) -> None:
    """An event stored before origins were recorded, with this event's id, about the same person: this
    is its retry (a sender not known then cannot be told apart now). About someone else it is not."""
    for r, _ in _live(rows):
        if r.legacy_match is not None and r.legacy_match[1] is not None and r.legacy_match[1] == r.employee_id:
            r.verdict, r.code, r.reason, r.duplicate_of = "duplicate", "duplicate", "already received", r.legacy_match[0]


def _mark_repeated_rejections(db: Session, rows: list[_Row]) -> None:
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


def _live(rows: list[_Row]) -> list[tuple[_Row, dict[str, Any]]]:
    """The rows still accepted, each with its validated event."""
    return [(r, r.event) for r in rows if r.verdict == "accepted" and r.event is not None]


def _resolve_employees(db: Session, rows: list[_Row], principal: Principal | None) -> None:
    live = _live(rows)
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


def _resolve_sessions(db: Session, rows: list[_Row]) -> dict[int, _SessionInfo]:
    live = _live(rows)
    codes = sorted({e["session"] for _, e in live if e["session"]})
    by_code: dict[str, _SessionInfo] = {}
    for chunk in chunks(codes, CHUNK):
        for s in _session_infos(db, TrainingSession.code.in_(chunk)):
            by_code[s.code] = s
    unresolved = [e for _, e in live if not e["session"]]
    nearby: list[_SessionInfo] = []
    if unresolved:
        lo = min(e["at"] for e in unresolved) - EARLY_MARGIN
        hi = max(e["at"] for e in unresolved) + EARLY_MARGIN
        nearby = _session_infos(db, TrainingSession.starts_at <= hi, TrainingSession.ends_at >= lo)
    devices = _devices(db, {e["device_id"] for e in unresolved if e["device_id"]})
    for r, e in live:
        if e["session"]:
            r.session = by_code.get(e["session"])
            if r.session is None:
                r.reject("unknown-session", f"no session with code {e['session']!r}")
            continue
        at = e["at"]
        venue_id = devices[e["device_id"]][1] if e["device_id"] in devices else None
        candidates = [
            s for s in nearby
            if s.starts_at - EARLY_MARGIN <= at <= s.ends_at + EARLY_MARGIN and (venue_id is None or s.venue_id == venue_id)
        ]
        if len(candidates) > 1:
            # Prefer the session whose window contains the punch, then the nearest start.
            candidates.sort(key=lambda s: (not (s.starts_at <= at <= s.ends_at), abs((s.starts_at - at).total_seconds())))
        if not candidates:
            r.reject("session-unresolved", "no session at this time and place; send the session code")
        else:
            r.session, r.by_time = candidates[0], True
    return {r.session.id: r.session for r, _ in live if r.session is not None}


def _devices(db: Session, ids: set[str | None]) -> dict[str, tuple[bool, int | None]]:
    """device id -> (active, venue id)."""
    found = select_in(db, Device.__table__, "device_id", ("device_id", "active", "venue_id"), [i for i in ids if i])
    return {device_id: (bool(active), venue_id) for device_id, active, venue_id in found}


def _verify(
    db: Session, rows: list[_Row], sessions: dict[int, _SessionInfo], *, principal: Principal | None, now: datetime, secret_key: str, walk_ins: bool
) -> None:
    live = _live(rows)
    devices = _devices(db, {e["device_id"] for _, e in live if e["device_id"]})
    venue_ids = {s.venue_id for s in sessions.values() if s.venue_id}
    venues = {v.id: v for v in db.scalars(select(Venue).where(Venue.id.in_(sorted(venue_ids))))} if venue_ids else {}
    latest = now + FUTURE_TOLERANCE
    enrolled = _enrolled(db, [(r, e) for r, e in live if walk_ins or r.by_time])
    used_qr = _used_qr_steps(db, [r for r, e in live if e["method"] == "qr" and r.session is not None and r.employee_id])
    for r, e in live:
        s = r.session
        assert s is not None  # _resolve_sessions gave every live row its session, or rejected it
        if s.status == "cancelled":
            r.reject("session-cancelled", f"session {s.code} was cancelled")
            continue
        if e["at"] > latest:
            r.reject("in-the-future", "the time is in the future; check the device clock")
            continue
        if not (s.starts_at - EARLY_MARGIN <= e["at"] <= s.ends_at + EARLY_MARGIN):
            r.reject("outside-session-time", f"{e['at'].isoformat()} is not within session {s.code}'s time")
            continue
        if (walk_ins or r.by_time) and (s.id, r.employee_id) not in enrolled:
            # Not an attendance record: HR accepts it as a walk-in (enrolling the person) or dismisses it.
            r.reject(WALK_IN, f"not enrolled in session {s.code}: a walk-in for HR to accept or dismiss")
            continue
        allowed = s.checkin_methods
        if e["method"] != "manual" and allowed and e["method"] not in allowed:
            r.reject("method-not-allowed", f"session {s.code} accepts {', '.join(allowed)}, not {e['method']}")
            continue
        if e["method"] == "manual":
            if principal is None or not principal.can("attendance:manage"):
                r.reject("manual-not-allowed", "manual entries are made by HR only")
                continue
            if not e["reason"]:
                r.reject("manual-needs-reason", "a manual entry needs a reason")
                continue
        if e["method"] in BIOMETRIC:
            active, dev_venue = devices.get(e["device_id"] or "", (False, None))
            if not active:
                r.reject("unknown-device", f"device {e['device_id']!r} is not on the allow-list")
                continue
            if dev_venue and s.venue_id and dev_venue != s.venue_id:
                r.reject("device-elsewhere", f"device {e['device_id']} is not in session {s.code}'s room")
                continue
        if e["lat"] is not None:
            lat, lng = (geo.gcj02_to_wgs84(e["lat"], e["lng"]) if e["coord_system"] == "gcj02" else (e["lat"], e["lng"]))
            r.lat, r.lng = lat, lng
            venue = venues.get(s.venue_id) if s.venue_id else None
            if venue is not None:
                inside, r.distance_m, code = geo.fence_check(lat, lng, e["accuracy_m"], venue_lat=venue.latitude, venue_lng=venue.longitude, radius_m=venue.radius_m)
                if not inside and e["method"] == "geo":
                    assert code is not None  # fence_check names the reason whenever the point is not inside
                    r.reject(code, f"{r.distance_m:.0f} m from {venue.name} (fence {venue.radius_m:.0f} m)")
                    continue
        if e["method"] == "geo":
            if e["lat"] is None:
                r.reject("geo-missing", "a geofenced check-in needs lat and lng")
                continue
            if not s.venue_id:
                r.reject("no-venue", f"session {s.code} has no room to fence")
                continue
        if e["method"] == "qr":
            if not e["qr_token"]:
                r.reject("qr-missing", "a QR check-in needs the qr_token")
                continue
            step, code = qr.verify(secret_key, e["qr_token"], session_id=s.id, epoch_seconds=now.timestamp())
            if step is None:
                assert code is not None  # qr.verify names the reason whenever the token is not valid
                r.reject(code, "the QR code is not valid for this session now; scan the code on the screen again")
                continue
            if abs(e["at"] - now) > QR_CLOCK_TOLERANCE:
                r.reject("clock-skew", "a QR check-in must be sent when scanned")
                continue
            use = (s.id, r.employee_id, step, e["kind"])
            if use in used_qr:
                r.reject("qr-reused", "this QR code was already used by you for this session")
                continue
            used_qr.add(use)
            r.qr_step = step


def _enrolled(db: Session, live: list[tuple[_Row, dict[str, Any]]]) -> set[tuple[int, int]]:
    """(session id, employee id) of the approved enrolments among these rows' sessions and people."""
    pairs = {(r.session.id, r.employee_id) for r, _ in live if r.session is not None and r.employee_id is not None}
    if not pairs:
        return set()
    found: set[tuple[int, int]] = set()
    for chunk in chunks(sorted(pairs), 400):
        found.update((s, e) for s, e in db.execute(
            select(Enrolment.session_id, Enrolment.employee_id).where(tuple_(Enrolment.session_id, Enrolment.employee_id).in_(chunk), Enrolment.status == "approved")
        ))
    return found


def _used_qr_steps(db: Session, rows: list[_Row]) -> set[tuple]:
    """The QR steps already used by these rows' people in their sessions (rows with both, as the callers give)."""
    if not rows:
        return set()
    sessions = sorted({r.session.id for r in rows if r.session is not None})
    people = sorted({r.employee_id for r in rows if r.employee_id is not None})
    q = select(CheckinEvent.session_id, CheckinEvent.employee_id, CheckinEvent.qr_step, CheckinEvent.kind).where(
        CheckinEvent.session_id.in_(sessions), CheckinEvent.employee_id.in_(people), CheckinEvent.verdict == "accepted", CheckinEvent.qr_step.is_not(None)
    )
    return {tuple(x) for x in db.execute(q).all()}


_COLUMNS = (
    "id", "dedup_key", "source", "origin", "received_at", "batch_id", "batch_index", "employee_id", "employee_ref", "session_id",
    "kind", "at", "method", "device_id", "lat", "lng", "accuracy_m", "distance_m", "qr_step", "verdict", "reason_code", "reason",
    "content_key", "raw",
)


def _values(rows: list[_Row], *, when: Callable[[datetime], Any], source: str, now: datetime, batch_id: str) -> list[tuple]:
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


def _unstored(r: _Row) -> bool:
    return r.verdict == "rejected" and r.code == REJECTED_CAP


def _store(db: Session, rows: list[_Row], values: list[tuple], *, now: datetime, rejected_cap: int) -> IngestOutcome:
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


def _hold_to_allowance(db: Session, rows: list[_Row], *, now: datetime, cap: int) -> int:
    """Mark the rejected records past their sender's allowance for this hour as not to be stored;
    count stored and refused ones per sender and hour. Under the write lock (the counter row's lock on
    PostgreSQL), so concurrent batches of one sender share one allowance."""
    rejected = [r for r in rows if r.verdict == "rejected" and r.code not in QUIET_CODES]
    if not rejected:
        return 0
    hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    by_origin: dict[str, list[_Row]] = {}
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
