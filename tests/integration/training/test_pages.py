"""The training pages: both languages, HR's forms, the employee's requests and cancellations, the manager's inbox."""

from __future__ import annotations

import re
from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from tests.integration.training.conftest import make_program, make_session
from trainquant.org.models import GrowthNote
from trainquant.training.models import (
    Assessment,
    CostItem,
    Enrolment,
    Program,
    TrainingSession,
)


@pytest.fixture
def course(db, school):
    program = make_program(db, code="CI", title="课堂互动技巧", tags=["classroom-interaction"], trainer="王老师")
    session = make_session(db, program=program, capacity=1, site=school.site, trainer="王老师")
    make_program(db, code="MKTONLY", title="市场话术", eligibility={"department_kinds": ["marketing"]})
    make_session(db, program=db.scalar(select(Program).where(Program.code == "MKTONLY")), starts_at=NOW + timedelta(days=8))  # not at CI-1's time
    db.commit()
    return session


def form(school, who: str, path: str, data: dict):
    return school.clients[who].post(path, data={"csrf_token": school.headers[who]["X-CSRF-Token"], **data}, follow_redirects=False)


@pytest.mark.parametrize(
    "who,path,zh,en",
    [
        ("hr", "/training", ["培训项目", "课堂互动技巧", "新建项目", "计划学时", "需审批"], ["Training programs", "New program", "Planned hours", "Needs approval"]),
        ("hr", "/training/programs/CI", ["培训场次", "报名", "考核", "培训成本", "安排场次", "记录成本"], ["Sessions", "Enrolments", "Assessments", "Training costs", "Schedule a session"]),
        ("hr", "/training/sessions/CI-1", ["场次概况", "为员工报名", "取消场次", "二维码", "最低参与度"], ["About the session", "Enrol an employee", "Cancel the session", "QR code"]),
        ("hr", "/training/programs/new", ["新建培训项目", "报名条件", "入职天数不超过", "需先完成"], ["New training program", "Who may enrol", "Completed first"]),
        ("hr", "/training/programs/CI/sessions/new", ["安排场次", "允许的签到方式", "人脸识别", "定位签到", "未签退时"], ["Schedule a session", "Allowed check-in methods", "Face recognition"]),
        ("hr", "/training/assessments/new", ["录入考核", "试讲评分", "话术模拟", "案例分析", "雅思", "步长 0.5"], ["Record an assessment", "Trial lecture", "IELTS", "steps of 0.5"]),
        ("t1", "/my/trainings", ["我的培训", "我的报名", "可报名的场次", "申请报名", "我的考核成绩"], ["My trainings", "My enrolments", "Sessions open to you", "Request enrolment"]),
        ("boss", "/approvals", ["审批", "暂无待审批的申请"], ["Approvals", "Nothing is waiting for your decision."]),
    ],
)
def test_pages_render_in_chinese_and_english(school, course, who, path, zh, en):
    client = school.clients[who]
    page = client.get(path)
    assert page.status_code == 200, page.text
    assert '<html lang="zh-CN">' in page.text
    for text in zh:
        assert text in page.text, text
    english = client.get(path, params={"lang": "en"})
    assert '<html lang="en">' in english.text
    for text in en:
        assert text in english.text, text
    assert "培训项目" not in english.text
    client.get(path, params={"lang": "zh_CN"})


def test_navigation_follows_permissions(school, course):
    def nav(who):
        html = school.clients[who].get("/training").text
        return re.findall(r'<nav class="mainnav"[^>]*>(.*?)</nav>', html, re.S)[0]

    hr = nav("hr")
    assert 'href="/training"' in hr and 'href="/approvals"' in hr
    # A few menus, not a row of every page; a user with no employee record has none of a person's own pages.
    assert re.findall(r"<summary[^>]*>([^<]+)</summary>", hr) == ["工作台", "人员", "培训", "考勤", "分析", "设置"]
    assert 'href="/settings/campuses"' in hr and 'href="/settings/devices"' in hr and 'href="/admin/users"' not in hr  # HR is not an admin
    assert 'href="/attendance/me"' not in hr and 'href="/my/trainings"' not in hr
    assert 'href="/attendance/me"' in nav("t1") and 'href="/my/learning"' in nav("t1")
    assert 'href="/approvals"' not in nav("t1") and 'href="/my/trainings"' in nav("t1")
    assert 'href="/approvals"' in nav("boss")
    assert school.clients["t1"].get("/approvals").status_code == 403
    assert school.clients["t1"].get("/training/programs/new").status_code == 403
    assert 'data-testid="new-program"' not in school.clients["t1"].get("/training").text


