"""Participation alerts: raised with their cause after a session, idempotent, scoped; the department pattern."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select

from tests.conftest import (
    NOW,
)
from tests.integration.alerts.conftest import SH, START, enrol
from tests.integration.training.conftest import make_program, make_session
from trainquant.alerts.models import Alert
from trainquant.attendance.models import AttendanceRecord


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
    assert c["mboss"].post(f"/api/v1/alerts/{alert_id}/resolve").status_code == 404  # another department's: not found
    assert c["t1"].post(f"/api/v1/alerts/{alert_id}/resolve").status_code == 403
    assert c["boss"].post(f"/api/v1/alerts/{alert_id}/resolve").json()["handled_by"] == "boss"  # their own team's
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
