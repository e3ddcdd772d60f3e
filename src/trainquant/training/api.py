"""JSON routes of training under /api/v1: programs, sessions, mandatory rules and costs.

Enrolments, approvals and assessments are in api_enrolment.py and included here."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.pagination import Page, Paging, paginate
from trainquant.params import PathId, QueryDateTime
from trainquant.training import costs, lookups, mandatory, schemas, service
from trainquant.training.api_enrolment import router as enrolment_router
from trainquant.training.enrolment import actor_for

router = APIRouter(prefix="/api/v1", tags=["training"])

TrainingRead = Annotated[Principal, require("training:read")]
TrainingManage = Annotated[Principal, require("training:manage")]
Text = Annotated[str | None, Query(max_length=64)]


# ---------------------------------------------------------------- programs


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
    f = service.ProgramFilter(q=q, kind=kind, level=level, tag=tag, target_kind=target_kind, active=active)
    items, total = service.list_programs(db, f, paging)
    return Page.of(items, total, paging)


@router.post("/programs", response_model=schemas.ProgramRead, status_code=status.HTTP_201_CREATED)
def create_program(body: schemas.ProgramCreate, db: DbSession, clock: AppClock, _: TrainingManage):
    return service.program_read(service.create_program(db, body, now=clock.now()))


@router.get("/programs/{code}", response_model=schemas.ProgramRead)
def get_program(code: str, db: ReadSession, _: TrainingRead):
    program = lookups.get_program(db, code)
    return service.program_read(program, len(program.sessions))


@router.patch("/programs/{code}", response_model=schemas.ProgramRead)
def update_program(code: str, body: schemas.ProgramUpdate, db: DbSession, _: TrainingManage):
    program = service.update_program(db, code, body)
    return service.program_read(program, len(program.sessions))


@router.post("/programs/{code}/retire", response_model=schemas.ProgramRead)
def retire_program(code: str, db: DbSession, _: TrainingManage):
    program = service.retire_program(db, code)
    return service.program_read(program, len(program.sessions))


@router.delete("/programs/{code}", status_code=status.HTTP_204_NO_CONTENT)
def delete_program(code: str, db: DbSession, _: TrainingManage):
    service.delete_program(db, code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---------------------------------------------------------------- sessions


@router.get("/sessions", response_model=Page[schemas.SessionRead])
def list_sessions(
    db: ReadSession,
    _: TrainingRead,
    paging: Paging,
    program: Text = None,
    status_: Annotated[str | None, Query(alias="status", pattern="^(scheduled|cancelled|completed)$")] = None,
    site: Text = None,
    trainer: Text = None,
    starts_from: QueryDateTime | None = None,
    starts_to: QueryDateTime | None = None,
):
    f = service.SessionFilter(program=program, status=status_, site=site, trainer=trainer, starts_from=starts_from, starts_to=starts_to)
    rows, total = paginate(db, service.session_query(db, f), paging)
    counts = lookups.seat_counts(db, [s.id for s in rows])
    return Page.of([service.session_read(s, counts.get(s.id)) for s in rows], total, paging)


def _session(db, code: str) -> schemas.SessionRead:
    s = lookups.get_session(db, code)
    return service.session_read(s, lookups.seat_counts(db, [s.id]).get(s.id))


@router.post("/sessions", response_model=schemas.SessionRead, status_code=status.HTTP_201_CREATED)
def create_session(body: schemas.SessionCreate, db: DbSession, clock: AppClock, _: TrainingManage):
    return _session(db, service.create_session(db, body, now=clock.now()).code)


@router.get("/sessions/{code}", response_model=schemas.SessionRead)
def get_session(code: str, db: ReadSession, _: TrainingRead):
    return _session(db, code)


@router.patch("/sessions/{code}", response_model=schemas.SessionRead)
def update_session(code: str, body: schemas.SessionUpdate, db: DbSession, clock: AppClock, _: TrainingManage):
    return _session(db, service.update_session(db, code, body, now=clock.now()).code)


@router.post("/sessions/{code}/cancel", response_model=schemas.SessionRead)
def cancel_session(code: str, body: schemas.SessionCancel, db: DbSession, clock: AppClock, principal: TrainingManage):
    service.cancel_session(db, code, body.reason, actor=actor_for(principal), now=clock.now())
    return _session(db, code)


@router.delete("/sessions/{code}", status_code=status.HTTP_204_NO_CONTENT)
def delete_session(code: str, db: DbSession, _: TrainingManage):
    service.delete_session(db, code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


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


# ---------------------------------------------------------------- costs (HR's figures)


@router.post("/costs", response_model=schemas.CostRead, status_code=status.HTTP_201_CREATED)
def create_cost(body: schemas.CostCreate, db: DbSession, clock: AppClock, principal: TrainingManage):
    return costs.to_read(costs.create_cost(db, principal, body, now=clock.now()))


@router.get("/costs", response_model=Page[schemas.CostRead])
def list_costs(
    db: ReadSession,
    _: TrainingManage,
    paging: Paging,
    program: Text = None,
    session: Text = None,
    category: schemas.CostCategory | None = None,
):
    items, total = costs.list_costs(db, costs.CostFilter(program=program, session=session, category=category), paging)
    return Page.of(items, total, paging)


@router.get("/costs/totals", response_model=list[schemas.CostTotals])
def cost_totals(db: ReadSession, _: TrainingManage, program: Text = None):
    return [costs.program_totals(db, program)] if program else costs.all_totals(db)


@router.delete("/costs/{cost_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_cost(cost_id: PathId, db: DbSession, _: TrainingManage):
    costs.delete_cost(db, cost_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


router.include_router(enrolment_router)