def test_hr_creates_a_program_and_schedules_a_session(school, db):
    bad = form(school, "hr", "/training/programs/new", {"code": "bad code", "title": "", "kind": "offline", "level": "advanced", "elig_hired_within_days": "x"})
    assert bad.status_code == 422
    assert 'data-field="code"' in bad.text and 'data-field="title"' in bad.text and 'data-field="elig_hired_within_days"' in bad.text
    created = form(school, "hr", "/training/programs/new", {
        "code": "GT", "title": "语法教学技巧", "title_en": "Grammar teaching", "kind": "offline", "level": "advanced", "planned_hours": "10",
        "tags": "grammar-teaching，trainer", "target_kinds": ["teaching"], "requires_approval": "1",
        "elig_department_kinds": ["teaching"], "elig_hired_at_least_days": "0",
    })
    assert created.status_code == 303, created.text
    assert created.headers["location"] == "/training/programs/GT?done=created"
    program = db.scalar(select(Program).where(Program.code == "GT"))
    assert (program.tags, program.target_kinds, program.eligibility) == (["grammar-teaching", "trainer"], ["teaching"], {"department_kinds": ["teaching"], "hired_at_least_days": 0})
    assert form(school, "hr", "/training/programs/new", {"code": "GT", "title": "x", "kind": "offline", "level": "advanced"}).status_code == 409
    schedule = {
        "starts_at": "2026-09-08T14:00", "ends_at": "2026-09-08T16:00", "site_code": "BJ", "venue": "BJ::Room 1", "trainer": "王老师",
        "capacity": "20", "checkin_methods": ["face", "geo"], "min_participation": "80", "missing_checkout_policy": "credit-to-end",
    }
    wrong = form(school, "hr", "/training/programs/GT/sessions/new", {**schedule, "ends_at": "2026-09-08T13:00"})
    assert wrong.status_code == 422 and 'data-field="ends_at"' in wrong.text and "结束时间须晚于开始时间" in wrong.text
    elsewhere = form(school, "hr", "/training/programs/GT/sessions/new", {**schedule, "venue": "SH::Room 1"})
    assert elsewhere.status_code == 422 and "该场地不属于所选校区" in elsewhere.text
    done = form(school, "hr", "/training/programs/GT/sessions/new", schedule)
    assert done.status_code == 303, done.text
    session = db.scalar(select(TrainingSession).where(TrainingSession.code == "GT-1"))
    assert session.starts_at == NOW.replace(day=8, hour=6)  # 14:00 in Beijing
    assert (session.venue.name, session.checkin_methods, session.min_participation) == ("Room 1", ["face", "geo"], 0.8)
    clash = form(school, "hr", "/training/programs/GT/sessions/new", {**schedule, "venue": "BJ::Room 2", "session_code": "GT-X"})
    assert clash.status_code == 409 and "该讲师此时段已在场次 GT-1 授课" in clash.text
    page = school.clients["hr"].get("/training/sessions/GT-1")
    assert "2026-09-08" in page.text and "14:00–16:00" in page.text and "Asia/Shanghai" in page.text


