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
    assert wb.sheetnames == ["概况", "考核结果", "指标达标情况", "学员", "口径说明"]
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
    header, *rows = list(book["培训场次"].iter_rows(values_only=True))
    assert header[1] == "开始时间（Asia/Shanghai）"
    assert next(r for r in rows if r[0] == "INTERACT-1")[1] == local.replace(tzinfo=None)


# ---------------------------------------------------------------- filters: department, term, days
# INTERACT's costs by hand: INTERACT-1 1,800.50 of its own, the program-wide 99.50 split over its two
# held sessions (49.75 each). Approved places: INTERACT-1 T1, T2 (TEACH) and M1 (MKT); INTERACT-2 T1.
# MKT carries (1,800.50 + 49.75) / 3 = 616.75; TEACH 2 x 616.75 + 49.75 = 1,283.25; together 1,900.00.


def test_a_department_carries_its_places_share_of_the_costs(school, data):
    mkt = school.call("hr", "GET", "/api/v1/reports/departments/MKT").json()
    teach = school.call("hr", "GET", "/api/v1/reports/departments/TEACH").json()
    assert (mkt["cost"], teach["cost"]) == ("616.75", "1283.25")
    assert [(p["code"], p["enrolled"], p["cost"]) for p in mkt["programs"]] == [("INTERACT", 1, "616.75")]
    assert Decimal(mkt["cost"]) + Decimal(teach["cost"]) == Decimal("1900.00")  # the program's whole cost
    assert mkt["cost_allocated"] is True


def test_a_term_narrows_sessions_assessments_and_costs(school, data):
    # The summer term (07-01..08-31) holds INTERACT-1 (29 August) and the assessments (30 August);
    # the autumn term (from 09-01) only INTERACT-2, whose one place (T1) carries its 49.75.
    summer = school.call("hr", "GET", "/api/v1/reports/departments/TEACH", params={"term": "2026-summer"}).json()
    autumn = school.call("hr", "GET", "/api/v1/reports/departments/TEACH", params={"term": "2026-autumn"}).json()
    assert (summer["enrolled"], summer["cost"], summer["days"]) == (3, "1233.50", {"from": "2026-07-01", "to": "2026-08-31"})
    assert sum(a["count"] for a in summer["assessments"]) == 2
    assert (autumn["enrolled"], autumn["cost"], autumn["assessments"]) == (2, "49.75", [])
    days = school.call("hr", "GET", "/api/v1/reports/departments/MKT", params={"from": "2026-08-29", "to": "2026-08-29"}).json()
    assert (days["enrolled"], days["cost"]) == (1, "616.75")


@pytest.mark.parametrize(("params", "code"), [
    ({"term": "2026-monsoon"}, "unknown-term"), ({"term": "yesterday"}, "unknown-term"),
    ({"term": "2026-autumn", "from": "2026-09-01"}, "term-and-days"), ({"from": "2026-09-02", "to": "2026-09-01"}, "days-reversed"),
])
def test_a_bad_filter_is_a_422_naming_it(school, data, params, code):
    resp = school.call("hr", "GET", "/api/v1/reports/departments/MKT", params=params)
    assert resp.status_code == 422
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["code"] == code
    for path in ("/reports", "/reports/export.xlsx"):  # a page answers with a page, and the same status
        assert school.call("hr", "GET", path, params=params).status_code == 422, path


def _row(html: str, code: str) -> str:
    start = html.index(f'data-program="{code}"')
    return html[start:html.index("</tr>", start)]


def test_the_report_page_filters_its_program_table_by_department(school, data):
    whole = school.call("hr", "GET", "/reports").text
    assert "¥1,900.00" in _row(whole, "INTERACT")
    page = school.call("hr", "GET", "/reports", params={"department": "MKT"}).text
    row = _row(page, "INTERACT")
    assert 'data-fig="cost">¥616.75' in row  # M1's share, not the program's whole cost
    assert '<td class="num">1</td>' in row  # one enrolment: M1's
    assert "培训成本（分摊）" in page and 'data-testid="definitions"' in page
    assert 'href="/reports/export.xlsx?department=MKT"' in page


def test_the_filtered_workbook_has_the_costs_and_says_how_they_are_allocated(school, data):
    resp = school.call("hr", "GET", "/reports/export.xlsx", params={"department": "MKT", "term": "2026-summer"})
    assert resp.status_code == 200
    assert "2026-summer" in resp.headers["content-disposition"]
    book = load_workbook(io.BytesIO(resp.content))
    header, *rows = list(book["培训项目"].iter_rows(values_only=True))
    row = dict(zip(header, rows[0], strict=True))
    assert (row["项目编码"], row["报名人次"], row["培训成本(元)"]) == ("INTERACT", 1, 616.75)
    notes = dict(book["口径说明"].iter_rows(values_only=True))
    assert notes["培训成本(元)"].startswith("培训成本（分摊）")
    assert notes["参与率"].endswith("= 75%）。")  # one percent sign, not the msgid's %%


def test_the_whole_school_period_shows_what_no_place_carries(school, data, db):
    # A cancelled session in the autumn with a venue deposit: nobody was trained on it.
    p = db.scalar(select(TrainingSession).where(TrainingSession.code == "INTERACT-2")).program
    gone = make_session(db, program=p, code="INTERACT-3", starts_at=NOW + timedelta(days=9), hours=2, sequence=3)
    gone.status = "cancelled"
    db.add(CostItem(program_id=p.id, session_id=gone.id, category="venue", amount=Decimal("120.00"), created_by="test", created_at=NOW))
    db.commit()
    page = school.call("hr", "GET", "/reports", params={"term": "2026-autumn"}).text
    assert 'data-fig="cost">¥49.75' in _row(page, "INTERACT")
    assert 'data-fig="unallocated">¥120.00' in page


def test_rates_are_defined_where_they_are_shown(school, data):
    page = school.call("hr", "GET", "/reports/programs/INTERACT").text
    assert 'title="出勤率 = 出勤人次 / 已结束场次的已批准名额' in page
    assert 'title="参与率 = ' in page
    assert 'data-fig="attendance-rate">66.7%' in page  # 2 of 3 ended places
    assert 'data-fig="participation-rate">80.0%' in page  # (60% + 100%) / 2
    english = school.call("hr", "GET", "/reports/programs/INTERACT", params={"lang": "en"}).text
    assert 'title="Attendance rate = places attended / approved places in sessions that have ended.' in english


def test_the_english_workbook_is_english(school, data):
    resp = school.call("hr", "GET", "/reports/programs/INTERACT/export.xlsx", params={"lang": "en"})
    book = load_workbook(io.BytesIO(resp.content))
    assert book.sheetnames == ["Summary", "Assessment results", "Indicators met", "Sessions", "Definitions"]
    header = next(book["Sessions"].iter_rows(values_only=True))
    assert header[:3] == ("Session code", "Starts (Asia/Shanghai)", "Enrolment records")
    assert "Training%20effect%20report-INTERACT.xlsx" in resp.headers["content-disposition"]
    texts = [v for ws in book for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str)]
    cjk = [t for t in texts if any("\u4e00" <= ch <= "\u9fff" for ch in t)]
    assert cjk == []  # the program's English title is kept; nothing of the UI is Chinese
