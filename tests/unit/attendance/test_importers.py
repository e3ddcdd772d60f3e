"""WeCom / DingTalk / Feishu / sheet converters: pure, no database."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from trainquant.attendance.checkin.schemas import EventIn
from trainquant.attendance.platforms import rules as importers
from trainquant.attendance.rules import UNUSABLE

SHANGHAI = ZoneInfo("Asia/Shanghai")
T0 = int(datetime(2026, 9, 1, 1, 0, tzinfo=UTC).timestamp())  # 09:00 in Shanghai


def wecom_record(**kw):
    r = {"userid": "lilei", "groupname": "教学部打卡", "checkin_type": "上班打卡", "exception_type": "", "checkin_time": T0,
         "location_title": "北京校区", "location_detail": "海淀区中关村大街1号", "wifiname": "", "wifimac": "", "notes": "",
         "lat": 39901404, "lng": 116406241, "deviceid": "E5B1A9D3-8E9C-4F1C", "sch_checkin_time": T0, "groupid": 3}
    r.update(kw)
    return r


def test_wecom_types_times_and_coordinates():
    payload = {"errcode": 0, "errmsg": "ok", "checkindata": [
        wecom_record(), wecom_record(checkin_type="下班打卡", checkin_time=T0 + 7200), wecom_record(checkin_type="外出打卡", checkin_time=T0 + 60, lat=0, lng=0)]}
    events = importers.wecom_events(payload)
    assert [e["kind"] for e in events] == ["in", "out", "in"]
    assert datetime.fromisoformat(events[0]["at"]) == datetime(2026, 9, 1, 1, 0, tzinfo=UTC)
    assert (events[0]["lat"], events[0]["lng"], events[0]["coord_system"], events[0]["method"]) == (39.901404, 116.406241, "gcj02", "geo")
    assert events[2]["method"] == "manual" and "lat" not in events[2]
    assert events[0]["external_system"] == "wecom" and events[0]["device_id"] == "E5B1A9D3-8E9C-4F1C"
    assert events[0]["event_id"] != events[2]["event_id"]
    for e in events:
        EventIn.model_validate(e)


def test_wecom_missed_punch_and_errors_are_unusable():
    events = importers.wecom_events([wecom_record(exception_type="未打卡"), wecom_record(userid=""), wecom_record(checkin_type="加班")])
    assert all(UNUSABLE in e for e in events)
    assert "未打卡" in events[0][UNUSABLE]
    with pytest.raises(importers.PayloadError):
        importers.wecom_events({"errcode": 301002, "errmsg": "not allow"})
    with pytest.raises(importers.PayloadError):
        importers.wecom_events({"something": []})


def test_dingtalk():
    payload = {"errcode": 0, "recordresult": [
        {"id": 9001, "userId": "0420", "checkType": "OnDuty", "userCheckTime": T0 * 1000, "timeResult": "Normal", "locationResult": "Normal",
         "sourceType": "USER", "userLatitude": 39.901404, "userLongitude": 116.406241, "userAccuracy": 15, "deviceId": "dev-1", "isLegal": "Y"},
        {"recordId": 9002, "userId": "0420", "checkType": "OffDuty", "userCheckTime": str((T0 + 3600) * 1000), "sourceType": "ATM"},
        {"id": 9003, "userId": "0420", "checkType": "OnDuty", "userCheckTime": T0 * 1000, "timeResult": "NotSigned"},
    ]}
    a, b, c = importers.dingtalk_events(payload)
    assert (a["kind"], a["event_id"], a["accuracy_m"], a["method"]) == ("in", "dingtalk:9001", 15.0, "geo")
    assert (b["kind"], b["event_id"], b["method"]) == ("out", "dingtalk:9002", "manual")
    assert datetime.fromisoformat(b["at"]) == datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
    assert "NotSigned" in c[UNUSABLE]


def test_feishu_punches_carry_no_direction_and_keep_their_order():
    """Feishu says nothing of in or out: the converter leaves it to placement, never guessing over the day."""
    flows = [{"user_id": "ou_1", "check_time": str(T0 + s), "record_id": f"r{s}", "latitude": 39.9, "longitude": 116.4, "type": 0}
             for s in (3600, 0, 7200)] + [{"user_id": "ou_2", "check_time": str(T0), "record_id": "x", "is_field": True}]
    events = importers.feishu_events({"code": 0, "data": {"user_flow_results": flows}})
    assert {e["event_id"]: e["kind"] for e in events} == {"feishu:r0": None, "feishu:r3600": None, "feishu:r7200": None, "feishu:x": None}
    assert [e["event_id"] for e in events][:3] == ["feishu:r3600", "feishu:r0", "feishu:r7200"]  # input order kept
    assert events[3]["evidence"]["platform_verdict"] == ["feishu.is_field.true"]


def test_sheet_rows_give_in_and_out_in_the_site_zone():
    header = ["工号", "姓名", "场次", "签到时间", "签退时间"]
    rows = [
        (2, ["T1", "李雷", "CI-1", "2026-09-01 14:00", "2026-09-01 16:00:00"]),
        (3, ["T2", "韩梅梅", "CI-1", datetime(2026, 9, 1, 14, 5), None]),
        (4, ["T3", "王芳", "CI-1", time(14, 10), ""]),
        (5, [None, "无名", "CI-1", "2026-09-01 14:00", None]),
        (6, ["T4", "赵", "CI-1", "soon", None]),
    ]
    events = importers.sheet_events(header, rows, lookup=lambda code: (SHANGHAI, date(2026, 9, 1)), filename="签到表.csv")
    good = [e for e in events if UNUSABLE not in e]
    assert [(e["employee_no"], e["kind"], e["at"]) for e in good] == [
        ("T1", "in", "2026-09-01T06:00:00+00:00"), ("T1", "out", "2026-09-01T08:00:00+00:00"),
        ("T2", "in", "2026-09-01T06:05:00+00:00"), ("T3", "in", "2026-09-01T06:10:00+00:00"),
    ]
    bad = [e[UNUSABLE] for e in events if UNUSABLE in e]
    assert bad[0].startswith("row 5: no 工号") and bad[1].startswith("row 6:")
    for e in good:
        EventIn.model_validate(e)


def test_sheet_english_headers_and_missing_columns():
    cols = importers.sheet_columns(["Employee No", "Session", "Check-in", "Check-out"])
    assert cols == {"employee_no": 0, "session": 1, "in": 2, "out": 3}
    with pytest.raises(importers.PayloadError):
        importers.sheet_columns(["姓名", "签到时间"])


def test_times_with_an_offset_keep_it():
    assert importers.sheet_time("2026-09-01T14:00:00+09:00", SHANGHAI, None) == datetime(2026, 9, 1, 5, tzinfo=UTC)
    assert importers.sheet_time("14:00", SHANGHAI, None) is None  # a bare clock time needs the session's day
    # A cell at the calendar's edge has no UTC time (it would overflow): no time, so the row is kept as unusable.
    assert importers.sheet_time("0001-01-01 00:00", SHANGHAI, None) is None
    assert importers.sheet_time("9999-12-31T23:59:59-12:00", SHANGHAI, None) is None


def test_a_policy_key_that_names_no_verdict_is_refused_at_start():
    import pytest
    from pydantic import ValidationError

    from trainquant.config import Settings

    assert Settings(env="test", platform_verdict_policy={"dingtalk.isLegal.N": "accept", "feishu.is_field.*": "review"}).platform_verdict_policy
    with pytest.raises(ValidationError, match=r"dingtalk\.isLegel\.N"):
        Settings(env="test", platform_verdict_policy={"dingtalk.isLegel.N": "accept"})
    with pytest.raises(ValidationError):
        Settings(env="test", platform_verdict_policy={"dingtalk.isLegal.N": "ignore"})


def test_the_strongest_verdict_decides_and_an_unknown_one_is_reviewed():
    assert importers.decide([]) == ("accept", [])
    assert importers.decide(["dingtalk.timeResult.Late", "dingtalk.isLegal.N"]) == ("reject", ["dingtalk.isLegal.N"])
    assert importers.decide(["wecom.exception_type.时间异常"]) == ("accept", ["wecom.exception_type.时间异常"])
    assert importers.decide(["wecom.exception_type.新的异常"]) == ("review", ["wecom.exception_type.新的异常"])
    assert importers.decide(["dingtalk.isLegal.N"], {"dingtalk.isLegal.N": "accept"}) == ("accept", ["dingtalk.isLegal.N"])
    assert importers.verdicts("wecom", {"exception_type": "地点异常;非常用设备"}) == ["wecom.exception_type.地点异常", "wecom.exception_type.非常用设备"]
    assert importers.verdicts("dingtalk", {"isLegal": "Y", "timeResult": "Normal", "sourceType": "BOSS"}) == ["dingtalk.sourceType.BOSS"]
