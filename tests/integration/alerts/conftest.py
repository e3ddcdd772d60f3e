"""The alert tests' school: teachers T1-T4 of TEACH (T2 teaches the first hour of CI-1), marketing M1-M3,
their managers, HR, and a device API key."""

from __future__ import annotations

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from tests.conftest import (
    NOW,
    login,
    make_api_key,
    make_department,
    make_employee,
    make_site,
    make_user,
)
from tests.integration.training.conftest import make_program, make_session
from trainquant.attendance.models import Device
from trainquant.org.models import WeeklySlot
from trainquant.training.models import Enrolment

SH = ZoneInfo("Asia/Shanghai")
START = NOW - timedelta(hours=3)  # Tuesday 07:00 in Shanghai


def enrol(db, session, *people, status="approved"):
    for p in people:
        db.add(Enrolment(session_id=session.id, employee_id=p.id, status=status, source="hr", created_at=NOW, updated_at=NOW))
    db.flush()


@pytest.fixture
def school(app, db, client):
    site = make_site(db, code="BJ", venues=1)
    teach = make_department(db, code="TEACH", kind="teaching", name="教学部")
    mkt = make_department(db, code="MKT", kind="marketing", name="市场部")
    t = [make_employee(db, employee_no=f"T{i}", department=teach, site=site, name=f"老师{i}") for i in (1, 2, 3, 4)]
    m = [make_employee(db, employee_no=f"M{i}", department=mkt, site=site, name=f"市场{i}") for i in (1, 2, 3)]
    boss = make_employee(db, employee_no="B1", department=teach, name="周主任")
    mboss = make_employee(db, employee_no="MB", department=mkt, name="赵经理")
    program = make_program(db, code="CI")
    ci1 = make_session(db, program=program, code="CI-1", starts_at=START, hours=2, site=site)
    ci1.venue_id = site.venues[0].id
    ci1.checkin_methods = ["face"]
    ci2 = make_session(db, program=program, code="CI-2", starts_at=START + timedelta(days=7), hours=2, site=site, sequence=2)
    make_session(db, program=program, code="CI-3", starts_at=START + timedelta(days=8), hours=2, site=site, sequence=3)
    enrol(db, ci1, *t)
    enrol(db, ci2, t[1])
    # T2 teaches Tuesdays 07:00-08:00: the first hour of CI-1 and of CI-2 (not CI-3, a Wednesday).
    db.add(WeeklySlot(employee_id=t[1].id, weekday=1, start_time=time(7), end_time=time(8), valid_from=date(2026, 1, 1), course="雅思口语"))
    db.add(Device(device_id="ZK-001", kind="zkteco", venue_id=site.venues[0].id, site_id=site.id, active=True))
    make_user(db, username="hr", role="hr")
    make_user(db, username="boss", role="manager", employee=boss, department=teach)
    make_user(db, username="mboss", role="manager", employee=mboss, department=mkt)
    make_user(db, username="t1", role="employee", employee=t[0])
    writer = make_api_key(db, scopes=["attendance:write", "attendance:read"], name="devices")
    db.commit()
    client.headers["Authorization"] = f"Bearer {writer}"
    clients = {}
    for who in ("hr", "boss", "mboss", "t1"):
        c = TestClient(app).__enter__()
        c.headers["X-CSRF-Token"] = login(c, who)
        clients[who] = c
    yield {"t": t, "m": m, "mkt": mkt, "site": site, "program": program, "clients": clients}
    for c in clients.values():
        c.__exit__(None, None, None)


