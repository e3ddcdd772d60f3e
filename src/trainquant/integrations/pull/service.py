"""Scheduled pulls: a connector's REST source configured (credentials encrypted at rest), run page by
page into the metric store, and logged.

A run holds its source by a lease (one conditional UPDATE, the same on SQLite and PostgreSQL), so two
runs of one source never overlap. Pages are fetched outside any transaction (no write lock held
while another system answers; the next page is fetched while the last one is stored), then the
records of one or more pages (up to ``pull_commit_records``), the run's counts and the position of
the next page are committed in one transaction. A run that fails (a system down past its retries,
refused credentials) stores what it had fetched and stops; one that dies with its process resumes,
at the next start, from the position it had committed: pages not yet committed are fetched again. The source's
cursor (the latest change time seen) moves only when a run has stored its last page, so the next
run asks for what changed since a complete one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
from cryptography.fernet import InvalidToken
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from trainquant.config import Settings
from trainquant.db import unit_of_work
from trainquant.errors import Conflict, Forbidden, NotFound
from trainquant.integrations.connectors.models import Connector
from trainquant.integrations.connectors.service import fernet, get_connector
from trainquant.integrations.metrics.schemas import MAX_BATCH
from trainquant.integrations.metrics.service import ingest_records
from trainquant.integrations.pull import rules
from trainquant.integrations.pull.client import FetchError, SystemClient
from trainquant.integrations.pull.models import PullSource, SyncRun
from trainquant.integrations.pull.schemas import PullConfig, PullIn, PullRead, SyncRunRead
from trainquant.pagination import PageParams

RESUMABLE = ("running", "failed")


class SyncRunning(Conflict):
    code = "sync-running"


def get_source(db: Session, name: str) -> PullSource:
    connector = get_connector(db, name)
    src = db.scalar(select(PullSource).where(PullSource.connector_id == connector.id))
    if src is None:
        raise NotFound(f"connector {name} has no pull configured", code="no-pull")
    return src


def configure(db: Session, name: str, body: PullIn, *, settings: Settings, now: datetime) -> PullSource:
    """Set (or replace) what a connector pulls. A run left to resume under the previous configuration
    is closed: its position belongs to other pages. The cursor stays: records are idempotent, and a
    new mapping of the same items needs ``reset_cursor``."""
    connector = get_connector(db, name)
    encrypted = fernet(settings).encrypt(orjson.dumps(body.credentials)).decode()
    src = db.scalar(select(PullSource).where(PullSource.connector_id == connector.id))
    if src is None:
        src = PullSource(connector_id=connector.id, cursor=None)
        db.add(src)
    elif src.lease_until is not None and src.lease_until > now:
        raise SyncRunning(f"connector {name} is syncing now; change its pull when the run has ended")
    src.config = body.config.model_dump(mode="json")
    src.credentials_encrypted, src.schedule_minutes, src.updated_at = encrypted, body.schedule_minutes, now
    db.flush()
    db.execute(update(SyncRun).where(SyncRun.source_id == src.id, SyncRun.status.in_(RESUMABLE))
               .values(status="failed", position=None, error_code="reconfigured", error="the pull was configured again", finished_at=now))
    return src


def stored_credentials(src: PullSource, settings: Settings) -> dict[str, str]:
    """The source's credentials, decrypted (for a page that changes the rest of the configuration)."""
    try:
        return dict(orjson.loads(fernet(settings).decrypt(src.credentials_encrypted.encode())))
    except InvalidToken:
        return {}


def reset_cursor(db: Session, name: str) -> PullSource:
    src = get_source(db, name)
    src.cursor = None
    db.flush()
    return src


def read(db: Session, src: PullSource) -> PullRead:
    connector = db.get(Connector, src.connector_id)
    assert connector is not None  # a pull source belongs to its connector (cascade)
    return PullRead(connector=connector.name, config=src.config, credentials_set=bool(src.credentials_encrypted),
                    schedule_minutes=src.schedule_minutes, cursor=src.cursor, updated_at=src.updated_at)


def run_read(run: SyncRun, connector: str) -> SyncRunRead:
    return SyncRunRead(id=run.id, connector=connector, status=run.status, started_at=run.started_at, finished_at=run.finished_at,
                       since=run.since, cursor_max=run.cursor_max, resumable=run.status in RESUMABLE and run.position is not None,
                       attempts=run.attempts, pages=run.pages, items=run.items, accepted=run.accepted, unmapped=run.unmapped,
                       duplicate=run.duplicate, rejected=run.rejected, retries=run.retries, error_code=run.error_code, error=run.error)


