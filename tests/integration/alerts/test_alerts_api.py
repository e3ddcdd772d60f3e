"""Participation alerts: raised with their cause after a session, idempotent, scoped; the department pattern."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

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
from trainquant.alerts.models import Alert
from trainquant.attendance.models import AttendanceRecord, Device
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


def punches(client):
    def ev(no, minutes, kind):
        return {"employee_no": no, "session": "CI-1", "kind": kind, "at": (START + timedelta(minutes=minutes)).isoformat(),
                "method": "face", "device_id": "ZK-001", "event_id": f"{no}-{kind}-{minutes}"}
    events = [ev("T1", 0, "in"), ev("T1", 90, "out"), ev("T2", 0, "in"), ev("T2", 120, "out"), ev("T4", 0, "in"), ev("T4", 120, "out")]
    resp = client.post("/api/v1/attendance/events", json={"events": events})
    assert resp.status_code == 200 and resp.json()["accepted"] == 6


def test_alerts_after_a_session_with_their_causes(client, school, db):
    punches(client)
    hr = school["clients"]["hr"]
    items = hr.get("/api/v1/alerts", params={"kind": "low-participation"}).json()["items"]
    by_no = {a["employee_no"]: a for a in items}
    assert set(by_no) == {"T1", "T2", "T3"}  # T4 attended it all
    assert by_no["T1"]["cause"] == "left-early" and by_no["T1"]["value"] == 0.75
    assert by_no["T3"]["cause"] == "absent"
    t2 = by_no["T2"]
    assert t2["cause"] == "timetable-conflict" and t2["value"] == 0.5
    assert [s["code"] for s in t2["suggestion"]["next_clashing_sessions"]] == ["CI-2"]
    assert t2["suggestion"]["move_to"]["code"] == "CI-3"
    # Running the checks again raises nothing new.
    again = hr.post("/api/v1/alerts/check", json={"period_start": "2026-08-31", "period_end": "2026-09-01"})
    assert again.status_code == 200 and again.json()["low_participation"] == 0
    assert db.scalar(select(func.count(Alert.id))) == 3


def test_acknowledge_resolve_and_conflicts(client, school):
    punches(client)
    hr = school["clients"]["hr"]
    alert_id = hr.get("/api/v1/alerts").json()["items"][0]["id"]
    assert hr.post(f"/api/v1/alerts/{alert_id}/acknowledge").json()["status"] == "acknowledged"
    assert hr.post(f"/api/v1/alerts/{alert_id}/acknowledge").status_code == 409
    done = hr.post(f"/api/v1/alerts/{alert_id}/resolve").json()
    assert done["status"] == "resolved" and done["handled_by"] == "hr"
    assert hr.post(f"/api/v1/alerts/{alert_id}/resolve").status_code == 409
    assert hr.get("/api/v1/alerts", params={"status": "open"}).json()["total"] == 2


def test_scope_and_permissions(client, school):
    punches(client)
    c = school["clients"]
    assert c["boss"].get("/api/v1/alerts").json()["total"] == 3  # all three are teachers
    assert c["mboss"].get("/api/v1/alerts").json()["total"] == 0
    assert c["t1"].get("/api/v1/alerts").status_code == 403
    alert_id = c["hr"].get("/api/v1/alerts").json()["items"][0]["id"]
    assert c["boss"].post(f"/api/v1/alerts/{alert_id}/resolve").status_code == 403
    assert c["boss"].post("/api/v1/alerts/check", json={"period_start": "2026-08-01", "period_end": "2026-09-01"}).status_code == 403


def test_department_pattern_for_weekend_sessions(client, school, db):
    program = make_program(db, code="SALES", target_kinds=["marketing"])
    m = school["m"]
    days = [(date(2026, 8, 22), 10, 0.3), (date(2026, 8, 29), 10, 0.3), (date(2026, 8, 19), 14, 0.95), (date(2026, 8, 26), 14, 0.95)]
    for i, (day, hour, share) in enumerate(days):
        s = make_session(db, program=program, code=f"SALES-{i}", starts_at=datetime.combine(day, time(hour), SH), hours=2, site=school["site"], sequence=i + 1)
        enrol(db, s, *m)
        for p in m:
            db.add(AttendanceRecord(session_id=s.id, employee_id=p.id, attended_seconds=int(7200 * share), scheduled_seconds=7200,
                                    participation=share, late_seconds=int(7200 * (1 - share)), early_leave_seconds=0, away=[], flags=[], events=2, computed_at=NOW))
    db.commit()
    hr = school["clients"]["hr"]
    got = hr.post("/api/v1/alerts/check", json={"period_start": "2026-08-17", "period_end": "2026-08-31"})
    assert got.status_code == 200 and got.json()["department_pattern"] == 1
    alert = hr.get("/api/v1/alerts", params={"kind": "department-pattern"}).json()["items"][0]
    assert alert["department_code"] == "MKT" and alert["cause"] == "weekend-sessions" and alert["value"] < 0.7
    slices = {s["name"]: s["mean"] for s in alert["suggestion"]["slices"]}
    assert slices["weekend"] == 0.3 and slices["weekday"] == 0.95
    slot = alert["suggestion"]["slot"]
    assert slot["weekday"] < 5 and slot["free_count"] == slot["group_size"] == 4  # M1-M3 and their manager
    # Again: nothing new; the manager of marketing sees it, the teaching manager does not.
    assert hr.post("/api/v1/alerts/check", json={"period_start": "2026-08-17", "period_end": "2026-08-31"}).json()["department_pattern"] == 0
    assert school["clients"]["mboss"].get("/api/v1/alerts", params={"kind": "department-pattern"}).json()["total"] == 1
    assert school["clients"]["boss"].get("/api/v1/alerts", params={"kind": "department-pattern"}).json()["total"] == 0