def test_employee_requests_and_cancels_from_my_trainings(school, course, db):
    db.add(GrowthNote(employee_id=_emp(db, "T1"), kind="need", tag="classroom-interaction", source="self", noted_on=NOW.date()))
    db.commit()
    client = school.clients["t1"]
    page = client.get("/my/trainings").text
    assert 'data-session="CI-1"' in page and "为您推荐" in page
    assert 'data-session="MKTONLY-1"' not in page and "另有 1 个场次面向其他员工" in page
    sent = form(school, "t1", "/my/trainings/request", {"session_code": "CI-1", "reason": "想提高互动"})
    assert sent.status_code == 303 and sent.headers["location"] == "/my/trainings?done=requested"
    page = client.get("/my/trainings?done=requested").text
    assert "报名申请已提交" in page and "待审批" in page
    again = form(school, "t1", "/my/trainings/request", {"session_code": "CI-1"})
    assert again.status_code == 409 and "已报名该场次" in again.text
    barred = form(school, "t1", "/my/trainings/request", {"session_code": "MKTONLY-1"})
    assert barred.status_code == 422 and "不符合报名条件：部门类型" in barred.text
    row = db.scalar(select(Enrolment).where(Enrolment.session_id == course.id))
    cancelled = form(school, "t1", f"/my/trainings/{row.id}/cancel", {"reason": "时间冲突"})
    assert cancelled.status_code == 303
    db.refresh(row)
    assert row.status == "cancelled" and row.reason == "时间冲突"
    theirs = form(school, "t2", f"/my/trainings/{row.id}/cancel", {})
    assert theirs.status_code == 403


def _emp(db, no):
    from trainquant.org.models import Employee

    return db.scalar(select(Employee.id).where(Employee.employee_no == no))


def test_the_inbox_swaps_rows_in_place(school, course, db):
    form(school, "t1", "/my/trainings/request", {"session_code": "CI-1"})
    form(school, "t2", "/my/trainings/request", {"session_code": "CI-1"})
    form(school, "m1", "/my/trainings/request", {"session_code": "CI-1"})
    boss = school.clients["boss"]
    inbox = boss.get("/approvals").text
    assert inbox.count('data-testid="approve"') == 2 and "王芳" not in inbox
    assert 'hx-post="/approvals/' in inbox and 'hx-target="closest tr"' in inbox and 'hx-swap="outerHTML"' in inbox
    first, second = (r.id for r in db.scalars(select(Enrolment).join(Enrolment.employee).where(Enrolment.session_id == course.id).order_by(Enrolment.id)).all()[:2])
    htmx = {"HX-Request": "true", **school.headers["boss"]}
    row = boss.post(f"/approvals/{first}/approve", headers=htmx)
    assert row.status_code == 200 and "<html" not in row.text
    assert row.text.strip().startswith("<tr") and "已报名" in row.text and 'data-testid="approve"' not in row.text
    refused = boss.post(f"/approvals/{second}/reject", headers=htmx, data={"reason": ""})
    assert refused.status_code == 200 and "需要填写理由" in refused.text and 'data-testid="reject"' in refused.text
    rejected = boss.post(f"/approvals/{second}/reject", headers=htmx, data={"reason": "本月课多"})
    assert "已驳回" in rejected.text
    # Without HTMX: a redirect back to the inbox; a refused decision shows the page with the reason.
    assert form(school, "boss", f"/approvals/{first}/approve", {}).status_code == 409
    third = db.scalar(select(Enrolment.id).where(Enrolment.employee_id == _emp(db, "M1")))
    other = form(school, "boss", f"/approvals/{third}/approve", {})
    assert other.status_code == 403 and "该员工不在您管理的部门" in other.text
    hidden = boss.post(f"/approvals/{third}/approve", headers=htmx)
    assert "该员工不在您管理的部门" in hidden.text and "王芳" not in hidden.text  # whose request it is stays hidden
    assert form(school, "mboss", f"/approvals/{third}/approve", {}).headers["location"] == "/approvals?done=approve"


