"""Enrolment over JSON: requests, HR enrolment, decisions, cancellation, the approval inbox, mandatory rules."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from trainquant.auth.permissions import DataScope
from trainquant.clock import Clock
from trainquant.config import Settings
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession
from trainquant.pagination import Page, Paging
from trainquant.params import PathId
from trainquant.training import lookups, schemas
from trainquant.training.deps import Text, TrainingApprove, TrainingEnrol, TrainingManage, TrainingRead
from trainquant.training.enrolment import mandatory
from trainquant.training.enrolment import service as enrolment
from trainquant.training.lookups import local_today

router = APIRouter(prefix="/api/v1", tags=["enrolment"])


def _when(clock: Clock, settings: Settings) -> dict:
    now = clock.now()
    return {"now": now, "today": local_today(now, settings.default_timezone)}


def _read(db, enrolment_id: int) -> schemas.EnrolmentRead:
    return enrolment.get_enrolment(db, enrolment_id, DataScope(all=True))


@router.post("/enrolments/request", response_model=schemas.EnrolmentRead, status_code=status.HTTP_201_CREATED)
def request_enrolment(body: schemas.EnrolmentRequest, db: DbSession, clock: AppClock, settings: AppSettings, principal: TrainingEnrol):
    """Request a place for oneself; without approval needed it is given at once (or a waiting-list place)."""
    return _read(db, enrolment.request(db, principal, body, **_when(clock, settings)).id)


@router.post("/enrolments/hr-enrol", response_model=schemas.EnrolmentRead, status_code=status.HTTP_201_CREATED)
def hr_enrol(body: schemas.HrEnrol, db: DbSession, clock: AppClock, settings: AppSettings, principal: TrainingManage):
    return _read(db, enrolment.hr_enrol(db, principal, body, **_when(clock, settings)).id)


@router.post("/enrolments/{enrolment_id}/approve", response_model=schemas.EnrolmentRead)
def approve(enrolment_id: PathId, db: DbSession, clock: AppClock, settings: AppSettings, principal: TrainingApprove, body: schemas.Decision | None = None):
    row = enrolment.decide(db, principal, enrolment_id, "approve", reason=body.reason if body else None, **_when(clock, settings))
    return _read(db, row.id)


@router.post("/enrolments/{enrolment_id}/reject", response_model=schemas.EnrolmentRead)
def reject(enrolment_id: PathId, body: schemas.Rejection, db: DbSession, clock: AppClock, settings: AppSettings, principal: TrainingApprove):
    row = enrolment.decide(db, principal, enrolment_id, "reject", reason=body.reason, **_when(clock, settings))
    return _read(db, row.id)


@router.post("/enrolments/{enrolment_id}/override", response_model=schemas.EnrolmentRead)
def override(enrolment_id: PathId, body: schemas.Override, db: DbSession, clock: AppClock, settings: AppSettings, principal: TrainingManage):
    action = enrolment.OVERRIDES[body.decision]
    row = enrolment.decide(db, principal, enrolment_id, action, reason=body.reason, **_when(clock, settings))
    return _read(db, row.id)


@router.post("/enrolments/{enrolment_id}/cancel", response_model=schemas.EnrolmentRead)
def cancel(enrolment_id: PathId, db: DbSession, clock: AppClock, settings: AppSettings, principal: TrainingEnrol, body: schemas.Decision | None = None):
    row = enrolment.decide(db, principal, enrolment_id, "cancel", reason=body.reason if body else None, **_when(clock, settings))
    return _read(db, row.id)


@router.get("/enrolments", response_model=Page[schemas.EnrolmentRead])
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


@router.get("/enrolments/{enrolment_id}", response_model=schemas.EnrolmentRead)
def get_enrolment(enrolment_id: PathId, db: ReadSession, principal: TrainingRead):
    return enrolment.get_enrolment(db, enrolment_id, principal.scope)


@router.get("/me/enrolments", response_model=Page[schemas.EnrolmentRead])
def my_enrolments(db: ReadSession, principal: TrainingRead, paging: Paging, status_: Annotated[schemas.EnrolmentStatus | None, Query(alias="status")] = None):
    if principal.employee_id is None:  # an account of no employee has no enrolments of its own
        return Page.of([], 0, paging)
    f = enrolment.EnrolmentFilter(employee_id=principal.employee_id, status=status_)
    items, total = enrolment.list_enrolments(db, f, DataScope(employee_id=principal.employee_id), paging)
    return Page.of(items, total, paging)


@router.get("/approvals", response_model=Page[schemas.EnrolmentRead])
def approval_inbox(db: ReadSession, clock: AppClock, principal: TrainingApprove, paging: Paging):
    """Requests waiting for the caller's decision: their departments' (HR: everyone's), never their own."""
    items, total = enrolment.read_page(db, enrolment.approvals_query(principal, now=clock.now()), paging)
    return Page.of(items, total, paging)


# ---------------------------------------------------------------- mandatory rules


@router.get("/mandatory-rules", response_model=list[schemas.MandatoryRuleRead])
def list_rules(db: ReadSession, _: TrainingManage):
    return [mandatory.rule_read(r) for r in mandatory.list_rules(db)]


@router.post("/mandatory-rules", response_model=schemas.MandatoryRuleRead, status_code=status.HTTP_201_CREATED)
def create_rule(body: schemas.MandatoryRuleCreate, db: DbSession, clock: AppClock, _: TrainingManage):
    return mandatory.rule_read(mandatory.create_rule(db, body, now=clock.now()))


@router.post("/mandatory-rules/run", response_model=schemas.MandatoryRunRead)
def run_rules(
    db: DbSession,
    clock: AppClock,
    settings: AppSettings,
    _: TrainingManage,
    rule: Text = None,
    dry_run: bool = False,
):
    now = clock.now()
    return mandatory.run(
        db, now=now, today=lookups.local_today(now, settings.default_timezone), timezone=settings.default_timezone,
        rule_code=rule, dry_run=dry_run,
    )


@router.get("/mandatory-rules/{code}", response_model=schemas.MandatoryRuleRead)
def get_rule(code: str, db: ReadSession, _: TrainingManage):
    return mandatory.rule_read(mandatory.get_rule(db, code))


@router.patch("/mandatory-rules/{code}", response_model=schemas.MandatoryRuleRead)
def update_rule(code: str, body: schemas.MandatoryRuleUpdate, db: DbSession, _: TrainingManage):
    return mandatory.rule_read(mandatory.update_rule(db, code, body))


@router.delete("/mandatory-rules/{code}", status_code=status.HTTP_204_NO_CONTENT)
def delete_rule(code: str, db: DbSession, _: TrainingManage):
    mandatory.delete_rule(db, code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
