"""Effect report figures against a small hand-built school: the expectations are counted by hand below."""

from __future__ import annotations

import io
from datetime import date, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.conftest import NOW
from tests.integration.training.conftest import make_program, make_session
from trainquant.attendance.models import AttendanceRecord
from trainquant.org.models import Employee
from trainquant.training.models import Assessment, CostItem, Enrolment, TrainingSession


def _enrol(db, session, emp, status):
    db.add(Enrolment(session_id=session.id, employee_id=emp.id, status=status, source="self", created_at=NOW, updated_at=NOW))


def _score(db, emp, program, session, kind, score=None, passed=None):
    db.add(Assessment(employee_id=emp.id, kind_code=kind, program_id=program.id, session_id=session.id, assessed_on=date(2026, 8, 30),
                      score=score, passed=passed, ratings=[], created_by="test", created_at=NOW))


@pytest.fixture
def data(db, school):
    people = {e.employee_no: e for e in db.scalars(select(Employee))}
    t1, t2, boss, m1 = people["T1"], people["T2"], people["B1"], people["M1"]
    p = make_program(db, code="INTERACT", title="课堂互动技巧")
    past = make_session(db, program=p, code="INTERACT-1", starts_at=NOW - timedelta(days=3), hours=2)
    future = make_session(db, program=p, code="INTERACT-2", starts_at=NOW + timedelta(days=5), hours=2, sequence=2)
    # past session: T1, T2, M1 approved; boss rejected. future: T1 approved, T2 waitlisted.
    for emp, status in ((t1, "approved"), (t2, "approved"), (m1, "approved"), (boss, "rejected")):
        _enrol(db, past, emp, status)
    _enrol(db, future, t1, "approved")
    _enrol(db, future, t2, "waitlisted")
    # T2 attended 60% of the past session (below its 80% minimum); T1 has no record yet, M1 attended 100%.
    for emp, part in ((t2, 0.6), (m1, 1.0)):
        db.add(AttendanceRecord(session_id=past.id, employee_id=emp.id, attended_seconds=int(7200 * part), scheduled_seconds=7200,
                                participation=part, late_seconds=0, early_leave_seconds=0, away=[], flags=[], events=2, computed_at=NOW))
    _score(db, t1, p, past, "trial_lecture", 88.0, True)
    _score(db, t2, p, past, "trial_lecture", 80.0, False)
    _score(db, m1, p, past, "trial_lecture", 92.0, True)
    _score(db, m1, p, past, "case_analysis", passed=False)
    for session, category, amount in ((past, "trainer_fee", "1500.00"), (past, "venue", "300.50"), (None, "materials", "99.50")):
        db.add(CostItem(program_id=p.id, session_id=session.id if session else None, category=category, amount=Decimal(amount),
                        created_by="test", created_at=NOW))
    db.commit()
    return p


def test_program_report_for_hr(school, data):
    body = school.call("hr", "GET", "/api/v1/reports/programs/INTERACT").json()
    # 6 enrolment records: 4 approved (3 past + 1 future), 1 rejected, 1 waitlisted.
    assert (body["enrolled"], body["approved"], body["rejected"], body["waitlisted"]) == (6, 4, 1, 1)
    # Past approved places: T1 (no record: counted), T2 (60% < 80%: not), M1 (100%): 2 of 3.
    assert (body["completed"], body["attended"]) == (3, 2)
    assert body["participation"] == 0.8  # (0.6 + 1.0) / 2
    trial = next(a for a in body["assessments"] if a["kind"] == "trial_lecture")
    assert (trial["count"], trial["mean"], trial["min"], trial["max"], trial["pass_rate"]) == (3, 86.667, 80.0, 92.0, 0.6667)
    assert body["pass_rate"] == 0.5  # 2 passes of 4 verdicts
    assert body["cost"] == "1900.00"
    sessions = {s["code"]: s for s in body["sessions"]}
    assert sessions["INTERACT-1"]["cost"] == "1800.50"
    assert sessions["INTERACT-2"]["attended"] == 0


