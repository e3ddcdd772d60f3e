"""Attendance feeds the indicators: study hours and participation are no longer "no data"."""

from datetime import date, timedelta

from tests.conftest import NOW, make_department, make_employee
from tests.integration.training.conftest import make_program, make_session
from trainquant.attendance.models import AttendanceRecord
from trainquant.indicators.facts import load_facts


def test_attended_time_becomes_study_hours_and_participation(db):
    dep = make_department(db, code="T", kind="teaching")
    emp = make_employee(db, employee_no="T1", department=dep)
    program = make_program(db, code="CI")
    done = make_session(db, program=program, code="CI-1", starts_at=NOW - timedelta(days=3), hours=2)
    cancelled = make_session(db, program=program, code="CI-2", starts_at=NOW - timedelta(days=2), hours=2, status="cancelled", sequence=2)
    for s, seconds in ((done, 5400), (cancelled, 7200)):
        db.add(AttendanceRecord(session_id=s.id, employee_id=emp.id, attended_seconds=seconds, scheduled_seconds=7200,
                                participation=seconds / 7200, late_seconds=0, early_leave_seconds=0, away=[], flags=[], events=2, computed_at=NOW))
    db.flush()
    facts = load_facts(db, [emp.id], start=date(2026, 8, 1), end=date(2026, 9, 1),
                       kinds=frozenset({"study_hours", "participation_rate", "attended_hours"}))
    got = sorted((f.kind, f.value, f.on) for f in facts)
    day = (done.starts_at + timedelta(hours=8)).date()
    assert got == [("attended_hours", 1.5, day), ("participation_rate", 0.75, day), ("study_hours", 1.5, day)]
    # Outside the window: nothing.
    assert load_facts(db, [emp.id], start=date(2026, 9, 2), end=date(2026, 9, 30), kinds=frozenset({"study_hours"})) == []


def test_facts_carry_their_program_and_a_session_attended_enough_is_a_training(db):
    dep = make_department(db, code="T", kind="teaching")
    emp = make_employee(db, employee_no="T1", department=dep)
    ci, ss = make_program(db, code="CI"), make_program(db, code="SS")
    full = make_session(db, program=ci, code="CI-1", starts_at=NOW - timedelta(days=5), hours=2)
    brief = make_session(db, program=ss, code="SS-1", starts_at=NOW - timedelta(days=3), hours=2)
    absent = make_session(db, program=ci, code="CI-2", starts_at=NOW - timedelta(days=1), hours=2, sequence=2)
    for s, seconds in ((full, 7200), (brief, 1800), (absent, 0)):  # the sessions' minimum participation: 0.8
        db.add(AttendanceRecord(session_id=s.id, employee_id=emp.id, attended_seconds=seconds, scheduled_seconds=7200,
                                participation=seconds / 7200, late_seconds=0, early_leave_seconds=0, away=[], flags=[], events=2, computed_at=NOW))
    db.flush()
    facts = load_facts(db, [emp.id], start=date(2026, 8, 1), end=date(2026, 9, 1), kinds=frozenset({"study_hours", "trained"}))
    hours = sorted((f.program, f.value) for f in facts if f.kind == "study_hours")
    assert hours == [("CI", 0.0), ("CI", 2.0), ("SS", 0.5)]  # a place nobody came to is 0 h, not nothing
    trained = [(f.key, f.program, f.on) for f in facts if f.kind == "trained"]
    assert trained == [("CI", "CI", (full.starts_at + timedelta(hours=8)).date())]  # 25 % of a session is not a training
