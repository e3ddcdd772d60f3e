"""The xlsx files a person can feed to the import page."""

from datetime import date, datetime, time

import openpyxl
import pytest

from trainquant.simulate.institution.export import EMPLOYEE_HEADERS, TIMETABLE_HEADERS, write_files
from trainquant.simulate.institution.school import generate


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    school = generate(11, today=date(2026, 9, 1))
    return school, write_files(school, tmp_path_factory.mktemp("sim"))


def rows(path):
    return list(openpyxl.load_workbook(path, read_only=True).active.iter_rows(values_only=True))


def test_employee_file(files):
    school, written = files
    path, count = written["employees"]
    data = rows(path)
    assert data[0] == EMPLOYEE_HEADERS and count == 300 and len(data) == 301
    first = dict(zip(EMPLOYEE_HEADERS, data[1], strict=True))
    e = school.employees[0]
    assert first["工号"] == e.employee_no and first["姓名"] == e.name and first["部门"] == "教学部"
    assert first["入职日期"] == datetime.combine(e.hire_date, time()) and first["状态"] in ("在职", "试用", "休假")
    assert first["校区"].endswith("校区") and first["考勤机编号"] == dict(e.external_ids)["device_pin"]
    assert {r[3] for r in data[1:]} >= {"初级教师", "中级教师", "高级教师", "外教", "课程顾问", "前台", "出纳"}


def test_timetable_file(files):
    school, written = files
    path, count = written["timetable"]
    data = rows(path)
    assert data[0] == TIMETABLE_HEADERS and count == len(school.slots) + len(school.classes) == len(data) - 1
    weekly = [r for r in data[1:] if r[1] is not None]
    dated = [r for r in data[1:] if r[8] is not None]
    assert len(weekly) == len(school.slots) and len(dated) == len(school.classes)
    assert {r[1] for r in weekly} <= {"周一", "周二", "周三", "周四", "周五", "周六", "周日"}
    assert all(isinstance(r[2], time) and r[2] < r[3] for r in data[1:])
