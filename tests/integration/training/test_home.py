"""The home page by role: HR sees the school's departments, what waits and what comes; a manager their
own; an employee their upcoming trainings, attendance and indicators. Figures counted by hand."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from tests.conftest import NOW
from tests.integration.training.conftest import make_program, make_session
from trainquant.attendance.models import AttendanceRecord
from trainquant.org.models import Employee
from trainquant.training.models import Enrolment


def _enrol(db, s, no, status="approved"):
    emp = db.scalar(select(Employee).where(Employee.employee_no == no))
    db.add(Enrolment(session_id=s.id, employee_id=emp.id, status=status, source="self", created_at=NOW, updated_at=NOW))
    return emp


def _attended(db, s, emp, share):
    db.add(AttendanceRecord(session_id=s.id, employee_id=emp.id, attended_seconds=int(7200 * share), scheduled_seconds=7200, participation=share,
                            late_seconds=0, early_leave_seconds=0, away=[], flags=[], events=2, computed_at=NOW))


def test_each_role_gets_its_own_home(school, db):
    p = make_program(db, code="CI", title="课堂互动技巧")
    past = make_session(db, program=p, code="CI-1", starts_at=NOW - timedelta(days=10), hours=2, site=school.site)
    ahead = make_session(db, program=p, code="CI-2", starts_at=NOW + timedelta(days=3), hours=2, site=school.site, sequence=2)
    # Ended: T1 (IELTS) 100%, T2 (TEACH itself) 50% under the 80% minimum, M1 (MKT) 90%.
    for no, share in (("T1", 1.0), ("T2", 0.5), ("M1", 0.9)):
        _attended(db, past, _enrol(db, past, no), share)
    _enrol(db, ahead, "T1")
    _enrol(db, ahead, "T2", "requested")
    db.commit()
    hr = school.clients["hr"].get("/").text
    rows = {code: hr[hr.index(f'data-department="{code}"'):].split("</tr>")[0] for code in ("TEACH", "MKT")}
    # HR's rows: the school's top departments (TEACH with IELTS inside: T1 and T2; MKT: M1): 1 of 2 and 1 of 1 attended.
    assert 'data-fig="attendance-rate">50%' in rows["TEACH"] and 'data-fig="attendance-rate">100%' in rows["MKT"]
    assert 'data-fig="pending">1<' in hr and 'data-fig="upcoming">1<' in hr and "CI-2" in hr
    boss = school.clients["boss"].get("/").text
    # The manager of TEACH: a row for IELTS (T1: 100%) and one for TEACH's own people (T2: 0 of 1); no MKT.
    assert 'data-department="IELTS"' in boss and 'data-department="MKT"' not in boss
    own = boss[boss.index('data-department="TEACH"'):].split("</tr>")[0]
    assert 'data-fig="attendance-rate">0%' in own
    t1 = school.clients["t1"].get("/").text
    assert 'data-testid="mine"' in t1 and 'data-testid="departments"' not in t1 and "员工总数" not in t1
    assert 'data-fig="my-held">1<' in t1 and 'data-fig="my-participation">100%' in t1 and "CI-2" not in t1.split('data-testid="my-attendance"')[1]
    upcoming = t1[t1.index('data-testid="my-upcoming"'):t1.index('data-testid="my-attendance"')]
    assert "课堂互动技巧" in upcoming and "已批准" in upcoming
    assert "My upcoming trainings" in school.clients["t1"].get("/", params={"lang": "en"}).text
