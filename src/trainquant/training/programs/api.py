"""Programs and their costs over JSON."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from trainquant.deps import AppClock, DbSession, ReadSession
from trainquant.pagination import Page, Paging
from trainquant.params import PathId
from trainquant.training import lookups, schemas
from trainquant.training.deps import Text, TrainingManage, TrainingRead
from trainquant.training.programs import costs
from trainquant.training.programs import schemas as cost_schemas
from trainquant.training.programs import service as programs

router = APIRouter(prefix="/api/v1", tags=["training"])


@router.get("/programs", response_model=Page[schemas.ProgramRead])
def list_programs(
    db: ReadSession,
    _: TrainingRead,
    paging: Paging,
    q: Text = None,
    kind: schemas.ProgramKind | None = None,
    level: schemas.ProgramLevel | None = None,
    tag: Text = None,
    target_kind: schemas.DepartmentKind | None = None,
    active: bool | None = None,
):
    f = programs.ProgramFilter(q=q, kind=kind, level=level, tag=tag, target_kind=target_kind, active=active)
    items, total = programs.list_programs(db, f, paging)
    return Page.of(items, total, paging)


@router.post("/programs", response_model=schemas.ProgramRead, status_code=status.HTTP_201_CREATED)
def create_program(body: schemas.ProgramCreate, db: DbSession, clock: AppClock, _: TrainingManage):
    return programs.program_read(programs.create_program(db, body, now=clock.now()))


@router.get("/programs/{code}", response_model=schemas.ProgramRead)
def get_program(code: str, db: ReadSession, _: TrainingRead):
    program = lookups.get_program(db, code)
    return programs.program_read(program, len(program.sessions))


@router.patch("/programs/{code}", response_model=schemas.ProgramRead)
def update_program(code: str, body: schemas.ProgramUpdate, db: DbSession, _: TrainingManage):
    program = programs.update_program(db, code, body)
    return programs.program_read(program, len(program.sessions))


@router.post("/programs/{code}/retire", response_model=schemas.ProgramRead)
def retire_program(code: str, db: DbSession, _: TrainingManage):
    program = programs.retire_program(db, code)
    return programs.program_read(program, len(program.sessions))


@router.delete("/programs/{code}", status_code=status.HTTP_204_NO_CONTENT)
def delete_program(code: str, db: DbSession, _: TrainingManage):
    programs.delete_program(db, code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- costs (HR's figures)


@router.post("/costs", response_model=cost_schemas.CostRead, status_code=status.HTTP_201_CREATED)
def create_cost(body: cost_schemas.CostCreate, db: DbSession, clock: AppClock, principal: TrainingManage):
    return costs.to_read(costs.create_cost(db, principal, body, now=clock.now()))


@router.get("/costs", response_model=Page[cost_schemas.CostRead])
def list_costs(
    db: ReadSession,
    _: TrainingManage,
    paging: Paging,
    program: Text = None,
    session: Text = None,
    category: cost_schemas.CostCategory | None = None,
):
    items, total = costs.list_costs(db, costs.CostFilter(program=program, session=session, category=category), paging)
    return Page.of(items, total, paging)


@router.get("/costs/totals", response_model=list[cost_schemas.CostTotals])
def cost_totals(db: ReadSession, _: TrainingManage, program: Text = None):
    return [costs.program_totals(db, program)] if program else costs.all_totals(db)


@router.delete("/costs/{cost_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_cost(cost_id: PathId, db: DbSession, _: TrainingManage):
    costs.delete_cost(db, cost_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
