"""A platform export is a whole day of everyone's punches with the platform's own verdict on each.

Each case below gave a wrong figure before punches were placed in sessions and the verdicts honoured
(the figures in the names are the ones the old importer gave): through the import API, the figures
must be the people's real ones.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import login, make_api_key, make_department, make_employee, make_site, make_user
from tests.integration.training.conftest import make_program, make_session
from trainquant.attendance.geo import wgs84_to_gcj02
from trainquant.attendance.models import AttendanceRecord, CheckinEvent, ProxyCase
from trainquant.org.models import ExternalId
from trainquant.training.models import Enrolment

START = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)  # 14:00 in Shanghai; the session runs to 16:00
LATER = datetime(2026, 9, 1, 12, 0, tzinfo=UTC)


def unix(minutes: float) -> int:
    """Seconds since the epoch, ``minutes`` after the session's start."""
    return int((START + timedelta(minutes=minutes)).timestamp())


@pytest.fixture
def school(db, client, clock):
    clock.at = LATER
    dep = make_department(db, code="TEACH")
    site = make_site(db, code="SH", timezone="Asia/Shanghai", venues=2)
    people = {}
    for no, wecom, ding, fs in (("T1", "lilei", "0420", "ou_lilei"), ("T2", "hanmeimei", "0421", "ou_han"), ("T3", "wangfang", "0422", "ou_wang")):
        e = people[no] = make_employee(db, employee_no=no, department=dep, site=site, name=no)
        db.add_all([ExternalId(employee_id=e.id, system=s, external_id=x) for s, x in (("wecom", wecom), ("dingtalk", ding), ("feishu", fs))])
    program = make_program(db, code="CI")
    room_a, room_b = site.venues
    a = make_session(db, program=program, code="CI-1", starts_at=START, hours=2, site=site)
    b = make_session(db, program=program, code="CI-2", starts_at=START, hours=2, site=site, sequence=2)
    a.venue_id, b.venue_id = room_a.id, room_b.id
    a.checkin_methods = b.checkin_methods = ["geo", "qr"]
    db.flush()
    for session, person in ((a, "T1"), (b, "T2")):  # T3 is enrolled in neither
        db.add(Enrolment(session_id=session.id, employee_id=people[person].id, status="approved", source="hr", created_at=START, updated_at=START))
    key = make_api_key(db, scopes=["attendance:manage", "attendance:read"], name="hr-robot")
    db.commit()
    client.headers["Authorization"] = f"Bearer {key}"
    return {"people": people, "a": a, "b": b, "room_a": wgs84_to_gcj02(room_a.latitude, room_a.longitude),
            "room_b": wgs84_to_gcj02(room_b.latitude, room_b.longitude)}


def post(client, source, payload):
    resp = client.post(f"/api/v1/attendance/imports/{source}", json=payload)
    assert resp.status_code == 200, resp.text
    return resp.json()


def record(db, session, person) -> AttendanceRecord | None:
    db.expire_all()
    return db.scalar(select(AttendanceRecord).where(AttendanceRecord.session_id == session.id, AttendanceRecord.employee_id == person.id))


def minutes(db, session, person) -> float:
    r = record(db, session, person)
    assert r is not None
    return r.attended_seconds / 60


def ding(i, user, check, minute, *, where, **verdicts):
    lat, lng = where
    return {"id": 80000 + i, "userId": user, "checkType": check, "userCheckTime": unix(minute) * 1000, "timeResult": "Normal",
            "locationResult": "Normal", "sourceType": "USER", "userLatitude": lat, "userLongitude": lng, "userAccuracy": 20,
            "deviceId": "ding-phone-1", "isLegal": "Y", **verdicts}


def test_dingtalk_illegal_off_duty_inside_the_room_is_rejected_not_counted_115_not_25(client, school, db):
    room = school["room_a"]
    got = post(client, "dingtalk", {"errcode": 0, "recordresult": [
        ding(1, "0420", "OnDuty", 5, where=room),
        ding(2, "0420", "OffDuty", 30, where=room, isLegal="N", invalidRecordType="Security"),
        ding(3, "0420", "OffDuty", 120, where=room),
    ]})
    assert [(r["status"], r["reason_code"]) for r in got["results"]] == [("accepted", None), ("rejected", "platform-rejected"), ("accepted", None)]
    assert "dingtalk.isLegal.N" in got["results"][1]["reason"]
    assert minutes(db, school["a"], school["people"]["T1"]) == 115
    stored = db.scalar(select(CheckinEvent).where(CheckinEvent.id == got["results"][1]["id"]))
    assert stored.raw["evidence"]["platform_verdict"] == ["dingtalk.isLegal.N", "dingtalk.invalidRecordType.Security"]
    assert stored.raw["evidence"]["platform_policy"] == "reject"


