"""JSON routes of enrolment (request, HR enrolment, decisions, cancellation), the approval inbox and assessments."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from trainquant.auth.permissions import DataScope, Principal
from trainquant.clock import Clock
from trainquant.config import Settings
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.pagination import Page, Paging
from trainquant.params import PathId, QueryDate
from trainquant.training import assessments, enrolment, schemas
from trainquant.training.lookups import local_today

router = APIRouter()

TrainingRead = Annotated[Principal, require("training:read")]
TrainingEnrol = Annotated[Principal, require("training:enrol")]
TrainingApprove = Annotated[Principal, require("training:approve")]
TrainingManage = Annotated[Principal, require("training:manage")]
AssessmentsWrite = Annotated[Principal, require("assessments:write")]
Text = Annotated[str | None, Query(max_length=64)]


def _when(clock: Clock, settings: Settings) -> dict:
    now = clock.now()
    return {"now": now, "today": local_today(now, settings.default_timezone)}


def _read(db, enrolment_id: int) -> schemas.EnrolmentRead:
    return enrolment.get_enrolment(db, enrolment_id, DataScope(all=True))


@router.post("/enrolments/request", response_model=schemas.EnrolmentRead, status_code=status.HTTP_201_CREATED, tags=["enrolment"])
def request_enrolment(body: schemas.EnrolmentRequest, db: DbSession, clock: AppClock, settings: AppSettings, principal: TrainingEnrol):
    """Request a place for oneself; without approval needed it is given at once (or a waiting-list place)."""
    return _read(db, enrolment.request(db, principal, body, **_when(clock, settings)).id)


@router.post("/enrolments/hr-enrol", response_model=schemas.EnrolmentRead, status_code=status.HTTP_201_CREATED, tags=["enrolment"])
def hr_enrol(body: schemas.HrEnrol, db: DbSession, clock: AppClock, settings: AppSettings, principal: TrainingManage):
    return _read(db, enrolment.hr_enrol(db, principal, body, **_when(clock, settings)).id)


@router.post("/enrolments/{enrolment_id}/approve", response_model=schemas.EnrolmentRead, tags=["enrolment"])
def approve(enrolment_id: PathId, db: DbSession, clock: AppClock, settings: AppSettings, principal: TrainingApprove, body: schemas.Decision | None = None):
    row = enrolment.decide(db, principal, enrolment_id, "approve", reason=body.reason if body else None, **_when(clock, settings))
    return _read(db, row.id)


@router.post("/enrolments/{enrolment_id}/reject", response_model=schemas.EnrolmentRead, tags=["enrolment"])
def reject(enrolment_id: PathId, body: schemas.Rejection, db: DbSession, clock: AppClock, settings: AppSettings, principal: TrainingApprove):
    row = enrolment.decide(db, principal, enrolment_id, "reject", reason=body.reason, **_when(clock, settings))
    return _read(db, row.id)


@router.post("/enrolments/{enrolment_id}/override", response_model=schemas.EnrolmentRead, tags=["enrolment"])
def override(enrolment_id: PathId, body: schemas.Override, db: DbSession, clock: AppClock, settings: AppSettings, principal: TrainingManage):
    action = enrolment.OVERRIDES[body.decision]
    row = enrolment.decide(db, principal, enrolment_id, action, reason=body.reason, **_when(clock, settings))
    return _read(db, row.id)


@router.post("/enrolments/{enrolment_id}/cancel", response_model=schemas.EnrolmentRead, tags=["enrolment"])
def cancel(enrolment_id: PathId, db: DbSession, clock: AppClock, settings: AppSettings, principal: TrainingEnrol, body: schemas.Decision | None = None):
    row = enrolment.decide(db, principal, enrolment_id, "cancel", reason=body.reason if body else None, **_when(clock, settings))
    return _read(db, row.id)


@router.get("/enrolments", response_model=Page[schemas.EnrolmentRead], tags=["enrolment"])
def list_enrolments(
    db: ReadSession,
    principal: TrainingRead,
    paging: Paging,
    session: Text = None,
    program: Text = None,
    employee: Text = None,
    department: Text = None,
    status_: Annotated[schemas.EnrolmentStatus | None, Query(alias="status")] = None,
    source: schemas.EnrolmentSource | None = None,
):
    f = enrolment.EnrolmentFilter(session=session, program=program, employee=employee, department=department, status=status_, source=source)
    items, total = enrolment.list_enrolments(db, f, principal.scope, paging)
    return Page.of(items, total, paging)


@router.get("/enrolments/{enrolment_id}", response_model=schemas.EnrolmentRead, tags=["enrolment"])
def get_enrolment(enrolment_id: PathId, db: ReadSession, principal: TrainingRead):
    return enrolment.get_enrolment(db, enrolment_id, principal.scope)


@router.get("/me/enrolments", response_model=Page[schemas.EnrolmentRead], tags=["enrolment"])
def my_enrolments(db: ReadSession, principal: TrainingRead, paging: Paging, status_: Annotated[schemas.EnrolmentStatus | None, Query(alias="status")] = None):
    if principal.employee_id is None:  # an account of no employee has no enrolments of its own
        return Page.of([], 0, paging)
    f = enrolment.EnrolmentFilter(employee_id=principal.employee_id, status=status_)
    items, total = enrolment.list_enrolments(db, f, DataScope(employee_id=principal.employee_id), paging)
    return Page.of(items, total, paging)


@router.get("/approvals", response_model=Page[schemas.EnrolmentRead], tags=["enrolment"])
def approval_inbox(db: ReadSession, clock: AppClock, principal: TrainingApprove, paging: Paging):
    """Requests waiting for the caller's decision: their departments' (HR: everyone's), never their own."""
    items, total = enrolment.read_page(db, enrolment.approvals_query(principal, now=clock.now()), paging)
    return Page.of(items, total, paging)


# ---------------------------------------------------------------- assessments


@router.get("/assessment-kinds", response_model=list[schemas.AssessmentKindRead], tags=["assessments"])
def list_kinds(db: ReadSession, _: TrainingRead):
    return assessments.list_kinds(db)


@router.post("/assessments", response_model=schemas.AssessmentRead, status_code=status.HTTP_201_CREATED, tags=["assessments"])
def create_assessment(body: schemas.AssessmentCreate, db: DbSession, clock: AppClock, settings: AppSettings, principal: AssessmentsWrite):
    return assessments.to_read(assessments.create_assessment(db, principal, body, **_when(clock, settings)))


@router.get("/assessments", response_model=Page[schemas.AssessmentRead], tags=["assessments"])
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


@router.get("/assessments/{assessment_id}", response_model=schemas.AssessmentRead, tags=["assessments"])
def get_assessment(assessment_id: PathId, db: ReadSession, principal: TrainingRead):
    return assessments.to_read(assessments.get_assessment(db, assessment_id, principal.scope))