def test_hr_enrols_overrides_and_cancels_on_the_session_page(school, course, db):
    enrolled = form(school, "hr", "/training/sessions/CI-1/enrol", {"employee_no": "T2"})
    assert enrolled.status_code == 303 and "done=approved" in enrolled.headers["location"]
    waiting = form(school, "hr", "/training/sessions/CI-1/enrol", {"employee_no": "T1"})
    assert "done=waitlisted" in waiting.headers["location"]
    page = school.clients["hr"].get("/training/sessions/CI-1").text
    assert "候补 · 第 1 位" in page
    unknown = form(school, "hr", "/training/sessions/CI-1/enrol", {"employee_no": "NOPE"})
    assert unknown.status_code == 422 and "未知的工号" in unknown.text
    barred = form(school, "hr", "/training/sessions/MKTONLY-1/enrol", {"employee_no": "T1"})
    assert barred.status_code == 422 and "不符合报名条件" in barred.text
    skipped = form(school, "hr", "/training/sessions/MKTONLY-1/enrol", {"employee_no": "T1", "skip_eligibility": "1", "reason": "特批"})
    assert skipped.status_code == 303
    t2 = db.scalar(select(Enrolment).where(Enrolment.session_id == course.id, Enrolment.employee_id == _emp(db, "T2")))
    no_reason = form(school, "hr", f"/training/enrolments/{t2.id}/action", {"action": "override_reject", "reason": ""})
    assert no_reason.status_code == 422 and "需要填写理由" in no_reason.text
    assert form(school, "hr", f"/training/enrolments/{t2.id}/action", {"action": "override_reject", "reason": "名额调整"}).status_code == 303
    statuses = dict(db.execute(select(Enrolment.employee_id, Enrolment.status).where(Enrolment.session_id == course.id)).all())
    assert statuses == {_emp(db, "T2"): "rejected", _emp(db, "T1"): "approved"}  # promoted from the waiting list
    assert form(school, "hr", "/training/sessions/CI-1/cancel", {"reason": ""}).status_code == 422
    assert form(school, "hr", "/training/sessions/CI-1/cancel", {"reason": "讲师生病"}).status_code == 303
    page = school.clients["hr"].get("/training/sessions/CI-1").text
    assert "已取消：讲师生病" in page


def test_costs_and_assessments_from_the_pages(school, course, db):
    bad = form(school, "hr", "/training/programs/CI/costs", {"category": "venue", "amount": "12.345", "currency": "CNY"})
    assert bad.status_code == 422 and 'data-field="amount"' in bad.text
    assert form(school, "hr", "/training/programs/CI/costs", {"category": "venue", "amount": "1200.50", "currency": "CNY", "session_code": "CI-1"}).status_code == 303
    assert form(school, "hr", "/training/programs/CI/costs", {"category": "trainer_fee", "amount": "3000", "currency": "CNY"}).status_code == 303
    assert [c.amount for c in db.scalars(select(CostItem).order_by(CostItem.id))] == [pytest.approx(1200.5), 3000]
    page = school.clients["hr"].get("/training/programs/CI").text
    assert "4,200.50" in page
    assert "培训成本" not in school.clients["boss"].get("/training/programs/CI").text  # HR's figures
    ielts = form(school, "hr", "/training/assessments/new", {"employee_no": "T1", "kind": "ielts", "assessed_on": "2026-08-30", "score": "7.3"})
    assert ielts.status_code == 422 and "须以 0.5 为步长" in ielts.text
    trial = form(school, "hr", "/training/assessments/new", {
        "employee_no": "T1", "kind": "trial_lecture", "assessed_on": "2026-08-30", "program_code": "CI",
        "r1_name": "王老师", "r1_score": "86", "r2_name": "李老师", "r2_score": "85.5", "r3_name": "Anna", "r3_score": "83",
    })
    assert trial.status_code == 303, trial.text
    shown = school.clients["hr"].get(trial.headers["location"]).text
    assert "已记录：李雷，试讲评分" in shown and "84.83" in shown and "未通过" in shown
    assert db.scalar(select(Assessment.score)) == pytest.approx(84.83)
    case = form(school, "hr", "/training/assessments/new", {"employee_no": "T1", "kind": "case_analysis", "assessed_on": "2026-08-30"})
    assert case.status_code == 422 and "请选择通过或未通过" in case.text
    outside = form(school, "boss", "/training/assessments/new", {"employee_no": "M1", "kind": "ielts", "assessed_on": "2026-08-30", "score": "7"})
    assert outside.status_code == 422 and "未知的工号" in outside.text
    mine = school.clients["t1"].get("/my/trainings").text
    assert "试讲评分" in mine and "84.83" in mine


