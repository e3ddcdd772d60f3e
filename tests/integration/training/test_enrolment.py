"""Enrolment through the API: every transition, refusals with the right status, seats, waiting list, history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.integration.training.conftest import make_program, make_session, problem
from trainquant.training.models import Enrolment, EnrolmentEvent


@pytest.fixture
def course(db, school):
    program = make_program(db, code="CI", title="课堂互动技巧")
    session = make_session(db, program=program, capacity=2, site=school.site)
    db.commit()
    return session


def request(school, who: str, session: str = "CI-1", **body):
    return school.call(who, "POST", "/api/v1/enrolments/request", {"session_code": session, **body})


def enrol(school, employee_no: str, session: str = "CI-1", who: str = "hr", **body):
    return school.call(who, "POST", "/api/v1/enrolments/hr-enrol", {"session_code": session, "employee_no": employee_no, **body})


def post(school, who: str, enrolment_id: int, action: str, body=None):
    return school.call(who, "POST", f"/api/v1/enrolments/{enrolment_id}/{action}", body)


def history(db, enrolment_id: int) -> list[tuple]:
    events = db.scalars(select(EnrolmentEvent).where(EnrolmentEvent.enrolment_id == enrolment_id).order_by(EnrolmentEvent.id))
    return [(e.from_status, e.to_status, e.actor, e.reason) for e in events]


# ---------------------------------------------------------------- the happy paths, with their history


def test_request_approve_cancel_and_request_again(school, course, db):
    got = request(school, "t1", reason="想提高课堂互动")
    assert got.status_code == 201, got.text
    body = got.json()
    assert (body["status"], body["source"], body["employee_no"], body["program_code"]) == ("requested", "self", "T1", "CI")
    eid = body["id"]
    approved = post(school, "boss", eid, "approve")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    cancelled = post(school, "t1", eid, "cancel", {"reason": "课程冲突"})
    assert cancelled.json()["status"] == "cancelled"
    again = request(school, "t1")
    assert again.status_code == 201 and again.json()["id"] == eid and again.json()["status"] == "requested"
    assert history(db, eid) == [
        (None, "requested", "t1", "想提高课堂互动"),
        ("requested", "approved", "boss", None),
        ("approved", "cancelled", "t1", "课程冲突"),
        ("cancelled", "requested", "t1", None),
    ]
    detail = school.call("t1", "GET", f"/api/v1/enrolments/{eid}").json()
    assert [h["to_status"] for h in detail["history"]] == ["requested", "approved", "cancelled", "requested"]
    assert all(h["at"].startswith("2026-09-01T02:00:00") for h in detail["history"])


def test_reject_needs_a_reason_then_hr_overrides(school, course, db):
    eid = request(school, "t1").json()["id"]
    problem(post(school, "boss", eid, "reject", {}), 422)
    problem(post(school, "boss", eid, "reject", {"reason": "  "}), 422)
    rejected = post(school, "boss", eid, "reject", {"reason": "教学任务太重"})
    assert rejected.json()["status"] == "rejected" and rejected.json()["reason"] == "教学任务太重"
    problem(post(school, "hr", eid, "override", {"decision": "approve"}), 422)  # a reason is required
    overridden = post(school, "hr", eid, "override", {"decision": "approve", "reason": "新教师必修"})
    assert overridden.json()["status"] == "approved"
    taken_back = post(school, "hr", eid, "override", {"decision": "reject", "reason": "名额调整"})
    assert taken_back.json()["status"] == "rejected"
    assert [h[:2] for h in history(db, eid)] == [(None, "requested"), ("requested", "rejected"), ("rejected", "approved"), ("approved", "rejected")]


def test_hr_enrols_directly_and_a_program_without_approval_seats_at_once(school, course, db):
    got = enrol(school, "T2", reason="HR 安排")
    assert got.status_code == 201 and got.json()["status"] == "approved" and got.json()["source"] == "hr"
    open_program = make_program(db, code="OPEN", requires_approval=False)
    make_session(db, program=open_program, capacity=5)
    db.commit()
    assert request(school, "m1", "OPEN-1").json()["status"] == "approved"


# ---------------------------------------------------------------- forbidden transitions: 409


def test_forbidden_transitions_are_conflicts(school, course):
    eid = request(school, "t1").json()["id"]
    assert "already enrolled" in problem(request(school, "t1"), 409)["detail"]
    problem(enrol(school, "T1"), 409)
    assert post(school, "boss", eid, "approve").status_code == 200
    assert problem(post(school, "boss", eid, "approve"), 409)["detail"] == "cannot approve an enrolment that is approved"
    problem(post(school, "boss", eid, "reject", {"reason": "x"}), 409)
    problem(post(school, "hr", eid, "override", {"decision": "approve", "reason": "x"}), 409)
    assert post(school, "t1", eid, "cancel").status_code == 200
    problem(post(school, "t1", eid, "cancel"), 409)
    problem(post(school, "boss", eid, "approve"), 409)
    problem(post(school, "hr", eid, "override", {"decision": "reject", "reason": "x"}), 409)
    rid = request(school, "t2").json()["id"]
    post(school, "boss", rid, "reject", {"reason": "x"})
    assert "HR may override" in problem(request(school, "t2"), 409)["detail"]
    problem(post(school, "t2", rid, "cancel"), 409)
    problem(school.call("hr", "POST", "/api/v1/enrolments/99999/approve"), 404)


# ---------------------------------------------------------------- who may: 403


def test_a_manager_of_another_department_is_refused(school, course, db):
    eid = request(school, "t1").json()["id"]
    got = problem(post(school, "mboss", eid, "approve"), 403)
    assert "not in a department you manage" in got["detail"]
    problem(post(school, "mboss", eid, "reject", {"reason": "no"}), 403)
    problem(school.call("mboss", "GET", f"/api/v1/enrolments/{eid}"), 404)  # reading it is not even possible
    mid = request(school, "m1").json()["id"]
    problem(post(school, "boss", mid, "approve"), 403)
    assert post(school, "mboss", mid, "approve").json()["status"] == "approved"
    assert db.scalar(select(Enrolment.status).where(Enrolment.id == eid)) == "requested"


def test_other_refusals(school, course, db):
    boss_request = request(school, "boss")
    assert boss_request.status_code == 201
    problem(post(school, "boss", boss_request.json()["id"], "approve"), 403)  # not one's own
    eid = request(school, "t1").json()["id"]
    problem(post(school, "t2", eid, "cancel"), 403)  # someone else's
    problem(post(school, "t2", eid, "approve"), 403)  # no permission at all
    problem(post(school, "boss", eid, "override", {"decision": "approve", "reason": "x"}), 403)
    problem(enrol(school, "T2", who="boss"), 403)
    problem(school.call("key", "POST", "/api/v1/enrolments/request", {"session_code": "CI-1"}), 403)  # no employee behind a key
    problem(school.call("anonymous", "POST", "/api/v1/enrolments/request", {"session_code": "CI-1"}), 401)


def test_only_hr_cancels_a_mandatory_place(school, course, db):
    row = Enrolment(session_id=course.id, employee_id=_id(db, "T1"), status="approved", source="mandatory", created_at=NOW, updated_at=NOW)
    db.add(row)
    db.commit()
    assert "only be cancelled by HR" in problem(post(school, "t1", row.id, "cancel"), 403)["detail"]
    assert post(school, "hr", row.id, "cancel", {"reason": "已参加外部培训"}).json()["status"] == "cancelled"


def _id(db, employee_no: str) -> int:
    from trainquant.org.models import Employee

    return db.scalar(select(Employee.id).where(Employee.employee_no == employee_no))


# ---------------------------------------------------------------- time and cancelled sessions


def test_a_started_session_takes_no_enrolment(school, db):
    program = make_program(db, code="PAST")
    make_session(db, program=program, starts_at=NOW - timedelta(minutes=5))
    db.commit()
    assert "already started" in problem(request(school, "t1", "PAST-1"), 422)["detail"]
    assert "HR may record a late or past entry with a reason" in problem(enrol(school, "T1", "PAST-1"), 422)["detail"]
    # With a reason HR records it (a walk-in, a training held before the platform), marked as such.
    late = enrol(school, "T1", "PAST-1", reason="现场加入")
    assert late.status_code == 201 and late.json()["status"] == "approved" and late.json()["exceptions"] == ["late-entry"]
    # A manager may not, even with a reason; nor may the employee.
    problem(school.call("boss", "POST", "/api/v1/enrolments/hr-enrol", {"session_code": "PAST-1", "employee_no": "T2", "reason": "补录"}), 403)


def test_a_late_entry_needs_a_free_seat(school, db):
    program = make_program(db, code="FULL")
    make_session(db, program=program, starts_at=NOW - timedelta(days=30), capacity=1)
    db.commit()
    assert enrol(school, "T1", "FULL-1", reason="历史培训补录").status_code == 201
    assert problem(enrol(school, "T2", "FULL-1", reason="历史培训补录"), 409)["code"] == "no-seat-for-late-entry"
    assert school.call("hr", "PATCH", "/api/v1/sessions/FULL-1", {"capacity": 2}).status_code == 200
    assert enrol(school, "T2", "FULL-1", reason="历史培训补录").json()["exceptions"] == ["late-entry"]


def test_a_session_that_started_meanwhile(school, course, clock):
    eid = request(school, "t1").json()["id"]
    clock.advance(days=8)
    problem(post(school, "boss", eid, "approve"), 422)
    problem(post(school, "t1", eid, "cancel"), 422)
    assert post(school, "boss", eid, "reject", {"reason": "已过期"}).status_code == 200


def test_a_cancelled_session_is_a_conflict(school, course, db):
    eid = enrol(school, "T1").json()["id"]
    got = school.call("hr", "POST", "/api/v1/sessions/CI-1/cancel", {"reason": "讲师生病"})
    assert got.status_code == 200 and got.json()["status"] == "cancelled"
    assert db.scalar(select(Enrolment.status).where(Enrolment.id == eid)) == "cancelled"
    assert history(db, eid)[-1] == ("approved", "cancelled", "hr", "session cancelled: 讲师生病")
    assert "cancelled" in problem(request(school, "t2"), 409)["detail"]
    problem(school.call("hr", "POST", "/api/v1/sessions/CI-1/cancel", {"reason": "again"}), 409)


def test_unknown_sessions_and_retired_programs(school, course, db):
    got = problem(request(school, "t1", "NOPE-1"), 422)
    assert got["errors"][0]["field"] == "session_code"
    school.call("hr", "POST", "/api/v1/programs/CI/retire")
    assert "retired" in problem(request(school, "t1"), 409)["detail"]


# ---------------------------------------------------------------- capacity and the waiting list


def test_capacity_waiting_list_and_promotion(school, course, db):
    first = enrol(school, "T1").json()
    second = enrol(school, "T2").json()
    third = enrol(school, "M1").json()
    fourth = enrol(school, "B1").json()
    assert [e["status"] for e in (first, second, third, fourth)] == ["approved", "approved", "waitlisted", "waitlisted"]
    listed = school.call("hr", "GET", "/api/v1/enrolments", params={"session": "CI-1", "status": "waitlisted"}).json()
    assert {e["employee_no"]: e["waitlist_rank"] for e in listed["items"]} == {"M1": 1, "B1": 2}
    seats = school.call("hr", "GET", "/api/v1/sessions/CI-1").json()
    assert (seats["approved"], seats["waitlisted"], seats["seats_left"]) == (2, 2, 0)
    # T2 cancels: M1, who waited longest, gets the seat; B1 moves up.
    post(school, "t2", second["id"], "cancel")
    assert school.call("hr", "GET", f"/api/v1/enrolments/{third['id']}").json()["status"] == "approved"
    moved = school.call("hr", "GET", f"/api/v1/enrolments/{fourth['id']}").json()
    assert (moved["status"], moved["waitlist_rank"]) == ("waitlisted", 1)
    assert history(db, third["id"])[-1] == ("waitlisted", "approved", "system", "a seat became free")
    # More seats: the waiting list empties in order.
    resized = school.call("hr", "PATCH", "/api/v1/sessions/CI-1", {"capacity": 5})
    assert resized.status_code == 200 and resized.json()["approved"] == 3 and resized.json()["waitlisted"] == 0
    assert "cannot be lower" in problem(school.call("hr", "PATCH", "/api/v1/sessions/CI-1", {"capacity": 2}), 409)["detail"]


def test_an_approval_on_a_full_session_waits(school, course):
    enrol(school, "T2")
    enrol(school, "M1")
    eid = request(school, "t1").json()["id"]
    assert post(school, "boss", eid, "approve").json()["status"] == "waitlisted"


# ---------------------------------------------------------------- eligibility


@pytest.mark.parametrize(
    "rules,condition",
    [
        ({"department_kinds": ["marketing"]}, "department_kinds"),
        ({"tags_any": ["senior"]}, "tags_any"),
        ({"hired_within_days": 5}, "hired_within_days"),  # T1 was hired 12 days ago
        ({"hired_at_least_days": 30}, "hired_at_least_days"),
        ({"prerequisites": ["ONB"]}, "prerequisites"),
    ],
)
def test_an_ineligible_request_names_the_failed_condition(school, db, rules, condition):
    make_program(db, code="ONB")
    program = make_program(db, code="ADV", eligibility=rules)
    make_session(db, program=program)
    db.commit()
    got = problem(request(school, "t1", "ADV-1"), 422)
    assert [e["code"] for e in got["errors"]] == [condition]
    assert got["errors"][0]["field"] == f"eligibility.{condition}"
    assert "T1 is not eligible for ADV" in got["detail"]
    skipped = enrol(school, "T1", "ADV-1", skip_eligibility=True, reason="校长特批")
    assert skipped.status_code == 201, skipped.text
    # The override is on the enrolment and on the history step that made it, with its reason.
    assert skipped.json()["exceptions"] == ["eligibility-skipped"] and skipped.json()["reason"] == "校长特批"
    read = school.call("hr", "GET", f"/api/v1/enrolments/{skipped.json()['id']}").json()
    assert read["exceptions"] == ["eligibility-skipped"] and read["history"][-1]["exceptions"] == ["eligibility-skipped"]
    assert read["history"][-1]["reason"] == "校长特批"
    problem(enrol(school, "T2", "ADV-1", skip_eligibility=True), 422)  # skipping needs a reason


def test_nobody_enrols_someone_who_has_left(school, course, db):
    from trainquant.org.models import Employee

    db.scalar(select(Employee).where(Employee.employee_no == "T2")).status = "left"
    db.commit()
    got = problem(enrol(school, "T2", skip_eligibility=True, reason="补录"), 422)
    assert got["errors"][0]["code"] == "status"
    assert problem(request(school, "t2"), 422)["errors"][0]["code"] == "status"


def test_prerequisites_are_met_by_an_approved_enrolment_in_an_ended_session(school, db, clock):
    onb = make_program(db, code="ONB")
    make_session(db, program=onb, starts_at=NOW + timedelta(days=1))
    adv = make_program(db, code="ADV", eligibility={"prerequisites": ["ONB"], "department_kinds": ["teaching"], "tags_any": ["new-teacher"]})
    make_session(db, program=adv, starts_at=NOW + timedelta(days=10))
    db.commit()
    enrol(school, "T1", "ONB-1")
    problem(request(school, "t1", "ADV-1"), 422)  # enrolled, but the session has not ended
    clock.advance(days=2)
    assert request(school, "t1", "ADV-1").status_code == 201


# ---------------------------------------------------------------- reads: scope, my enrolments, approvals


def test_scope_of_reads(school, course, db):
    mine = request(school, "t1").json()["id"]
    theirs = request(school, "t2").json()["id"]
    marketing = request(school, "m1").json()["id"]

    def numbers(who):
        return sorted(e["employee_no"] for e in school.call(who, "GET", "/api/v1/enrolments").json()["items"])

    assert numbers("hr") == ["M1", "T1", "T2"]
    assert numbers("key") == ["M1", "T1", "T2"]
    assert numbers("boss") == ["T1", "T2"]
    assert numbers("mboss") == ["M1"]
    assert numbers("t1") == ["T1"]
    assert school.call("t1", "GET", f"/api/v1/enrolments/{mine}").status_code == 200
    problem(school.call("t1", "GET", f"/api/v1/enrolments/{theirs}"), 404)
    problem(school.call("boss", "GET", f"/api/v1/enrolments/{marketing}"), 404)
    me = school.call("t1", "GET", "/api/v1/me/enrolments").json()
    assert [e["employee_no"] for e in me["items"]] == ["T1"] and me["total"] == 1
    assert school.call("hr", "GET", "/api/v1/me/enrolments").json()["total"] == 0  # HR's account has no employee


def test_the_approval_inbox(school, course, db, clock):
    request(school, "t1")
    request(school, "t2")
    request(school, "m1")
    boss_own = request(school, "boss").json()["id"]

    def inbox(who):
        resp = school.call(who, "GET", "/api/v1/approvals")
        assert resp.status_code == 200, resp.text
        return sorted(e["employee_no"] for e in resp.json()["items"])

    assert inbox("boss") == ["T1", "T2"]  # their departments, not themselves, not marketing
    assert inbox("mboss") == ["M1"]
    assert inbox("hr") == ["B1", "M1", "T1", "T2"]
    problem(school.call("t1", "GET", "/api/v1/approvals"), 403)
    post(school, "hr", boss_own, "approve")
    assert inbox("hr") == ["M1", "T1", "T2"]
    clock.advance(days=8)  # the session started: nothing left to decide
    assert inbox("boss") == []


def test_list_filters_and_paging(school, course, db):
    for no in ("T1", "T2", "M1"):
        enrol(school, no)
    page = school.call("hr", "GET", "/api/v1/enrolments", params={"page_size": 2}).json()
    assert page["total"] == 3 and len(page["items"]) == 2
    assert school.call("hr", "GET", "/api/v1/enrolments", params={"department": "TEACH"}).json()["total"] == 2
    assert school.call("hr", "GET", "/api/v1/enrolments", params={"employee": "M1", "status": "waitlisted"}).json()["total"] == 1
    assert school.call("hr", "GET", "/api/v1/enrolments", params={"source": "self"}).json()["total"] == 0
    problem(school.call("hr", "GET", "/api/v1/enrolments", params={"status": "lost"}), 422)


def test_a_skip_that_skipped_nothing_leaves_no_mark(school, course):
    # T1 is eligible for CI: ticking "skip the rules" overrode nothing, so the enrolment is an ordinary one.
    got = enrol(school, "T1", skip_eligibility=True, reason="顺手勾选")
    assert got.status_code == 201 and got.json()["exceptions"] == []
