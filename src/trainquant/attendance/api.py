"""Check-in events in, attendance figures out."""

from __future__ import annotations

import threading
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, BackgroundTasks, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.attendance import pending, qr, review
from trainquant.attendance.ingest import IngestOutcome, ingest
from trainquant.attendance.models import AttendanceRecord, CheckinEvent
from trainquant.attendance.schemas import AttendanceRead, IngestResult
from trainquant.attendance.service import recompute, session_pairs
from trainquant.auth.permissions import Principal
from trainquant.db import read_only
from trainquant.deps import AppClock, AppSettings, DbSession, Requires, read_body_limited
from trainquant.errors import Invalid, NotFound
from trainquant.org.models import Employee
from trainquant.org.service import get_employee
from trainquant.pagination import Page, Paging, paginate
from trainquant.training.models import TrainingSession

router = APIRouter(prefix="/api/v1/attendance", tags=["attendance"])
Write = Requires("attendance:write")
Read = Requires("attendance:read")
Manage = Requires("attendance:manage")
# One event batch at a time per process (worker processes run theirs side by side). Threads share
# one GIL: while one thread judges a batch in Python, another's executemany gives the GIL up at every
# row and waits up to the 5 ms switch interval to get it back, so two batches at once took longer
# than one after the other (2 workers, 4 clients: 37-45k events/s before, 54-59k after). Taken
# before the batch's transaction writes anything, so it never waits while holding SQLite's lock.
_ONE_BATCH_AT_A_TIME = threading.Lock()


async def read_json_limited(request: Request, limit: int) -> Any:
    body = await read_body_limited(request, limit, advice=" — split the batch")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"the body is not valid JSON: {exc}") from None


def events_of(payload: Any) -> list[Any]:
    if isinstance(payload, dict) and "events" in payload:
        events = payload["events"]
        if not isinstance(events, list):
            raise Invalid("'events' must be a list of event objects")
        return events
    if isinstance(payload, list):
        return payload
    if isinstance(payload, dict):
        return [payload]
    raise Invalid("send one event object, or {\"events\": [...]}")


def refresh(db: Session, pairs: set[tuple[int, int]], *, now, settings) -> None:
    """Everything derived from new events: figures, proxy cases, alerts for sessions already over."""
    recompute(db, pairs, now=now, default_tz=settings.default_timezone)
    review.after_recompute(db, pairs, now=now, default_tz=settings.default_timezone)


def ingest_now(db: Session, events: list[Any], *, source: str, principal: Principal | None, now, settings, reader=None) -> IngestOutcome:
    """Store, then recompute everything the batch touched before answering."""
    outcome = ingest(db, events, source=source, principal=principal, now=now, secret_key=settings.secret_key, reader=reader)
    refresh(db, outcome.affected, now=now, settings=settings)
    return outcome


def ingest_and_recompute(db: Session, events: list[Any], *, source: str, principal: Principal | None, now, settings) -> IngestResult:
    return ingest_now(db, events, source=source, principal=principal, now=now, settings=settings).result


def ingest_for_later(db: Session, events: list[Any], *, source: str, principal: Principal | None, now, settings, reader=None) -> IngestOutcome:
    """Store and answer now; the figures are left to the drainer (``pending.py``)."""
    outcome = ingest(db, events, source=source, principal=principal, now=now, secret_key=settings.secret_key, reader=reader)
    if outcome.affected:
        pending.mark(db, outcome.stored_ids, now=now)
    return outcome


@router.post("/events", response_model=IngestResult, summary="Send check-in events (one, or a batch of up to 10,000)")
async def post_events(
    request: Request, db: DbSession, clock: AppClock, settings: AppSettings, principal: Write, background: BackgroundTasks,
    wait: Annotated[bool, Query(description="recompute the figures before answering (slower for big batches)")] = False,
):
    # Nothing has begun ``db``'s transaction yet (authentication reads in its own): on SQLite its first
    # statement takes the write lock, and ``ingest`` issues that only to store the judged batch.
    payload = await read_json_limited(request, settings.events_max_bytes)
    events, now = events_of(payload), clock.now()
    reader = read_only(request.app.state.sessionmaker)
    # Without ?wait the answer needs only the verdicts, committed with the request; the figures,
    # proxy cases and alerts follow right after the response, coalesced over whatever else is pending.
    store = ingest_now if wait else ingest_for_later
    drainer = request.app.state.drainer

    def work() -> IngestOutcome:
        with _ONE_BATCH_AT_A_TIME, drainer.ingesting():
            outcome = store(db, events, source="api", principal=principal, now=now, settings=settings, reader=reader)
            db.commit()  # here, not after the route returns: the write lock is let go before the answer is serialised
            return outcome

    outcome = await run_in_threadpool(work)
    if not wait and outcome.affected:
        background.add_task(run_in_threadpool, drainer.drain)
    # The verdicts are serialised straight from tuples (``response_model`` documents the shape).
    return Response(outcome.json(), media_type="application/json")


