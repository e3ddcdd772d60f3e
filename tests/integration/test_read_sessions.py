"""Reads never take the write lock: GET routes and pages get read-only sessions, and those refuse writes."""

from __future__ import annotations

import threading

import pytest
from fastapi import routing
from fastapi.routing import APIRoute
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, OperationalError

from trainquant.config import Settings
from trainquant.db import make_engine, make_sessionmaker, read_only, unit_of_work
from trainquant.deps import get_db
from trainquant.migrate import upgrade
from trainquant.org.models import Department

# GET routes that write by the protocol's own nature (a terminal's handshake and poll record when it
# was last seen and hand out queued commands); they run their own short unit of work.
WRITING_GETS = {"/iclock/cdata", "/iclock/getrequest"}


def _calls(dependant) -> set:
    out = {dependant.call}
    for sub in dependant.dependencies:
        out |= _calls(sub)
    return out


def _routes(app) -> list[tuple[str, object]]:
    """(path, route) of every route, included routers expanded (FastAPI >= 0.15x keeps them nested)."""
    if hasattr(routing, "iter_route_contexts"):
        return [(c.path, c.original_route) for c in routing.iter_route_contexts(app.routes)]
    return [(r.path, r) for r in app.routes]


def test_every_get_route_reads_through_a_read_only_session(app):
    checked = 0
    for path, route in _routes(app):
        if not isinstance(route, APIRoute) or "GET" not in route.methods or path in WRITING_GETS:
            continue
        calls = _calls(route.dependant)
        assert get_db not in calls, f"GET {path} takes the writing unit of work; use ReadSession"
        checked += 1
    assert checked > 60


def test_a_read_only_session_on_the_shared_test_connection_refuses_writes(session_factory, engine):
    if engine.dialect.name != "sqlite":
        pytest.skip("PRAGMA query_only is SQLite's; PostgreSQL read-only sessions are checked below")
    with read_only(session_factory)() as reader:
        assert reader.scalar(select(func.count(Department.id))) is not None
        reader.add(Department(code="RO", name="RO", kind="teaching"))
        with pytest.raises(OperationalError, match="readonly"):
            reader.flush()
    # The connection writes again once the read-only session is over.
    with unit_of_work(session_factory) as db:
        db.add(Department(code="RW", name="RW", kind="teaching"))
    with session_factory() as db:
        assert db.scalar(select(Department.code).where(Department.code == "RW")) == "RW"


@pytest.fixture
def file_engine(tmp_path, database_url, engine):
    if not database_url.startswith("sqlite"):
        engine = make_engine(Settings(env="test"), url=database_url)
    else:
        engine = make_engine(Settings(env="test"), url=f"sqlite:///{tmp_path / 'ro.db'}")
        upgrade(engine)
    yield engine
    engine.dispose()


def test_a_read_only_session_on_an_engine_refuses_writes(file_engine):
    with pytest.raises(DBAPIError, match=r"(?i)read.?only"), read_only(make_sessionmaker(file_engine))() as reader:
        reader.execute(text("INSERT INTO departments (code, name, kind) VALUES ('X1', 'X1', 'teaching')"))
        reader.flush()


def test_a_read_is_answered_while_a_writer_holds_the_write_lock(file_engine):
    if file_engine.dialect.name != "sqlite":
        pytest.skip("the single-writer lock is SQLite's")
    factory = make_sessionmaker(file_engine)
    holding, release = threading.Event(), threading.Event()

    def writer() -> None:
        with unit_of_work(factory) as db:  # BEGIN IMMEDIATE: holds the write lock until commit
            db.add(Department(code="W1", name="W1", kind="teaching"))
            db.flush()
            holding.set()
            release.wait(10)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert holding.wait(10)
        with read_only(factory)() as reader:
            # The writer's row is not committed yet: the snapshot does not see it, and nothing waits.
            assert reader.scalar(select(func.count()).select_from(Department).where(Department.code == "W1")) == 0
        # Answered while the writer still holds the lock (it lets go only once released).
        assert thread.is_alive() and not release.is_set()
    finally:
        release.set()
        thread.join()
