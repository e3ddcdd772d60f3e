"""A connector's scheduled pull over JSON: configure it (credentials write-only), start a run, read the log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request

from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.integrations.pull import service
from trainquant.integrations.pull.schemas import PullIn, PullRead, SyncRunRead
from trainquant.pagination import Page, Paging

router = APIRouter(prefix="/api/v1/integrations/connectors", tags=["integrations"])
Manage = Annotated[Principal, require("integrations:manage")]
Name = Annotated[str, Path(max_length=40)]


@router.put("/{name}/pull", response_model=PullRead, summary="Configure what the connector pulls from its system's REST API (credentials are encrypted and never read back)")
def configure(name: Name, body: PullIn, db: DbSession, clock: AppClock, settings: AppSettings, _: Manage):
    return service.read(db, service.configure(db, name, body, settings=settings, now=clock.now()))


@router.get("/{name}/pull", response_model=PullRead, summary="What the connector pulls, and the cursor it has reached")
def read(name: Name, db: ReadSession, _: Manage):
    return service.read(db, service.get_source(db, name))


@router.post("/{name}/pull/reset-cursor", response_model=PullRead, summary="Pull everything again at the next run (records already stored are answered as repeats)")
def reset_cursor(name: Name, db: DbSession, _: Manage):
    return service.read(db, service.reset_cursor(db, name))


@router.post("/{name}/sync", status_code=202, summary="Start (or resume) a run now, on the job queue; its progress is in the run log",
             responses={409: {"description": "a run of this connector is under way"}})
def start(name: Name, request: Request, db: DbSession, _: Manage) -> dict:
    # A write session although this only reads: with the queue immediate (tests, one process) the run
    # happens here, on this request's connection.
    service.get_source(db, name)  # a 404 here rather than a job that fails
    request.app.state.jobs.connector_sync(name)
    return {"queued": True, "runs": f"/api/v1/integrations/connectors/{name}/runs"}


@router.get("/{name}/runs", response_model=Page[SyncRunRead], summary="The run log, newest first: counts, retries, errors, what can be resumed")
def runs(name: Name, db: ReadSession, page: Paging, _: Manage):
    items, total = service.list_runs(db, name, page)
    return Page.of(items, total, page)
