"""The HR pages: departments, the employee list with live search, the profile with its week view."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, time

import pytest
from fastapi.testclient import TestClient

from tests.conftest import login, make_department, make_employee, make_site, make_user
from trainquant.org.models import Employee, EmployeeTag, GrowthNote, WeeklySlot

ROW = re.compile(r'data-employee="([^"]+)"')


@dataclass
class School:
    teachers: list[Employee]
    marketer: Employee
    clerk: Employee
    manager: Employee


@pytest.fixture
def school(db) -> School:
    bj, sh = make_site(db, code="BJ"), make_site(db, code="SH")
    teaching = make_department(db, code="TEACH", kind="teaching", name="教学部")
    ielts = make_department(db, code="IELTS", kind="teaching", name="雅思组", parent=teaching)
    marketing = make_department(db, code="MKT", kind="marketing", name="市场部")
    admin = make_department(db, code="ADM", kind="admin", name="行政部")
    manager = make_employee(db, employee_no="T000", department=teaching, name="周主任", site=bj)
    manager.position = "教学主管"
    teachers = []
    for i in range(1, 61):
        emp = make_employee(db, employee_no=f"T{i:03d}", department=ielts if i % 2 else teaching, name=f"教师{i:02d}", site=bj if i <= 40 else sh)
        emp.position = "雅思讲师" if i % 3 == 0 else "英语讲师"
        emp.manager_id = manager.id
        teachers.append(emp)
    teachers[4].status = "probation"
    teachers[5].status = "left"
    db.add_all(EmployeeTag(employee_id=t.id, tag="new-teacher") for t in teachers[:3])
    marketer = make_employee(db, employee_no="M001", department=marketing, name="王芳", site=sh)
    marketer.position = "课程顾问"
    clerk = make_employee(db, employee_no="A001", department=admin, name="李行政")
    t1 = teachers[0]
    db.add_all([
        WeeklySlot(employee_id=t1.id, weekday=0, start_time=time(9, 0), end_time=time(10, 30), valid_from=date(2026, 1, 1), course="雅思口语"),
        WeeklySlot(employee_id=t1.id, weekday=2, start_time=time(18, 0), end_time=time(20, 0), valid_from=date(2026, 1, 1), course="雅思写作"),
        GrowthNote(employee_id=t1.id, kind="need", tag="雅思口语进阶", source="self", noted_on=date(2026, 8, 1)),
        GrowthNote(employee_id=t1.id, kind="weakness", tag="互动性不足", source="student-feedback", noted_on=date(2026, 8, 15)),
    ])
    make_user(db, username="hr", role="hr")
    make_user(db, username="boss", role="manager", employee=manager, department=teaching)
    make_user(db, username="t001", role="employee", employee=t1)
    db.commit()
    return School(teachers, marketer, clerk, manager)


@pytest.fixture
def as_user(app) -> Iterator:
    opened: list[TestClient] = []

    def log_in(username: str) -> tuple[TestClient, str]:
        client = TestClient(app)
        client.__enter__()
        opened.append(client)
        return client, login(client, username)

    yield log_in
    for client in opened:
        client.__exit__(None, None, None)


def rows(html: str) -> list[str]:
    return ROW.findall(html)


# ---------------------------------------------------------------- rendering in both languages


@pytest.mark.parametrize(
    ("path", "zh", "en"),
    [
        ("/departments", ["部门", "教学部", "雅思组", "人数", "添加部门"], ["Departments", "Headcount", "Add a department", "Teaching"]),
        ("/employees", ["员工", "工号", "姓名", "岗位", "入职日期", "在职", "新教师"], ["Employees", "Employee no.", "Hire date", "Active", "New teacher"]),
        ("/employees/T001", ["成长档案", "进阶需求", "教学短板", "课表", "周视图", "雅思口语", "学员反馈", "时薪"], ["Growth profile", "Development needs", "Teaching weaknesses", "Timetable", "Week view", "Student feedback", "Hourly cost"]),
    ],
)
def test_pages_render_in_chinese_and_english(client, school, path, zh, en):
    login(client, "hr")
    page = client.get(path)
    assert page.status_code == 200
    assert '<html lang="zh-CN">' in page.text
    for text in zh:
        assert text in page.text, text
    english = client.get(path, params={"lang": "en"})
    assert english.status_code == 200
    assert '<html lang="en">' in english.text
    for text in en:
        assert text in english.text, text
    assert "成长档案" not in english.text and "工号" not in english.text


def test_department_tree_is_indented_with_subtree_headcounts(client, school):
    login(client, "hr")
    html = client.get("/departments").text
    teach, ielts = html.index('data-code="TEACH"'), html.index('data-code="IELTS"')
    assert teach < ielts  # the child follows its parent
    assert "--depth: 1" in html[ielts : ielts + 300]
    # TEACH: the manager and 30 teachers directly, 30 in IELTS below, one of them has left.
    assert re.search(r'data-code="TEACH".*?<td class="num">60 ', html, re.S)
    assert 'href="/employees?department=IELTS"' in html


# ---------------------------------------------------------------- the employee list


def test_search_matches_name_number_and_position(client, school):
    login(client, "hr")
    assert rows(client.get("/employees", params={"q": "王芳"}).text) == ["M001"]
    assert rows(client.get("/employees", params={"q": "a001"}).text) == ["A001"]
    found = rows(client.get("/employees", params={"q": "雅思讲师"}).text)
    assert found == [f"T{i:03d}" for i in range(3, 61, 3)]
    assert "没有符合条件的员工" in client.get("/employees", params={"q": "nobody"}).text


def test_live_search_returns_only_the_table(client, school):
    login(client, "hr")
    page = client.get("/employees")
    assert 'hx-trigger="keyup changed delay:300ms, search"' in page.text
    assert 'hx-target="#employee-results"' in page.text
    partial = client.get("/employees", params={"q": "王"}, headers={"HX-Request": "true", "HX-Target": "employee-results"})
    assert partial.status_code == 200
    assert "<html" not in partial.text and "<table" in partial.text
    assert rows(partial.text) == ["M001"]
    assert 'hx-swap-oob="true"' in partial.text  # the language link follows the new query
    assert "HX-Request" in partial.headers["vary"]
    cleaned = client.get("/employees", params={"q": "王", "kind": "", "status": ""}, headers={"HX-Request": "true", "HX-Target": "employee-results"})
    assert cleaned.headers["hx-push-url"] == "/employees?q=%E7%8E%8B"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"department": "IELTS"}, 30),
        ({"department": "TEACH"}, 61),  # children included
        ({"kind": "marketing"}, 1),
        ({"kind": "admin"}, 1),
        ({"status": "probation"}, 1),
        ({"status": "left"}, 1),
        ({"tag": "new-teacher"}, 3),
        ({"site": "SH", "kind": "teaching"}, 20),
        ({"department": "IELTS", "q": "雅思讲师"}, 10),
        ({"kind": "", "status": "", "q": ""}, 63),  # empty form fields mean "any"
    ],
)
def test_filters_narrow_the_list(client, school, params, expected):
    login(client, "hr")
    page = client.get("/employees", params=params)
    assert page.status_code == 200
    assert f"共 {expected} 人" in page.text


def test_paging_keeps_the_filters(client, school):
    login(client, "hr")
    first = client.get("/employees", params={"kind": "teaching"})
    assert len(rows(first.text)) == 50
    assert "第 1 / 2 页" in first.text
    assert 'href="?kind=teaching&amp;page=2"' in first.text
    second = client.get("/employees", params={"kind": "teaching", "page": 2})
    assert len(rows(second.text)) == 11
    assert set(rows(first.text)).isdisjoint(rows(second.text))
    assert 'href="?kind=teaching&amp;page=1"' in second.text


def test_bad_list_parameters_are_422_not_500(client, school):
    login(client, "hr")
    assert client.get("/employees", params={"kind": "nonsense"}).status_code == 422
    assert client.get("/employees", params={"page": 0}).status_code == 422
    assert client.get("/employees", params={"q": "x" * 65}).status_code == 422
    assert client.get("/employees", params={"department": "NOPE"}).status_code == 404


# ---------------------------------------------------------------- scopes


def test_manager_sees_only_their_department(school, as_user):
    client, _ = as_user("boss")
    listed = rows(client.get("/employees").text) + rows(client.get("/employees", params={"page": 2}).text)
    assert set(listed) == {"T000"} | {t.employee_no for t in school.teachers}
    assert "M001" not in listed and "A001" not in listed
    assert client.get("/employees", params={"kind": "marketing"}).text.count("data-employee=") == 0
    assert client.get("/employees/M001").status_code == 404
    assert client.get("/employees/A001").status_code == 404
    own_team = client.get("/employees/T002")
    assert own_team.status_code == 200
    assert "时薪" not in own_team.text  # hourly cost is for HR and admins only
    assert 'name="tag"' in own_team.text  # managers add growth notes for their team
    assert 'name="tag"' not in client.get("/employees/T000").text  # ... but not for themselves


def test_employee_sees_only_their_own_profile(school, as_user):
    client, _ = as_user("t001")
    assert rows(client.get("/employees").text) == ["T001"]
    own = client.get("/employees/T001")
    assert own.status_code == 200 and "雅思写作" in own.text
    assert "时薪" not in own.text and 'name="tag"' not in own.text
    assert "添加部门" not in client.get("/departments").text
    for other in ("T002", "T000", "M001"):
        assert client.get(f"/employees/{other}").status_code == 404
    # the manager's name is shown, but not as a link into a profile the employee may not open
    assert 'href="/employees/T000"' not in own.text


def test_hr_sees_the_hourly_cost(client, school):
    login(client, "hr")
    page = client.get("/employees/T001")
    assert 'data-testid="hourly-cost"' in page.text and "¥80.00" in page.text


# ---------------------------------------------------------------- week view


def test_week_view_places_classes_and_pages_weeks(client, school):
    login(client, "hr")
    page = client.get("/employees/T001").text  # the clock says Tuesday 2026-09-01
    assert "2026-08-31 – 2026-09-06" in page
    assert page.count('data-testid="class"') == 2
    # Monday 09:00-10:30: one hour after 08:00 of a 14-hour day, 1.5 hours long
    monday = page[page.index('data-day="2026-08-31"') :]
    assert "top: 7.143%; height: 10.714%" in monday[: monday.index('data-day="2026-09-01"')]
    assert 'data-testid="week-hours">3.5<' in page
    assert 'href="?week=2026-08-24#timetable"' in page and 'href="?week=2026-09-07#timetable"' in page
    before = client.get("/employees/T001", params={"week": "2025-12-24"}).text  # before the slots start
    assert "2025-12-22 – 2025-12-28" in before and 'data-testid="class"' not in before
    assert "本周无课" in before
    assert client.get("/employees/T001", params={"week": "not-a-date"}).status_code == 422


# ---------------------------------------------------------------- forms


def test_add_department(school, as_user):
    client, token = as_user("hr")
    resp = client.post("/departments", data={"csrf_token": token, "code": "KIDS", "name": "少儿部", "kind": "teaching", "parent_code": "TEACH"}, follow_redirects=False)
    assert resp.status_code == 303
    page = client.get(resp.headers["location"])
    assert "部门 KIDS 已添加" in page.text and 'data-code="KIDS"' in page.text


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"code": "", "name": "少儿部", "kind": "teaching"}, "code", "此项为必填项"),
        ({"code": "有 空格", "name": "少儿部", "kind": "teaching"}, "code", "只能使用字母、数字"),
        ({"code": "KIDS", "name": "", "kind": "teaching"}, "name", "此项为必填项"),
        ({"code": "KIDS", "name": "少儿部", "kind": "finance"}, "kind", "请从选项中选择"),
        ({"code": "KIDS", "name": "少儿部", "kind": "teaching", "parent_code": "NOPE"}, "parent_code", "上级部门不存在"),
        ({"code": "K" * 33, "name": "少儿部", "kind": "teaching"}, "code", "最多 32 个字符"),
    ],
)
def test_department_form_rejects_bad_input_inline(school, as_user, data, field, message):
    client, token = as_user("hr")
    resp = client.post("/departments", data={"csrf_token": token, **data})
    assert resp.status_code == 422
    assert f'data-field="{field}"' in resp.text and message in resp.text
    assert f'value="{data["code"]}"' in resp.text  # what was typed is kept


def test_department_form_duplicate_code_is_a_conflict(school, as_user):
    client, token = as_user("hr")
    resp = client.post("/departments", data={"csrf_token": token, "code": "TEACH", "name": "x", "kind": "teaching"})
    assert resp.status_code == 409 and "该编码已被使用" in resp.text


def test_forms_need_csrf_and_permission(school, as_user):
    client, _token = as_user("hr")
    assert client.post("/departments", data={"code": "KIDS", "name": "少儿部", "kind": "teaching"}).status_code == 403
    assert client.post("/departments", data={"csrf_token": "forged", "code": "KIDS", "name": "x", "kind": "teaching"}).status_code == 403
    assert client.post("/employees/T001", data={"kind": "need", "tag": "x", "noted_on": "2026-09-01"}).status_code == 403
    boss, boss_token = as_user("boss")
    assert boss.post("/departments", data={"csrf_token": boss_token, "code": "KIDS", "name": "x", "kind": "teaching"}).status_code == 403
    assert boss.post("/employees/M001", data={"csrf_token": boss_token, "kind": "need", "tag": "x", "noted_on": "2026-09-01"}).status_code == 404
    employee, employee_token = as_user("t001")
    assert employee.post("/employees/T001", data={"csrf_token": employee_token, "kind": "need", "tag": "x", "noted_on": "2026-09-01"}).status_code == 403
    assert 'data-code="KIDS"' not in client.get("/departments").text


def test_add_growth_note(school, as_user):
    client, token = as_user("boss")
    data = {"csrf_token": token, "kind": "weakness", "tag": "语法讲解不足", "source": "manager", "noted_on": "2026-08-30", "note": "学员反馈"}
    resp = client.post("/employees/T002", data=data, follow_redirects=False)
    assert resp.status_code == 303 and resp.headers["location"].startswith("/employees/T002?noted=1")
    page = client.get("/employees/T002?noted=1")
    assert "语法讲解不足" in page.text and "主管评价" in page.text and "2026-08-30" in page.text
    again = client.post("/employees/T002", data=data)
    assert again.status_code == 409 and "该条目已记录" in again.text


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"kind": "need", "tag": "two words", "noted_on": "2026-09-01"}, "tag", "一个标签"),
        ({"kind": "need", "tag": "", "noted_on": "2026-09-01"}, "tag", "此项为必填项"),
        ({"kind": "need", "tag": "x", "noted_on": "yesterday"}, "noted_on", "YYYY-MM-DD"),
        ({"kind": "praise", "tag": "x", "noted_on": "2026-09-01"}, "kind", "请从选项中选择"),
        ({"kind": "need", "tag": "x", "noted_on": "2026-09-01", "note": "长" * 501}, "note", "最多 500 个字符"),
    ],
)
def test_growth_form_rejects_bad_input_inline(school, as_user, data, field, message):
    client, token = as_user("hr")
    resp = client.post("/employees/T001", data={"csrf_token": token, **data})
    assert resp.status_code == 422
    assert f'data-field="{field}"' in resp.text and message in resp.text
    assert "课表" in resp.text  # the whole profile is shown again, with the form open


def test_the_profile_shows_the_persons_trainings_results_and_indicators(school, as_user, db):
    """Issue 13: a profile showed no trainings, attendance, assessments or indicators (a dead end)."""
    from datetime import timedelta

    from tests.conftest import NOW
    from tests.integration.training.conftest import make_program, make_session
    from trainquant.attendance.models import AttendanceRecord
    from trainquant.training.models import Assessment, Enrolment

    t1 = school.teachers[0]
    program = make_program(db, code="CI", title="课堂互动技巧")
    held = make_session(db, program=program, code="CI-1", starts_at=NOW - timedelta(days=10), hours=2)
    ahead = make_session(db, program=program, code="CI-2", starts_at=NOW + timedelta(days=10), hours=2, sequence=2)
    for s in (held, ahead):
        db.add(Enrolment(session_id=s.id, employee_id=t1.id, status="approved", source="self", created_at=NOW, updated_at=NOW))
    db.add(AttendanceRecord(session_id=held.id, employee_id=t1.id, attended_seconds=5400, scheduled_seconds=7200, participation=0.75,
                            late_seconds=1800, early_leave_seconds=0, away=[], flags=[], events=2, computed_at=NOW))
    db.add(Assessment(employee_id=t1.id, kind_code="trial_lecture", program_id=program.id, session_id=held.id, assessed_on=date(2026, 8, 25),
                      score=88.0, passed=True, ratings=[], created_by="test", created_at=NOW))
    db.add(GrowthNote(employee_id=t1.id, kind="need", tag="classroom-interaction", source="manager", noted_on=date(2026, 8, 20)))
    db.commit()
    client, _ = as_user("t001")
    page = client.get("/employees/T001").text
    record = page[page.index('data-testid="record"'):]
    assert 'data-fig="held">1<' in record and "75%" in record and "尚未举行" in record  # CI-2 is ahead: not a 0%
    assert "88" in record and 'href="/my/trainings"' in record and 'href="/attendance/me"' in record
    assert 'data-tag="classroom-interaction">课堂互动<' in page  # a tag's name, not its slug
    assert "雅思口语进阶" in page  # a tag the catalogue does not know shows as written
    hr, _ = as_user("hr")
    assert 'href="/reports/employees/T001"' in hr.get("/employees/T001").text
    assert 'data-tag="classroom-interaction">Classroom interaction<' in hr.get("/employees/T001", params={"lang": "en"}).text


def test_the_employee_list_exports_what_its_filters_select(client, school, as_user):
    import io

    from openpyxl import load_workbook

    login(client, "hr")
    assert 'formaction="/employees/export.xlsx"' in client.get("/employees").text
    got = client.get("/employees/export.xlsx", params={"department": "IELTS", "q": "雅思讲师"})
    assert got.status_code == 200 and got.headers["content-type"].startswith("application/vnd.openxmlformats")
    header, *rows = list(load_workbook(io.BytesIO(got.content))["员工"].iter_rows(values_only=True))
    assert len(rows) == 10 and header[0] == "工号" and header[-1] == "时薪(元)"  # as the list counts them; HR sees the cost
    tagged = load_workbook(io.BytesIO(client.get("/employees/export.xlsx", params={"tag": "new-teacher", "lang": "en"}).content))["Employees"]
    first = list(tagged.iter_rows(values_only=True))
    assert len(first) == 1 + 3 and first[1][first[0].index("Tags")] == "New teacher"
    boss, _ = as_user("boss")
    mine = list(load_workbook(io.BytesIO(boss.get("/employees/export.xlsx").content))["员工"].iter_rows(values_only=True))
    assert "时薪(元)" not in mine[0] and all(r[3] in ("TEACH", "IELTS") for r in mine[1:])  # their department, no cost
    assert client.get("/employees/export.xlsx", params={"status": "retired"}).status_code == 422


def test_people_are_found_by_pinyin_in_the_list_and_the_picker(client, school, db, as_user):
    school.teachers[6].name = "黄清"
    db.commit()
    login(client, "hr")
    assert rows(client.get("/employees", params={"q": "huang"}).text) == ["T007"]
    assert rows(client.get("/employees", params={"q": "hq"}).text) == ["T007"]
    options = client.get("/people/options", params={"q": "huangq"}).text
    assert '<option value="T007">黄清 · T007' in options
    assert client.get("/people/options", params={"q": "T00"}).text.count("<option") == 9  # T001-T009 (T006 has left)
    assert client.get("/people/options", params={"q": ""}).text.strip() == ""
    employee, _ = as_user("t001")  # an employee sees only themself, by pinyin too
    assert "<option" not in employee.get("/people/options", params={"q": "huang"}).text
