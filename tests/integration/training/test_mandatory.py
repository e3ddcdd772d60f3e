"""Mandatory rules: CRUD, the run (idempotent), its choices of session, HR's exemptions, and the CLI command."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import NOW
from tests.integration.training.conftest import make_program, make_session, problem
from trainquant.org.models import Employee, EmployeeTag
from trainquant.training.models import Enrolment, EnrolmentEvent

NEW_TEACHERS = {"code": "NEWT", "name": "新教师入职培训", "program_code": "ONB", "condition": {"department_kinds": ["teaching"], "tags_any": ["new-teacher"]}, "due_days": 30}


@pytest.fixture
def onboarding(db, school):
    program = make_program(db, code="ONB", title="新教师入职培训", level="onboarding")
    first = make_session(db, program=program, capacity=1, starts_at=NOW + timedelta(days=3))
    second = make_session(db, program=program, code="ONB-2", sequence=2, capacity=5, starts_at=NOW + timedelta(days=10))
    t2 = db.scalar(select(Employee).where(Employee.employee_no == "T2"))
    db.add(EmployeeTag(employee_id=t2.id, tag="new-teacher"))
    db.commit()
    got = school.call("hr", "POST", "/api/v1/mandatory-rules", NEW_TEACHERS)
    assert got.status_code == 201, got.text
    return first, second


def run(school, **params):
    got = school.call("hr", "POST", "/api/v1/mandatory-rules/run", params=params)
    assert got.status_code == 200, got.text
    return got.json()


def counts(db) -> tuple[int, int]:
    return db.scalar(select(func.count(Enrolment.id))), db.scalar(select(func.count(EnrolmentEvent.id)))


def test_run_enrols_and_running_again_changes_nothing(school, db, onboarding):
    first = run(school)
    assert (first["enrolled"], first["waitlisted"], first["unscheduled"], first["already"]) == (2, 0, 0, 0)
    got = {(o["employee_no"], o["session_code"], o["outcome"], o["due_date"]) for o in first["outcomes"]}
    # T1 was hired on 2026-08-20, before the rule existed: 30 days from the rule (2026-09-01).
    assert got == {("T1", "ONB-1", "approved", "2026-10-01"), ("T2", "ONB-2", "approved", "2026-10-01")}
    rows = db.scalars(select(Enrolment).order_by(Enrolment.id)).all()
    assert {(r.source, r.status, r.due_date) for r in rows} == {("mandatory", "approved", date(2026, 10, 1))}
    before = counts(db)
    again = run(school)
    assert (again["enrolled"], again["already"], again["outcomes"]) == (0, 2, [])
    assert counts(db) == before
    mine = school.call("t1", "GET", "/api/v1/me/enrolments").json()["items"]
    assert [(e["session_code"], e["source"], e["due_date"]) for e in mine] == [("ONB-1", "mandatory", "2026-10-01")]


def test_hr_exemption_sticks_and_a_cancelled_session_is_replaced(school, db, onboarding):
    run(school)
    t1 = school.call("hr", "GET", "/api/v1/enrolments", params={"employee": "T1"}).json()["items"][0]
    school.call("hr", "POST", f"/api/v1/enrolments/{t1['id']}/cancel", {"reason": "已在外部完成"})
    assert run(school)["enrolled"] == 0  # not enrolled again
    school.call("hr", "POST", "/api/v1/sessions/ONB-2/cancel", {"reason": "场地维修"})
    replaced = run(school)
    # T2's session was cancelled, so T2 needs another one: the seat T1 gave back in ONB-1.
    assert [(o["employee_no"], o["session_code"], o["outcome"]) for o in replaced["outcomes"]] == [("T2", "ONB-1", "approved")]


def test_full_sessions_wait_and_no_session_is_reported(school, db):
    program = make_program(db, code="ONB")
    make_session(db, program=program, capacity=1)
    t2 = db.scalar(select(Employee).where(Employee.employee_no == "T2"))
    db.add(EmployeeTag(employee_id=t2.id, tag="new-teacher"))
    db.commit()
    school.call("hr", "POST", "/api/v1/mandatory-rules", NEW_TEACHERS)
    report = run(school)
    assert [(o["employee_no"], o["outcome"]) for o in report["outcomes"]] == [("T1", "approved"), ("T2", "waitlisted")]
    school.call("hr", "POST", "/api/v1/programs", {"code": "SCRIPT", "title": "话术培训", "kind": "offline"})
    school.call("hr", "POST", "/api/v1/mandatory-rules", {"code": "MKT", "name": "市场话术", "program_code": "SCRIPT", "condition": {"department_kinds": ["marketing"]}})
    report = run(school, rule="MKT")
    assert {(o["employee_no"], o["outcome"], o["session_code"]) for o in report["outcomes"]} == {("M1", "unscheduled", None), ("MB", "unscheduled", None)}
    assert report["unscheduled"] == 2 and run(school, rule="MKT")["unscheduled"] == 2  # reported again, nothing written


def test_a_run_chooses_a_session_the_person_is_free_for_and_reports_who_is_busy_for_all(school, db, onboarding):
    first, second = onboarding
    # T1 is already in another program's session at ONB-1's time, T2 at both ONB-1's and ONB-2's
    other = make_program(db, code="CI", title="课堂互动")
    at_first = make_session(db, program=other, code="CI-1", starts_at=first.starts_at + timedelta(minutes=30))
    at_second = make_session(db, program=other, code="CI-2", sequence=2, starts_at=second.starts_at - timedelta(hours=1))
    staff = {e.employee_no: e for e in db.scalars(select(Employee).where(Employee.employee_no.in_(["T1", "T2"])))}
    for session, who in ((at_first, "T1"), (at_first, "T2"), (at_second, "T2")):
        db.add(Enrolment(session_id=session.id, employee_id=staff[who].id, status="approved", source="hr", created_at=NOW, updated_at=NOW))
    db.commit()
    report = run(school)
    got = {(o["employee_no"], o["session_code"], o["outcome"]) for o in report["outcomes"]}
    # T1 gets ONB-2 though ONB-1 is earlier with a free seat; T2 is in a session at both times: nobody enrolled, said so
    assert got == {("T1", "ONB-2", "approved"), ("T2", None, "busy")}
    assert (report["enrolled"], report["busy"], report["unscheduled"]) == (1, 1, 0)
    t2 = db.scalars(select(Enrolment).where(Enrolment.employee_id == staff["T2"].id, Enrolment.session_id.in_([first.id, second.id]))).all()
    assert t2 == []


def test_dry_run_writes_nothing(school, db, onboarding):
    before = counts(db)
    report = run(school, dry_run="true")
    assert report["dry_run"] is True and report["enrolled"] == 2
    assert counts(db) == before
    assert run(school)["enrolled"] == 2


def test_rule_crud_and_bad_input(school, db, onboarding):
    problem(school.call("hr", "POST", "/api/v1/mandatory-rules", NEW_TEACHERS), 409)
    problem(school.call("hr", "POST", "/api/v1/mandatory-rules", {**NEW_TEACHERS, "code": "X", "program_code": "NOPE"}), 422)
    problem(school.call("hr", "POST", "/api/v1/mandatory-rules", {**NEW_TEACHERS, "code": "X", "condition": {"tags": ["x"]}}), 422)
    problem(school.call("hr", "POST", "/api/v1/mandatory-rules", {**NEW_TEACHERS, "code": "X", "due_days": 0}), 422)
    assert [r["code"] for r in school.call("hr", "GET", "/api/v1/mandatory-rules").json()] == ["NEWT"]
    changed = school.call("hr", "PATCH", "/api/v1/mandatory-rules/NEWT", {"active": False, "due_days": 14})
    assert (changed.json()["active"], changed.json()["due_days"]) == (False, 14)
    assert run(school)["outcomes"] == []
    problem(school.call("hr", "POST", "/api/v1/mandatory-rules/run", params={"rule": "NEWT"}), 409)
    problem(school.call("hr", "POST", "/api/v1/mandatory-rules/run", params={"rule": "NOPE"}), 404)
    assert school.call("hr", "DELETE", "/api/v1/mandatory-rules/NEWT").status_code == 204
    problem(school.call("hr", "GET", "/api/v1/mandatory-rules/NEWT"), 404)
    for who in ("boss", "t1"):
        problem(school.call(who, "POST", "/api/v1/mandatory-rules/run"), 403)
        problem(school.call(who, "GET", "/api/v1/mandatory-rules"), 403)


def test_the_cli_command_is_idempotent(cli_engine):
    from trainquant.cli.main import app as cli
    from trainquant.db import make_sessionmaker, unit_of_work
    from trainquant.org.models import Department
    from trainquant.training.models import MandatoryRule

    with unit_of_work(make_sessionmaker(cli_engine)) as db:
        dep = Department(code="T", name="教学部", kind="teaching")
        db.add(dep)
        db.flush()
        db.add(Employee(employee_no="N1", name="新老师", department_id=dep.id, hire_date=date(2026, 1, 1), status="active", created_at=NOW, updated_at=NOW))
        program = make_program(db, code="ONB")
        make_session(db, program=program, starts_at=NOW + timedelta(days=3650))
        db.add(MandatoryRule(code="ALL", name="全员", program_id=program.id, condition={"department_kinds": ["teaching"]}, due_days=30, active=True, created_at=NOW))
    runner = CliRunner()
    dry = runner.invoke(cli, ["training", "run-mandatory", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "would enrol 1" in dry.output
    first = runner.invoke(cli, ["training", "run-mandatory"])
    assert first.exit_code == 0, first.output
    assert "N1" in first.output and "enrolled 1" in first.output
    second = runner.invoke(cli, ["training", "run-mandatory"])
    assert "enrolled 0" in second.output and "1 already" in second.output
    unknown = runner.invoke(cli, ["training", "run-mandatory", "--rule", "NOPE"])
    assert unknown.exit_code == 1
    with cli_engine.connect() as conn:
        assert conn.scalar(select(func.count(Enrolment.id))) == 1