def test_dingtalk_off_site_punch_goes_to_review_and_confirming_it_restores_the_figure(client, school, db):
    room = school["room_a"]
    got = post(client, "dingtalk", {"errcode": 0, "recordresult": [
        ding(1, "0420", "OnDuty", 5, where=room),
        ding(2, "0420", "OffDuty", 30, where=room, locationResult="Outside"),
        ding(3, "0420", "OffDuty", 120, where=room),
    ]})
    assert got["accepted"] == 3
    case = db.scalar(select(ProxyCase).where(ProxyCase.signal == "platform-verdict"))
    assert case is not None and case.event_ids == [got["results"][1]["id"]] and "dingtalk.locationResult.Outside" in case.detail
    assert minutes(db, school["a"], school["people"]["T1"]) == 25  # counted until HR decides, and HR is told
    resp = client.post(f"/api/v1/attendance/review/{case.id}/confirm", json={"note": "the platform says off-site"})
    assert resp.status_code == 200, resp.text
    assert minutes(db, school["a"], school["people"]["T1"]) == 115


def test_the_schools_policy_decides_what_a_verdict_does(client, school, db, settings):
    settings.platform_verdict_policy = {"dingtalk.isLegal.N": "accept"}
    room = school["room_a"]
    got = post(client, "dingtalk", {"errcode": 0, "recordresult": [ding(1, "0420", "OnDuty", 5, where=room, isLegal="N")]})
    assert got["accepted"] == 1 and db.scalar(select(ProxyCase)) is None


def wecom(user, check, minute, *, where=None, exception=""):
    lat, lng = where or (0, 0)
    return {"userid": user, "checkin_type": check, "checkin_time": unix(minute), "exception_type": exception, "lat": round(lat * 1e6),
            "lng": round(lng * 1e6), "location_title": "上海校区", "deviceid": "wx-dev-1", "groupname": "教学部", "sch_checkin_time": unix(0)}


def test_wecom_location_anomaly_without_coordinates_and_unusual_device_go_to_review_116_not_38(client, school, db):
    room = school["room_a"]
    got = post(client, "wecom", {"errcode": 0, "checkindata": [
        wecom("lilei", "上班打卡", 4, where=room),
        wecom("lilei", "下班打卡", 40, exception="地点异常"),
        wecom("lilei", "下班打卡", 120, where=room),
        wecom("hanmeimei", "上班打卡", 0, where=school["room_b"], exception="非常用设备"),
        wecom("hanmeimei", "下班打卡", 120, where=school["room_b"], exception="时间异常"),
    ]})
    assert got["accepted"] == 5
    cases = {tuple(c.event_ids): c for c in db.scalars(select(ProxyCase).where(ProxyCase.signal == "platform-verdict"))}
    ids = [r["id"] for r in got["results"]]
    assert set(cases) == {(ids[1],), (ids[3],)}  # 时间异常 is about the workday's schedule: accepted by default
    assert "wecom.exception_type.非常用设备" in cases[(ids[3],)].detail
    resp = client.post(f"/api/v1/attendance/review/{cases[(ids[1],)].id}/confirm", json={"note": "no position, and 40 minutes in"})
    assert resp.status_code == 200, resp.text
    assert minutes(db, school["a"], school["people"]["T1"]) == 116


def feishu(user, local_hhmm, record_id, *, where=None):
    hour, minute = map(int, local_hhmm.split(":"))
    at = datetime(2026, 9, 1, hour - 8, minute, tzinfo=UTC)  # Shanghai is UTC+8
    lat, lng = where or (None, None)
    return {"user_id": user, "check_time": str(int(at.timestamp())), "record_id": record_id, "latitude": lat, "longitude": lng,
            "is_field": False, "is_wifi": False, "type": 0, "location_name": "上海校区"}


