"""Platform exports and sign-in sheets through the one ingestion path (``ingest``), then recompute.

Converters live in ``rules`` (pure); this module loads what they need (site zones, session days).
A platform export then goes through the school's policy on the platform's own verdicts (rejected,
or accepted with a proxy-review case for HR), is placed (``placing``: which session each punch
belongs to, its direction where the platform gives none, double taps, punches of no session), has
its method settled (``geo`` only where the session fences by geo) and is fed to ingest in batches,
where a punch of someone not enrolled in its session becomes a walk-in.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.attendance import geo
from trainquant.attendance.checkin.schemas import MAX_BATCH, IngestResult, Verdict
from trainquant.attendance.checkin.service import ingest_now
from trainquant.attendance.checkin.verify import EARLY_MARGIN
from trainquant.attendance.models import Device
from trainquant.attendance.platforms import placing
from trainquant.attendance.platforms import rules as importers
from trainquant.attendance.proxy import rules as proxy_rules
from trainquant.attendance.proxy import service as review
from trainquant.attendance.rules import UNUSABLE, UNUSABLE_CODE
from trainquant.auth.permissions import Principal
from trainquant.config import Settings
from trainquant.db import chunks, select_in
from trainquant.errors import Invalid
from trainquant.imports.reader import read_table
from trainquant.org.models import ExternalId, Site, Venue
from trainquant.training.models import Enrolment, TrainingSession

PLATFORMS = ("wecom", "dingtalk", "feishu")
SOURCES = (*PLATFORMS, "sheet")


def import_platform(db: Session, source: str, payload: Any, *, principal: Principal, now: datetime, settings: Settings) -> IngestResult:
    try:
        if source == "wecom":
            events = importers.wecom_events(payload)
        elif source == "dingtalk":
            events = importers.dingtalk_events(payload)
        elif source == "feishu":
            events = importers.feishu_events(payload)
        else:
            raise Invalid(f"unknown source {source!r}; one of {', '.join(SOURCES)}")
    except importers.PayloadError as exc:
        raise Invalid(str(exc)) from None
    to_review = apply_policy(events, settings.platform_verdict_policy)
    placed = place_events(db, events, source=source, settings=settings)
    result = _ingest_all(db, settle_methods(db, events), source=source, principal=principal, now=now, settings=settings, walk_ins=True)
    _open_reviews(db, result, to_review, placed, now=now)
    return result


def _set_aside(event: dict, code: str, reason: str) -> None:
    """Kept, rejected with ``code``, by ingest (``UNUSABLE``); the reason names no position in the export,
    so the same record imported again is a repeat."""
    event[UNUSABLE], event[UNUSABLE_CODE] = reason[:300], code


def apply_policy(events: list[dict], overrides: Mapping[str, str]) -> dict[int, list[str]]:
    """The school's policy on the platform's verdicts: rejected punches are set aside, and the
    positions of those to review are returned with the verdicts that send them there."""
    to_review: dict[int, list[str]] = {}
    for i, e in enumerate(events):
        codes = e.get("evidence", {}).get("platform_verdict") if UNUSABLE not in e else None
        if not codes:
            continue
        action, why = importers.decide(codes, overrides)
        e["evidence"]["platform_policy"] = action
        if action == importers.REJECT:
            _set_aside(e, "platform-rejected", f"the platform's verdict {', '.join(why)} is rejected by the school's policy")
        elif action == importers.REVIEW:
            to_review[i] = why
    return to_review


def _windows(settings: Settings) -> placing.Windows:
    return placing.Windows(
        before=timedelta(minutes=settings.platform_window_before_min), after=timedelta(minutes=settings.platform_window_after_min),
        double_tap=timedelta(seconds=settings.platform_double_tap_s),
    )


def place_events(db: Session, events: list[dict], *, source: str, settings: Settings) -> dict[int, tuple[int, int]]:
    """Give each punch its session and direction (``placing``), or set it aside: unknown person,
    unrelated, a double tap, a redundant arrival. Returns position -> (employee id, session id) of the placed."""
    live = [(i, e) for i, e in enumerate(events) if UNUSABLE not in e]
    if not live:
        return {}
    people: dict[str, int] = {}
    for chunk in chunks(sorted({e["external_id"] for _, e in live}), 900):
        people.update(db.execute(select(ExternalId.external_id, ExternalId.employee_id).where(
            ExternalId.system == source, ExternalId.external_id.in_(chunk))).all())
    punches: dict[str, tuple[int, dict]] = {}
    copies: dict[str, list[tuple[int, dict]]] = {}  # a record given twice: placed alike, answered "duplicate" by ingest
    for i, e in live:
        if e["external_id"] not in people:
            _set_aside(e, "unknown-employee", f"no employee with {source} id {e['external_id']!r}")
        elif e["event_id"] in punches:
            copies.setdefault(e["event_id"], []).append((i, e))
        else:
            punches[e["event_id"]] = (i, e)
    if not punches:
        return {}
    windows = _windows(settings)
    times = [datetime.fromisoformat(e["at"]) for _, e in punches.values()]
    lo, hi = min(times) - windows.after, max(times) + windows.before
    sessions = list(db.scalars(select(TrainingSession).where(
        TrainingSession.starts_at <= hi, TrainingSession.ends_at >= lo, TrainingSession.status != "cancelled")))
    ids = [s.id for s in sessions]
    enrolled: dict[int, set[int]] = {}
    for chunk in chunks(ids, 900):
        for session_id, employee_id in db.execute(select(Enrolment.session_id, Enrolment.employee_id).where(
                Enrolment.session_id.in_(chunk), Enrolment.status == "approved")):
            enrolled.setdefault(session_id, set()).add(employee_id)
    venue_ids = sorted({s.venue_id for s in sessions if s.venue_id})
    venues = {v.id: v for v in db.scalars(select(Venue).where(Venue.id.in_(venue_ids)))} if venue_ids else {}
    device_rooms = dict(select_in(db, Device.__table__, "device_id", ("device_id", "venue_id"),
                                  sorted({e["device_id"] for _, e in punches.values() if e.get("device_id")})))
    slots = [placing.Slot(
        code=s.code, starts_at=s.starts_at, ends_at=s.ends_at, venue_id=s.venue_id, enrolled=frozenset(enrolled.get(s.id, ())),
        fence=placing.Fence(v.latitude, v.longitude, v.radius_m) if (v := venues.get(s.venue_id or 0)) is not None else None,
    ) for s in sessions]
    inputs = []
    for key, (_, e) in punches.items():
        lat, lng = e.get("lat"), e.get("lng")
        if lat is not None and lng is not None and e.get("coord_system") == "gcj02":
            lat, lng = geo.gcj02_to_wgs84(lat, lng)
        inputs.append(placing.Punch(key=key, employee_id=people[e["external_id"]], at=datetime.fromisoformat(e["at"]), kind=e["kind"],
                                    lat=lat, lng=lng, accuracy_m=e.get("accuracy_m"), venue_id=device_rooms.get(e.get("device_id"))))
    id_of_code = {s.code: s.id for s in sessions}
    placed: dict[int, tuple[int, int]] = {}
    for key, decision in placing.place(inputs, slots, windows).items():
        for i, e in [punches[key], *copies.get(key, [])]:
            _settle(e, decision, i, placed, people, id_of_code)
    return placed


def _settle(e: dict, decision: placing.Placement, i: int, placed: dict[int, tuple[int, int]], people: dict[str, int],
            id_of_code: dict[str, int]) -> None:
    """One event as placement decided: given its session and direction, or set aside."""
    if decision.status in (placing.ATTACHED, placing.WALK_IN):
        assert decision.session is not None and decision.kind is not None  # placed punches have both
        e["session"], e["kind"] = decision.session, decision.kind
        if decision.inferred:
            e["evidence"]["kind_inferred"] = f"from its place among the punches in session {decision.session}"
        if decision.note:
            e["evidence"]["placement"] = decision.note
        placed[i] = (people[e["external_id"]], id_of_code[decision.session])
    elif decision.status == placing.AWAY:
        _set_aside(e, "outside-geofence" if decision.distance_m is not None else "device-elsewhere", decision.note)
    else:
        _set_aside(e, decision.status, f"{decision.status}: {decision.note}" if decision.note else decision.status)


def _open_reviews(db: Session, result: IngestResult, to_review: dict[int, list[str]],
                  placed: dict[int, tuple[int, int]], *, now: datetime) -> None:
    """A proxy-review case for each accepted punch whose platform verdict the policy sends to review."""
    signals = []
    for v in result.results:
        if v.index in to_review and v.status == "accepted" and v.id is not None and v.index in placed:
            employee_id, session_id = placed[v.index]
            signals.append(proxy_rules.Signal(
                signal="platform-verdict", fingerprint=f"event:{v.id}", score=0.5, session_id=session_id, employee_ids=(employee_id,),
                event_ids=(v.id,), detail=", ".join(to_review[v.index]),  # verdict codes: the review page names them
            ))
    if signals:
        review.record_signals(db, signals, now)


def import_sheet(db: Session, content: bytes, filename: str, *, principal: Principal, now: datetime, settings: Settings) -> IngestResult:
    table = read_table(content, filename, max_bytes=settings.import_max_bytes, max_rows=settings.import_max_rows)
    lookup = _session_lookup(db, table.header, table.rows, default_tz=settings.default_timezone)
    try:
        events = importers.sheet_events(table.header, table.rows, lookup=lookup, filename=filename)
    except importers.PayloadError as exc:
        raise Invalid(str(exc)) from None
    return _ingest_all(db, events, source="sheet", principal=principal, now=now, settings=settings)


def _session_lookup(db: Session, header: list[object], rows: list[tuple[int, list[object]]], *, default_tz: str) -> importers.SessionLookup:
    try:
        column = importers.sheet_columns(header).get("session")
    except importers.PayloadError as exc:
        raise Invalid(str(exc)) from None
    codes = sorted({str(cells[column]).strip() for _, cells in rows if column is not None and column < len(cells) and cells[column] not in (None, "")})
    zones = dict(db.execute(select(Site.id, Site.timezone)).all())
    default = ZoneInfo(default_tz)
    known: dict[str, tuple[ZoneInfo, date]] = {}
    for i in range(0, len(codes), 900):
        for code, site_id, starts_at in db.execute(
            select(TrainingSession.code, TrainingSession.site_id, TrainingSession.starts_at).where(TrainingSession.code.in_(codes[i : i + 900]))
        ):
            site_zone = zones.get(site_id) if site_id is not None else None
            zone = ZoneInfo(site_zone or default_tz)
            known[code] = (zone, starts_at.astimezone(zone).date())

    def lookup(code: str | None) -> tuple[ZoneInfo, date | None]:
        return known.get(code or "", (default, None))

    return lookup


def _fences_by_geo(s: TrainingSession) -> bool:
    return bool(s.venue_id) and (not s.checkin_methods or "geo" in s.checkin_methods)


def settle_methods(db: Session, events: list[dict]) -> list[dict]:
    """``geo`` stays only where the session the punch belongs to checks a geofence; elsewhere the punch is
    HR's import (``manual`` with the platform named in the reason) and the coordinates stay as evidence."""
    geo = [e for e in events if e.get("method") == "geo"]
    if not geo:
        return events
    times = [datetime.fromisoformat(e["at"]) for e in geo]
    lo, hi = min(times) - EARLY_MARGIN, max(times) + EARLY_MARGIN
    nearby = list(db.scalars(select(TrainingSession).where(TrainingSession.starts_at <= hi, TrainingSession.ends_at >= lo)))
    for e, at in zip(geo, times, strict=True):
        candidates = [s for s in nearby if (s.code == e["session"] if e.get("session") else s.starts_at - EARLY_MARGIN <= at <= s.ends_at + EARLY_MARGIN)]
        if not any(_fences_by_geo(s) for s in candidates):
            e["method"] = "manual"
    return events


def _ingest_all(
    db: Session, events: list[dict], *, source: str, principal: Principal, now: datetime, settings: Settings, walk_ins: bool = False
) -> IngestResult:
    if not events:
        raise Invalid("the upload holds no records")
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    results: list[Verdict] = []
    for start in range(0, len(events), MAX_BATCH):
        # The same helper as the events API: ingest, recompute, then proxy review and alerts.
        result = ingest_now(db, events[start : start + MAX_BATCH], source=source, principal=principal, now=now, settings=settings,
                            walk_ins=walk_ins).result
        for key in counts:
            counts[key] += getattr(result, key)
        results += [v.model_copy(update={"index": v.index + start}) for v in result.results]
    return IngestResult(results=results, **counts)
