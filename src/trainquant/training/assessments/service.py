"""Assessment results (trial lecture, online test, IELTS ...) checked against their kind's scale."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from trainquant.auth.permissions import DataScope, Principal
from trainquant.errors import Forbidden, NotFound
from trainquant.integrations.outbox.service import publish
from trainquant.org.models import Employee
from trainquant.org.service import get_employee, scoped
from trainquant.pagination import PageParams, paginate
from trainquant.training import rules, schemas
from trainquant.training.lookups import invalid, program_ref, refusal, session_ref
from trainquant.training.models import (
    Assessment,
    AssessmentKind,
    Program,
    TrainingSession,
)


def list_kinds(db: Session) -> list[AssessmentKind]:
    return list(db.scalars(select(AssessmentKind).order_by(AssessmentKind.code)))


def _decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def scale_of(kind: AssessmentKind) -> rules.Scale:
    return rules.Scale(
        code=kind.code, scale=kind.scale, min_value=_decimal(kind.min_value), max_value=_decimal(kind.max_value),
        step=_decimal(kind.step), pass_mark=_decimal(kind.pass_mark), higher_is_better=kind.higher_is_better,
        multiple_raters=kind.multiple_raters,
    )


def _links(db: Session, body: schemas.AssessmentCreate) -> tuple[int | None, int | None]:
    session = session_ref(db, body.session_code) if body.session_code else None
    program = program_ref(db, body.program_code) if body.program_code else None
    if session is not None and program is not None and session.program_id != program.id:
        raise invalid("session_code", f"session {session.code!r} is not part of program {program.code!r}", "session-not-in-program")
    program_id = program.id if program else (session.program_id if session else None)
    return program_id, session.id if session else None


def create_assessment(db: Session, principal: Principal, body: schemas.AssessmentCreate, *, now: datetime, today: date) -> Assessment:
    emp = get_employee(db, body.employee_no, principal.scope)
    if emp.id == principal.employee_id and not principal.can("training:manage"):
        raise Forbidden("managers record assessments for their team, not for themselves", code="own-assessment")
    kind = db.get(AssessmentKind, body.kind)
    if kind is None:
        known = ", ".join(k.code for k in list_kinds(db))
        raise invalid("kind", f"unknown assessment kind {body.kind!r}; known: {known}", "unknown-assessment-kind")
    if body.assessed_on > today:
        raise invalid("assessed_on", "assessed_on cannot be in the future", "assessed-in-future")
    program_id, session_id = _links(db, body)
    result = rules.Result(
        score=body.score,
        ratings=tuple(rules.Rating(r.rater, r.score) for r in body.ratings),
        passed=body.passed,
        errors=body.errors,
        operations=body.operations,
    )
    try:
        scored = rules.score_assessment(scale_of(kind), result)
    except rules.Refused as refused:
        raise refusal(refused) from None
    raters = [r.rater for r in body.ratings]
    row = Assessment(
        employee_id=emp.id, kind_code=kind.code, program_id=program_id, session_id=session_id, assessed_on=body.assessed_on,
        score=None if scored.score is None else float(scored.score), passed=scored.passed,
        ratings=[{"rater": r.rater, "score": float(r.score)} for r in body.ratings],
        errors=body.errors, operations=body.operations,
        rater=(body.rater or "、".join(raters))[:64] or None,
        evidence=body.evidence, created_by=principal.name[:64], created_at=now,
    )
    db.add(row)
    db.flush()
    stored = get_assessment(db, row.id, DataScope(all=True))
    _announce(db, stored, now=now)
    return stored


def _announce(db: Session, a: Assessment, *, now: datetime) -> None:
    """``assessment.recorded`` to the systems subscribed, in the transaction that records it."""
    payload = {"employee_no": a.employee.employee_no, "kind": a.kind_code, "assessed_on": a.assessed_on.isoformat(), "score": a.score,
               "passed": a.passed, "program_code": a.program.code if a.program else None, "session_code": a.session.code if a.session else None}
    publish(db, "assessment.recorded", f"assessment.recorded:{a.id}", payload, occurred_at=now, now=now)


@dataclass(frozen=True)
class AssessmentFilter:
    employee: str | None = None
    program: str | None = None
    session: str | None = None
    kind: str | None = None
    assessed_from: date | None = None
    assessed_to: date | None = None
    employee_id: int | None = None


def base_query() -> Select:
    return (
        select(Assessment)
        .join(Assessment.employee)
        .join(Assessment.kind)
        .options(contains_eager(Assessment.employee), contains_eager(Assessment.kind), joinedload(Assessment.program), joinedload(Assessment.session))
    )


def assessment_query(f: AssessmentFilter, scope: DataScope) -> Select:
    stmt = base_query()
    if f.employee:
        stmt = stmt.where(Employee.employee_no == f.employee)
    if f.employee_id is not None:
        stmt = stmt.where(Assessment.employee_id == f.employee_id)
    if f.program:
        stmt = stmt.where(Assessment.program_id == select(Program.id).where(Program.code == f.program).scalar_subquery())
    if f.session:
        stmt = stmt.where(Assessment.session_id == select(TrainingSession.id).where(TrainingSession.code == f.session).scalar_subquery())
    if f.kind:
        stmt = stmt.where(Assessment.kind_code == f.kind)
    if f.assessed_from:
        stmt = stmt.where(Assessment.assessed_on >= f.assessed_from)
    if f.assessed_to:
        stmt = stmt.where(Assessment.assessed_on <= f.assessed_to)
    return scoped(stmt, scope).order_by(Assessment.assessed_on.desc(), Assessment.id.desc())


def to_read(row: Assessment) -> schemas.AssessmentRead:
    return schemas.AssessmentRead(
        id=row.id, employee_no=row.employee.employee_no, employee_name=row.employee.name, kind=row.kind_code,
        kind_name=row.kind.name, kind_name_en=row.kind.name_en, assessed_on=row.assessed_on, score=row.score, passed=row.passed,
        ratings=[schemas.RatingRead(**r) for r in row.ratings or []], errors=row.errors, operations=row.operations,
        rater=row.rater, evidence=row.evidence, program_code=row.program.code if row.program else None,
        session_code=row.session.code if row.session else None, created_by=row.created_by, created_at=row.created_at,
    )


def list_assessments(db: Session, f: AssessmentFilter, scope: DataScope, page: PageParams) -> tuple[list[schemas.AssessmentRead], int]:
    rows, total = paginate(db, assessment_query(f, scope), page)
    return [to_read(r) for r in rows], total


def get_assessment(db: Session, assessment_id: int, scope: DataScope) -> Assessment:
    row = db.scalar(scoped(base_query().where(Assessment.id == assessment_id), scope))
    if row is None:
        raise NotFound(f"no assessment {assessment_id}")
    return row