def test_an_employee_sees_only_their_own_on_shared_pages(school, course, db):
    form(school, "hr", "/training/sessions/CI-1/enrol", {"employee_no": "T2"})
    form(school, "hr", "/training/sessions/CI-1/enrol", {"employee_no": "M1"})
    page = school.clients["t1"].get("/training/sessions/CI-1").text
    assert 'data-employee="T2"' not in page and 'data-employee="M1"' not in page
    assert 'data-testid="request"' in page  # T1 may still ask (the waiting list)
    boss = school.clients["boss"].get("/training/programs/CI").text
    assert "韩梅梅" in boss and "王芳" not in boss


def test_a_started_session_offers_no_request(school, db, clock):
    program = make_program(db, code="SOON")
    make_session(db, program=program, starts_at=NOW + timedelta(hours=1))
    db.commit()
    assert 'data-session="SOON-1"' in school.clients["t1"].get("/my/trainings").text
    clock.advance(hours=2)
    assert 'data-session="SOON-1"' not in school.clients["t1"].get("/my/trainings").text
    late = form(school, "t1", "/my/trainings/request", {"session_code": "SOON-1"})
    assert late.status_code == 422 and "该场次已开始" in late.text


def test_the_session_page_leads_to_its_board_and_its_qr_screen(school, course, db):
    course.checkin_methods = ["qr", "manual"]
    db.commit()
    hr = school.clients["hr"].get("/training/sessions/CI-1").text
    assert 'data-testid="board-link"' in hr and 'data-testid="qr-link"' in hr
    for href in re.findall(r'href="(/attendance/sessions/[^"]+)"', hr):
        assert school.clients["hr"].get(href).status_code == 200, href
    boss = school.clients["boss"].get("/training/sessions/CI-1").text  # a manager follows the board, does not run the room
    assert 'data-testid="board-link"' in boss and 'data-testid="qr-link"' not in boss
    employee = school.clients["t1"].get("/training/sessions/CI-1").text
    assert 'data-testid="session-links"' not in employee
    course.status, course.cancel_reason = "cancelled", "改期"
    db.commit()
    assert 'data-testid="session-links"' not in school.clients["hr"].get("/training/sessions/CI-1").text


def test_planned_hours_read_as_a_person_reads_them(school, db):
    make_program(db, code="ONL8", title="八分钟微课", kind="online", planned_hours=8 / 60)
    make_program(db, code="LONG", title="长课", planned_hours=2.25)
    db.commit()
    page = school.clients["hr"].get("/training").text
    row = page.split('ONL8', 1)[1].split("</tr>", 1)[0]
    assert "8 分钟" in row and "0.133" not in row
    assert "2.2" in page.split('LONG', 1)[1].split("</tr>", 1)[0]  # one decimal
    assert "8 min" in school.clients["hr"].get("/training/programs/ONL8?lang=en").text


def test_hr_records_a_past_training_from_the_session_page(school, db):
    make_session(db, program=make_program(db, code="OLD", title="往期培训"), starts_at=NOW - timedelta(days=40), status="completed")
    db.commit()
    page = school.clients["hr"].get("/training/sessions/OLD-1").text
    assert 'data-testid="late-entry-hint"' in page and 'data-testid="enrol-employee"' in page
    no_reason = form(school, "hr", "/training/sessions/OLD-1/enrol", {"employee_no": "T1"})
    assert no_reason.status_code == 422 and "补录需要填写理由" in no_reason.text
    done = form(school, "hr", "/training/sessions/OLD-1/enrol", {"employee_no": "T1", "reason": "平台上线前的培训"})
    assert done.status_code == 303
    row = school.clients["hr"].get("/training/sessions/OLD-1").text.split('data-employee="T1"', 1)[1].split("</tr>", 1)[0]
    assert 'data-exception="late-entry"' in row and "补录：开始后报名" in row and "平台上线前的培训" in row


