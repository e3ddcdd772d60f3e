"""JSON routes of the indicator framework under /api/v1."""

from __future__ import annotations

from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Query, status
from sqlalchemy.orm import Session

from trainquant.auth.permissions import DataScope, Principal
from trainquant.config import Settings
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.errors import Invalid, NotFound
from trainquant.indicators import evaluation, runs, schemas, service
from trainquant.indicators.service import actor
from trainquant.org import service as org
from trainquant.pagination import Paging
from trainquant.params import QueryDate

router = APIRouter(prefix="/api/v1", tags=["Indicators"])

IndicatorsRead = Annotated[Principal, require("indicators:read")]
IndicatorsWrite = Annotated[Principal, require("indicators:write")]


def zone(settings: Settings) -> ZoneInfo:
    return ZoneInfo(settings.default_timezone)


@router.get("/indicator-metrics", response_model=list[schemas.MetricRead])
def list_metrics(_: IndicatorsRead):
    """What an indicator can measure, and whether a fact source feeds it yet."""
    return service.metric_reads()


@router.get("/indicator-modules", response_model=list[schemas.ModuleRead])
def list_modules(db: ReadSession, _: IndicatorsRead, kind: schemas.DepartmentKind | None = None):
    return service.list_modules(db, kind=kind)


@router.post("/indicator-modules", response_model=schemas.ModuleRead, status_code=status.HTTP_201_CREATED)
def create_module(body: schemas.ModuleCreate, db: DbSession, _: IndicatorsWrite):
    return service.create_module(db, body)


@router.get("/indicators", response_model=list[schemas.IndicatorRead])
def list_indicators(
    db: ReadSession,
    _: IndicatorsRead,
    kind: schemas.DepartmentKind | None = None,
    module: Annotated[str | None, Query(max_length=40)] = None,
    include_retired: bool = False,
):
    return [service.to_read(i) for i in service.list_indicators(db, kind=kind, module_code=module, include_retired=include_retired)]


@router.post("/indicators", response_model=schemas.IndicatorDetailRead, status_code=status.HTTP_201_CREATED)
def create_indicator(body: schemas.IndicatorCreate, db: DbSession, clock: AppClock, settings: AppSettings, principal: IndicatorsWrite):
    now = clock.now()
    ind = service.create_indicator(db, body, actor=actor(principal), now=now, today=now.astimezone(zone(settings)).date())
    return service.to_read(ind, detail=True)


@router.get("/indicators/{code}", response_model=schemas.IndicatorDetailRead)
def get_indicator(code: str, db: ReadSession, _: IndicatorsRead):
    return service.to_read(service.get_indicator(db, code), detail=True)


@router.post("/indicators/{code}/versions", response_model=schemas.IndicatorDetailRead, status_code=status.HTTP_201_CREATED)
def add_version(code: str, body: schemas.IndicatorUpdate, db: DbSession, clock: AppClock, settings: AppSettings, principal: IndicatorsWrite):
    """Change an indicator: the change is stored as a new version; earlier versions and results stay."""
    now = clock.now()
    ind = service.add_version(db, code, body, actor=actor(principal), now=now, today=now.astimezone(zone(settings)).date())
    return service.to_read(ind, detail=True)


@router.post("/indicators/{code}/retire", response_model=schemas.IndicatorDetailRead)
def retire_indicator(code: str, body: schemas.IndicatorRetire, db: DbSession, clock: AppClock, principal: IndicatorsWrite):
    return service.to_read(service.retire_indicator(db, code, body, actor=actor(principal), now=clock.now()), detail=True)


# ---------------------------------------------------------------- evaluations


def _population(db: Session, body: schemas.EvaluationRunCreate) -> dict:
    try:
        if body.department_code is not None:
            return {"department": org.get_department(db, body.department_code)}
        if body.employee_no is not None:
            return {"employee": org.get_employee(db, body.employee_no, DataScope(all=True))}
    except NotFound as exc:
        field = "department_code" if body.department_code is not None else "employee_no"
        raise Invalid(exc.message, errors=[{"field": field, "code": "unknown", "message": exc.message}]) from None
    return {"kind": body.department_kind}


def run_read(summary: evaluation.RunSummary) -> schemas.EvaluationRunRead:
    run = summary.run
    return schemas.EvaluationRunRead(
        id=run.id, period_end=run.period_end, population=run.population or "all", employees=run.employees,
        evaluations=summary.evaluations, met=summary.met, not_met=summary.not_met, no_data=summary.no_data,
        created_by=run.created_by, created_at=run.created_at,
    )


@router.post("/evaluations", response_model=schemas.EvaluationRunRead, status_code=status.HTTP_201_CREATED)
def run_evaluation(body: schemas.EvaluationRunCreate, db: DbSession, clock: AppClock, settings: AppSettings, principal: IndicatorsWrite):
    """Evaluate everyone (or a department kind, a department with its children, one employee) at a period end."""
    summary = evaluation.run_evaluation(
        db, period_end=body.period_end, actor=actor(principal), now=clock.now(), tz=zone(settings), school_terms=settings.school_terms,
        **_population(db, body),
    )
    return run_read(summary)


@router.get("/evaluations/employees/{employee_no}", response_model=schemas.EmployeeResultsRead)
def employee_results(employee_no: str, db: ReadSession, principal: IndicatorsRead, period_end: QueryDate | None = None):
    """The employee's latest results (at ``period_end`` when given): an employee sees their own, a manager their departments'."""
    emp = org.get_employee(db, employee_no, principal.scope)
    return evaluation.employee_results_read(emp, evaluation.employee_results(db, emp, period_end))


@router.get("/evaluations/departments/{code}", response_model=schemas.DepartmentSummaryRead)
def department_summary(code: str, db: ReadSession, principal: IndicatorsRead, period_end: QueryDate | None = None):
    """Share met per indicator and weighted module scores over the department and its children."""
    dep = org.get_department(db, code)
    evaluation.check_department_visible(principal.scope, dep)
    headcount, stored = evaluation.department_results(db, dep, period_end)
    return evaluation.department_summary_read(dep, headcount, stored, period_end)


Reason = Annotated[schemas.Reason | None, Query(description="only results without data for this reason")]


@router.get("/evaluations/{run_id}", response_model=schemas.RunResultsRead)
def run_results(
    run_id: int,
    db: ReadSession,
    principal: IndicatorsRead,
    paging: Paging,
    status: schemas.Status | None = None,
    reason: Reason = None,
    indicator: Annotated[str | None, Query(max_length=48, description="an indicator code")] = None,
    department: Annotated[str | None, Query(max_length=32, description="a department code (with its sub-departments)")] = None,
):
    """A stored run read back by id, as it was evaluated: its counts and a page of its results, each with
    the version, window and facts it used (an employee sees their own, a manager their departments')."""
    run = runs.get_run(db, run_id)
    dep = org.get_department(db, department) if department else None
    if dep is not None:
        evaluation.check_department_visible(principal.scope, dep)
    flt = runs.RunFilter(status=status, reason=reason, indicator_code=indicator, department=dep)
    rows, total = runs.run_results(db, run, principal.scope, flt, paging)
    return schemas.RunResultsRead(
        run=run_read(evaluation.run_counts(db, run, principal.scope)), items=[runs.run_row_read(r) for r in rows],
        total=total, page=paging.page, page_size=paging.page_size,
    )