def test_feishu_day_arrival_session_and_departure_gives_90_minutes_not_30(client, school, db):
    """08:58 arriving at work, 14:00 and 15:30 the session's, 18:05 going home: 90 minutes, not late, no flags."""
    room = school["room_a"]
    got = post(client, "feishu", {"code": 0, "data": {"user_flow_results": [
        feishu("ou_lilei", "18:05", "f4", where=room), feishu("ou_lilei", "08:58", "f1", where=room),
        feishu("ou_lilei", "14:00", "f2", where=room), feishu("ou_lilei", "15:30", "f3", where=room),
        feishu("ou_lilei", "15:30", "f3b", where=room),  # a double tap
    ]}})
    by_id = {r["event_id"]: (r["status"], r["reason_code"]) for r in got["results"]}
    assert by_id == {"feishu:f1": ("rejected", "unrelated"), "feishu:f2": ("accepted", None), "feishu:f3": ("accepted", None),
                     "feishu:f3b": ("rejected", "double-tap"), "feishu:f4": ("rejected", "unrelated")}
    r = record(db, school["a"], school["people"]["T1"])
    assert r is not None
    assert (r.attended_seconds, r.late_seconds, r.flags) == (90 * 60, 0, [])
    kinds = dict(db.execute(select(CheckinEvent.dedup_key, CheckinEvent.kind).where(CheckinEvent.verdict == "accepted")).all())
    assert kinds == {"feishu|feishu:f2": "in", "feishu|feishu:f3": "out"}


def test_a_person_not_enrolled_gets_no_attendance_record_but_a_walk_in_when_placed_in_the_room(client, school, db):
    got = post(client, "wecom", {"errcode": 0, "checkindata": [
        wecom("wangfang", "上班打卡", 0, where=school["room_a"]),  # in room A's fence: a walk-in there ...
        wecom("wangfang", "下班打卡", 118, where=school["room_a"]),  # ... who stayed
        wecom("wangfang", "下班打卡", 121),  # no position: nothing places it in a room
        wecom("hanmeimei", "下班打卡", 60, where=school["room_a"]),  # leaving work while CI-1 runs: one punch, no stay
    ]})
    assert [(r["status"], r["reason_code"]) for r in got["results"]] == [
        ("rejected", "walk-in"), ("rejected", "walk-in"), ("rejected", "unrelated"), ("rejected", "unrelated")]
    assert record(db, school["a"], school["people"]["T3"]) is None and record(db, school["a"], school["people"]["T2"]) is None
    walk_in = db.scalar(select(CheckinEvent).where(CheckinEvent.id == got["results"][0]["id"]))
    assert (walk_in.session_id, walk_in.employee_id, walk_in.kind) == (school["a"].id, school["people"]["T3"].id, "in")


def test_two_sessions_at_once_in_two_rooms_each_punch_goes_to_its_owners_session(client, school, db):
    got = post(client, "dingtalk", {"errcode": 0, "recordresult": [
        ding(1, "0420", "OnDuty", 0, where=school["room_a"]), ding(2, "0420", "OffDuty", 120, where=school["room_a"]),
        ding(3, "0421", "OnDuty", 10, where=school["room_b"]), ding(4, "0421", "OffDuty", 120, where=school["room_b"]),
    ]})
    assert got["accepted"] == 4
    t1, t2 = school["people"]["T1"], school["people"]["T2"]
    assert (minutes(db, school["a"], t1), minutes(db, school["b"], t2)) == (120, 110)
    assert record(db, school["b"], t1) is None and record(db, school["a"], t2) is None


def test_commute_and_lunch_punches_near_a_session_change_nothing(client, school, db, settings):
    settings.platform_window_before_min = 60
    room = school["room_a"]
    got = post(client, "wecom", {"errcode": 0, "checkindata": [
        wecom("lilei", "上班打卡", -300, where=room),  # 09:00, arriving at work
        wecom("lilei", "上班打卡", -50, where=room),  # 13:10, back from lunch: inside the (widened) hour before, redundant
        wecom("lilei", "上班打卡", -2, where=room),
        wecom("lilei", "下班打卡", 121, where=room),
        wecom("lilei", "下班打卡", 240, where=room),  # 18:00, going home
    ]})
    assert [r["reason_code"] for r in got["results"]] == ["unrelated", "redundant", None, None, "unrelated"]
    r = record(db, school["a"], school["people"]["T1"])
    assert r is not None and (r.attended_seconds, r.flags) == (120 * 60, [])
    assert got["rejected"] == 3


