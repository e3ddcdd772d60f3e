"""Check-in ingestion through the HTTP API: verdicts per event, nothing lost, figures recomputed."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, time, timedelta

import pytest
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
from trainquant.attendance.checkin import qr
from trainquant.attendance.checkin.ingest import ingest
from trainquant.attendance.geo import wgs84_to_gcj02
from trainquant.attendance.models import CheckinEvent, Device
from trainquant.org.models import ExternalId, WeeklySlot

START = NOW - timedelta(hours=3)  # the session ran 3 h ago, for 2 h


@pytest.fixture
def school(db, client, settings):
    dep = make_department(db, code="TEACH", kind="teaching")
    site = make_site(db, code="BJ", venues=1)
    venue = site.venues[0]
    t1 = make_employee(db, employee_no="T1", department=dep, site=site)
    t2 = make_employee(db, employee_no="T2", department=dep, site=site, name="李四")
    db.add(ExternalId(employee_id=t2.id, system="device_pin", external_id="1002"))
    program = make_program(db, code="CI")
    session = make_session(db, program=program, code="CI-1", starts_at=START, hours=2, site=site)
    session.venue_id = venue.id
    session.checkin_methods = ["face", "qr", "geo", "manual"]
    other = make_session(db, program=program, code="CI-2", starts_at=START + timedelta(days=1), hours=2, site=site, sequence=2)
    other.venue_id = venue.id
    db.add(Device(device_id="ZK-001", kind="zkteco", venue_id=venue.id, site_id=site.id, active=True))
    make_user(db, username="hr", role="hr")
    make_user(db, username="t1", role="employee", employee=t1)
    key = make_api_key(db, scopes=["attendance:write", "attendance:read"])
    db.commit()
    client.headers["Authorization"] = f"Bearer {key}"
    return {"session": session, "other": other, "venue": venue, "t1": t1, "t2": t2}


def ev(minutes: float, kind: str, **kw):
    body = {"employee_no": "T1", "session": "CI-1", "kind": kind, "at": (START + timedelta(minutes=minutes)).isoformat(),
            "method": "face", "device_id": "ZK-001", "event_id": f"{kw.get('employee_no', 'T1')}-{kind}-{minutes}"}
    body.update(kw)
    return body


def post(client, events):
    resp = client.post("/api/v1/attendance/events", json={"events": events})
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_two_hours_attended_one_and_a_half_is_75_percent(client, school):
    got = post(client, [ev(0, "in"), ev(60, "out"), ev(90, "in"), ev(120, "out")])
    assert (got["accepted"], got["duplicate"], got["rejected"]) == (4, 0, 0)
    rec = client.get("/api/v1/attendance/sessions/CI-1").json()
    assert len(rec) == 1
    assert (rec[0]["attended_minutes"], rec[0]["scheduled_minutes"], rec[0]["participation"]) == (90, 120, 0.75)


def test_a_resent_batch_is_answered_duplicate_and_not_stored_twice(client, school, db):
    batch = [ev(0, "in"), ev(120, "out")]
    post(client, batch)
    again = post(client, batch)
    assert [r["status"] for r in again["results"]] == ["duplicate", "duplicate"]
    assert all(r["id"] for r in again["results"])
    assert db.scalar(select(func.count(CheckinEvent.id))) == 2
    assert client.get("/api/v1/attendance/sessions/CI-1").json()[0]["attended_minutes"] == 120


def test_bad_events_are_rejected_kept_and_the_rest_of_the_batch_lands(client, school, db, settings):
    other_token = qr.issue(settings.secret_key, school["other"].id, NOW.timestamp()).encode()
    batch = [
        ev(0, "in"),
        ev(5, "in", employee_no="NOBODY", event_id="x1"),
        ev(5, "in", session="NOPE", event_id="x2"),
        {**ev(5, "in", event_id="x3"), "at": "2026-09-01 09:00:00"},  # no offset
        ev(5, "in", method="geo", lat=95.0, lng=10.0, event_id="x4"),  # out of range
        ev(5, "in", method="qr", qr_token=other_token, event_id="x5", at=NOW.isoformat()),
        ev(5, "in", device_id="ZK-UNKNOWN", event_id="x6"),
        ev(5, "in", method="manual", event_id="x7"),
        "not an object",
        ev(120, "out"),
    ]
    got = post(client, batch)
    codes = [(r["status"], r["reason_code"]) for r in got["results"]]
    assert codes == [
        ("accepted", None),
        ("rejected", "unknown-employee"),
        ("rejected", "unknown-session"),
        ("rejected", "invalid"),
        ("rejected", "invalid"),
        ("rejected", "qr-other-session"),
        ("rejected", "unknown-device"),
        ("rejected", "manual-not-allowed"),
        ("rejected", "invalid"),
        ("accepted", None),
    ]
    stored = db.execute(select(CheckinEvent.verdict, func.count()).group_by(CheckinEvent.verdict)).all()
    assert dict(stored) == {"accepted": 2, "rejected": 8}
    assert all(r["reason"] for r in got["results"] if r["status"] == "rejected")
    assert client.get("/api/v1/attendance/sessions/CI-1").json()[0]["attended_minutes"] == 120


def test_external_ids_resolve(client, school):
    got = post(client, [{**ev(0, "in", event_id="p1"), "employee_no": None, "external_system": "device_pin", "external_id": "1002"}])
    assert got["accepted"] == 1


def test_cancelled_session_rejects(client, school, db):
    school["session"].status = "cancelled"
    db.commit()
    got = post(client, [ev(0, "in")])
    assert got["results"][0]["reason_code"] == "session-cancelled"


def test_geofence_with_gcj02_conversion(client, school):
    v = school["venue"]
    glat, glng = wgs84_to_gcj02(v.latitude, v.longitude)
    inside = ev(0, "in", method="geo", lat=glat, lng=glng, coord_system="gcj02", accuracy_m=10, device_id=None, event_id="g1")
    # The same GCJ-02 numbers read as WGS-84 are hundreds of metres away.
    wrong = ev(1, "in", method="geo", lat=glat, lng=glng, accuracy_m=10, device_id=None, event_id="g2", employee_no="T2")
    got = post(client, [inside, wrong])
    assert [r["reason_code"] for r in got["results"]] == [None, "outside-geofence"]


def test_qr_current_token_once_per_person(client, school, settings):
    token = qr.issue(settings.secret_key, school["session"].id, NOW.timestamp()).encode()
    at = NOW.isoformat()
    got = post(client, [ev(0, "in", method="qr", qr_token=token, at=at, event_id="q1", device_id=None),
                        ev(0, "in", method="qr", qr_token=token, at=at, event_id="q2", device_id=None)])
    assert [r["reason_code"] for r in got["results"]] == [None, "qr-reused"]


def test_teaching_time_is_subtracted(client, school, db):
    local = (START + timedelta(hours=8))  # Shanghai
    db.add(WeeklySlot(employee_id=school["t1"].id, weekday=local.weekday(), start_time=time(local.hour, 30), end_time=time(local.hour + 1, 30),
                      valid_from=date(2026, 1, 1)))
    db.commit()
    post(client, [ev(0, "in"), ev(120, "out")])
    rec = client.get("/api/v1/attendance/sessions/CI-1").json()[0]
    assert rec["attended_minutes"] == 60 and "timetable-conflict" in rec["flags"]


def test_employee_checks_in_only_themselves(app, school, db):
    from fastapi.testclient import TestClient

    with TestClient(app) as c:
        token = login(c, "t1")
        h = {"X-CSRF-Token": token}
        resp = c.post("/api/v1/attendance/events", json={"events": [ev(0, "in"), ev(0, "in", employee_no="T2", event_id="z")]}, headers=h)
        assert [r["reason_code"] for r in resp.json()["results"]] == [None, "not-your-record"]
        assert c.get("/api/v1/attendance/employees/T1").status_code == 200
        assert c.get("/api/v1/attendance/employees/T2").status_code == 404


def test_recompute_gives_identical_figures(client, school, db, app):
    post(client, [ev(3, "in"), ev(50, "out"), ev(70, "in")])
    before = client.get("/api/v1/attendance/sessions/CI-1").json()
    hr = make_api_key(db, scopes=["attendance:manage", "attendance:read"], name="hr-bot")
    db.commit()
    again = client.post("/api/v1/attendance/sessions/CI-1/recompute", headers={"Authorization": f"Bearer {hr}"}).json()
    assert again == before
    assert before[0]["late_minutes"] == 3 and "no-checkout" in before[0]["flags"]


def test_bodies_too_big_or_malformed(client, school):
    resp = client.post("/api/v1/attendance/events", content=b"x", headers={"content-length": str(100 * 1024 * 1024), "content-type": "application/json"})
    assert resp.status_code == 413 and resp.headers["content-type"].startswith("application/problem+json")
    resp = client.post("/api/v1/attendance/events", content=b"{nope", headers={"content-type": "application/json"})
    assert resp.status_code == 422
    resp = client.post("/api/v1/attendance/events", json={"events": []})
    assert resp.status_code == 422
    resp = client.post("/api/v1/attendance/events", json={"events": [ev(0, "in")] * 10_001})
    assert resp.status_code == 413
    assert db_count(client) == 0


def db_count(client) -> int:
    return len(client.get("/api/v1/attendance/sessions/CI-1").json())


def test_batch_recompute_equals_reference(client, school, db, settings):
    from trainquant.attendance.service import recompute_batch

    post(client, [ev(3, "in"), ev(50, "out"), ev(70, "in"), ev(0, "in", employee_no="T2", event_id="b1"), ev(118, "out", employee_no="T2", event_id="b2")])

    def cols(r):
        return (r["employee_no"], r["attended_minutes"], r["late_minutes"], r["early_leave_minutes"], sorted(r["flags"]), r["events"], r["away"])

    reference = [cols(r) for r in client.get("/api/v1/attendance/sessions/CI-1").json()]
    recompute_batch(db, [school["session"].id], now=NOW, default_tz=settings.default_timezone)
    db.commit()
    batch = [cols(r) for r in client.get("/api/v1/attendance/sessions/CI-1").json()]
    assert batch == reference and len(batch) == 2


class _JudgedThenRaced:
    """A ``reader`` for ``ingest``: the batch is judged in its session; when that closes, another
    request stores ``rival`` (as a concurrent request would between the look and the write lock)."""

    def __init__(self, factory, db, rival, settings):
        self.factory, self.db, self.rival, self.settings = factory, db, rival, settings

    @contextmanager
    def __call__(self):
        with self.factory() as session:
            yield session
        ingest(self.db, self.rival, source="api", principal=None, now=NOW, secret_key=self.settings.secret_key)


def test_a_key_stored_meanwhile_makes_the_batch_judged_again_under_the_lock(school, db, session_factory, settings):
    batch = [ev(0, "in"), ev(120, "out")]
    raced = _JudgedThenRaced(session_factory, db, [ev(0, "in")], settings)
    outcome = ingest(db, batch, source="api", principal=None, now=NOW, secret_key=settings.secret_key, reader=raced)
    rival_id = db.scalar(select(CheckinEvent.id).where(CheckinEvent.dedup_key == "api|T1-in-0"))
    assert [(v[2], v[5] == rival_id) for v in outcome.verdicts] == [("duplicate", True), ("accepted", False)]
    assert db.scalar(select(func.count(CheckinEvent.id))) == 2  # the rival's "in" and this batch's "out"


def test_a_qr_use_taken_meanwhile_is_refused_under_the_lock(school, db, session_factory, settings):
    token = qr.issue(settings.secret_key, school["session"].id, NOW.timestamp()).encode()
    scan = {"method": "qr", "qr_token": token, "at": NOW.isoformat(), "device_id": None}
    raced = _JudgedThenRaced(session_factory, db, [ev(0, "in", event_id="phone-a", **scan)], settings)
    outcome = ingest(db, [ev(0, "in", event_id="phone-b", **scan)], source="api", principal=None, now=NOW, secret_key=settings.secret_key, reader=raced)
    assert [(v[2], v[3]) for v in outcome.verdicts] == [("rejected", "qr-reused")]


def test_without_a_race_the_judgement_of_the_read_only_look_stands(school, db, session_factory, settings):
    outcome = ingest(db, [ev(0, "in"), ev(0, "in")], source="api", principal=None, now=NOW, secret_key=settings.secret_key, reader=session_factory)
    assert [v[2] for v in outcome.verdicts] == ["accepted", "duplicate"]
