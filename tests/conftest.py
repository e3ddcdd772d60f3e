"""Shared fixtures: a migrated database (SQLite, or PostgreSQL with TQ_TEST_DATABASE_URL),
a rollback per test, an app bound to that transaction, and typed builders."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from trainquant.app import create_app
from trainquant.auth.models import User
from trainquant.auth.service import create_api_key, create_user, use_password_cost
from trainquant.clock import FixedClock
from trainquant.config import Settings
from trainquant.db import make_engine
from trainquant.migrate import upgrade
from trainquant.org.models import Department, Employee, Site, Venue

PASSWORD = "correct-horse-battery"
NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)


def pytest_configure(config):
    # argon2 at its production cost makes every login ~50 ms; the behaviour under test is the same.
    use_password_cost(time_cost=1, memory_cost_kib=1024)


def pytest_collection_modifyitems(config, items):
    for item in items:
        parts = Path(str(item.fspath)).parts
        if "integration" in parts:
            item.add_marker(pytest.mark.integration)
        if "e2e" in parts:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TQ_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def engine(database_url) -> Iterator[Engine]:
    eng = make_engine(Settings(env="test"), url=database_url)
    if eng.dialect.name == "postgresql":
        with eng.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(eng)
    yield eng
    eng.dispose()


@pytest.fixture
def connection(engine) -> Iterator[Connection]:
    conn = engine.connect()
    outer = conn.begin()
    try:
        yield conn
    finally:
        outer.rollback()
        conn.close()


@pytest.fixture
def session_factory(connection) -> sessionmaker[Session]:
    # Every commit inside the code under test becomes a SAVEPOINT release; the test's outer
    # transaction is rolled back at the end, so tests never see each other's rows.
    return sessionmaker(bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint")


@pytest.fixture
def db(session_factory) -> Iterator[Session]:
    session = session_factory()
    yield session
    session.close()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(NOW)


@pytest.fixture
def settings(database_url) -> Settings:
    return Settings(env="test", database_url=database_url)


@pytest.fixture
def app(settings, clock, engine, session_factory):
    application = create_app(settings, clock=clock, engine=engine)
    application.state.sessionmaker = session_factory
    return application


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=True) as c:
        yield c


# ------------------------------------------------------------------ builders


@pytest.fixture
def cli_engine(tmp_path, monkeypatch) -> Iterator[Engine]:
    """A migrated SQLite file of its own, which the command line (``trainquant ...``) opens through
    ``TQ_DATABASE_URL``: the CLI commits, so it cannot share the rolled-back test transaction."""
    from trainquant.cli import common

    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("TQ_DATABASE_URL", url)
    for cached in (common.settings, common.engine):
        cached.cache_clear()
    engine = make_engine(Settings(env="test"), url=url)
    upgrade(engine)
    yield engine
    engine.dispose()
    if common.engine.cache_info().currsize:
        common.engine().dispose()
    for cached in (common.settings, common.engine):
        cached.cache_clear()


def make_department(db: Session, *, code: str, kind: str = "teaching", name: str | None = None, parent: Department | None = None) -> Department:
    dep = Department(code=code, name=name or code, kind=kind, parent_id=parent.id if parent else None)
    db.add(dep)
    db.flush()
    return dep


def make_site(db: Session, *, code: str = "BJ", timezone: str = "Asia/Shanghai", venues: int = 1) -> Site:
    site = Site(code=code, name=f"{code} campus", timezone=timezone)
    site.venues = [Venue(name=f"Room {i + 1}", latitude=39.9 + i / 1000, longitude=116.4, radius_m=50) for i in range(venues)]
    db.add(site)
    db.flush()
    return site


def make_employee(
    db: Session,
    *,
    employee_no: str,
    department: Department,
    name: str = "张三",
    hourly_cost: Decimal | None = Decimal("80.00"),
    hire_date: date | None = date(2024, 9, 1),
    site: Site | None = None,
) -> Employee:
    emp = Employee(
        employee_no=employee_no, name=name, department_id=department.id, hourly_cost=hourly_cost,
        hire_date=hire_date, status="active", site_id=site.id if site else None, created_at=NOW, updated_at=NOW,
    )
    db.add(emp)
    db.flush()
    return emp


def make_user(db: Session, *, username: str, role: str, employee: Employee | None = None, department: Department | None = None) -> User:
    return create_user(
        db, username=username, password=PASSWORD, role=role, now=NOW,
        employee_no=employee.employee_no if employee else None,
        department_code=department.code if department else None,
    )


def make_api_key(db: Session, *, scopes: list[str], name: str = "robot") -> str:
    return create_api_key(db, name=name, scopes=scopes, created_by="test", now=NOW)[1]


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the real form; returns the CSRF token for later unsafe requests."""
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    resp = client.post("/login", data={"username": username, "password": password, "csrf_token": token}, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    # Logging in starts a fresh session (no fixation), so the CSRF token is a new one: read it from a page.
    page = client.get("/login")
    return page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
