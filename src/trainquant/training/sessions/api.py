"""Sessions over JSON."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response, status

from trainquant.deps import AppClock, DbSession, ReadSession
from trainquant.pagination import Page, Paging, paginate
from trainquant.params import QueryDateTime
from trainquant.training import lookups, schemas
from trainquant.training.deps import Text, TrainingManage, TrainingRead
from trainquant.training.enrolment.service import actor_for
from trainquant.training.sessions import service as sessions

router = APIRouter(prefix="/api/v1", tags=["training"])


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
    f = sessions.SessionFilter(program=program, status=status_, site=site, trainer=trainer, starts_from=starts_from, starts_to=starts_to)
    rows, total = paginate(db, sessions.session_query(db, f), paging)
    counts = lookups.seat_counts(db, [s.id for s in rows])
    return Page.of([sessions.session_read(s, counts.get(s.id)) for s in rows], total, paging)


def _session(db, code: str) -> schemas.SessionRead:
    s = lookups.get_session(db, code)
    return sessions.session_read(s, lookups.seat_counts(db, [s.id]).get(s.id))


@router.post("/sessions", response_model=schemas.SessionRead, status_code=status.HTTP_201_CREATED)
def create_session(body: schemas.SessionCreate, db: DbSession, clock: AppClock, _: TrainingManage):
    return _session(db, sessions.create_session(db, body, now=clock.now()).code)


@router.get("/sessions/{code}", response_model=schemas.SessionRead)
def get_session(code: str, db: ReadSession, _: TrainingRead):
    return _session(db, code)


@router.patch("/sessions/{code}", response_model=schemas.SessionRead)
def update_session(code: str, body: schemas.SessionUpdate, db: DbSession, clock: AppClock, _: TrainingManage):
    return _session(db, sessions.update_session(db, code, body, now=clock.now()).code)


@router.post("/sessions/{code}/cancel", response_model=schemas.SessionRead)
def cancel_session(code: str, body: schemas.SessionCancel, db: DbSession, clock: AppClock, principal: TrainingManage):
    sessions.cancel_session(db, code, body.reason, actor=actor_for(principal), now=clock.now())
    return _session(db, code)


@router.delete("/sessions/{code}", status_code=status.HTTP_204_NO_CONTENT)
def delete_session(code: str, db: DbSession, _: TrainingManage):
    sessions.delete_session(db, code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
