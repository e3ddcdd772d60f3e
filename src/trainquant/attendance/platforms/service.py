"""Platform exports and sign-in sheets through the one ingestion path (``ingest``), then recompute.

Converters live in ``importers`` (pure); this module loads what they need (site zones, session days),
settles the method (``geo`` only where the session fences by geo) and feeds ingest in batches.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.attendance.checkin.ingest import EARLY_MARGIN
from trainquant.attendance.checkin.schemas import MAX_BATCH, IngestResult, Verdict
from trainquant.attendance.checkin.service import ingest_and_recompute
from trainquant.attendance.platforms import rules as importers
from trainquant.auth.permissions import Principal
from trainquant.config import Settings
from trainquant.errors import Invalid
from trainquant.imports.reader import read_table
from trainquant.org.models import Site
from trainquant.training.models import TrainingSession

PLATFORMS = ("wecom", "dingtalk", "feishu")
SOURCES = (*PLATFORMS, "sheet")


def import_platform(db: Session, source: str, payload: Any, *, principal: Principal, now: datetime, settings: Settings) -> IngestResult:
    try:
        if source == "wecom":
            events = importers.wecom_events(payload)
        elif source == "dingtalk":
            events = importers.dingtalk_events(payload)
        elif source == "feishu":
            events = importers.feishu_events(payload, zone=ZoneInfo(settings.default_timezone))
        else:
            raise Invalid(f"unknown source {source!r}; one of {', '.join(SOURCES)}")
    except importers.PayloadError as exc:
        raise Invalid(str(exc)) from None
    return _ingest_all(db, settle_methods(db, events), source=source, principal=principal, now=now, settings=settings)


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


def _ingest_all(db: Session, events: list[dict], *, source: str, principal: Principal, now: datetime, settings: Settings) -> IngestResult:
    if not events:
        raise Invalid("the upload holds no records")
    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    results: list[Verdict] = []
    for start in range(0, len(events), MAX_BATCH):
        # The same helper as the events API: ingest, recompute, then proxy review and alerts.
        result = ingest_and_recompute(db, events[start : start + MAX_BATCH], source=source, principal=principal, now=now, settings=settings)
        for key in counts:
            counts[key] += getattr(result, key)
        results += [v.model_copy(update={"index": v.index + start}) for v in result.results]
    return IngestResult(results=results, **counts)
