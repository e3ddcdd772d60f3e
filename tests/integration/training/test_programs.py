"""Programs and sessions through the API: create, read, change, retire, cancel; bad input is a clear 4xx."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import make_employee
from tests.integration.training.conftest import make_program, make_session, problem
from trainquant.org.models import Department
from trainquant.training.models import Program, TrainingSession

PROGRAM = {
    "code": "CI", "title": "课堂互动技巧", "title_en": "Classroom interaction", "kind": "offline", "level": "advanced",
    "target_kinds": ["teaching"], "tags": ["classroom-interaction"], "planned_hours": 10,
    "eligibility": {"department_kinds": ["teaching"], "hired_at_least_days": 0}, "requires_approval": True,
}


def session_body(**kw) -> dict:
    body = {
        "program_code": "CI", "starts_at": "2026-09-08T14:00:00+08:00", "ends_at": "2026-09-08T16:00:00+08:00",
        "site_code": "BJ", "venue": "Room 1", "trainer": "王老师", "capacity": 20, "checkin_methods": ["face", "geo"],
    }
    body.update(kw)
    return body


@pytest.fixture
def ci(school):
    got = school.call("hr", "POST", "/api/v1/programs", PROGRAM)
    assert got.status_code == 201, got.text
    return got.json()


def test_create_and_read_a_program(school, ci):
    assert ci["eligibility"] == {"department_kinds": ["teaching"], "hired_at_least_days": 0}
    assert (ci["active"], ci["sessions"], ci["title"]) == (True, 0, "课堂互动技巧")
    listed = school.call("t1", "GET", "/api/v1/programs", params={"tag": "classroom-interaction"}).json()
    assert [p["code"] for p in listed["items"]] == ["CI"]
    assert school.call("t1", "GET", "/api/v1/programs", params={"target_kind": "marketing"}).json()["total"] == 0
    assert school.call("t1", "GET", "/api/v1/programs", params={"q": "互动"}).json()["total"] == 1
    changed = school.call("hr", "PATCH", "/api/v1/programs/CI", {"title": "课堂互动技巧（进阶）", "trainer_employee_no": "T2"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["title"], changed.json()["trainer"], changed.json()["trainer_employee_no"]) == ("课堂互动技巧（进阶）", "韩梅梅", "T2")


@pytest.mark.parametrize(
    "change,field",
    [
        ({"kind": "hybrid"}, "kind"),
        ({"code": "C I"}, "code"),
        ({"planned_hours": -1}, "planned_hours"),
        ({"unexpected": 1}, "unexpected"),
        ({"eligibility": {"department_kinds": ["sales"]}}, "eligibility.department_kinds"),
        ({"eligibility": {"hired_within_days": 10, "hired_at_least_days": 20}}, "eligibility"),
        ({"eligibility": {"prerequisites": ["NOPE"]}}, "eligibility.prerequisites"),
        ({"eligibility": {"prerequisites": ["CI"]}}, "eligibility.prerequisites"),
        ({"eligibility": {"colour": "red"}}, "eligibility.colour"),
        ({"trainer_employee_no": "NOPE"}, "trainer_employee_no"),
        ({"title": ""}, "title"),
    ],
)
def test_bad_programs(school, db, change, field):
    got = problem(school.call("hr", "POST", "/api/v1/programs", {**PROGRAM, **change}), 422)
    assert any((e["field"] or "").startswith(field) for e in got["errors"]), got
    assert db.scalar(select(func.count(Program.id))) == 0


def test_program_conflicts_retire_and_delete(school, ci, db):
    problem(school.call("hr", "POST", "/api/v1/programs", PROGRAM), 409)
    retired = school.call("hr", "POST", "/api/v1/programs/CI/retire")
    assert retired.json()["active"] is False
    problem(school.call("hr", "POST", "/api/v1/programs/CI/retire"), 409)
    assert "retired" in problem(school.call("hr", "POST", "/api/v1/sessions", session_body()), 409)["detail"]
    assert school.call("hr", "GET", "/api/v1/programs", params={"active": "true"}).json()["total"] == 0
    make_session(db, program=db.scalar(select(Program).where(Program.code == "CI")))
    db.commit()
    assert "retire it instead" in problem(school.call("hr", "DELETE", "/api/v1/programs/CI"), 409)["detail"]
    school.call("hr", "POST", "/api/v1/programs", {**PROGRAM, "code": "GONE"})
    assert school.call("hr", "DELETE", "/api/v1/programs/GONE").status_code == 204
    problem(school.call("hr", "GET", "/api/v1/programs/GONE"), 404)


def test_schedule_a_session(school, ci):
    got = school.call("hr", "POST", "/api/v1/sessions", session_body())
    assert got.status_code == 201, got.text
    s = got.json()
    assert (s["code"], s["sequence"], s["site_code"], s["venue"], s["online"]) == ("CI-1", 1, "BJ", "Room 1", False)
    assert s["starts_at"].startswith("2026-09-08T06:00:00")  # stored in UTC
    assert (s["min_participation"], s["missing_checkout_policy"], s["seats_left"]) == (0.8, "credit-to-end", 20)
    second = school.call("hr", "POST", "/api/v1/sessions", session_body(starts_at="2026-09-15T14:00:00+08:00", ends_at="2026-09-15T16:00:00+08:00"))
    assert (second.json()["code"], second.json()["sequence"]) == ("CI-2", 2)
    online = school.call("hr", "POST", "/api/v1/sessions", session_body(
        code="CI-ONLINE", online=True, site_code=None, venue=None, checkin_methods=None, trainer="李老师",
        starts_at="2026-09-08T14:00:00+08:00", ends_at="2026-09-08T15:00:00+08:00"))
    assert online.status_code == 201, online.text
    assert online.json()["checkin_methods"] == []
    program = school.call("t1", "GET", "/api/v1/programs/CI").json()
    assert program["sessions"] == 3
    listed = school.call("t1", "GET", "/api/v1/sessions", params={"program": "CI", "starts_from": "2026-09-10T00:00:00Z"}).json()
    assert [x["code"] for x in listed["items"]] == ["CI-2"]


@pytest.mark.parametrize(
    "change,status,field",
    [
        ({"ends_at": "2026-09-08T13:00:00+08:00"}, 422, "ends_at"),  # ends before it starts
        ({"ends_at": "2026-09-08T14:00:00+08:00"}, 422, "ends_at"),
        ({"starts_at": "2026-09-08T14:00:00"}, 422, "starts_at"),  # no UTC offset
        ({"venue": "Room 9"}, 422, "venue"),  # not in that site
        ({"site_code": None}, 422, "venue"),  # a venue without its site
        ({"site_code": "SH"}, 422, "site_code"),
        ({"site_code": None, "venue": None}, 422, "site_code"),  # offline needs a place
        ({"checkin_methods": ["face", "telepathy"]}, 422, "checkin_methods"),
        ({"checkin_methods": ["qr", "qr"]}, 422, "checkin_methods"),
        ({"checkin_methods": ["geo"], "venue": None}, 422, "checkin_methods"),  # a geofence needs coordinates
        ({"capacity": 0}, 422, "capacity"),
        ({"min_participation": 1.5}, 422, "min_participation"),
        ({"missing_checkout_policy": "ignore"}, 422, "missing_checkout_policy"),
        ({"program_code": "NOPE"}, 422, "program_code"),
        ({"trainer_employee_no": "NOPE"}, 422, "trainer_employee_no"),
    ],
)
def test_bad_sessions(school, ci, db, change, status, field):
    got = problem(school.call("hr", "POST", "/api/v1/sessions", session_body(**change)), status)
    assert any((e["field"] or "").startswith(field) for e in got.get("errors", [])), got
    assert db.scalar(select(func.count(TrainingSession.id))) == 0


def test_the_same_trainer_cannot_be_in_two_places(school, ci, db):
    assert school.call("hr", "POST", "/api/v1/sessions", session_body()).status_code == 201
    overlapping = session_body(code="CI-X", venue="Room 2", starts_at="2026-09-08T15:00:00+08:00", ends_at="2026-09-08T17:00:00+08:00")
    got = problem(school.call("hr", "POST", "/api/v1/sessions", overlapping), 409)
    assert got["clashing_session"] == "CI-1" and "trainer already teaches" in got["detail"]
    problem(school.call("hr", "POST", "/api/v1/sessions", {**overlapping, "trainer": " 王老师 "}), 409)  # same name
    assert school.call("hr", "POST", "/api/v1/sessions", {**overlapping, "trainer": "李老师"}).status_code == 201
    back_to_back = session_body(code="CI-Y", starts_at="2026-09-08T16:00:00+08:00", ends_at="2026-09-08T17:00:00+08:00")
    assert school.call("hr", "POST", "/api/v1/sessions", back_to_back).status_code == 201
    # By employee: the program's trainer is an employee; a session of another program at the same time clashes.
    trainer = make_employee(db, employee_no="TR", department=db.scalar(select(Department).where(Department.code == "TEACH")), name="陈培训")
    other = make_program(db, code="GR")
    db.commit()
    assert school.call("hr", "PATCH", "/api/v1/programs/GR", {"trainer_employee_no": "TR"}).status_code == 200
    first = school.call("hr", "POST", "/api/v1/sessions", session_body(program_code="GR", code="GR-1", trainer=None, venue="Room 2", starts_at="2026-09-09T09:00:00+08:00", ends_at="2026-09-09T11:00:00+08:00"))
    assert first.status_code == 201 and first.json()["trainer_employee_no"] == "TR"
    clash = session_body(program_code="CI", code="CI-Z", trainer="别名", trainer_employee_no="TR", starts_at="2026-09-09T10:00:00+08:00", ends_at="2026-09-09T12:00:00+08:00")
    assert problem(school.call("hr", "POST", "/api/v1/sessions", clash), 409)["clashing_session"] == "GR-1"
    # Moving a session onto another of the trainer's is refused too; a cancelled one frees the trainer.
    problem(school.call("hr", "PATCH", "/api/v1/sessions/CI-Y", {"starts_at": "2026-09-08T15:30:00+08:00"}), 409)
    school.call("hr", "POST", "/api/v1/sessions/CI-1/cancel", {"reason": "改期"})
    assert school.call("hr", "PATCH", "/api/v1/sessions/CI-Y", {"starts_at": "2026-09-08T15:30:00+08:00"}).status_code == 200
    assert other.code == "GR" and trainer.name == "陈培训"


def test_a_room_cannot_hold_two_sessions_at_once(school, ci, db):
    assert school.call("hr", "POST", "/api/v1/sessions", session_body()).status_code == 201  # CI-1, Room 1, 14:00-16:00
    # Another trainer, the same room, an overlapping hour: refused, with the clashing session and its local time.
    same_room = session_body(code="CI-R", trainer="李老师", starts_at="2026-09-08T15:00:00+08:00", ends_at="2026-09-08T17:00:00+08:00")
    got = problem(school.call("hr", "POST", "/api/v1/sessions", same_room), 409)
    assert got["code"] == "venue-busy" and got["clashing_session"] == "CI-1" and got["errors"][0]["field"] == "venue"
    assert "2026-09-08 14:00" in got["detail"] and "16:00 (Asia/Shanghai)" in got["detail"]
    # Back to back, another room, or online at the same hour: accepted.
    assert school.call("hr", "POST", "/api/v1/sessions", {**same_room, "code": "CI-B", "starts_at": "2026-09-08T16:00:00+08:00"}).status_code == 201
    assert school.call("hr", "POST", "/api/v1/sessions", {**same_room, "code": "CI-2R", "venue": "Room 2", "trainer": "孙老师"}).status_code == 201
    online = {**same_room, "code": "CI-ON", "trainer": "赵老师", "online": True, "checkin_methods": []}
    assert school.call("hr", "POST", "/api/v1/sessions", online).status_code == 201
    # Moving a session into the booked room is refused; cancelling the booking frees it.
    assert problem(school.call("hr", "PATCH", "/api/v1/sessions/CI-2R", {"venue": "Room 1", "site_code": "BJ"}), 409)["code"] == "venue-busy"
    school.call("hr", "POST", "/api/v1/sessions/CI-1/cancel", {"reason": "改期"})
    assert school.call("hr", "PATCH", "/api/v1/sessions/CI-2R", {"venue": "Room 1", "site_code": "BJ", "ends_at": "2026-09-08T16:00:00+08:00"}).status_code == 200


def test_change_cancel_and_delete_sessions(school, ci, db):
    school.call("hr", "POST", "/api/v1/sessions", session_body())
    moved = school.call("hr", "PATCH", "/api/v1/sessions/CI-1", {"venue": "Room 2", "site_code": "BJ", "min_participation": 0.9})
    assert moved.status_code == 200 and moved.json()["venue"] == "Room 2" and moved.json()["min_participation"] == 0.9
    problem(school.call("hr", "PATCH", "/api/v1/sessions/CI-1", {"ends_at": "2026-09-08T13:00:00+08:00"}), 422)
    problem(school.call("hr", "PATCH", "/api/v1/sessions/CI-1", {"starts_at": None}), 422)
    problem(school.call("hr", "POST", "/api/v1/sessions/CI-1/cancel", {}), 422)  # a reason is needed
    cancelled = school.call("hr", "POST", "/api/v1/sessions/CI-1/cancel", {"reason": "讲师生病"}).json()
    assert (cancelled["status"], cancelled["cancel_reason"]) == ("cancelled", "讲师生病")
    problem(school.call("hr", "PATCH", "/api/v1/sessions/CI-1", {"capacity": 5}), 409)
    school.call("hr", "POST", "/api/v1/sessions", session_body(code="CI-2", starts_at="2026-09-20T10:00:00+08:00", ends_at="2026-09-20T12:00:00+08:00"))
    assert school.call("hr", "DELETE", "/api/v1/sessions/CI-2").status_code == 204
    school.call("t1", "POST", "/api/v1/enrolments/request", {"session_code": "CI-1"})
    problem(school.call("hr", "GET", "/api/v1/sessions/CI-2"), 404)


def test_an_ended_session_cannot_be_cancelled(school, db, clock):
    program = make_program(db, code="OLD")
    make_session(db, program=program)
    db.commit()
    clock.advance(days=30)
    problem(school.call("hr", "POST", "/api/v1/sessions/OLD-1/cancel", {"reason": "x"}), 422)