def test_a_rejected_record_imported_again_is_answered_as_a_repeat(client, school, db):
    payload = {"errcode": 0, "checkindata": [wecom("nobody", "上班打卡", 0), wecom("wangfang", "上班打卡", 300)]}
    first = post(client, "wecom", payload)
    assert [r["reason_code"] for r in first["results"]] == ["unknown-employee", "unrelated"]
    again = post(client, "wecom", payload)
    assert again["duplicate"] == 2 and [r["id"] for r in again["results"]] == [r["id"] for r in first["results"]]
    assert db.scalar(select(CheckinEvent.id).order_by(CheckinEvent.id.desc())) == first["results"][-1]["id"]


def test_the_rejected_list_leaves_out_punches_of_no_session_unless_asked_for(client, school, db):
    post(client, "wecom", {"errcode": 0, "checkindata": [
        wecom("lilei", "上班打卡", -300), wecom("wangfang", "上班打卡", 0, where=school["room_a"]),
        wecom("wangfang", "下班打卡", 110, where=school["room_a"]), wecom("lilei", "下班打卡", 30, exception="地点异常")]})
    rejected = client.get("/api/v1/attendance/events", params={"verdict": "rejected"}).json()["items"]
    assert [e["reason_code"] for e in rejected] == ["walk-in", "walk-in"]
    quiet = client.get("/api/v1/attendance/events", params={"verdict": "rejected", "reason_code": "unrelated"}).json()["items"]
    assert [e["employee_ref"] for e in quiet] == [None] and len(quiet) == 1
    accepted = client.get("/api/v1/attendance/events", params={"verdict": "accepted"}).json()["items"]
    assert [e["platform_verdict"] for e in accepted] == [["wecom.exception_type.地点异常"]]


def test_hr_accepts_a_walk_in_and_the_same_export_imported_again_repeats_it(client, school, db):
    payload = {"errcode": 0, "checkindata": [wecom("wangfang", "上班打卡", 10, where=school["room_a"]),
                                             wecom("wangfang", "下班打卡", 120, where=school["room_a"])]}
    first = post(client, "wecom", payload)
    assert [r["reason_code"] for r in first["results"]] == ["walk-in", "walk-in"]
    listed = client.get("/api/v1/attendance/walk-ins").json()
    assert listed["total"] == 1
    item = listed["items"][0]
    assert (item["session_code"], item["employee_no"], [p["kind"] for p in item["punches"]], item["status"]) == ("CI-1", "T3", ["in", "out"], "open")
    assert client.post("/api/v1/attendance/walk-ins/CI-1/T3/accept", json={}).status_code == 422  # a reason is needed
    resp = client.post("/api/v1/attendance/walk-ins/CI-1/T3/accept", json={"reason": "came with the trainer's consent"})
    assert resp.status_code == 200, resp.text
    assert resp.json()["status"] == "accepted" and len(resp.json()["accepted_ids"]) == 2
    assert minutes(db, school["a"], school["people"]["T3"]) == 110
    enrolment = db.scalar(select(Enrolment).where(Enrolment.session_id == school["a"].id, Enrolment.employee_id == school["people"]["T3"].id))
    assert enrolment is not None and enrolment.status == "approved" and "consent" in (enrolment.reason or "")
    again = post(client, "wecom", payload)
    assert again["duplicate"] == 2 and [r["id"] for r in again["results"]] == resp.json()["accepted_ids"]
    assert client.post("/api/v1/attendance/walk-ins/CI-1/T3/dismiss", json={}).status_code == 409
    assert client.get("/api/v1/attendance/walk-ins").json()["total"] == 0
    assert client.get("/api/v1/attendance/walk-ins", params={"status": "accepted"}).json()["total"] == 1


def test_hr_dismisses_a_walk_in_and_nothing_counts(client, school, db):
    post(client, "wecom", {"errcode": 0, "checkindata": [wecom("wangfang", "上班打卡", 10, where=school["room_b"]),
                                                         wecom("wangfang", "下班打卡", 100, where=school["room_b"])]})
    resp = client.post("/api/v1/attendance/walk-ins/CI-2/T3/dismiss", json={"reason": "waited outside for a colleague"})
    assert resp.status_code == 200 and resp.json()["status"] == "dismissed"
    assert record(db, school["b"], school["people"]["T3"]) is None
    assert client.post("/api/v1/attendance/walk-ins/CI-1/T3/accept", json={"reason": "x"}).status_code == 404


