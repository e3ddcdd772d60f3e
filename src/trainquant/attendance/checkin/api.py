"""Check-in events in over JSON: batches of up to 10,000, the stored events, the room's QR token."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, BackgroundTasks, Path, Query, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from trainquant import bulk
from trainquant.attendance.checkin import pending, qr, service, walkins
from trainquant.attendance.checkin.schemas import MAX_BATCH, EventIn, IngestResult, events_of
from trainquant.attendance.models import CheckinEvent, RejectionsPerHour
from trainquant.attendance.rules import QUIET_CODES
from trainquant.auth.permissions import Principal
from trainquant.deps import (
    AppClock,
    AppSettings,
    DbSession,
    ReadSession,
    read_json_limited,
    require,
)
from trainquant.pagination import Page, Paging, paginate
from trainquant.schemas import StrictInput
from trainquant.training.lookups import get_session

router = APIRouter(prefix="/api/v1/attendance", tags=["attendance"])
Write = Annotated[Principal, require("attendance:write")]
Manage = Annotated[Principal, require("attendance:manage")]


def _events_body() -> dict:
    """The body the route parses itself (it reads the raw bytes: see ``post_events``), for the document."""
    event = EventIn.model_json_schema()
    batch = {"type": "object", "required": ["events"], "additionalProperties": False,
             "properties": {"events": {"type": "array", "items": event, "minItems": 1, "maxItems": MAX_BATCH}}}
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"oneOf": [event, batch, {"type": "array", "items": event, "minItems": 1, "maxItems": MAX_BATCH}]}}}}}


@router.post(
    "/events", response_model=IngestResult, summary="Send check-in events (one, or a batch of up to 10,000)",
    openapi_extra=_events_body(), responses={413: {"description": "more than 10,000 events, or a body over TQ_EVENTS_MAX_BYTES"}},
)
async def post_events(
    request: Request, clock: AppClock, settings: AppSettings, principal: Write, background: BackgroundTasks,
    wait: Annotated[bool, Query(description="recompute the figures before answering (slower for big batches)")] = False,
):
    # The body is read on the event loop; the database work runs on a bulk thread (trainquant.bulk), in
    # a unit of work of its own that commits before the answer is serialised.
    payload = await read_json_limited(request, settings.events_max_bytes)
    events, now = events_of(payload), clock.now()
    outcome = await bulk.run(
        settings.bulk_nice, service.ingest_batch, request.app.state.sessionmaker, events, source="api", principal=principal, now=now, settings=settings,
        wait=wait, ingesting=pending.ingesting,
    )
    if not wait and outcome.affected:
        # The batch's pending row is committed: a drain job turns it into figures (pending.py).
        background.add_task(run_in_threadpool, request.app.state.jobs.after_batch)
    # The verdicts are serialised straight from tuples (``response_model`` documents the shape).
    return Response(outcome.json(), media_type="application/json")


def _platform_verdict(raw: object) -> object:
    """The platform's own verdict on an imported punch, kept in its evidence beside ours."""
    evidence = raw.get("evidence") if isinstance(raw, dict) else None
    return evidence.get("platform_verdict") if isinstance(evidence, dict) else None


@router.get("/events", response_model=Page[dict])
def list_events(
    db: ReadSession,
    paging: Paging,
    _: Manage,
    session: Annotated[str | None, Query(max_length=40)] = None,
    verdict: Annotated[str | None, Query(pattern="^(accepted|rejected)$")] = None,
    source: Annotated[str | None, Query(max_length=16)] = None,
    origin: Annotated[str | None, Query(max_length=96, description="the sender: apikey:<id>, user:<id>, zkteco:<SN>, wecom ...")] = None,
    reason_code: Annotated[str | None, Query(max_length=40, description="e.g. walk-in, platform-rejected; unrelated, double-tap and "
                                             "redundant (platform punches of no session) are listed only when asked for")] = None,
):
    stmt = select(CheckinEvent).order_by(CheckinEvent.id.desc())
    if reason_code:
        stmt = stmt.where(CheckinEvent.reason_code == reason_code)
    elif verdict == "rejected":
        stmt = stmt.where(CheckinEvent.reason_code.not_in(QUIET_CODES))
    if session:
        stmt = stmt.where(CheckinEvent.session_id == get_session(db, session).id)
    if verdict:
        stmt = stmt.where(CheckinEvent.verdict == verdict)
    if source:
        stmt = stmt.where(CheckinEvent.source == source)
    if origin:
        stmt = stmt.where(CheckinEvent.origin == origin)
    rows, total = paginate(db, stmt, paging)
    items = [
        {
            "id": e.id, "source": e.source, "origin": e.origin, "received_at": e.received_at, "employee_ref": e.employee_ref, "session_id": e.session_id,
            "kind": e.kind, "at": e.at, "method": e.method, "device_id": e.device_id, "verdict": e.verdict,
            "reason_code": e.reason_code, "reason": e.reason, "distance_m": e.distance_m,
            "platform_verdict": _platform_verdict(e.raw),
        }
        for e in rows
    ]
    return Page.of(items, total, paging)


