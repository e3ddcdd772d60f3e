"""The authorisation matrix: every role against every kind of route, reads and changes."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.conftest import (
    NOW,
    login,
    make_api_key,
    make_department,
    make_employee,
    make_user,
)

ROLES = ("anonymous", "admin", "hr", "manager", "employee", "key-read", "key-write", "key-none")


@dataclass
class World:
    clients: dict[str, TestClient]
    headers: dict[str, dict[str, str]]


@pytest.fixture
def world(app, db):
    root = make_department(db, code="ROOT", kind="other")
    teach = make_department(db, code="TEACH", kind="teaching", parent=root)
    ielts = make_department(db, code="IELTS", kind="teaching", parent=teach)
    mkt = make_department(db, code="MKT", kind="marketing", parent=root)
    t1 = make_employee(db, employee_no="T1", department=ielts, name="李雷")
    t2 = make_employee(db, employee_no="T2", department=teach, name="韩梅梅")
    make_employee(db, employee_no="M1", department=mkt, name="王芳")
    make_user(db, username="admin", role="admin")
    make_user(db, username="hr", role="hr")
    make_user(db, username="manager", role="manager", employee=t2, department=teach)
    make_user(db, username="employee", role="employee", employee=t1)
    keys = {
        "key-read": make_api_key(db, scopes=["org:read"], name="reader"),
        "key-write": make_api_key(db, scopes=["org:read", "org:write"], name="writer"),
        "key-none": make_api_key(db, scopes=["import:write"], name="importer"),
    }
    db.commit()
    clients, headers = {}, {}
    for role in ROLES:
        c = TestClient(app)
        c.__enter__()
        headers[role] = {}
        if role in ("admin", "hr", "manager", "employee"):
            headers[role] = {"X-CSRF-Token": login(c, role)}
        elif role.startswith("key-"):
            headers[role] = {"Authorization": f"Bearer {keys[role]}"}
        clients[role] = c
    yield World(clients, headers)
    for c in clients.values():
        c.__exit__(None, None, None)


def call(world: World, role: str, method: str, path: str, json=None):
    return world.clients[role].request(method, path, json=json, headers=world.headers[role])


NEW_EMPLOYEE = {"employee_no": "N1", "name": "新人", "department_code": "IELTS"}

# (method, path, body, {role: expected status}); roles not named expect the "default" entry.
MATRIX = [
    ("GET", "/api/v1/employees", None, {"anonymous": 401, "key-none": 403, "default": 200}),
    ("GET", "/api/v1/employees/M1", None, {"anonymous": 401, "key-none": 403, "manager": 404, "employee": 404, "default": 200}),
    ("GET", "/api/v1/employees/T1", None, {"anonymous": 401, "key-none": 403, "default": 200}),
    ("GET", "/api/v1/employees/T2", None, {"anonymous": 401, "key-none": 403, "employee": 404, "default": 200}),
    ("GET", "/api/v1/employees/T1/timetable", None, {"anonymous": 401, "key-none": 403, "default": 200}),
    ("GET", "/api/v1/employees/M1/growth", None, {"anonymous": 401, "key-none": 403, "manager": 404, "employee": 404, "default": 200}),
    ("POST", "/api/v1/employees", NEW_EMPLOYEE, {"admin": 201, "hr": 201, "key-write": 201, "anonymous": 401, "default": 403}),
    ("PATCH", "/api/v1/employees/T1", {"position": "高级教师"}, {"admin": 200, "hr": 200, "key-write": 200, "anonymous": 401, "default": 403}),
    (
        "POST", "/api/v1/employees/T1/growth",
        {"kind": "weakness", "tag": "grammar-teaching", "noted_on": "2026-08-20", "source": "manager"},
        {"admin": 201, "hr": 201, "manager": 201, "anonymous": 401, "default": 403},
    ),
    (
        "POST", "/api/v1/employees/M1/growth",
        {"kind": "need", "tag": "sales-script", "noted_on": "2026-08-20"},
        {"admin": 201, "hr": 201, "manager": 404, "anonymous": 401, "default": 403},
    ),
    ("POST", "/api/v1/departments", {"code": "KIDS", "name": "少儿", "kind": "teaching", "parent_code": "TEACH"},
     {"admin": 201, "hr": 201, "key-write": 201, "anonymous": 401, "default": 403}),
    ("PATCH", "/api/v1/departments/MKT", {"name": "市场部"}, {"admin": 200, "hr": 200, "key-write": 200, "anonymous": 401, "default": 403}),
    ("GET", "/api/v1/departments", None, {"anonymous": 401, "key-none": 403, "default": 200}),
    ("POST", "/api/v1/sites", {"code": "SH", "name": "上海", "venues": [{"name": "A", "latitude": 31.2, "longitude": 121.4}]},
     {"admin": 201, "hr": 201, "key-write": 201, "anonymous": 401, "default": 403}),
    ("GET", "/api/v1/users", None, {"admin": 200, "anonymous": 401, "default": 403}),
    ("POST", "/api/v1/users", {"username": "u2", "password": "long-enough-pw", "role": "hr"}, {"admin": 201, "anonymous": 401, "default": 403}),
    ("POST", "/api/v1/apikeys", {"name": "k", "scopes": ["org:read"]}, {"admin": 201, "anonymous": 401, "default": 403}),
    ("GET", "/api/v1/me", None, {"anonymous": 401, "default": 200}),
]


@pytest.mark.parametrize("method,path,body,expected", MATRIX, ids=[f"{m} {p}" for m, p, _, _ in MATRIX])
def test_matrix(world, connection, method, path, body, expected):
    seen = {}
    for role in ROLES:
        # Each role acts on the same starting state: its change is rolled back before the next role.
        nested = connection.begin_nested()
        resp = call(world, role, method, path, body)
        nested.rollback()
        seen[role] = resp.status_code
        if resp.status_code >= 400:
            assert resp.headers["content-type"].startswith("application/problem+json"), (role, resp.text)
    want = {role: expected.get(role, expected["default"]) for role in ROLES}
    assert seen == want


def test_list_is_scoped(world):
    def numbers(role):
        return sorted(e["employee_no"] for e in call(world, role, "GET", "/api/v1/employees").json()["items"])

    assert numbers("admin") == ["M1", "T1", "T2"]
    assert numbers("hr") == ["M1", "T1", "T2"]
    assert numbers("manager") == ["T1", "T2"]  # their department and its child
    assert numbers("employee") == ["T1"]
    assert numbers("key-read") == ["M1", "T1", "T2"]


def test_cookie_session_needs_csrf_for_changes(world):
    c = world.clients["hr"]
    resp = c.patch("/api/v1/employees/T1", json={"position": "x"})
    assert resp.status_code == 403
    assert "CSRF" in resp.json()["detail"]
    resp = c.patch("/api/v1/employees/T1", json={"position": "x"}, headers={"X-CSRF-Token": "forged"})
    assert resp.status_code == 403


def test_revoked_key_is_refused(world, db):
    admin = world.clients["admin"]
    created = admin.post("/api/v1/apikeys", json={"name": "tmp", "scopes": ["org:read"]}, headers=world.headers["admin"]).json()
    key = created["key"]
    assert admin.get("/api/v1/employees", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert admin.delete(f"/api/v1/apikeys/{created['id']}", headers=world.headers["admin"]).status_code == 204
    bare = world.clients["anonymous"]
    assert bare.get("/api/v1/employees", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert bare.get("/api/v1/employees", headers={"Authorization": "Bearer tq_nope_nope"}).status_code == 401
    assert bare.get("/api/v1/employees", headers={"Authorization": "Basic abc"}).status_code == 401


def test_keys_and_passwords_are_stored_hashed(world, db):
    from sqlalchemy import select

    from trainquant.auth.models import ApiKey, User

    for user in db.scalars(select(User)):
        assert user.password_hash.startswith("$argon2")
    for key in db.scalars(select(ApiKey)):
        assert len(key.key_hash) == 64 and not key.key_hash.startswith("tq_")


def test_deactivated_user_loses_session(world, db):
    from sqlalchemy import select, update

    from trainquant.auth.models import User

    assert call(world, "hr", "GET", "/api/v1/me").status_code == 200
    db.execute(update(User).where(User.username == "hr").values(session_epoch=User.session_epoch + 1))
    db.commit()
    assert call(world, "hr", "GET", "/api/v1/me").status_code == 401
    assert db.scalar(select(User.last_login_at).where(User.username == "hr")) is not None
    assert NOW


def test_hourly_cost_is_for_hr_only(world):
    assert call(world, "hr", "GET", "/api/v1/employees/T1").json()["hourly_cost"] == "80.00"
    assert call(world, "manager", "GET", "/api/v1/employees/T1").json()["hourly_cost"] is None
    assert call(world, "employee", "GET", "/api/v1/employees/T1").json()["hourly_cost"] is None
    assert all(e["hourly_cost"] is None for e in call(world, "manager", "GET", "/api/v1/employees").json()["items"])
