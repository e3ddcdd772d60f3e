"""Assessments over JSON: the kinds, recording and reading results."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from trainquant.clock import Clock
from trainquant.config import Settings
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession
from trainquant.pagination import Page, Paging
from trainquant.params import PathId, QueryDate
from trainquant.training import schemas
from trainquant.training.assessments import service as assessments
from trainquant.training.deps import AssessmentsWrite, Text, TrainingRead
from trainquant.training.lookups import local_today

router = APIRouter(prefix="/api/v1", tags=["assessments"])


def _when(clock: Clock, settings: Settings) -> dict:
    now = clock.now()
    return {"now": now, "today": local_today(now, settings.default_timezone)}


@router.get("/assessment-kinds", response_model=list[schemas.AssessmentKindRead])
def list_kinds(db: ReadSession, _: TrainingRead):
    return assessments.list_kinds(db)


@router.post("/assessments", response_model=schemas.AssessmentRead, status_code=status.HTTP_201_CREATED)
def create_assessment(body: schemas.AssessmentCreate, db: DbSession, clock: AppClock, settings: AppSettings, principal: AssessmentsWrite):
    return assessments.to_read(assessments.create_assessment(db, principal, body, **_when(clock, settings)))


@router.get("/assessments", response_model=Page[schemas.AssessmentRead])
def list_assessments(
    db: ReadSession,
    principal: TrainingRead,
    paging: Paging,
    employee: Text = None,
    program: Text = None,
    session: Text = None,
    kind: Annotated[str | None, Query(max_length=32)] = None,
    assessed_from: QueryDate | None = None,
    assessed_to: QueryDate | None = None,
):
    f = assessments.AssessmentFilter(employee=employee, program=program, session=session, kind=kind, assessed_from=assessed_from, assessed_to=assessed_to)
    items, total = assessments.list_assessments(db, f, principal.scope, paging)
    return Page.of(items, total, paging)


@router.get("/assessments/{assessment_id}", response_model=schemas.AssessmentRead)
def get_assessment(assessment_id: PathId, db: ReadSession, principal: TrainingRead):
    return assessments.to_read(assessments.get_assessment(db, assessment_id, principal.scope))
