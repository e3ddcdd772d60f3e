"""The API fuzzed from its own OpenAPI document (schemathesis): no operation answers a server error, and
every answer is one the document declares (its status code, content type and schema).

The app is the real one over a database of its own (a temporary SQLite file, or a fresh PostgreSQL
database beside ``TQ_TEST_DATABASE_URL``), not the rolled-back test transaction: writes commit and read
sessions are really read-only. It holds a small school (departments, a campus, employees, a program with
sessions and enrolments, an assessment, an import run with errors, a proxy case and an alert), and the
calls carry an API key holding every scope.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
import schemathesis.openapi
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from tests.conftest import (
    NOW,
    make_api_key,
    make_department,
    make_employee,
    make_site,
    make_user,
)
from tests.integration.training.conftest import make_program, make_session
from trainquant.alerts.models import Alert
from trainquant.app import create_app
from trainquant.attendance.models import ProxyCase
from trainquant.auth.permissions import PERMISSIONS
from trainquant.clock import FixedClock
from trainquant.config import Settings
from trainquant.db import make_engine
from trainquant.imports import rules as import_rules
from trainquant.imports import service as imports
from trainquant.migrate import upgrade
from trainquant.training.models import Enrolment

# Examples per operation, positive and negative (where there is input) drawn together: the 99 operations
# run in about a minute and a half. A longer hunt: TQ_SCHEMATHESIS_EXAMPLES=200.
MAX_EXAMPLES = int(os.environ.get("TQ_SCHEMATHESIS_EXAMPLES", "20"))
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]

# Left out, each for a reason; every other operation of the document is run.
EXCLUDED = {
    # Revoking a key with a generated id could revoke the one this run authenticates with, and every later
    # operation would answer 401. Its id parameter is held to the path id bounds by a regression test.
    ("DELETE", "/api/v1/apikeys/{key_id}"),
}


def _own_database(tmp_path_factory) -> Iterator[str]:
    shared = os.environ.get("TQ_TEST_DATABASE_URL")
    if not shared:
        yield f"sqlite:///{tmp_path_factory.mktemp('schemathesis') / 'api.db'}"
        return
    # The suite's database is shared by the rolled-back tests; this run commits, so it gets one of its own.
    url = make_url(shared)
    name = f"{url.database}_schemathesis"
    admin = make_engine(Settings(env="test"), url=shared).execution_options(isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _seed(engine: Engine, settings_: Settings) -> str:
    """A small school; returns an API key holding every scope."""
    with Session(engine) as db:
        site = make_site(db, code="BJ", venues=2)
        teach = make_department(db, code="TEACH", kind="teaching", name="教学部")
        ielts = make_department(db, code="IELTS", kind="teaching", name="雅思组", parent=teach)
        mkt = make_department(db, code="MKT", kind="marketing", name="市场部")
        t1 = make_employee(db, employee_no="T1", department=ielts, name="李雷", hire_date=date(2026, 8, 20), site=site)
        t2 = make_employee(db, employee_no="T2", department=teach, name="韩梅梅", hire_date=date(2023, 3, 1), site=site)
        boss = make_employee(db, employee_no="B1", department=teach, name="周主任")
        make_employee(db, employee_no="M1", department=mkt, name="王芳")
        make_user(db, username="boss", role="manager", employee=boss, department=teach)
        program = make_program(db, code="CLASSROOM", target_kinds=["teaching"], trainer="王老师")
        sessions = [make_session(db, program=program, sequence=i, site=site, capacity=10,
                                 starts_at=NOW + timedelta(days=d)) for i, d in ((1, -7), (2, 7), (3, 14))]
        past = sessions[0]
        for emp, status in ((t1, "approved"), (t2, "requested")):
            db.add(Enrolment(session_id=past.id, employee_id=emp.id, status=status, source="hr", created_at=NOW, updated_at=NOW))
        db.add(ProxyCase(session_id=past.id, signal="shared-device", fingerprint="seed", score=0.8,
                         employee_ids=[t1.id, t2.id], event_ids=[], detail="two punches a second apart", created_at=NOW))
        db.add(Alert(kind="low-participation", fingerprint="seed", employee_id=t1.id, department_id=ielts.id, session_id=past.id,
                     period_start=NOW.date() - timedelta(days=30), period_end=NOW.date(), value=0.4, threshold=0.8,
                     cause="late", detail="arrived 40 minutes late", suggestion={}, created_at=NOW))
        header = ",".join(import_rules.template_headers("employees"))
        imports.run_import(db, kind="employees", filename="bad.csv", content=f"{header}\nX1,,,\n".encode(), mode="valid-only",
                           actor="seed", now=NOW, settings=settings_)
        key = make_api_key(db, scopes=sorted(PERMISSIONS), name="schemathesis")
        db.commit()
    return key


@pytest.fixture(scope="module")
def api(tmp_path_factory):
    for url in _own_database(tmp_path_factory):
        app_settings = Settings(env="test", database_url=url)
        engine = make_engine(app_settings, url=url)
        upgrade(engine)
        key = _seed(engine, app_settings)
        app = create_app(app_settings, clock=FixedClock(NOW), engine=engine)
        schema = schemathesis.openapi.from_asgi("/api/openapi.json", app)
        started, stats = time.monotonic(), {"operations": 0, "calls": 0}
        yield schema, key, stats
        print(f"\nschemathesis: {stats['calls']} calls over {stats['operations']} operations in {time.monotonic() - started:.0f} s")
        engine.dispose()


def _modes(operation) -> list[GenerationMode]:
    # Negative cases (a wrong type, a value out of bounds, a field missing) exist only where there is input.
    has_input = bool(list(operation.body)) or any(True for _ in operation.iter_parameters())
    return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE] if has_input else [GenerationMode.POSITIVE]


def _operations() -> list[tuple[str, str]]:
    # The document depends only on the routes: an app that never opens its database lists them.
    document = create_app(Settings(env="test", database_url="sqlite://")).openapi()
    return [(method.upper(), path) for path, item in document["paths"].items() for method in item]


@pytest.mark.parametrize(("method", "path"), [op for op in _operations() if op not in EXCLUDED], ids=lambda value: value)
def test_the_api_answers_as_its_document_says(api, method, path):
    schema, key, stats = api
    operation = schema[path][method]
    stats["operations"] += 1
    auth = {"Authorization": f"Bearer {key}"}

    @settings(
        max_examples=MAX_EXAMPLES, derandomize=True, deadline=None, database=None,
        phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(*(operation.as_strategy(mode) for mode in _modes(operation))))
    def call(case):
        stats["calls"] += 1
        case.call_and_validate(headers=auth, checks=CHECKS)

    call()
