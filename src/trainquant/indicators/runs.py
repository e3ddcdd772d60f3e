"""A stored evaluation run read back by id, as it was evaluated (never recomputed): its results of the
people the reader may see, filtered and paged, and why those without data have none."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, contains_eager

from trainquant.auth.permissions import DataScope
from trainquant.errors import NotFound
from trainquant.indicators import schemas
from trainquant.indicators.evaluation import StoredResult, result_read
from trainquant.indicators.models import Evaluation, EvaluationRun, Indicator, IndicatorModule, IndicatorVersion
from trainquant.indicators.rules import NO_DATA
from trainquant.org import service as org_service
from trainquant.org.models import Department, Employee
from trainquant.org.tree import department_subtree
from trainquant.pagination import PageParams


def get_run(db: Session, run_id: int) -> EvaluationRun:
    run = db.get(EvaluationRun, run_id)
    if run is None:
        raise NotFound(f"no evaluation run {run_id}")
    return run


@dataclass(frozen=True)
class RunFilter:
    status: str | None = None
    reason: str | None = None
    indicator_code: str | None = None
    department: Department | None = None  # with its sub-departments


@dataclass(frozen=True)
class RunRow:
    employee: Employee
    result: StoredResult


def run_results(db: Session, run: EvaluationRun, scope: DataScope, flt: RunFilter, paging: PageParams) -> tuple[list[RunRow], int]:
    """The results a run stored, as they were stored (never recomputed), of the people the reader may
    see, by employee number and indicator; and how many there are."""
    stmt = (
        select(Evaluation, IndicatorVersion, Indicator, IndicatorModule, Employee)
        .join(IndicatorVersion, IndicatorVersion.id == Evaluation.indicator_version_id)
        .join(Indicator, Indicator.id == IndicatorVersion.indicator_id)
        .join(IndicatorModule, IndicatorModule.id == Indicator.module_id)
        .join(Employee, Employee.id == Evaluation.employee_id)
        .where(Evaluation.run_id == run.id)
    )
    stmt = org_service.scoped(stmt, scope)
    if flt.status:
        stmt = stmt.where(Evaluation.status == flt.status)
    if flt.reason:
        stmt = stmt.where(Evaluation.reason == flt.reason)
    if flt.indicator_code:
        stmt = stmt.where(Indicator.code == flt.indicator_code)
    if flt.department is not None:
        stmt = stmt.where(Employee.department_id.in_(sorted(department_subtree(db, flt.department.id))))
    total = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = db.execute(
        stmt.options(contains_eager(Indicator.module)).order_by(Employee.employee_no, IndicatorModule.id, Indicator.id)
        .limit(paging.page_size).offset(paging.offset)
    ).unique()
    return [RunRow(emp, StoredResult(e, v, i, m)) for e, v, i, m, emp in rows], total


def run_reason_counts(db: Session, run: EvaluationRun, scope: DataScope) -> dict[str, int]:
    """How many of the run's results (that the reader may see) lack data, per reason."""
    stmt = (
        select(Evaluation.reason, func.count()).join(Employee, Employee.id == Evaluation.employee_id)
        .where(Evaluation.run_id == run.id, Evaluation.status == NO_DATA).group_by(Evaluation.reason)
    )
    return {reason or "": n for reason, n in db.execute(org_service.scoped(stmt, scope))}


def run_row_read(row: RunRow) -> schemas.RunResultRead:
    return schemas.RunResultRead(employee_no=row.employee.employee_no, employee_name=row.employee.name, **result_read(row.result).model_dump())