def test_hr_enrols_a_whole_department_or_a_tag_and_sees_who_was_refused(school, course, db):
    course.capacity = 10
    db.commit()
    # TEACH and its IELTS group: T1, T2 and B1; and typed: M1 (CI is for everyone), NOPE (no such person), T2 again.
    got = form(school, "hr", "/training/sessions/CI-1/enrol-many", {"department": "TEACH", "employee_nos": "M1，NOPE\nT2"})
    assert got.status_code == 200
    result = got.text[got.text.index('data-testid="bulk-result"'):]
    assert "已报名 4 人（已批准 4，候补 0，待审批 0）；未能报名 1 人。" in result
    assert "NOPE" in result and "未知的工号" in result
    enrolled = set(db.scalars(select(Enrolment.employee_id).where(Enrolment.session_id == course.id, Enrolment.status == "approved")))
    assert enrolled == {_emp(db, n) for n in ("T1", "T2", "B1", "M1")}
    again = form(school, "hr", "/training/sessions/CI-1/enrol-many", {"tag": "new-teacher"})  # T1, already in
    assert "已报名 0 人" in again.text and "未能报名 1 人" in again.text
    empty = form(school, "hr", "/training/sessions/CI-1/enrol-many", {})
    assert empty.status_code == 422 and "请选择部门或标签，或输入工号" in empty.text
    assert form(school, "boss", "/training/sessions/CI-1/enrol-many", {"department": "TEACH"}).status_code == 403


