"""A small school with assessments, users of every role, and helpers for the indicator tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.conftest import (
    NOW,
    login,
    make_api_key,
    make_department,
    make_employee,
    make_user,
)
from trainquant.org.models import Department, Employee
from trainquant.training.models import Assessment, AssessmentKind

PERIOD_END = date(2026, 8, 31)
KIND_SCALES = {
    "trial_lecture": "score", "online_test": "score", "script_simulation": "score", "case_analysis": "pass_fail",
    "ielts": "score", "toefl": "score", "communication": "score", "error_rate": "ratio",
}


def ensure_assessment_kind(db: Session, code: str) -> None:
    if db.get(AssessmentKind, code) is None:
        db.add(AssessmentKind(code=code, name=code, name_en=code, scale=KIND_SCALES.get(code, "score"), multiple_raters=False))
        db.flush()


def make_assessment(
    db: Session, *, employee: Employee, kind: str, on: date, score: float | None = None, passed: bool | None = None,
    errors: int | None = None, operations: int | None = None,
) -> Assessment:
    ensure_assessment_kind(db, kind)
    row = Assessment(employee_id=employee.id, kind_code=kind, assessed_on=on, score=score, passed=passed, errors=errors,
                     operations=operations, ratings=[], created_by="test", created_at=NOW)
    db.add(row)
    db.flush()
    return row


@dataclass
class School:
    teach: Department
    ielts: Department
    mkt: Department
    adm: Department
    boss: Employee
    t1: Employee
    t2: Employee
    m1: Employee
    a1: Employee
    read_key: str
    write_key: str


@pytest.fixture
def school(db) -> School:
    teach = make_department(db, code="TEACH", kind="teaching", name="教学部")
    ielts = make_department(db, code="IELTS", kind="teaching", name="雅思组", parent=teach)
    mkt = make_department(db, code="MKT", kind="marketing", name="市场部")
    adm = make_department(db, code="ADM", kind="admin", name="行政部")
    boss = make_employee(db, employee_no="T0", department=teach, name="周主任")
    t1 = make_employee(db, employee_no="T1", department=ielts, name="李雷")
    t2 = make_employee(db, employee_no="T2", department=teach, name="韩梅梅")
    m1 = make_employee(db, employee_no="M1", department=mkt, name="王芳")
    a1 = make_employee(db, employee_no="A1", department=adm, name="赵行政")
    # T1 meets trial lecture, communication and the IELTS gain; T2 misses the trial lecture.
    make_assessment(db, employee=t1, kind="trial_lecture", on=date(2026, 7, 15), score=88)
    make_assessment(db, employee=t1, kind="trial_lecture", on=date(2026, 5, 1), score=70)  # before the 90-day window
    make_assessment(db, employee=t1, kind="communication", on=date(2026, 8, 1), score=92)
    make_assessment(db, employee=t1, kind="ielts", on=date(2025, 12, 1), score=6.5)
    make_assessment(db, employee=t1, kind="ielts", on=date(2026, 6, 1), score=7.0)
    make_assessment(db, employee=t2, kind="trial_lecture", on=date(2026, 8, 20), score=80)
    make_assessment(db, employee=m1, kind="script_simulation", on=date(2026, 8, 10), score=95)
    make_assessment(db, employee=m1, kind="case_analysis", on=date(2026, 8, 11), passed=True)
    make_assessment(db, employee=m1, kind="case_analysis", on=date(2026, 7, 11), passed=True)
    make_assessment(db, employee=a1, kind="error_rate", on=date(2026, 8, 5), errors=0, operations=40)
    make_user(db, username="hr", role="hr")
    make_user(db, username="boss", role="manager", employee=boss, department=teach)
    make_user(db, username="t1", role="employee", employee=t1)
    make_user(db, username="m1", role="employee", employee=m1)
    read_key = make_api_key(db, scopes=["indicators:read"], name="reader")
    write_key = make_api_key(db, scopes=["indicators:read", "indicators:write"], name="writer")
    db.commit()
    return School(teach, ielts, mkt, adm, boss, t1, t2, m1, a1, read_key, write_key)


@pytest.fixture
def as_user(app) -> Iterator:
    """Log in as a user: a client that sends the CSRF token with every unsafe request."""
    opened: list[TestClient] = []

    def log_in(username: str) -> TestClient:
        client = TestClient(app)
        client.__enter__()
        opened.append(client)
        client.headers["X-CSRF-Token"] = login(client, username)
        return client

    yield log_in
    for client in opened:
        client.__exit__(None, None, None)


def employee_id(db: Session, employee_no: str) -> int:
    return db.scalar(select(Employee.id).where(Employee.employee_no == employee_no))
