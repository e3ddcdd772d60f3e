"""The slot finder over the API: ranked around teaching timetables and other trainings, and the cover plan."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient

from tests.conftest import NOW, make_api_key, make_department, make_employee, make_site
from tests.integration.training.conftest import make_program, make_session
from trainquant.org.models import WeeklySlot
from trainquant.training.models import Enrolment

SH = ZoneInfo("Asia/Shanghai")
TUESDAY = date(2026, 9, 8)


@pytest.fixture
def api(app, db, client):
    site = make_site(db, code="BJ")
    teach = make_department(db, code="TEACH", kind="teaching")
    mkt = make_department(db, code="MKT", kind="marketing")
    t1 = make_employee(db, employee_no="T1", department=teach, site=site)
    t2 = make_employee(db, employee_no="T2", department=teach, site=site)
    make_employee(db, employee_no="M1", department=mkt, site=site)
    for emp, (a, b) in ((t1, (9, 12)), (t1, (18, 21)), (t2, (10, 12)), (t2, (16, 18))):
        db.add(WeeklySlot(employee_id=emp.id, weekday=1, start_time=time(a), end_time=time(b), valid_from=date(2026, 1, 1), course="IELTS"))
    other = make_session(db, program=make_program(db, code="X"), code="X-1", starts_at=datetime.combine(TUESDAY, time(13), SH), hours=1, site=site)
    db.add(Enrolment(session_id=other.id, employee_id=t2.id, status="approved", source="hr", created_at=NOW, updated_at=NOW))
    make_program(db, code="CI", target_kinds=["teaching"])
    key = make_api_key(db, scopes=["training:manage", "training:read"])
    weak = make_api_key(db, scopes=["training:read"], name="reader")
    db.commit()
    client.headers["Authorization"] = f"Bearer {key}"
    reader = TestClient(app).__enter__()
    reader.headers["Authorization"] = f"Bearer {weak}"
    yield {"client": client, "reader": reader}
    reader.__exit__(None, None, None)


def body(**kw):
    return {"program": "CI", "length_minutes": 120, "date_from": TUESDAY.isoformat(), "date_to": TUESDAY.isoformat(), **kw}


def test_slots_avoid_classes_and_other_trainings(api):
    got = api["client"].post("/api/v1/scheduling/slots", json=body(limit=50))
    assert got.status_code == 200, got.text
    data = got.json()
    assert data["group_size"] == 2
    best = data["slots"][0]
    assert best["free_count"] == 2 and best["local_start"] == "2026-09-08 14:00"  # 13:00 is T2's other training
    by_start = {s["local_start"]: s for s in data["slots"]}
    thirteen = by_start["2026-09-08 13:00"]
    assert thirteen["free"] == ["T1"] and thirteen["missing"][0]["reason"] == "training" and thirteen["missing"][0]["label"] == "X-1"
    nine = by_start["2026-09-08 09:00"]
    assert {m["employee_no"]: m["reason"] for m in nine["missing"]} == {"T1": "teaching", "T2": "teaching"}
    assert api["client"].post("/api/v1/scheduling/slots", json=body(limit=50)).json() == data  # deterministic


def test_cover_and_validation(api):
    plan = api["client"].post("/api/v1/scheduling/cover", json=body(capacity=1, department_kinds=["marketing"])).json()
    assert plan["group_size"] == 3 and len(plan["sessions"]) == 3 and plan["optimal"] and plan["lower_bound"] == 3
    assert sorted(no for s in plan["sessions"] for no in s["employee_nos"]) == ["M1", "T1", "T2"]
    one = api["client"].post("/api/v1/scheduling/cover", json=body(capacity=30)).json()
    assert len(one["sessions"]) == 1 and one["sessions"][0]["local_start"] == "2026-09-08 14:00"
    assert api["client"].post("/api/v1/scheduling/slots", json=body(date_to="2026-09-01")).status_code == 422
    assert api["client"].post("/api/v1/scheduling/slots", json=body(program="NOPE")).status_code == 404
    assert api["reader"].post("/api/v1/scheduling/slots", json=body()).status_code == 403


def test_the_slot_finder_page_says_why_a_search_is_refused_in_the_pages_language(app, db, api):
    from tests.conftest import login, make_user

    make_user(db, username="hr1", role="hr")
    db.commit()
    with TestClient(app) as browser:
        login(browser, "hr1")
        page = browser.get("/scheduling", params={"program": "CI", "date_from": "2026-09-10", "date_to": "2026-09-01", "lang": "zh_CN"})
    assert page.status_code == 200
    assert "日期范围的结束早于开始" in page.text and "ends before it starts" not in page.text


def test_a_smallest_group_over_the_api_and_the_page_offers_to_create_each_session(app, db, api):
    from tests.conftest import login, make_user

    few = api["client"].post("/api/v1/scheduling/cover", json=body(capacity=30, min_group=3)).json()
    assert few["sessions"] == [] and sorted(few["too_few"]) == ["T1", "T2"]  # two teachers: no group of 3
    bad = api["client"].post("/api/v1/scheduling/cover", json=body(capacity=2, min_group=3))
    assert bad.status_code == 422
    make_user(db, username="hr2", role="hr")
    db.commit()
    with TestClient(app) as browser:
        login(browser, "hr2")
        page = browser.get("/scheduling", params={"program": "CI", "date_from": TUESDAY.isoformat(), "date_to": TUESDAY.isoformat(),
                                                  "min_group": "2", "lang": "zh_CN"}).text
    assert 'data-testid="plan-create"' in page and "starts=2026-09-08T14%3A00" in page and "people=T1%20T2" in page
    assert 'data-testid="slot-create"' in page and "创建该场次" in page
