"""Proxy cases from events posted through the API; HR confirms (figures drop) or clears (figures stay)."""

from __future__ import annotations

from datetime import timedelta

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
from trainquant.attendance.models import Device, ProxyCase

START = NOW - timedelta(hours=3)


@pytest.fixture(name="school")
def review_school(app, db, client):
    dep = make_department(db, code="TEACH", kind="teaching")
    site = make_site(db, code="BJ", venues=1)
    venue = site.venues[0]
    people = [make_employee(db, employee_no=f"T{i}", department=dep, site=site, name=f"老师{i}") for i in (1, 2, 3)]
    session = make_session(db, program=make_program(db, code="CI"), code="CI-1", starts_at=START, hours=2, site=site)
    session.venue_id = venue.id
    session.checkin_methods = ["face", "qr", "geo"]
    db.add(Device(device_id="ZK-001", kind="zkteco", venue_id=venue.id, site_id=site.id, active=True))
    make_user(db, username="hr", role="hr")
    make_user(db, username="t1", role="employee", employee=people[0])
    writer = make_api_key(db, scopes=["attendance:write", "attendance:read"], name="devices")
    manager = make_api_key(db, scopes=["attendance:manage", "attendance:read"], name="hr-robot")
    db.commit()
    client.headers["Authorization"] = f"Bearer {writer}"
    hr = TestClient(app).__enter__()
    hr.headers["Authorization"] = f"Bearer {manager}"
    yield {"venue": venue, "people": people, "hr": hr, "app": app}
    hr.__exit__(None, None, None)


def event(no, minutes, kind, **kw):
    body = {"employee_no": no, "session": "CI-1", "kind": kind, "at": (START + timedelta(minutes=minutes)).isoformat(), "method": "face",
            "device_id": "ZK-001", "event_id": f"{no}-{kind}-{minutes}"}
    body.update(kw)
    return body


def one_phone_for_three(client, venue):
    geo = {"method": "geo", "device_id": "PHONE-1", "lat": venue.latitude, "lng": venue.longitude, "accuracy_m": 10}
    events = [event("T1", 0, "in", **geo), event("T2", 0.25, "in", **geo), event("T3", 0.5, "in", **geo)]
    events += [event(no, 120, "out") for no in ("T1", "T2", "T3")]
    resp = client.post("/api/v1/attendance/events", json={"events": events})
    assert resp.status_code == 200 and resp.json()["accepted"] == 6, resp.text


def minutes(client, no):
    rows = {r["employee_no"]: r for r in client.get("/api/v1/attendance/sessions/CI-1").json()}
    return rows[no]["attended_minutes"]


def test_one_phone_for_three_people_opens_one_case_and_rejects_nothing(client, school, db):
    one_phone_for_three(client, school["venue"])
    queue = school["hr"].get("/api/v1/attendance/review", params={"status": "open"}).json()
    assert queue["total"] == 1
    case = queue["items"][0]
    assert case["signal"] == "shared-device" and case["employee_nos"] == ["T2", "T3"] and case["session_code"] == "CI-1"
    assert [minutes(client, no) for no in ("T1", "T2", "T3")] == [120, 119.75, 119.5]
    # More events for the session run the detection again: still one case.
    client.post("/api/v1/attendance/events", json={"events": [event("T1", 1, "in", event_id="extra")]})
    assert db.scalar(select(func.count(ProxyCase.id))) == 1


def test_two_people_two_phones_is_not_a_case(client, school, db):
    v = school["venue"]
    events = [event("T1", 0, "in", method="geo", device_id="PHONE-1", lat=v.latitude, lng=v.longitude),
              event("T2", 0.2, "in", method="geo", device_id="PHONE-2", lat=v.latitude, lng=v.longitude)]
    assert client.post("/api/v1/attendance/events", json={"events": events}).status_code == 200
    assert db.scalar(select(func.count(ProxyCase.id))) == 0


def test_confirm_drops_the_proxied_minutes_and_a_second_decision_is_409(client, school):
    one_phone_for_three(client, school["venue"])
    hr = school["hr"]
    case_id = hr.get("/api/v1/attendance/review").json()["items"][0]["id"]
    assert hr.post(f"/api/v1/attendance/review/{case_id}/confirm", json={}).status_code == 422  # a confirmation needs a note
    got = hr.post(f"/api/v1/attendance/review/{case_id}/confirm", json={"note": "T1 admitted checking in T2 and T3"})
    assert got.status_code == 200, got.text
    assert got.json()["status"] == "confirmed" and got.json()["decided_by"] == "apikey:hr-robot"
    assert [minutes(client, no) for no in ("T1", "T2", "T3")] == [120, 0, 0]
    again = hr.post(f"/api/v1/attendance/review/{case_id}/clear", json={"note": "changed my mind"})
    assert again.status_code == 409 and again.headers["content-type"].startswith("application/problem+json")


def test_clear_leaves_the_figures(client, school):
    one_phone_for_three(client, school["venue"])
    hr = school["hr"]
    case_id = hr.get("/api/v1/attendance/review").json()["items"][0]["id"]
    got = hr.post(f"/api/v1/attendance/review/{case_id}/clear", json={"note": "T1's phone was shared: T2 and T3 had flat batteries"})
    assert got.json()["status"] == "cleared" and got.json()["decision_note"].startswith("T1's phone")
    assert [minutes(client, no) for no in ("T1", "T2", "T3")] == [120, 119.75, 119.5]
    assert hr.get("/api/v1/attendance/review", params={"status": "cleared"}).json()["total"] == 1
    assert hr.get("/api/v1/attendance/review", params={"signal": "impossible-travel"}).json()["total"] == 0


def test_only_attendance_manage_sees_and_decides(client, school):
    one_phone_for_three(client, school["venue"])
    assert client.get("/api/v1/attendance/review").status_code == 403  # the device key
    t1 = TestClient(school["app"]).__enter__()
    token = login(t1, "t1")
    assert t1.get("/api/v1/attendance/review").status_code == 403
    assert t1.post("/api/v1/attendance/review/1/confirm", json={"note": "x"}, headers={"X-CSRF-Token": token}).status_code == 403
    assert school["hr"].post("/api/v1/attendance/review/99999/confirm", json={"note": "x"}).status_code == 404


def test_the_review_page_says_when_batches_are_still_being_checked(school, db, settings):
    from trainquant.attendance.checkin.service import ingest_for_later

    hr = school["hr"]
    assert 'data-testid="pending"' not in hr.get("/attendance/review").text
    ingest_for_later(db, [event("T1", 0, "in")], source="api", principal=None, now=NOW, settings=settings)  # answered, not yet drained
    db.commit()
    page = hr.get("/attendance/review")
    assert page.status_code == 200 and "仍在核查的签到批次：1 批" in page.text
