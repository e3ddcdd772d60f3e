"""The proxy review queue (代签到审核): list suspected cases, confirm or clear each with a note."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from trainquant.attendance.models import CASE_STATUSES, PROXY_SIGNALS, ProxyCase
from trainquant.attendance.proxy import service as review
from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.pagination import Page, Paging
from trainquant.params import PathId
from trainquant.schemas import StrictInput

router = APIRouter(prefix="/api/v1/attendance/review", tags=["attendance"])
Manage = Annotated[Principal, require("attendance:manage")]


class ProxyCaseRead(BaseModel):
    id: int
    signal: str
    score: float
    status: str
    session_id: int | None
    session_code: str | None
    employee_nos: list[str]
    employee_ids: list[int]
    event_ids: list[int]
    detail: str
    created_at: datetime
    decided_by: str | None
    decided_at: datetime | None
    decision_note: str | None


class DecisionIn(StrictInput):
    note: Annotated[str | None, Field(max_length=500)] = None


def case_read(case: ProxyCase, codes: dict[int, str], people: dict) -> ProxyCaseRead:
    return ProxyCaseRead(
        id=case.id, signal=case.signal, score=case.score, status=case.status, session_id=case.session_id,
        session_code=codes.get(case.session_id) if case.session_id is not None else None, employee_ids=[int(e) for e in case.employee_ids],
        employee_nos=[people[int(e)].employee_no for e in case.employee_ids if int(e) in people],
        event_ids=[int(e) for e in case.event_ids], detail=case.detail, created_at=case.created_at,
        decided_by=case.decided_by, decided_at=case.decided_at, decision_note=case.decision_note,
    )


@router.get("", response_model=Page[ProxyCaseRead], summary="The review queue, open cases first")
def queue(
    db: ReadSession, paging: Paging, _: Manage,
    status: Annotated[str | None, Query(pattern="^(" + "|".join(CASE_STATUSES) + ")$")] = None,
    signal: Annotated[str | None, Query(pattern="^(" + "|".join(PROXY_SIGNALS) + ")$")] = None,
):
    rows, total = review.list_cases(db, review.CaseFilter(status=status, signal=signal), paging)
    codes, people = review.session_codes(db, rows), review.people_of(db, rows)
    return Page.of([case_read(c, codes, people) for c in rows], total, paging)


def _decide(case_id: int, decision: str, body: DecisionIn | None, db, clock, settings, principal) -> ProxyCaseRead:
    case = review.decide(db, case_id, decision, by=principal.name, note=body.note if body else None, now=clock.now(), default_tz=settings.default_timezone)
    return case_read(case, review.session_codes(db, [case]), review.people_of(db, [case]))


@router.post("/{case_id}/confirm", response_model=ProxyCaseRead, summary="Confirm: the proxied punches stop counting")
def confirm(case_id: PathId, db: DbSession, clock: AppClock, settings: AppSettings, principal: Manage, body: DecisionIn | None = None):
    return _decide(case_id, "confirm", body, db, clock, settings, principal)


@router.post("/{case_id}/clear", response_model=ProxyCaseRead, summary="Clear: nothing is excluded")
def clear(case_id: PathId, db: DbSession, clock: AppClock, settings: AppSettings, principal: Manage, body: DecisionIn | None = None):
    return _decide(case_id, "clear", body, db, clock, settings, principal)
