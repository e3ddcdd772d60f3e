"""Programs: create, change, retire, delete, list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, joinedload

from trainquant.db import contains_text
from trainquant.errors import Conflict
from trainquant.pagination import PageParams
from trainquant.training import schemas
from trainquant.training.lookups import (
    employee_ref,
    get_program,
    invalid,
)
from trainquant.training.models import (
    Assessment,
    CostItem,
    Program,
    TrainingSession,
)


def program_read(program: Program, sessions: int = 0) -> schemas.ProgramRead:
    trainer = program.trainer_employee
    return schemas.ProgramRead(
        id=program.id, code=program.code, title=program.title, title_en=program.title_en, kind=program.kind,
        level=program.level, target_kinds=list(program.target_kinds or []), tags=list(program.tags or []), aims=list(program.aims or []),
        trainer=program.trainer, trainer_employee_no=trainer.employee_no if trainer else None,
        planned_hours=program.planned_hours, eligibility=dict(program.eligibility or {}),
        requires_approval=program.requires_approval, active=program.active, description=program.description,
        created_at=program.created_at, sessions=sessions,
    )


@dataclass(frozen=True)
class ProgramFilter:
    q: str | None = None
    kind: str | None = None
    level: str | None = None
    tag: str | None = None
    target_kind: str | None = None
    active: bool | None = None


def list_programs(db: Session, f: ProgramFilter, page: PageParams) -> tuple[list[schemas.ProgramRead], int]:
    stmt = select(Program).options(joinedload(Program.trainer_employee)).order_by(Program.active.desc(), Program.code)
    if f.q:
        q = f.q.strip()
        stmt = stmt.where(or_(contains_text(Program.code, q), contains_text(Program.title, q), contains_text(Program.title_en, q)))
    if f.kind:
        stmt = stmt.where(Program.kind == f.kind)
    if f.level:
        stmt = stmt.where(Program.level == f.level)
    if f.active is not None:
        stmt = stmt.where(Program.active == f.active)
    # Tags live in a JSON list; programs number in the hundreds, so the last filters run here.
    rows = [
        p for p in db.scalars(stmt)
        if (not f.tag or f.tag in (p.tags or [])) and (not f.target_kind or not p.target_kinds or f.target_kind in p.target_kinds)
    ]
    chosen = rows[page.offset : page.offset + page.page_size]
    counts = dict(
        db.execute(
            select(TrainingSession.program_id, func.count()).where(TrainingSession.program_id.in_([p.id for p in chosen])).group_by(TrainingSession.program_id)
        ).all()
    )
    return [program_read(p, counts.get(p.id, 0)) for p in chosen], len(rows)


def check_prerequisites(db: Session, spec: schemas.EligibilitySpec, own_code: str, field: str = "eligibility.prerequisites") -> None:
    if own_code in spec.prerequisites:
        raise invalid(field, "a program cannot be its own prerequisite", "self-prerequisite")
    known = set(db.scalars(select(Program.code).where(Program.code.in_(spec.prerequisites))))
    unknown = [c for c in spec.prerequisites if c not in known]
    if unknown:
        raise invalid(field, f"unknown prerequisite program(s): {', '.join(unknown)}", "unknown-prerequisite", programs=", ".join(unknown))


def create_program(db: Session, body: schemas.ProgramCreate, *, now: datetime) -> Program:
    if db.scalar(select(Program.id).where(Program.code == body.code)) is not None:
        raise Conflict(f"program {body.code!r} already exists", code="program-code-taken")
    check_prerequisites(db, body.eligibility, body.code)
    trainer = employee_ref(db, body.trainer_employee_no, "trainer_employee_no") if body.trainer_employee_no else None
    data = body.model_dump(exclude={"trainer_employee_no", "eligibility"})
    program = Program(
        **data, eligibility=body.eligibility.stored(), trainer_employee_id=trainer.id if trainer else None,
        active=True, created_at=now,
    )
    if trainer and not program.trainer:
        program.trainer = trainer.name
    db.add(program)
    db.flush()
    return get_program(db, program.code)


def update_program(db: Session, code: str, body: schemas.ProgramUpdate) -> Program:
    program = get_program(db, code)
    data = body.model_dump(exclude_unset=True)
    for required in ("title", "kind", "level", "planned_hours", "requires_approval", "eligibility", "target_kinds", "tags", "aims"):
        if required in data and data[required] is None:
            raise invalid(required, f"{required} cannot be empty", "required")
    if body.eligibility is not None:
        check_prerequisites(db, body.eligibility, program.code)
        program.eligibility = body.eligibility.stored()
        data.pop("eligibility")
    if "trainer_employee_no" in data:
        no = data.pop("trainer_employee_no")
        trainer = employee_ref(db, no, "trainer_employee_no") if no else None
        program.trainer_employee_id = trainer.id if trainer else None
        if trainer and "trainer" not in data:
            program.trainer = trainer.name
    for key, value in data.items():
        setattr(program, key, value)
    db.flush()
    db.expire(program, ["trainer_employee"])
    return program


def retire_program(db: Session, code: str) -> Program:
    program = get_program(db, code)
    if not program.active:
        raise Conflict(f"program {code!r} is already retired", code="program-already-retired")
    program.active = False
    db.flush()
    return program


def delete_program(db: Session, code: str) -> None:
    program = get_program(db, code)
    for model, what in ((TrainingSession, "sessions"), (CostItem, "cost items"), (Assessment, "assessments")):
        if db.scalar(select(func.count()).select_from(model).where(model.program_id == program.id)):
            raise Conflict(f"program {code!r} has {what}; retire it instead of deleting it", code="program-in-use")
    db.delete(program)
    db.flush()