def _session(db: Session, code: str) -> TrainingSession:
    s = db.scalar(select(TrainingSession).where(TrainingSession.code == code))
    if s is None:
        raise NotFound(f"no session with code {code!r}")
    return s


def _read(rec: AttendanceRecord, session_code: str | None = None, employee_no: str | None = None) -> AttendanceRead:
    return AttendanceRead(
        session_id=rec.session_id, session_code=session_code, employee_id=rec.employee_id, employee_no=employee_no,
        attended_minutes=round(rec.attended_seconds / 60, 2), scheduled_minutes=round(rec.scheduled_seconds / 60, 2),
        participation=rec.participation, late_minutes=round(rec.late_seconds / 60, 2),
        early_leave_minutes=round(rec.early_leave_seconds / 60, 2), away=rec.away, flags=rec.flags, events=rec.events,
    )


@router.get("/sessions/{code}", response_model=list[AttendanceRead])
def session_attendance(code: str, db: DbSession, principal: Read):
    s = _session(db, code)
    rows = db.execute(
        select(AttendanceRecord, Employee.employee_no, Employee.department_id)
        .join(Employee, Employee.id == AttendanceRecord.employee_id)
        .where(AttendanceRecord.session_id == s.id)
        .order_by(Employee.employee_no)
    ).all()
    return [_read(r, s.code, no) for r, no, dep in rows if principal.scope.allows(department_id=dep, employee_id=r.employee_id)]


@router.post("/sessions/{code}/recompute", response_model=list[AttendanceRead])
def recompute_session(code: str, db: DbSession, clock: AppClock, settings: AppSettings, _: Manage):
    s = _session(db, code)
    recompute(db, session_pairs(db, s.id), now=clock.now(), default_tz=settings.default_timezone)
    rows = db.execute(
        select(AttendanceRecord, Employee.employee_no).join(Employee, Employee.id == AttendanceRecord.employee_id).where(AttendanceRecord.session_id == s.id).order_by(Employee.employee_no)
    ).all()
    return [_read(r, s.code, no) for r, no in rows]


@router.get("/employees/{employee_no}", response_model=list[AttendanceRead])
def employee_attendance(employee_no: str, db: DbSession, principal: Read):
    emp = get_employee(db, employee_no, principal.scope)
    rows = db.execute(
        select(AttendanceRecord, TrainingSession.code)
        .join(TrainingSession, TrainingSession.id == AttendanceRecord.session_id)
        .where(AttendanceRecord.employee_id == emp.id)
        .order_by(TrainingSession.starts_at.desc())
    ).all()
    return [_read(r, code, emp.employee_no) for r, code in rows]


@router.get("/events", response_model=Page[dict])
def list_events(
    db: DbSession,
    paging: Paging,
    _: Manage,
    session: Annotated[str | None, Query(max_length=40)] = None,
    verdict: Annotated[str | None, Query(pattern="^(accepted|rejected)$")] = None,
    source: Annotated[str | None, Query(max_length=16)] = None,
):
    stmt = select(CheckinEvent).order_by(CheckinEvent.id.desc())
    if session:
        stmt = stmt.where(CheckinEvent.session_id == _session(db, session).id)
    if verdict:
        stmt = stmt.where(CheckinEvent.verdict == verdict)
    if source:
        stmt = stmt.where(CheckinEvent.source == source)
    rows, total = paginate(db, stmt, paging)
    items = [
        {
            "id": e.id, "source": e.source, "received_at": e.received_at, "employee_ref": e.employee_ref, "session_id": e.session_id,
            "kind": e.kind, "at": e.at, "method": e.method, "device_id": e.device_id, "verdict": e.verdict,
            "reason_code": e.reason_code, "reason": e.reason, "distance_m": e.distance_m,
        }
        for e in rows
    ]
    return Page(items=items, total=total, page=paging.page, page_size=paging.page_size)


@router.get("/sessions/{code}/qr", summary="The current rotating QR token for the room's screen")
def current_qr(code: str, db: DbSession, clock: AppClock, settings: AppSettings, _: Manage):
    s = _session(db, code)
    now = clock.now().timestamp()
    token = qr.issue(settings.secret_key, s.id, now)
    return {"token": token.encode(), "step": token.step, "refresh_in_s": qr.STEP_SECONDS - int(now % qr.STEP_SECONDS)}
