"""WeCom / DingTalk / Feishu exports and sign-in sheets imported through the one ingestion path."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import make_api_key, make_department, make_employee, make_site
from tests.integration.training.conftest import make_program, make_session
from trainquant.attendance.geo import wgs84_to_gcj02
from trainquant.attendance.models import AttendanceRecord, CheckinEvent
from trainquant.org.models import ExternalId
from trainquant.training.models import Enrolment

START = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai
LATER = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)


def unix(minutes: float) -> int:
    return int((START + timedelta(minutes=minutes)).timestamp())


@pytest.fixture
def school(db, client, clock):
    clock.at = LATER
    dep = make_department(db, code="TEACH")
    site = make_site(db, code="SH", timezone="Asia/Shanghai")
    t1 = make_employee(db, employee_no="T1", department=dep, site=site, name="李雷")
    db.add_all([ExternalId(employee_id=t1.id, system=s, external_id=x) for s, x in (("wecom", "lilei"), ("dingtalk", "0420"), ("feishu", "ou_lilei"))])
    session = make_session(db, program=make_program(db, code="CI"), code="CI-1", starts_at=START, hours=2, site=site)
    session.venue_id = site.venues[0].id
    session.checkin_methods = ["geo", "qr"]
    db.flush()
    db.add(Enrolment(session_id=session.id, employee_id=t1.id, status="approved", source="hr", created_at=START, updated_at=START))
    hr_key = make_api_key(db, scopes=["attendance:manage", "attendance:read"], name="hr-robot")
    reader = make_api_key(db, scopes=["attendance:read", "attendance:write"], name="reader")
    db.commit()
    client.headers["Authorization"] = f"Bearer {hr_key}"
    venue = site.venues[0]
    return {"t1": t1, "session": session, "gcj": wgs84_to_gcj02(venue.latitude, venue.longitude), "reader": reader}


def post(client, source, payload):
    resp = client.post(f"/api/v1/attendance/imports/{source}", json=payload)
    assert resp.status_code == 200, resp.text
    return resp.json()


def attended_minutes(db, employee_id):
    db.expire_all()
    return db.scalar(select(AttendanceRecord.attended_seconds).where(AttendanceRecord.employee_id == employee_id)) / 60


def wecom_payload(school):
    glat, glng = school["gcj"]
    base = {"userid": "lilei", "groupname": "教学部", "exception_type": "", "location_title": "上海校区", "location_detail": "徐汇区",
            "wifiname": "", "wifimac": "", "notes": "", "deviceid": "wx-dev-1", "groupid": 1, "sch_checkin_time": unix(0)}
    return {"errcode": 0, "errmsg": "ok", "checkindata": [
        {**base, "checkin_type": "上班打卡", "checkin_time": unix(-3), "lat": round(glat * 1e6), "lng": round(glng * 1e6)},
        {**base, "checkin_type": "下班打卡", "checkin_time": unix(120), "lat": round(glat * 1e6), "lng": round(glng * 1e6)},
        # GCJ-02 numbers 1 km north of the room: outside the fence.
        {**base, "checkin_type": "外出打卡", "checkin_time": unix(30), "lat": round((glat + 0.009) * 1e6), "lng": round(glng * 1e6)},
        {**base, "checkin_type": "上班打卡", "checkin_time": unix(0), "exception_type": "未打卡", "lat": 0, "lng": 0},
    ]}


def test_wecom_import_converts_gcj02_and_is_idempotent(client, school, db):
    got = post(client, "wecom", wecom_payload(school))
    assert [(r["status"], r["reason_code"]) for r in got["results"]] == [
        ("accepted", None), ("accepted", None), ("rejected", "outside-geofence"), ("rejected", "malformed")]
    first = db.scalar(select(CheckinEvent).where(CheckinEvent.source == "wecom").order_by(CheckinEvent.id))
    assert (first.at, first.method, first.kind, first.device_id) == (START - timedelta(minutes=3), "geo", "in", "wx-dev-1")
    assert first.distance_m is not None and first.distance_m < 5  # GCJ-02 converted before the fence check
    assert first.raw["evidence"]["location_title"] == "上海校区"
    assert attended_minutes(db, school["t1"].id) == 120
    again = post(client, "wecom", wecom_payload(school))
    # The rejected records too are answered as repeats of their stored rejections, with their reasons.
    assert [(r["status"], r["reason_code"], r["id"]) for r in again["results"]] == [
        ("duplicate", "duplicate", got["results"][0]["id"]), ("duplicate", "duplicate", got["results"][1]["id"]),
        ("duplicate", "outside-geofence", got["results"][2]["id"]), ("duplicate", "malformed", got["results"][3]["id"])]
    assert db.scalar(select(func.count(CheckinEvent.id)).where(CheckinEvent.verdict == "accepted")) == 2
    assert db.scalar(select(func.count(CheckinEvent.id))) == 4


def test_dingtalk_import(client, school, db):
    glat, glng = school["gcj"]
    payload = {"errcode": 0, "success": True, "recordresult": [
        {"id": 77001, "userId": "0420", "checkType": "OnDuty", "userCheckTime": unix(0) * 1000, "timeResult": "Normal", "locationResult": "Normal",
         "sourceType": "USER", "userLatitude": glat, "userLongitude": glng, "userAccuracy": 20, "deviceId": "ding-phone-1", "isLegal": "Y"},
        {"id": 77002, "userId": "0420", "checkType": "OffDuty", "userCheckTime": unix(90) * 1000, "timeResult": "Early", "locationResult": "Normal",
         "sourceType": "USER", "userLatitude": glat, "userLongitude": glng, "userAccuracy": 20, "deviceId": "ding-phone-1", "isLegal": "Y"},
        {"id": 77003, "userId": "9999", "checkType": "OnDuty", "userCheckTime": unix(1) * 1000, "sourceType": "USER"},
    ]}
    got = post(client, "dingtalk", payload)
    assert [(r["status"], r["reason_code"]) for r in got["results"]] == [("accepted", None), ("accepted", None), ("rejected", "unknown-employee")]
    assert attended_minutes(db, school["t1"].id) == 90
    assert post(client, "dingtalk", payload)["duplicate"] == 3


def test_feishu_directions_come_from_the_punches_in_the_session(client, school, db):
    glat, glng = school["gcj"]
    flows = [{"user_id": "ou_lilei", "creator_id": "ou_lilei", "location_name": "上海校区", "check_time": str(unix(m)), "comment": "",
              "record_id": f"7100{i}", "latitude": glat, "longitude": glng, "ssid": "", "bssid": "", "is_field": False, "is_wifi": False,
              "type": 0, "device_id": "fs-phone", "idempotent_id": f"idem-{i}"} for i, m in enumerate((0, 60, 75, 120))]
    got = post(client, "feishu", {"code": 0, "msg": "success", "data": {"user_flow_results": flows}})
    assert got["accepted"] == 4
    kinds = list(db.scalars(select(CheckinEvent.kind).where(CheckinEvent.source == "feishu").order_by(CheckinEvent.at)))
    assert kinds == ["in", "out", "in", "out"]
    assert attended_minutes(db, school["t1"].id) == 105
    assert post(client, "feishu", {"code": 0, "data": {"user_flow_results": flows}})["duplicate"] == 4


def test_punch_without_coordinates_or_for_a_session_without_geo_is_hr_import(client, school, db):
    school["session"].checkin_methods = ["qr"]
    db.commit()
    payload = {"errcode": 0, "checkindata": [
        {"userid": "lilei", "checkin_type": "上班打卡", "checkin_time": unix(0), "lat": 0, "lng": 0, "wifiname": "School-WiFi", "exception_type": ""}]}
    got = post(client, "wecom", payload)
    assert got["accepted"] == 1
    event = db.scalar(select(CheckinEvent).where(CheckinEvent.source == "wecom"))
    assert event.method == "manual" and "WeCom" in event.raw["reason"]


def test_sign_in_sheet_in_gbk(client, school, db):
    csv = "工号,姓名,场次,签到时间,签退时间\nT1,李雷,CI-1,2026-09-01 14:00,2026-09-01 15:30\nT9,无此人,CI-1,2026-09-01 14:00,\n,空,CI-1,,\n"
    files = {"file": ("签到表.csv", csv.encode("gbk"), "text/csv")}
    resp = client.post("/api/v1/attendance/imports/sheet", files=files)
    assert resp.status_code == 200, resp.text
    got = resp.json()
    assert [(r["status"], r["reason_code"]) for r in got["results"]] == [
        ("accepted", None), ("accepted", None), ("rejected", "unknown-employee"), ("rejected", "malformed")]
    ats = list(db.scalars(select(CheckinEvent.at).where(CheckinEvent.verdict == "accepted").order_by(CheckinEvent.at)))
    assert ats == [START, START + timedelta(minutes=90)]  # 14:00 local in Shanghai is 06:00Z
    assert attended_minutes(db, school["t1"].id) == 90
    again = client.post("/api/v1/attendance/imports/sheet", files={"file": ("renamed.csv", csv.encode("gbk"), "text/csv")}).json()
    assert again["duplicate"] == 2


def test_imports_need_attendance_manage_and_a_real_payload(client, school):
    assert client.post("/api/v1/attendance/imports/wecom", json={"nope": []}).status_code == 422
    assert client.post("/api/v1/attendance/imports/wecom", json={"errcode": 60011, "errmsg": "no privilege"}).status_code == 422
    assert client.post("/api/v1/attendance/imports/slack", json=[]).status_code == 422
    client.headers["Authorization"] = f"Bearer {school['reader']}"
    assert client.post("/api/v1/attendance/imports/wecom", json=wecom_payload(school)).status_code == 403