def test_a_session_created_from_a_slot_enrols_its_group(school, course, db):
    start = (NOW + timedelta(days=20)).astimezone(ZoneInfo("Asia/Shanghai")).replace(hour=14, minute=0)
    starts, ends = start.strftime("%Y-%m-%dT%H:%M"), (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")
    page = school.clients["hr"].get("/training/programs/CI/sessions/new", params={"starts": starts, "ends": ends, "people": "T1 T2", "capacity": "12"})
    assert f'value="{starts}"' in page.text and 'name="people" value="T1 T2"' in page.text and "为此时段有空的 2 人报名" in page.text
    made = form(school, "hr", "/training/programs/CI/sessions/new",
                {"starts_at": starts, "ends_at": ends, "capacity": "12", "checkin_methods": "qr", "min_participation": "80", "site_code": "BJ",
                 "missing_checkout_policy": "credit-to-end", "people": "T1 T2"})
    assert made.status_code == 200 and "已报名 2 人（已批准 2" in made.text
    session = db.scalar(select(TrainingSession).where(TrainingSession.program_id == course.program_id, TrainingSession.capacity == 12))
    assert {e.employee_id for e in db.scalars(select(Enrolment).where(Enrolment.session_id == session.id))} == {_emp(db, "T1"), _emp(db, "T2")}
    # A bad prefill is ignored, not a 500.
    assert school.clients["hr"].get("/training/programs/CI/sessions/new", params={"starts": "tomorrow"}).status_code == 200


def test_a_manager_approves_in_bulk_filters_and_exports_the_inbox(school, course, db):
    import io

    from openpyxl import load_workbook

    course.capacity = 1
    db.commit()
    for who in ("t1", "t2", "m1"):
        form(school, who, "/my/trainings/request", {"session_code": "CI-1"})
    boss = school.clients["boss"]
    page = boss.get("/approvals").text
    assert page.count('data-testid="pick"') == 2 and 'data-testid="bulk-every"' in page
    assert boss.get("/approvals", params={"department": "IELTS"}).text.count('data-testid="pick"') == 1  # T1 only
    assert boss.get("/approvals", params={"department": "MKT"}).status_code == 403  # not theirs
    book = load_workbook(io.BytesIO(boss.get("/approvals/export.xlsx").content))
    rows = list(book["审批"].iter_rows(values_only=True))
    assert rows[0][0] == "工号" and sorted(r[0] for r in rows[1:]) == ["T1", "T2"]
    ids = [str(i) for i in db.scalars(select(Enrolment.id).where(Enrolment.session_id == course.id).order_by(Enrolment.id))]
    nothing = form(school, "boss", "/approvals/bulk", {})
    assert nothing.status_code == 422 and "请先勾选要批准的申请" in nothing.text
    done = school.clients["boss"].post("/approvals/bulk", data={"csrf_token": school.headers["boss"]["X-CSRF-Token"], "ids": ids})
    result = done.text[done.text.index('data-testid="bulk-result"'):]
    # One seat: the first approved, the second waitlisted; M1's (marketing) refused as not theirs.
    assert "已批准 2 条（其中 1 条因场次已满进入候补）；1 条未能批准。" in result and "该员工不在您管理的部门" in result
    statuses = dict(db.execute(select(Enrolment.employee_id, Enrolment.status).where(Enrolment.session_id == course.id)).all())
    assert statuses == {_emp(db, "T1"): "approved", _emp(db, "T2"): "waitlisted", _emp(db, "M1"): "requested"}
    every = form(school, "mboss", "/approvals/bulk", {"every": "1"})
    assert "已批准 1 条" in every.text


def test_the_training_calendar_shows_a_week_a_month_and_what_clashes(school, course, db):
    # CI-1 at NOW+7d 14:00 (T1 and T2 approved); a second program's session one hour later, overlapping it, with T2.
    other = make_program(db, code="GT", title="语法教学技巧")
    second = make_session(db, program=other, code="GT-1", starts_at=course.starts_at + timedelta(hours=1), hours=2, site=school.site)
    for s, nos in ((course, ("T1", "T2")), (second, ("T2",))):
        for no in nos:
            db.add(Enrolment(session_id=s.id, employee_id=_emp(db, no), status="approved", source="hr", created_at=NOW, updated_at=NOW))
    db.commit()
    day = course.starts_at.astimezone(ZoneInfo("Asia/Shanghai")).date().isoformat()
    week = school.clients["t1"].get("/training/calendar", params={"day": day}).text  # an employee may look too
    assert 'data-session="CI-1"' in week and 'data-session="GT-1"' in week and "2 个场次有冲突" in week
    assert week.count("1 人同时在另一场次") == 2  # T2, in both
    month = school.clients["hr"].get("/training/calendar", params={"day": day, "view": "month", "lang": "en"}).text
    assert 'data-testid="calendar-month"' in month and "1 people in another session at the time" in month
    nav = month[month.index('class="mainnav"'):month.index("</nav>")]
    assert 'href="/training/calendar" class="active"' in nav and 'href="/training" class=""' in nav  # the calendar's item, not also the programs'
    assert school.clients["hr"].get("/training/calendar", params={"view": "year"}).status_code == 422


def test_a_whole_sessions_results_recorded_in_one_grid(school, course, db):
    from trainquant.training.models import Assessment

    course.capacity = 5
    for no in ("T1", "T2", "M1"):
        db.add(Enrolment(session_id=course.id, employee_id=_emp(db, no), status="approved", source="hr", created_at=NOW, updated_at=NOW))
    db.commit()
    assert 'data-testid="roster-link"' not in school.clients["hr"].get("/training/sessions/CI-1").text  # not held yet
    page = school.clients["hr"].get("/training/sessions/CI-1/assessments", params={"kind": "trial_lecture"}).text
    assert page.count('data-testid="score"') == 3 and "分数范围" in page
    data = {"csrf_token": school.headers["hr"]["X-CSRF-Token"], "kind": "trial_lecture", "assessed_on": NOW.date().isoformat(),
            "employee_no": ["T1", "T2", "M1"], "score:T1": "88", "score:T2": "130", "score:M1": ""}
    got = school.clients["hr"].post("/training/sessions/CI-1/assessments", data=data)
    assert got.status_code == 200 and "已录入 1 条成绩。" in got.text and "1 行需要检查" in got.text
    row = got.text[got.text.index('data-employee="T2"'):].split("</tr>")[0]
    assert 'value="130"' in row and "field-error" in row  # kept as typed, with why
    scores = dict(db.execute(select(Assessment.employee_id, Assessment.score).where(Assessment.session_id == course.id)).all())
    assert scores == {_emp(db, "T1"): 88.0}  # M1 left blank: nothing recorded
    boss = school.clients["boss"].get("/training/sessions/CI-1/assessments", params={"kind": "trial_lecture"}).text
    assert boss.count('data-testid="score"') == 2  # their team only: T1 and T2, not M1
    assert school.clients["t1"].get("/training/sessions/CI-1/assessments").status_code == 403
