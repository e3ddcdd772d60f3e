"""The review queue, the alert inbox and the slot finder render in Chinese and English; rows swap in place."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import (
    NOW,
    login,
    make_department,
    make_employee,
    make_site,
    make_user,
)
from tests.integration.training.conftest import make_program, make_session
from trainquant.alerts.models import Alert
from trainquant.attendance.models import ProxyCase


@pytest.fixture
def hr(db, client):
    site = make_site(db, code="BJ")
    dep = make_department(db, code="TEACH", kind="teaching", name="教学部")
    t1 = make_employee(db, employee_no="T1", department=dep, site=site, name="李雷")
    s = make_session(db, program=make_program(db, code="CI", target_kinds=["teaching"]), code="CI-1", starts_at=NOW - timedelta(hours=3), site=site)
    db.add(ProxyCase(session_id=s.id, signal="shared-device", fingerprint="P:1:1", score=0.8, employee_ids=[t1.id], event_ids=[], detail="device P checked in 2 people within 10 s", status="open", created_at=NOW))
    db.add(Alert(kind="low-participation", fingerprint=f"lp:{s.id}:{t1.id}", employee_id=t1.id, department_id=dep.id, session_id=s.id, value=0.5, threshold=0.8,
                 cause="timetable-conflict", detail="李雷 attended 60 of 120 min", suggestion={"next_clashing_sessions": [{"code": "CI-2", "starts_at": "x"}], "move_to": {"code": "CI-3", "starts_at": "y"}},
                 status="open", created_at=NOW))
    make_user(db, username="hr", role="hr")
    make_user(db, username="t1", role="employee", employee=t1)
    db.commit()
    token = login(client, "hr")
    return token


@pytest.mark.parametrize(("lang", "words"), [
    ("zh_CN", ["疑似代签", "一台设备签到多人", "参与度预警", "课表冲突", "排课助手"]),
    ("en", ["Proxy review", "One device, several people", "Participation alerts", "Timetable conflict", "Slot finder"]),
])
def test_pages_render(client, hr, lang, words):
    text = client.get("/attendance/review", params={"lang": lang}).text + client.get("/alerts", params={"lang": lang}).text
    text += client.get("/scheduling", params={"lang": lang, "department_kind": "teaching", "date_from": "2026-09-08", "date_to": "2026-09-09"}).text
    for w in words:
        assert w in text, w
    assert "CI-3" in text  # the suggestion to move


def test_rows_swap_in_place(client, hr, db):
    case_id = db.query(ProxyCase.id).scalar()
    htmx = {"HX-Request": "true", "X-CSRF-Token": hr}
    row = client.post(f"/attendance/review/{case_id}/confirm", data={"note": ""}, headers=htmx)
    assert row.status_code == 200 and 'role="alert"' in row.text  # a confirmation needs a note
    row = client.post(f"/attendance/review/{case_id}/clear", data={"note": "checked with the trainer"}, headers=htmx)
    assert row.status_code == 200 and row.text.lstrip().startswith("<tr") and "checked with the trainer" in row.text
    again = client.post(f"/attendance/review/{case_id}/confirm", data={"note": "x"}, headers=htmx)
    assert 'role="alert"' in again.text
    alert_id = db.query(Alert.id).scalar()
    row = client.post(f"/alerts/{alert_id}/acknowledge", data={}, headers=htmx)
    assert row.status_code == 200 and 'data-testid="resolve"' in row.text and 'data-testid="acknowledge"' not in row.text


def test_pages_need_the_permission(client, hr):
    client.post("/logout", data={"csrf_token": hr})
    login(client, "t1")
    for path in ("/attendance/review", "/alerts", "/scheduling"):
        assert client.get(path).status_code == 403, path


def test_the_review_says_its_evidence_and_errors_in_the_readers_language_and_zone(client, hr, db):
    case = db.query(ProxyCase).one()
    case.signal, case.evidence = "timetable-contradiction", {"kind": "in", "at": "2026-09-01T01:10:00+00:00", "class_start": "2026-09-01T00:30:00+00:00",
                                                             "class_end": "2026-09-01T02:00:00+00:00", "course": "雅思口语"}
    db.commit()
    zh = client.get("/attendance/review").text
    assert "09-01 09:10 签到，而课表显示此时在上课 09-01 08:30–10:00（Asia/Shanghai） · 雅思口语" in zh
    assert "2026-09-01 10:00" in zh  # raised at NOW (02:00 UTC), on the school's clock
    en = client.get("/attendance/review", params={"lang": "en"}).text
    assert "check-in at 09-01 09:10 while teaching 09-01 08:30–10:00 (Asia/Shanghai)" in en
    row = client.post(f"/attendance/review/{case.id}/confirm", params={"lang": "zh_CN"}, data={"note": ""},
                      headers={"HX-Request": "true", "X-CSRF-Token": hr})
    assert "确认案例需要填写说明" in row.text and "needs a note" not in row.text
