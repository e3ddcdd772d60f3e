"""Who may call which training route, and that the migration builds exactly the training tables the models describe."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tests.integration.training.conftest import make_program, make_session
from trainquant.models import metadata

WHO = ("anonymous", "hr", "key", "boss", "t1")

PROGRAM = {"code": "NEW", "title": "新项目", "kind": "online"}
SESSION = {"program_code": "CI", "code": "CI-9", "starts_at": "2026-10-01T10:00:00+08:00", "ends_at": "2026-10-01T12:00:00+08:00", "online": True}
RULE = {"code": "R1", "name": "规则", "program_code": "CI", "condition": {}}
ASSESS = {"employee_no": "T1", "kind": "ielts", "score": 7, "assessed_on": "2026-08-01"}

MATRIX = [
    ("GET", "/api/v1/programs", None, {"anonymous": 401, "default": 200}),
    ("GET", "/api/v1/programs/CI", None, {"anonymous": 401, "default": 200}),
    ("POST", "/api/v1/programs", PROGRAM, {"hr": 201, "key": 201, "anonymous": 401, "default": 403}),
    ("PATCH", "/api/v1/programs/CI", {"title": "改名"}, {"hr": 200, "key": 200, "anonymous": 401, "default": 403}),
    ("POST", "/api/v1/programs/CI/retire", None, {"hr": 200, "key": 200, "anonymous": 401, "default": 403}),
    ("GET", "/api/v1/sessions", None, {"anonymous": 401, "default": 200}),
    ("GET", "/api/v1/sessions/CI-1", None, {"anonymous": 401, "default": 200}),
    ("POST", "/api/v1/sessions", SESSION, {"hr": 201, "key": 201, "anonymous": 401, "default": 403}),
    ("PATCH", "/api/v1/sessions/CI-1", {"capacity": 30}, {"hr": 200, "key": 200, "anonymous": 401, "default": 403}),
    ("POST", "/api/v1/sessions/CI-1/cancel", {"reason": "x"}, {"hr": 200, "key": 200, "anonymous": 401, "default": 403}),
    ("POST", "/api/v1/enrolments/request", {"session_code": "CI-1"}, {"boss": 201, "t1": 201, "anonymous": 401, "default": 403}),
    ("POST", "/api/v1/enrolments/hr-enrol", {"session_code": "CI-1", "employee_no": "T2"}, {"hr": 201, "key": 201, "anonymous": 401, "default": 403}),
    ("GET", "/api/v1/enrolments", None, {"anonymous": 401, "default": 200}),
    ("GET", "/api/v1/me/enrolments", None, {"anonymous": 401, "default": 200}),
    ("GET", "/api/v1/approvals", None, {"hr": 200, "key": 200, "boss": 200, "anonymous": 401, "default": 403}),
    ("GET", "/api/v1/mandatory-rules", None, {"hr": 200, "key": 200, "anonymous": 401, "default": 403}),
    ("POST", "/api/v1/mandatory-rules", RULE, {"hr": 201, "key": 201, "anonymous": 401, "default": 403}),
    ("POST", "/api/v1/mandatory-rules/run", None, {"hr": 200, "key": 200, "anonymous": 401, "default": 403}),
    ("GET", "/api/v1/assessment-kinds", None, {"anonymous": 401, "default": 200}),
    ("POST", "/api/v1/assessments", ASSESS, {"hr": 201, "key": 201, "boss": 201, "anonymous": 401, "default": 403}),
    ("GET", "/api/v1/assessments", None, {"anonymous": 401, "default": 200}),
    ("POST", "/api/v1/costs", {"program_code": "CI", "category": "venue", "amount": "10"}, {"hr": 201, "key": 201, "anonymous": 401, "default": 403}),
    ("GET", "/api/v1/costs/totals", None, {"hr": 200, "key": 200, "anonymous": 401, "default": 403}),
]


@pytest.fixture
def world(school, db):
    program = make_program(db, code="CI")
    make_session(db, program=program, capacity=20)
    db.commit()
    return school


@pytest.mark.parametrize("method,path,body,expected", MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_matrix(world, connection, method, path, body, expected):
    seen = {}
    for who in WHO:
        nested = connection.begin_nested()
        resp = world.call(who, method, path, body)
        nested.rollback()
        seen[who] = resp.status_code
        if resp.status_code >= 400:
            assert resp.headers["content-type"].startswith("application/problem+json"), (who, resp.text)
    assert seen == {who: expected.get(who, expected["default"]) for who in WHO}


def test_every_training_route_declares_a_permission(app):
    from fastapi.routing import APIRoute

    from trainquant.training.assessments.api import router as assessments
    from trainquant.training.enrolment.api import router as enrolment
    from trainquant.training.programs.api import router as programs
    from trainquant.training.sessions.api import router as sessions

    def routes(r):
        for route in r.routes:
            if isinstance(route, APIRoute):
                yield route
            elif hasattr(route, "original_router"):
                yield from routes(route.original_router)

    found = [r for router in (programs, sessions, enrolment, assessments) for r in routes(router)]
    assert len(found) > 30
    for route in found:
        names = {d.call.__name__ for d in route.dependant.dependencies if d.call is not None}
        assert any(n.startswith("require_") for n in names), route.path


TRAINING_TABLES = {"programs", "training_sessions", "mandatory_rules", "enrolments", "enrolment_events", "assessment_kinds", "assessments", "cost_items"}


def test_the_migration_matches_the_training_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    # Other domains' tables are their engineers' to compare; a difference in a training table is ours.
    mine = [change for change in diff if any(f"'{table}'" in repr(change) or f"{table}." in repr(change) for table in TRAINING_TABLES)]
    assert mine == [], mine