def list_runs(db: Session, name: str, page: PageParams) -> tuple[list[SyncRunRead], int]:
    src = get_source(db, name)
    total = db.scalar(select(func.count()).select_from(SyncRun).where(SyncRun.source_id == src.id)) or 0
    runs = db.scalars(select(SyncRun).where(SyncRun.source_id == src.id).order_by(SyncRun.id.desc()).offset(page.offset).limit(page.page_size))
    return [run_read(r, name) for r in runs], total


def due(db: Session, now: datetime) -> list[str]:
    """Connectors whose scheduled pull is due: active, not held by a run, and either a run to resume
    or no run started within their schedule."""
    out = []
    rows = db.execute(select(Connector.name, PullSource.id, PullSource.schedule_minutes)
                      .join(PullSource, PullSource.connector_id == Connector.id)
                      .where(Connector.active.is_(True), PullSource.schedule_minutes.is_not(None),
                             or_(PullSource.lease_until.is_(None), PullSource.lease_until < now)))
    for name, source_id, minutes in rows:
        last = db.scalars(select(SyncRun).where(SyncRun.source_id == source_id).order_by(SyncRun.id.desc()).limit(1)).first()
        if last is None or (last.status in RESUMABLE and last.position is not None) or last.started_at <= now - timedelta(minutes=minutes or 0):
            out.append(name)
    return out


# ---------------------------------------------------------------- a run


@dataclass
class _Held:
    run_id: int
    attempts: int
    source_id: int
    connector: str
    system: str
    config: PullConfig
    credentials: dict[str, str]
    since: str | None
    position: dict[str, Any] | None
    cursor_max: str | None


def _start(db: Session, name: str, settings: Settings, now: datetime) -> _Held:
    src = get_source(db, name)
    connector = db.get(Connector, src.connector_id)
    assert connector is not None
    if not connector.active:
        raise Forbidden(f"connector {name} is switched off", code="connector-inactive")
    taken = db.execute(update(PullSource).where(PullSource.id == src.id, or_(PullSource.lease_until.is_(None), PullSource.lease_until < now))
                       .values(lease_until=now + timedelta(seconds=settings.pull_lease_s)))
    if taken.rowcount != 1:  # type: ignore[attr-defined]  # an UPDATE's result has a rowcount
        raise SyncRunning(f"connector {name} is syncing now")
    try:
        credentials = orjson.loads(fernet(settings).decrypt(src.credentials_encrypted.encode()))
    except InvalidToken:
        raise Conflict(f"connector {name}'s credentials cannot be read with this instance's encryption key; configure them again",
                       code="connector-secret-unreadable") from None
    config = PullConfig.model_validate(src.config)
    last = db.scalars(select(SyncRun).where(SyncRun.source_id == src.id).order_by(SyncRun.id.desc()).limit(1)).first()
    if last is not None and last.status in RESUMABLE and last.position is not None:
        last.status, last.attempts, last.heartbeat_at, last.error_code, last.error, last.finished_at = "running", last.attempts + 1, now, None, None, None
        run = last
    else:
        run = SyncRun(source_id=src.id, status="running", started_at=now, heartbeat_at=now, since=src.cursor,
                      position=rules.first_position(config.paging.to_rules()), attempts=1)
        db.add(run)
    db.flush()
    return _Held(run.id, run.attempts, src.id, connector.name, connector.system, config, credentials, run.since, run.position, run.cursor_max)


def _later(a: str | None, b: datetime | None) -> str | None:
    if b is None:
        return a
    known = rules.parse_time(a) if a else None
    return b.isoformat() if known is None or b > known else a


@dataclass
class _Pages:
    """Fetched pages not committed yet."""

    records: list[dict[str, Any]]
    pages: int = 0
    items: int = 0
    retries: int = 0
    latest: datetime | None = None