def test_the_walk_ins_page_lists_them_and_hr_decides_there(client, school, db):
    post(client, "wecom", {"errcode": 0, "checkindata": [wecom("wangfang", "上班打卡", 10, where=school["room_a"]),
                                                         wecom("wangfang", "下班打卡", 100, where=school["room_a"])]})
    del client.headers["Authorization"]
    make_user(db, username="hr", role="hr")
    db.commit()
    csrf = login(client, "hr")
    page = client.get("/attendance/walk-ins")
    assert page.status_code == 200 and "T3" in page.text and "CI-1" in page.text and "14:10" in page.text  # Beijing time
    assert 'href="/attendance/walk-ins"' in client.get("/attendance/review").text
    refused = client.post("/attendance/walk-ins/CI-1/T3/accept", data={"csrf_token": csrf, "reason": ""}, headers={"HX-Request": "true"})
    assert refused.status_code == 200 and "接受现场加入需填写原因" in refused.text  # a reason is needed, said in the row, in Chinese
    done = client.post("/attendance/walk-ins/CI-1/T3/accept", data={"csrf_token": csrf, "reason": "the trainer let her in"},
                       headers={"HX-Request": "true"})
    assert done.status_code == 200 and "the trainer let her in" in done.text
    assert record(db, school["a"], school["people"]["T3"]) is not None


def test_back_from_lunch_inside_the_hour_before_then_late_is_late_with_and_without_directions(client, school, db, settings):
    settings.platform_window_before_min = 60  # the lunch punch falls inside the window
    room = school["room_a"]
    post(client, "wecom", {"errcode": 0, "checkindata": [
        wecom("lilei", "上班打卡", -60, where=room), wecom("lilei", "上班打卡", 20, where=room), wecom("lilei", "下班打卡", 120, where=room)]})
    r = record(db, school["a"], school["people"]["T1"])
    assert r is not None and (r.attended_seconds, r.late_seconds, r.flags) == (100 * 60, 20 * 60, [])
    post(client, "feishu", {"code": 0, "data": {"user_flow_results": [
        feishu("ou_han", "13:00", "g1", where=school["room_b"]), feishu("ou_han", "14:20", "g2", where=school["room_b"]),
        feishu("ou_han", "16:01", "g3", where=school["room_b"])]}})
    r = record(db, school["b"], school["people"]["T2"])
    assert r is not None and (r.attended_seconds, r.late_seconds, r.flags) == (100 * 60, 20 * 60, [])


def test_the_policy_in_force_can_be_read(client, school, settings):
    settings.platform_verdict_policy = {"wecom.exception_type.非常用设备": "accept"}
    got = client.get("/api/v1/attendance/imports/policy").json()
    assert got["verdicts"]["wecom.exception_type.非常用设备"] == "accept" and got["verdicts"]["dingtalk.isLegal.N"] == "reject"
    assert (got["unlisted"], got["window_before_min"], got["double_tap_s"]) == ("review", 20, 60)


def test_a_record_given_twice_in_one_export_is_placed_once_and_answered_as_a_repeat(client, school, db):
    room = school["room_a"]
    day = [feishu("ou_lilei", "14:00", "h1", where=room), feishu("ou_lilei", "16:00", "h2", where=room)]
    got = post(client, "feishu", {"code": 0, "data": {"user_flow_results": [*day, day[0]]}})
    assert [(r["status"], r["reason_code"]) for r in got["results"]] == [("accepted", None), ("accepted", None), ("duplicate", "duplicate")]
    assert minutes(db, school["a"], school["people"]["T1"]) == 120


def test_the_review_page_names_the_platforms_verdict_in_the_ui_language(client, school, db):
    post(client, "wecom", {"errcode": 0, "checkindata": [wecom("lilei", "上班打卡", 2, where=school["room_a"], exception="非常用设备")]})
    del client.headers["Authorization"]
    make_user(db, username="hr", role="hr")
    db.commit()
    login(client, "hr")
    page = client.get("/attendance/review").text
    assert "打卡平台标记异常" in page and "企业微信: 非常用设备" in page
