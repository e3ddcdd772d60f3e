"""A person in two sessions at once: asked, not refused (409 person-busy naming the other sessions,
then allow_overlap to go ahead), through the API and on the pages, HR's and the employee's."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.integration.training.conftest import make_program, make_session, problem
from trainquant.training.models import Enrolment

START = NOW + timedelta(days=7)


@pytest.fixture
def two(db, school):
    first = make_session(db, program=make_program(db, code="CI", title="课堂互动技巧"), capacity=5, site=school.site, starts_at=START)
    second = make_session(db, program=make_program(db, code="IS", title="雅思口语"), capacity=5, site=school.site, starts_at=START + timedelta(hours=1))
    after = make_session(db, program=make_program(db, code="AF", title="课后复盘"), capacity=5, site=school.site, starts_at=START + timedelta(hours=3))
    db.commit()
    return first, second, after


def _enrol(school, no: str, code: str, **extra):
    return school.call("hr", "POST", "/api/v1/enrolments/hr-enrol", {"session_code": code, "employee_no": no, **extra})


def test_an_overlap_is_asked_about_and_confirmed(school, two, db):
    assert _enrol(school, "T1", "CI-1").status_code == 201
    busy = problem(_enrol(school, "T1", "IS-1"), 409)
    assert busy["code"] == "person-busy" and busy["clashing_sessions"] == ["CI-1"] and busy["errors"][0]["field"] == "allow_overlap"
    assert db.scalar(select(Enrolment).join(Enrolment.session).where(Enrolment.session.has(code="IS-1"))) is None  # nothing stored
    allowed = _enrol(school, "T1", "IS-1", allow_overlap=True)
    assert allowed.status_code == 201 and allowed.json()["exceptions"] == ["overlap-allowed"]
    page = school.clients["hr"].get("/training/sessions/IS-1").text
    row = page.split('data-employee="T1"', 1)[1].split("</tr>", 1)[0]
    assert 'data-exception="overlap-allowed"' in row and "特批：时间重叠" in row
    # Back to back is no overlap (IS-1 ends as AF-1 starts); another person is not asked.
    assert _enrol(school, "T1", "AF-1").status_code == 201
    plain = _enrol(school, "T2", "IS-1")
    assert plain.status_code == 201 and plain.json()["exceptions"] == []  # an ordinary enrolment carries no mark


def test_a_cancelled_enrolment_or_session_no_longer_overlaps(school, two, db):
    first, second, _ = two
    assert _enrol(school, "T1", "CI-1").status_code == 201
    row = db.scalar(select(Enrolment).where(Enrolment.session_id == first.id))
    assert school.call("hr", "POST", f"/api/v1/enrolments/{row.id}/cancel", {"reason": "改期"}).status_code == 200
    assert _enrol(school, "T1", "IS-1").status_code == 201
    # The employee's own request is asked the same way.
    got = problem(school.call("t1", "POST", "/api/v1/enrolments/request", {"session_code": "CI-1"}), 409)
    assert got["code"] == "person-busy" and got["clashing_sessions"] == ["IS-1"]
    assert school.call("t1", "POST", "/api/v1/enrolments/request", {"session_code": "CI-1", "allow_overlap": True}).status_code == 201
    assert second.code == "IS-1"


def _form(school, who: str, path: str, data: dict):
    return school.clients[who].post(path, data={"csrf_token": school.headers[who]["X-CSRF-Token"], **data}, follow_redirects=False)


def test_the_pages_ask_and_enrol_anyway(school, two):
    assert _enrol(school, "T1", "CI-1").status_code == 201
    page = _form(school, "hr", "/training/sessions/IS-1/enrol", {"employee_no": "T1"})
    assert page.status_code == 409 and "T1 已报名时间重叠的场次 CI-1。" in page.text and 'data-testid="overlap-confirm"' in page.text
    done = _form(school, "hr", "/training/sessions/IS-1/enrol", {"employee_no": "T1", "allow_overlap": "1"})
    assert done.status_code == 303
    # The employee's request: the page says why and offers to send it anyway.
    assert _form(school, "t2", "/my/trainings/request", {"session_code": "CI-1"}).status_code == 303  # nothing else at that time
    mine = _form(school, "t2", "/my/trainings/request", {"session_code": "IS-1", "reason": "想两门都上"})
    assert mine.status_code == 409 and 'data-testid="overlap-confirm"' in mine.text and "仍然申请" in mine.text
    assert 'name="reason" value="想两门都上"' in mine.text
    again = _form(school, "t2", "/my/trainings/request", {"session_code": "IS-1", "reason": "想两门都上", "allow_overlap": "1"})
    assert again.status_code == 303


def test_moving_a_session_with_enrolments_into_the_past_asks_first(school, two):
    assert _enrol(school, "T1", "CI-1").status_code == 201
    past = {"starts_at": (NOW - timedelta(days=3)).isoformat(), "ends_at": (NOW - timedelta(days=3) + timedelta(hours=2)).isoformat()}
    asked = problem(school.call("hr", "PATCH", "/api/v1/sessions/CI-1", past), 409)
    assert asked["code"] == "moves-into-past" and asked["enrolments"] == 1 and asked["errors"][0]["field"] == "starts_at"
    assert school.call("hr", "PATCH", "/api/v1/sessions/CI-1", {**past, "confirm_past": True}).status_code == 200
    # A session nobody is enrolled in moves without asking; a later date never asks.
    assert school.call("hr", "PATCH", "/api/v1/sessions/AF-1", past).status_code == 200
    later = (START + timedelta(days=30)).isoformat()
    assert school.call("hr", "PATCH", "/api/v1/sessions/IS-1", {"starts_at": later, "ends_at": (START + timedelta(days=30, hours=2)).isoformat()}).status_code == 200
