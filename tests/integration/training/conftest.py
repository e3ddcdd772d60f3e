"""Training builders and a small school: two departments (and one more), their people, users and clients."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.conftest import (
    NOW,
    login,
    make_api_key,
    make_department,
    make_employee,
    make_site,
    make_user,
)
from trainquant.org.models import EmployeeTag, Site
from trainquant.training.models import Program, TrainingSession


def make_program(
    db: Session,
    *,
    code: str,
    title: str | None = None,
    kind: str = "offline",
    level: str = "foundation",
    requires_approval: bool = True,
    eligibility: dict | None = None,
    tags: list[str] | None = None,
    target_kinds: list[str] | None = None,
    trainer: str | None = None,
    planned_hours: float = 2,
    active: bool = True,
    aims: list[str] | None = None,
) -> Program:
    program = Program(
        code=code, title=title or f"{code} 培训", title_en=f"{code} training", kind=kind, level=level,
        requires_approval=requires_approval, eligibility=eligibility or {}, tags=tags or [], target_kinds=target_kinds or [],
        trainer=trainer, planned_hours=planned_hours, active=active, aims=aims or [], created_at=NOW,
    )
    db.add(program)
    db.flush()
    return program


def make_session(
    db: Session,
    *,
    program: Program,
    code: str | None = None,
    starts_at: datetime | None = None,
    hours: float = 2,
    capacity: int | None = None,
    site: Site | None = None,
    trainer: str | None = None,
    status: str = "scheduled",
    sequence: int = 1,
    online: bool | None = None,
) -> TrainingSession:
    start = starts_at or NOW + timedelta(days=7)
    session = TrainingSession(
        code=code or f"{program.code}-{sequence}", program_id=program.id, sequence=sequence, starts_at=start,
        ends_at=start + timedelta(hours=hours), site_id=site.id if site else None,
        online=site is None if online is None else online, trainer=trainer,
        capacity=capacity, checkin_methods=["qr"], min_participation=0.8, missing_checkout_policy="credit-to-end",
        status=status, created_at=NOW,
    )
    db.add(session)
    db.flush()
    return session


@dataclass
class School:
    clients: dict[str, TestClient]
    headers: dict[str, dict[str, str]]
    site: Site

    def call(self, who: str, method: str, path: str, json=None, params=None):
        return self.clients[who].request(method, path, json=json, params=params, headers=self.headers[who])


@pytest.fixture
def school(app, db) -> Iterator[School]:
    """teachers: T1 (new, the employee user), T2; manager boss of TEACH; marketing M1 with manager mboss; HR."""
    site = make_site(db, code="BJ", venues=2)
    teach = make_department(db, code="TEACH", kind="teaching", name="教学部")
    ielts = make_department(db, code="IELTS", kind="teaching", name="雅思组", parent=teach)
    mkt = make_department(db, code="MKT", kind="marketing", name="市场部")
    t1 = make_employee(db, employee_no="T1", department=ielts, name="李雷", hire_date=date(2026, 8, 20), site=site)
    t2 = make_employee(db, employee_no="T2", department=teach, name="韩梅梅", hire_date=date(2023, 3, 1), site=site)
    boss = make_employee(db, employee_no="B1", department=teach, name="周主任", hire_date=date(2020, 1, 1))
    m1 = make_employee(db, employee_no="M1", department=mkt, name="王芳", hire_date=date(2025, 1, 1))
    mboss = make_employee(db, employee_no="MB", department=mkt, name="赵经理", hire_date=date(2019, 1, 1))
    db.add(EmployeeTag(employee_id=t1.id, tag="new-teacher"))
    make_user(db, username="hr", role="hr")
    make_user(db, username="boss", role="manager", employee=boss, department=teach)
    make_user(db, username="mboss", role="manager", employee=mboss, department=mkt)
    make_user(db, username="t1", role="employee", employee=t1)
    make_user(db, username="t2", role="employee", employee=t2)
    make_user(db, username="m1", role="employee", employee=m1)
    key = make_api_key(db, scopes=["training:read", "training:manage", "training:approve", "assessments:write"], name="hr-robot")
    db.commit()
    clients: dict[str, TestClient] = {}
    headers: dict[str, dict[str, str]] = {}
    for who in ("hr", "boss", "mboss", "t1", "t2", "m1"):
        c = TestClient(app)
        c.__enter__()
        clients[who], headers[who] = c, {"X-CSRF-Token": login(c, who)}
    clients["key"], headers["key"] = TestClient(app).__enter__(), {"Authorization": f"Bearer {key}"}
    clients["anonymous"], headers["anonymous"] = TestClient(app).__enter__(), {}
    yield School(clients, headers, site)
    for c in clients.values():
        c.__exit__(None, None, None)


def problem(resp, status: int) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json"), resp.headers["content-type"]
    body = resp.json()
    assert body["status"] == status and body["detail"]
    return body
