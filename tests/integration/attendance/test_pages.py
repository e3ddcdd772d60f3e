"""Attendance pages: the live board, the room's QR screen, the phone check-in fallback and the history."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

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
from trainquant.attendance import rules
from trainquant.attendance.checkin import qr
from trainquant.attendance.models import AttendanceRecord, Device
from trainquant.training.models import Enrolment

START = NOW - timedelta(hours=1)  # the session runs now: started an hour ago, two hours long


@pytest.fixture
def room(app, db, settings) -> Iterator[dict]:
    site = make_site(db, code="BJ", venues=1)
    teach = make_department(db, code="TEACH", kind="teaching", name="教学部")
    mkt = make_department(db, code="MKT", kind="marketing", name="市场部")
    people = {no: make_employee(db, employee_no=no, department=teach, name=name, site=site) for no, name in [("T1", "李雷"), ("T2", "韩梅梅"), ("T3", "王芳")]}
    people["M1"] = make_employee(db, employee_no="M1", department=mkt, name="赵敏", site=site)
    boss = make_employee(db, employee_no="B1", department=teach, name="周主任")
    program = make_program(db, code="CI", title="课堂互动技巧")
    session = make_session(db, program=program, code="CI-1", starts_at=START, hours=2, site=site)
    session.venue_id = site.venues[0].id
    session.checkin_methods = ["face", "qr", "geo"]
    for emp in people.values():
        db.add(Enrolment(session_id=session.id, employee_id=emp.id, status="approved", source="hr", created_at=NOW - timedelta(days=3), updated_at=NOW - timedelta(days=3)))
    db.add(Device(device_id="ZK-001", kind="zkteco", venue_id=session.venue_id, site_id=site.id, active=True))
    make_user(db, username="hr", role="hr")
    make_user(db, username="boss", role="manager", employee=boss, department=teach)
    make_user(db, username="t3", role="employee", employee=people["T3"])
    key = make_api_key(db, scopes=["attendance:write", "attendance:read"])
    db.commit()
    clients: dict[str, TestClient] = {}
    for who in ("hr", "boss", "t3", "anonymous"):
        c = TestClient(app)
        c.__enter__()
        csrf = login(c, who) if who != "anonymous" else ""
        c.headers["X-Test-CSRF"] = csrf
        clients[who] = c
    robot = TestClient(app)
    robot.__enter__()
    robot.headers["Authorization"] = f"Bearer {key}"
    clients["robot"] = robot
    yield {"session": session, "clients": clients, "venue": site.venues[0], "settings": settings, "site": site, "people": people}
    for c in clients.values():
        c.__exit__(None, None, None)


def punch(no: str, minutes: float, kind: str) -> dict:
    return {"employee_no": no, "session": "CI-1", "kind": kind, "at": (START + timedelta(minutes=minutes)).isoformat(),
            "method": "face", "device_id": "ZK-001", "event_id": f"{no}-{kind}-{minutes}"}


def post_punches(room, events) -> None:
    resp = room["clients"]["robot"].post("/api/v1/attendance/events", json={"events": events})
    assert resp.status_code == 200 and resp.json()["accepted"] == len(events), resp.text


def rows(html: str) -> dict[str, dict[str, str]]:
    return {m[0]: {"state": m[1], "seconds": m[2]} for m in re.findall(r'data-employee="(\w+)" data-state="([\w-]+)" data-seconds="(\d+)"', html)}


@pytest.fixture
def punched(room):
    # T1 came 10 min late and is still in; T2 came, left 40 min later; T3 never came; M1 came and is in.
    post_punches(room, [punch("T1", 10, "in"), punch("T2", 5, "in"), punch("T2", 45, "out"), punch("M1", 0, "in")])
    return room


def test_board_shows_who_is_in_who_left_and_who_never_came(punched):
    resp = punched["clients"]["hr"].get("/attendance/sessions/CI-1")
    assert resp.status_code == 200
    got = rows(resp.text)
    assert {no: r["state"] for no, r in got.items()} == {"T1": "in", "T2": "left", "T3": "never-came", "M1": "in"}
    for text in ("出勤看板", "在场", "已离开", "未到", "已参与分钟", "参与率"):
        assert text in resp.text
    assert 'hx-trigger="every 10s"' in resp.text
    # T2 left at START + 45 min = 09:45 Shanghai time.
    row_t2 = resp.text.split('data-employee="T2"', 1)[1].split("</tr>", 1)[0]
    assert "09:45" in row_t2
    live = punched["clients"]["hr"].get("/attendance/sessions/CI-1/live")
    assert live.status_code == 200 and "<html" not in live.text and rows(live.text) == got


def test_after_the_end_nobody_is_in_the_room(punched, clock):
    clock.advance(hours=3)  # the session (2 h from START) has ended
    resp = punched["clients"]["hr"].get("/attendance/sessions/CI-1")
    got = rows(resp.text)
    # Who never checked out stayed to the end: they are no longer shown as in the room.
    assert {no: r["state"] for no, r in got.items()} == {"T1": "stayed", "T2": "left", "T3": "never-came", "M1": "stayed"}
    assert 'data-testid="count-in"' not in resp.text and "在场" not in resp.text
    assert re.search(r'data-testid="count-stayed">2<', resp.text) and "留到结束（未签退）" in resp.text


def test_minutes_so_far_are_rules_attended_with_the_window_ending_now(punched):
    got = rows(punched["clients"]["hr"].get("/attendance/sessions/CI-1").text)
    s = punched["session"]
    window = rules.Window(s.starts_at, NOW, s.missing_checkout_policy)
    t1 = rules.attended([rules.Punch(START + timedelta(minutes=10), "in")], window)
    t2 = rules.attended([rules.Punch(START + timedelta(minutes=5), "in"), rules.Punch(START + timedelta(minutes=45), "out")], window)
    assert int(got["T1"]["seconds"]) == t1.attended_seconds == 50 * 60
    assert int(got["T2"]["seconds"]) == t2.attended_seconds == 40 * 60
    assert got["T3"]["seconds"] == "0"


def test_a_manager_sees_only_their_department_and_english_renders(punched):
    resp = punched["clients"]["boss"].get("/attendance/sessions/CI-1?lang=en")
    assert resp.status_code == 200
    assert set(rows(resp.text)) == {"T1", "T2", "T3"}
    for text in ("Attendance board", "In the room", "Left", "Never came", "Participation so far"):
        assert text in resp.text


def _token(html: str) -> str:
    return re.search(r'data-token="([^"]+)"', html).group(1)


def test_qr_screen_and_partial_show_an_svg_with_a_valid_token(room):
    hr, s, key = room["clients"]["hr"], room["session"], room["settings"].secret_key
    for path in ("/attendance/sessions/CI-1/qr", "/attendance/sessions/CI-1/qr/current"):
        resp = hr.get(path)
        assert resp.status_code == 200
        assert "<svg" in resp.text and "cdn" not in resp.text.lower()
        token = _token(resp.text)
        step, problem = qr.verify(key, token, session_id=s.id, epoch_seconds=NOW.timestamp())
        assert problem is None and step == qr.step_at(NOW.timestamp())
        assert "/checkin?t=" in resp.text
    screen = hr.get("/attendance/sessions/CI-1/qr").text
    assert 'hx-get="/attendance/sessions/CI-1/qr/current"' in screen and "课堂互动技巧" in screen
    assert room["clients"]["t3"].get("/attendance/sessions/CI-1/qr").status_code == 403


def test_checkin_fallback_form_accepts_a_valid_token(room):
    t3 = room["clients"]["t3"]
    token = qr.issue(room["settings"].secret_key, room["session"].id, NOW.timestamp()).encode()
    page = t3.get(f"/checkin?t={token}")
    assert page.status_code == 200 and "课堂互动技巧" in page.text and "签到" in page.text and "签退" in page.text
    assert 'src="/static/js/checkin.js"' in page.text
    event_id = re.search(r'name="event_id" value="([^"]+)"', page.text).group(1)
    form = {"csrf_token": t3.headers["X-Test-CSRF"], "t": token, "kind": "in", "event_id": event_id}
    resp = t3.post("/checkin", data=form)
    assert resp.status_code == 200 and "签到成功" in resp.text
    again = t3.post("/checkin", data=form)  # the same form sent twice is one check-in
    assert "已记录" in again.text
    got = rows(room["clients"]["hr"].get("/attendance/sessions/CI-1").text)
    assert got["T3"]["state"] == "in"


def test_checkin_refuses_an_expired_token_with_the_translated_message(room):
    t3 = room["clients"]["t3"]
    old = qr.issue(room["settings"].secret_key, room["session"].id, NOW.timestamp() - 3 * qr.STEP_SECONDS).encode()
    assert "二维码已过期,请重新扫码" in t3.get(f"/checkin?t={old}").text
    resp = t3.post("/checkin", data={"csrf_token": t3.headers["X-Test-CSRF"], "t": old, "kind": "in", "event_id": "e-old"})
    assert "二维码已过期,请重新扫码" in resp.text and "签到成功" not in resp.text
    assert rows(room["clients"]["hr"].get("/attendance/sessions/CI-1").text)["T3"]["state"] == "never-came"
    forged = t3.get(f"/checkin?t=tq1.{room['session'].id}.1.AAAA")
    assert "这不是有效的签到二维码" in forged.text


@pytest.mark.parametrize("token", ["tq1.12345678901234567890123.1.AAAA", f"tq1.{2**31}.1.AAAA", "tq1.².1.AAAA", "tq1.1.²³.AAAA", "x.1.2", "tq1..1.A"])
def test_a_token_naming_no_possible_session_is_an_invalid_code_not_an_error(room, token):
    """Any employee can open the page: a session id beyond 64 bits in the token made it a 500."""
    t3 = room["clients"]["t3"]
    page = t3.get("/checkin", params={"t": token})
    assert page.status_code == 200 and "这不是有效的签到二维码" in page.text
    resp = t3.post("/checkin", data={"csrf_token": t3.headers["X-Test-CSRF"], "t": token, "kind": "in", "event_id": "e-bad"})
    assert resp.status_code == 422 and "这不是有效的签到二维码" in resp.text


def test_a_scanned_token_in_odd_digits_is_rejected_per_event_not_an_error(room):
    robot = room["clients"]["robot"]
    event = {**punch("T3", 5, "in"), "method": "qr", "qr_token": f"tq1.{room['session'].id}.²³.AAAA", "at": NOW.isoformat(), "device_id": None}
    resp = robot.post("/api/v1/attendance/events", json=event)
    assert resp.status_code == 200 and [(r["status"], r["reason_code"]) for r in resp.json()["results"]] == [("rejected", "qr-malformed")]


def test_a_refused_check_in_sent_again_is_still_refused_with_its_reason(room, db):
    room["session"].checkin_methods = ["face"]
    db.commit()
    t3 = room["clients"]["t3"]
    token = qr.issue(room["settings"].secret_key, room["session"].id, NOW.timestamp()).encode()
    form = {"csrf_token": t3.headers["X-Test-CSRF"], "t": token, "kind": "in", "event_id": "e-twice"}
    for _ in range(2):  # the second is a repeat of the stored rejection
        resp = t3.post("/checkin", data=form)
        assert "本场次不支持此签到方式" in resp.text and "已记录" not in resp.text


def test_checkin_needs_a_login_and_keeps_the_token(room):
    resp = room["clients"]["anonymous"].get("/checkin?t=tq1.1.2.abc", follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"] == "/login?next=%2Fcheckin%3Ft%3Dtq1.1.2.abc"


def test_history_scope_and_figures(punched, clock):
    c = punched["clients"]
    # While the session runs its stored figures are not final: shown as in progress, not counted.
    running = c["boss"].get("/attendance/employees/T2").text
    assert 'data-held="running"' in running and "进行中" in running and "history-chart-data" not in running
    assert re.search(r'data-testid="sessions">0<', running) and "另有 1 场尚未举行" in running
    clock.advance(hours=3)
    own = c["t3"].get("/attendance/me")
    # T3 has not punched, so no figures are stored for them yet.
    assert own.status_code == 200 and "我的出勤" in own.text and "暂无出勤记录" in own.text
    assert c["t3"].get("/attendance/employees/T3").status_code == 200
    assert c["t3"].get("/attendance/employees/T1").status_code == 404
    assert c["boss"].get("/attendance/employees/M1").status_code == 404
    t2 = c["boss"].get("/attendance/employees/T2")
    assert t2.status_code == 200 and "/static/vendor/echarts.min.js" in t2.text and "history-chart-data" in t2.text
    # Stored figures run to the scheduled end: 40 of 120 minutes.
    row = t2.text.split('data-session="CI-1"', 1)[1].split("</tr>", 1)[0]
    assert "40 / 120" in row and "33%" in row
    en = c["hr"].get("/attendance/employees/M1?lang=en")
    assert en.status_code == 200 and "Attendance record" in en.text and "Participation" in en.text
    assert c["hr"].get("/attendance/me").status_code == 404  # HR's account is no employee


def test_a_session_not_held_yet_is_no_zero_in_the_history(room, db, clock):
    later = make_session(db, program=room["session"].program, code="CI-2", starts_at=START + timedelta(days=7), hours=2, site=room["site"])
    db.add(AttendanceRecord(session_id=later.id, employee_id=room["people"]["T1"].id, attended_seconds=0, scheduled_seconds=7200, participation=0.0,
                            late_seconds=0, early_leave_seconds=0, flags=[], computed_at=NOW))
    db.commit()
    clock.advance(hours=3)  # CI-1 has ended; CI-2 is a week away
    post_punches(room, [punch("T1", 0, "in"), punch("T1", 100, "out")])  # CI-1: 100 of 120 minutes
    page = room["clients"]["hr"].get("/attendance/employees/T1").text
    row = page.split('data-session="CI-2"', 1)[1].split("</tr>", 1)[0]
    assert 'data-held="upcoming"' in row and "尚未举行" in row and "0%" not in row
    assert re.search(r'data-testid="overall">83%<', page) and re.search(r'data-testid="sessions">1<', page)  # 100 / 120, CI-2 not counted
    assert "CI-2" not in page.split('id="history-chart-data">', 1)[1].split("</script>", 1)[0]  # not on the chart either


def test_nav_shows_my_attendance(room):
    assert 'href="/attendance/me"' in room["clients"]["t3"].get("/attendance/me").text


def test_the_board_exports_what_it_shows(punched):
    import io

    from openpyxl import load_workbook

    hr = punched["clients"]["hr"]
    assert 'href="/attendance/sessions/CI-1/export.xlsx"' in hr.get("/attendance/sessions/CI-1").text
    sheet = load_workbook(io.BytesIO(hr.get("/attendance/sessions/CI-1/export.xlsx").content))["出勤看板"]
    header, *rows = list(sheet.iter_rows(values_only=True))
    by_no = {r[0]: dict(zip(header, r, strict=True)) for r in rows}
    assert set(by_no) == {"T1", "T2", "T3", "M1"}
    assert by_no["T2"]["状态"] == "已离开" and by_no["T2"]["离开时间（Asia/Shanghai）"].strftime("%H:%M") == "09:45"
    assert by_no["T3"]["状态"] == "未到"
    english = load_workbook(io.BytesIO(hr.get("/attendance/sessions/CI-1/export.xlsx", params={"lang": "en"}).content))
    assert english.sheetnames == ["Attendance board"]