def _store_pages(db: Session, held: _Held, got: _Pages, *, position: dict[str, Any] | None, settings: Settings, now: datetime) -> SyncRun:
    run = db.get(SyncRun, held.run_id)
    if run is None or run.attempts != held.attempts or run.status != "running":
        # Our lease ran out (a commit took longer than pull_lease_s) and another run took over.
        raise SyncRunning(f"run {held.run_id} of {held.connector} was taken over")
    for start in range(0, len(got.records), MAX_BATCH):
        result = ingest_records(db, held.connector, got.records[start:start + MAX_BATCH], now=now, system=held.system, with_ids=False)
        run.accepted += result.accepted
        run.unmapped += result.unmapped
        run.duplicate += result.duplicate
        run.rejected += result.rejected
    run.pages += got.pages
    run.items += got.items
    run.retries += got.retries
    run.cursor_max = held.cursor_max = _later(run.cursor_max, got.latest)
    run.position = position
    run.heartbeat_at = now
    src = db.get(PullSource, held.source_id)
    assert src is not None
    if position is None:
        run.status, run.finished_at = "succeeded", now
        src.cursor = run.cursor_max or src.cursor
        src.lease_until = None
    else:
        src.lease_until = now + timedelta(seconds=settings.pull_lease_s)
    db.flush()
    return run


def _fail(factory: sessionmaker[Session], held: _Held, code: str, message: str, *, retries: int, now: datetime) -> None:
    with unit_of_work(factory) as db:
        run = db.get(SyncRun, held.run_id)
        if run is not None and run.attempts == held.attempts:
            run.status, run.error_code, run.error, run.finished_at, run.heartbeat_at = "failed", code, message[:500], now, now
            run.retries += retries
        src = db.get(PullSource, held.source_id)
        if src is not None:
            src.lease_until = None


def sync(factory: sessionmaker[Session], name: str, *, settings: Settings, clock: Callable[[], datetime],
         stop: threading.Event | None = None, transport: httpx.BaseTransport | None = None,
         on_page: Callable[[SyncRun], None] | None = None) -> int:
    """Run (or resume) the connector's pull to its last page; returns the run's id. A run that cannot
    go on is logged as failed, resumable, and this returns normally: the log says what happened.
    ``on_page`` is called after each commit."""
    with unit_of_work(factory) as db:
        held = _start(db, name, settings, clock())
    paging, mapping = held.config.paging.to_rules(), held.config.mapping.to_rules()
    seen: set[str] = set()
    got = _Pages([])

    def commit(position: dict[str, Any] | None) -> None:
        nonlocal got
        with unit_of_work(factory) as db:
            run = _store_pages(db, held, got, position=position, settings=settings, now=clock())
        got = _Pages([])
        if on_page is not None:
            on_page(run)

    def fail(code: str, message: str, retries: int) -> int:
        if got.pages:
            commit(held.position)  # what was fetched counts; the run resumes after it
        _fail(factory, held, code, message, retries=retries, now=clock())
        return held.run_id

    with SystemClient(held.config, held.credentials, retries=settings.pull_retries, backoff_s=settings.pull_backoff_s,
                      max_wait_s=settings.pull_max_wait_s, stop=stop, transport=transport) as client, \
            ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"pull-{name}") as fetcher:
        ahead: Future | None = None
        while held.position is not None:
            url = rules.request_url(held.config.url, paging, held.position, since_param=held.config.since_param, since=held.since)
            if url in seen:
                return fail("paging-loop", f"the system sent {url} again as the next page", 0)
            seen.add(url)
            try:
                fetched = (ahead if ahead is not None else fetcher.submit(client.get, url)).result()
            except FetchError as exc:
                return fail(exc.code, str(exc), exc.retries)
            ahead = None
            items = rules.page_items(fetched.body, mapping)
            if items is None:
                return fail("items-not-found", f"the page has no list at {mapping.items}", fetched.retries)
            position = rules.next_position(paging, held.position, fetched.body, items, fetched.link)
            if position is not None:
                upcoming = rules.request_url(held.config.url, paging, position, since_param=held.config.since_param, since=held.since)
                if upcoming not in seen:
                    ahead = fetcher.submit(client.get, upcoming)  # fetched while this page is read and stored
            for item in items:
                got.records += rules.to_records(item, mapping)
                at = rules.item_cursor(item, mapping)
                if at is not None and (got.latest is None or at > got.latest):
                    got.latest = at
            got.pages, got.items, got.retries = got.pages + 1, got.items + len(items), got.retries + fetched.retries
            held.position = position
            if position is None or len(got.records) >= settings.pull_commit_records:
                commit(position)
    return held.run_id