@router.get(
    "/rejections-per-hour", response_model=Page[dict],
    summary="Rejected records per sender and hour: how many were stored, and how many were refused past the hourly allowance",
)
def rejections_per_hour(db: ReadSession, paging: Paging, _: Manage, origin: Annotated[str | None, Query(max_length=96)] = None):
    stmt = select(RejectionsPerHour).order_by(RejectionsPerHour.hour.desc(), RejectionsPerHour.origin)
    if origin:
        stmt = stmt.where(RejectionsPerHour.origin == origin)
    rows, total = paginate(db, stmt, paging)
    items = [{"origin": r.origin, "hour": r.hour, "stored": r.stored, "refused": r.refused} for r in rows]
    return Page(items=items, total=total, page=paging.page, page_size=paging.page_size)


@router.get("/sessions/{code}/qr", summary="The current rotating QR token for the room's screen")
def current_qr(code: str, db: ReadSession, clock: AppClock, settings: AppSettings, _: Manage):
    s = get_session(db, code)
    now = clock.now().timestamp()
    token = qr.issue(settings.secret_key, s.id, now)
    return {"token": token.encode(), "step": token.step, "refresh_in_s": qr.STEP_SECONDS - int(now % qr.STEP_SECONDS)}


class WalkInRead(BaseModel):
    session_code: str
    session_title: str
    starts_at: datetime
    employee_no: str
    name: str
    punches: list[dict]
    event_ids: list[int]
    status: str  # open | accepted | dismissed
    reason: str | None
    decided_by: str | None
    decided_at: datetime | None
    accepted_ids: list[int]


class WalkInDecisionIn(StrictInput):
    reason: Annotated[str | None, Field(max_length=500)] = None


def walk_in_read(w: walkins.WalkIn) -> WalkInRead:
    d = w.decision
    return WalkInRead(
        session_code=w.session_code, session_title=w.session_title, starts_at=w.starts_at, employee_no=w.employee_no, name=w.name,
        punches=[{"at": at, "kind": kind, "source": source} for at, kind, source in w.punches], event_ids=list(w.event_ids), status=w.status,
        reason=d.reason if d else None, decided_by=d.decided_by if d else None, decided_at=d.decided_at if d else None,
        accepted_ids=[int(i) for i in d.accepted_ids] if d else [],
    )


@router.get("/walk-ins", response_model=Page[WalkInRead],
            summary="Punches of people not enrolled in the session they were placed in, per person and session, for HR to accept or dismiss")
def list_walk_ins(
    db: ReadSession, paging: Paging, _: Manage,
    status: Annotated[str, Query(pattern="^(open|accepted|dismissed|all)$")] = "open",
    session: Annotated[str | None, Query(max_length=40)] = None,
):
    rows, total = walkins.list_walk_ins(db, paging, status=None if status == "all" else status, session_code=session)
    return Page.of([walk_in_read(w) for w in rows], total, paging)


@router.post("/walk-ins/{session_code}/{employee_no}/{decision}", response_model=WalkInRead,
             summary="Accept (enrol the person and count the punches; a reason is required) or dismiss a walk-in")
def decide_walk_in(
    session_code: Annotated[str, Path(max_length=40)], employee_no: Annotated[str, Path(max_length=40)],
    decision: Literal["accept", "dismiss"], db: DbSession, clock: AppClock, settings: AppSettings, principal: Manage,
    body: WalkInDecisionIn | None = None,
):
    w = walkins.decide(db, session_code, employee_no, decision, reason=body.reason if body else None, principal=principal,
                       now=clock.now(), settings=settings)
    return walk_in_read(w)