def test_manager_sees_only_own_department(school, data):
    body = school.call("boss", "GET", "/api/v1/reports/programs/INTERACT").json()
    # TEACH and its IELTS group: T1, T2 and the boss himself; M1 (marketing) is left out.
    assert (body["enrolled"], body["approved"], body["attended"]) == (5, 3, 1)
    assert sum(a["count"] for a in body["assessments"]) == 2
    assert school.call("boss", "GET", "/api/v1/reports/employees/M1").status_code == 404
    assert school.call("boss", "GET", "/api/v1/reports/departments/MKT").status_code == 403
    dep = school.call("boss", "GET", "/api/v1/reports/departments/TEACH").json()
    assert (dep["approved"], dep["rejected"]) == (3, 1)


def test_employee_role_is_refused(school, data):
    assert school.call("t1", "GET", "/api/v1/reports/programs/INTERACT").status_code == 403
    assert school.call("t1", "GET", "/reports").status_code == 403


def test_employee_report(school, data):
    body = school.call("hr", "GET", "/api/v1/reports/employees/T2").json()
    assert [(t["session_code"], t["status"], t["participation"], t["attended"]) for t in body["trainings"]] == [
        ("INTERACT-2", "waitlisted", None, False), ("INTERACT-1", "approved", 0.6, False)]
    assert [(a["kind"], a["score"], a["passed"]) for a in body["assessment_results"]] == [("trial_lecture", 80.0, False)]


def test_session_export_is_a_real_workbook(school, data):
    resp = school.call("hr", "GET", "/reports/sessions/INTERACT-1/export.xlsx")
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.content))
    assert wb.sheetnames == ["概况", "考核结果", "指标达标", "学员"]
    assert [c.value for c in wb["概况"][1]][:4] == ["对象", "报名人次", "已批准", "已拒绝"]
    assert [c.value for c in wb["学员"][1]][:3] == ["工号", "姓名", "报名状态"]
    assert wb["学员"].max_row == 5
    for path in ("/reports/export.xlsx", "/reports/programs/INTERACT/export.xlsx", "/reports/employees/T1/export.xlsx",
                 "/reports/departments/TEACH/export.xlsx"):
        resp = school.call("hr", "GET", path)
        assert resp.status_code == 200, path
        assert load_workbook(io.BytesIO(resp.content)).sheetnames


@pytest.mark.parametrize("lang, text", [("zh_CN", "培训效果报告"), ("en", "Training effect report")])
def test_pages_render(school, data, lang, text):
    for path in ("/reports", "/reports?department=TEACH", "/reports/programs/INTERACT", "/reports/sessions/INTERACT-1", "/reports/employees/T1"):
        resp = school.call("hr", "GET", path, params={"lang": lang})
        assert resp.status_code == 200, (path, resp.text[:500])
        assert text in resp.text
    assert "/static/vendor/echarts.min.js" in resp.text


def test_an_error_rate_reads_as_a_percentage(school, data, db):
    t1 = db.scalar(select(Employee).where(Employee.employee_no == "T1"))
    past = db.scalar(select(TrainingSession).where(TrainingSession.code == "INTERACT-1"))
    _score(db, t1, data, past, "error_rate", 0.096154, True)
    db.commit()
    page = school.clients["hr"].get("/reports/programs/INTERACT").text
    row = page.split('data-kind="error_rate"', 1)[1].split("</tr>", 1)[0]
    assert "9.6%" in row and "0.096154" not in row
    # The workbook too: percentages, not fractions.
    book = load_workbook(io.BytesIO(school.clients["hr"].get("/reports/programs/INTERACT/export.xlsx").content))
    rows = [r for r in book["考核结果"].iter_rows(values_only=True) if r and r[0] == "实操出错率"]
    assert rows and rows[0][2] == 9.6 and rows[0][3] == 9.6


def test_times_read_in_the_schools_zone_named(school, data, db):
    past = db.scalar(select(TrainingSession).where(TrainingSession.code == "INTERACT-1"))
    local = past.starts_at.astimezone(ZoneInfo("Asia/Shanghai"))
    page = school.clients["hr"].get("/reports/sessions/INTERACT-1").text
    when = page.split('data-testid="when">', 1)[1].split("·", 1)[0]
    assert local.strftime("%H:%M") in when and "UTC" not in page.split('data-testid="when">', 1)[1].split("</p>", 1)[0]
    book = load_workbook(io.BytesIO(school.clients["hr"].get("/reports/programs/INTERACT/export.xlsx").content))
    header, *rows = list(book["场次"].iter_rows(values_only=True))
    assert header[1] == "开始时间（Asia/Shanghai）"
    assert next(r for r in rows if r[0] == "INTERACT-1")[1] == local.replace(tzinfo=None)
