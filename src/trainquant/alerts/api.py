"""The HR alert inbox (参与度预警) over JSON: list, acknowledge, resolve, and run the checks for a period."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StringConstraints

from trainquant.alerts import service
from trainquant.alerts.models import ALERT_KINDS, ALERT_STATUSES, Alert
from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.ids import MAX_ID
from trainquant.indicators.evaluation import check_department_visible
from trainquant.org.service import get_department
from trainquant.pagination import Page, Paging
from trainquant.params import PathId
from trainquant.schemas import JsonDate, StrictInput

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
Read = Annotated[Principal, require("alerts:read")]
Handle = Annotated[Principal, require("alerts:handle")]
Manage = Annotated[Principal, require("attendance:manage")]


class AlertRead(BaseModel):
    id: int
    kind: str
    status: str
    cause: str
    detail: str
    suggestion: dict
    value: float | None
    threshold: float | None
    employee_no: str | None
    employee_name: str | None
    department_code: str | None
    session_code: str | None
    period_start: date | None
    period_end: date | None
    sessions: list[dict]  # a low-participation alert's sessions of the month under their minimum, oldest first
    created_at: datetime
    handled_by: str | None
    handled_at: datetime | None


class CheckIn(StrictInput):
    period_start: JsonDate
    period_end: JsonDate


def alert_read(a: Alert, emps: dict, deps: dict, codes: dict) -> AlertRead:
    emp, dep = emps.get(a.employee_id), deps.get(a.department_id)
    return AlertRead(
        id=a.id, kind=a.kind, status=a.status, cause=a.cause, detail=a.detail, suggestion=a.suggestion or {}, value=a.value,
        threshold=a.threshold, employee_no=emp.employee_no if emp else None, employee_name=emp.name if emp else None,
        department_code=dep.code if dep else None, session_code=codes.get(a.session_id), period_start=a.period_start,
        period_end=a.period_end, sessions=a.sessions or [], created_at=a.created_at, handled_by=a.handled_by, handled_at=a.handled_at,
    )


class FilterIn(StrictInput):
    status: Literal["open", "acknowledged", "resolved"] | None = None
    kind: Literal["low-participation", "department-pattern"] | None = None
    cause: Annotated[str, StringConstraints(max_length=40)] | None = None
    department: Annotated[str, StringConstraints(max_length=32)] | None = Field(None, description="a department's code (its sub-departments included)")


class BulkIn(StrictInput):
    action: Literal["acknowledge", "resolve"]
    ids: Annotated[list[Annotated[int, Field(ge=1, le=MAX_ID)]], Field(min_length=1, max_length=service.BULK_MAX)] | None = None
    filter: FilterIn | None = Field(None, description="instead of ids: every alert this selects (at most 1000)")


class BulkOut(BaseModel):
    done: list[int]
    skipped: list[dict]


def department_id(db, code: str | None, principal: Principal) -> int | None:
    if not code:
        return None
    dep = get_department(db, code)
    check_department_visible(principal.scope, dep)
    return dep.id


@router.get("", response_model=Page[AlertRead], summary="The inbox: HR and admins see all, managers their departments")
def inbox(
    db: ReadSession, paging: Paging, principal: Read,
    status: Annotated[str | None, Query(pattern="^(" + "|".join(ALERT_STATUSES) + ")$")] = None,
    kind: Annotated[str | None, Query(pattern="^(" + "|".join(ALERT_KINDS) + ")$")] = None,
    cause: Annotated[str | None, Query(max_length=40)] = None,
    department: Annotated[str | None, Query(max_length=32, description="a department's code (its sub-departments included)")] = None,
):
    flt = service.AlertFilter(status=status, kind=kind, cause=cause, department_id=department_id(db, department, principal))
    rows, total = service.list_alerts(db, flt, principal.scope, paging)
    emps, deps, codes = service.labels(db, rows)
    return Page.of([alert_read(a, emps, deps, codes) for a in rows], total, paging)


def _handle(alert_id: int, action: str, db, clock, principal) -> AlertRead:
    a = service.handle(db, alert_id, action, by=principal.name, now=clock.now(), scope=principal.scope)
    return alert_read(a, *service.labels(db, [a]))


@router.post("/{alert_id}/acknowledge", response_model=AlertRead, summary="Acknowledge an alert (a manager: their departments')")
def acknowledge(alert_id: PathId, db: DbSession, clock: AppClock, principal: Handle):
    return _handle(alert_id, "acknowledge", db, clock, principal)


@router.post("/{alert_id}/resolve", response_model=AlertRead, summary="Resolve an alert (a manager: their departments')")
def resolve(alert_id: PathId, db: DbSession, clock: AppClock, principal: Handle):
    return _handle(alert_id, "resolve", db, clock, principal)


@router.post("/bulk", response_model=BulkOut, summary="Acknowledge or resolve many alerts, by id or by a filter; "
             "one that cannot be (not yours, already handled) is skipped with its reason")
def bulk(body: BulkIn, db: DbSession, clock: AppClock, principal: Handle):
    flt = None
    if body.filter is not None:
        f = body.filter
        flt = service.AlertFilter(status=f.status, kind=f.kind, cause=f.cause, department_id=department_id(db, f.department, principal))
    got = service.handle_many(db, body.action, ids=body.ids, flt=flt, by=principal.name, now=clock.now(), scope=principal.scope)
    return BulkOut(done=got.done, skipped=got.skipped)


@router.post("/check", summary="Run the session and department checks for a period (idempotent)")
def check(body: CheckIn, db: DbSession, clock: AppClock, settings: AppSettings, _: Manage) -> dict:
    return service.check_period(db, body.period_start, body.period_end, clock.now(), default_tz=settings.default_timezone)
