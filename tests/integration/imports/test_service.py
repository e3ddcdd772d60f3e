"""The import service on a migrated database: timetables, generated rows, hierarchies, failures kept."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from tests.conftest import NOW, make_department, make_employee, make_site
from tests.unit.imports.files import csv_bytes, xlsx_bytes
from trainquant.config import Settings
from trainquant.errors import Invalid
from trainquant.imports import service
from trainquant.imports.models import ImportRejection, ImportRun
from trainquant.org.models import DatedClass, Employee, ExternalId, WeeklySlot

SETTINGS = Settings(env="test")


def run(db, kind, content, *, filename="f.xlsx", mode="valid-only"):
    result = service.run_import(db, kind=kind, filename=filename, content=content, mode=mode, actor="test", now=NOW, settings=SETTINGS)
    db.expire_all()
    return result


def rejections(db, run_id):
    return list(db.scalars(select(ImportRejection).where(ImportRejection.run_id == run_id).order_by(ImportRejection.id)))


@pytest.fixture
def staff(db):
    dep = make_department(db, code="IELTS", kind="teaching", name="雅思组")
    site = make_site(db, code="SH", timezone="Asia/Shanghai")
    make_employee(db, employee_no="T001", department=dep, site=site)
    make_employee(db, employee_no="T002", department=dep)
    return dep


TT_HEADER = ["工号", "星期", "日期", "开始时间", "结束时间", "课程", "校区", "生效日期", "失效日期"]


def test_timetable_import_weekly_and_dated_classes_and_reimport(db, staff):
    rows = [
        TT_HEADER,
        ["T001", "周二", None, "18:30", "20:00", "雅思写作", None, "2026-09-01", "2027-01-31"],
        ["T001", 4, None, time(9), time(10, 30), "口语", "SH", date(2026, 9, 1), None],
        ["T002", None, "2026/9/5", "9:00", "12:00", "周末强化", None, None, None],
        ["T404", "Mon", None, "9:00", "10:00", None, None, "2026-09-01", None],
    ]
    content = xlsx_bytes(rows)
    first = run(db, "timetables", content)
    assert (first.status, first.created_count, first.rejected_count) == ("partial", 3, 1)
    assert [(r.row, r.column, r.code) for r in rejections(db, first.id)] == [(5, "工号", "unknown-employee")]
    slot = db.scalars(select(WeeklySlot).order_by(WeeklySlot.weekday)).first()
    assert (slot.weekday, slot.start_time, slot.end_time, slot.valid_to, slot.course) == (1, time(18, 30), time(20), date(2027, 1, 31), "雅思写作")
    dated = db.scalars(select(DatedClass)).one()
    assert dated.starts_at == datetime(2026, 9, 5, 1, 0, tzinfo=UTC)  # 09:00 in Shanghai

    again = run(db, "timetables", content)
    assert (again.created_count, again.updated_count, again.unchanged_count, again.repeat_of_id) == (0, 0, 3, first.id)
    assert db.scalar(select(func.count()).select_from(WeeklySlot)) == 2

    loaded = db.scalars(select(WeeklySlot).where(WeeklySlot.weekday == 1)).one()  # in the identity map before the change
    rows[1][4] = "20:30"
    assert service.run_import(db, kind="timetables", filename="t.xlsx", content=xlsx_bytes(rows), actor="t", now=NOW, settings=SETTINGS).updated_count == 1
    assert db.scalars(select(WeeklySlot).where(WeeklySlot.weekday == 1)).one() is loaded and loaded.end_time == time(20, 30)


def test_duplicate_slots_in_one_file(db, staff):
    rows = [TT_HEADER, ["T001", "周二", None, "18:30", "20:00", None, None, "2026-09-01", None], ["T001", "星期二", None, "18:30", "21:00", None, None, "2026-09-01", None]]
    result = run(db, "timetables", csv_bytes(rows), filename="t.csv")
    assert [(r.row, r.column, r.code) for r in rejections(db, result.id)] == [(3, "开始时间", "duplicate-in-file")]


def test_all_or_nothing_reports_cell_and_reference_errors_together(db, staff):
    rows = [["工号", "姓名", "部门", "入职日期"], ["N1", "甲", "IELTS", "2023-02-30"], ["N2", "乙", "NOPE", "2024-01-01"], ["N3", "丙", "IELTS", None]]
    result = run(db, "employees", xlsx_bytes(rows), mode="all-or-nothing")
    assert result.status == "rejected" and result.rejected_count == 2
    assert [(r.row, r.code) for r in rejections(db, result.id)] == [(2, "invalid-date"), (3, "unknown-department")]
    assert db.scalar(select(func.count()).select_from(Employee).where(Employee.employee_no.like("N%"))) == 0
    raw = json.loads(rejections(db, result.id)[0].raw)
    assert raw == {"工号": "N1", "姓名": "甲", "部门": "IELTS", "入职日期": "2023-02-30"}


def test_import_rows_takes_the_same_path_as_a_file(db, staff):
    header = ["工号", "姓名", "部门", "状态", "标签", "企业微信ID"]
    rows = [["S1", "模拟一", "IELTS", "休假", "新教师", "wx_s1"], ["S2", "模拟二", "雅思组", "", "", None]]
    first = service.import_rows(db, kind="employees", header=header, rows=rows, actor="simulator", now=NOW, settings=SETTINGS)
    assert (first.status, first.created_count, first.filename) == ("applied", 2, "generated rows")
    second = service.import_rows(db, kind="employees", header=header, rows=rows, actor="simulator", now=NOW, settings=SETTINGS)
    assert (second.unchanged_count, second.repeat_of_id) == (2, first.id)
    db.expire_all()
    s1 = db.scalars(select(Employee).where(Employee.employee_no == "S1")).one()
    assert s1.status == "on_leave" and [t.tag for t in s1.tags] == ["新教师"]
    assert db.scalar(select(ExternalId.external_id).where(ExternalId.employee_id == s1.id)) == "wx_s1"


def test_a_blank_status_keeps_the_current_one(db, staff):
    run(db, "employees", csv_bytes([["工号", "状态"], ["T001", "离职"]]), filename="a.csv")
    run(db, "employees", csv_bytes([["工号", "状态", "岗位"], ["T001", "", "主讲"]]), filename="b.csv")
    emp = db.scalars(select(Employee).where(Employee.employee_no == "T001")).one()
    assert (emp.status, emp.position) == ("left", "主讲")


def test_managers_deep_in_one_file_and_a_management_cycle(db, staff):
    header = ["工号", "姓名", "部门", "上级工号"]
    rows = [["L3", "三级", "IELTS", "L2"], ["L2", "二级", "IELTS", "L1"], ["L1", "一级", "IELTS", "T001"], ["C1", "环一", "IELTS", "C2"], ["C2", "环二", "IELTS", "C1"]]
    result = service.import_rows(db, kind="employees", header=header, rows=rows, actor="t", now=NOW, settings=SETTINGS)
    assert (result.status, result.created_count) == ("applied", 5)
    db.expire_all()
    by_no = {e.employee_no: e for e in db.scalars(select(Employee))}
    assert [by_no[n].manager.employee_no for n in ("L3", "L2", "L1", "C1", "C2")] == ["L2", "L1", "T001", "C2", "C1"]


def test_an_external_id_belongs_to_one_employee(db, staff):
    header = ["工号", "企业微信ID"]
    run(db, "employees", csv_bytes([header, ["T001", "wx1"]]), filename="a.csv")
    result = run(db, "employees", csv_bytes([header, ["T002", "wx1"], ["T001", "wx9"]]), filename="b.csv")
    assert [(r.row, r.column, r.code) for r in rejections(db, result.id)] == [(2, "企业微信ID", "external-id-taken")]


def test_a_database_refusal_keeps_the_run_and_writes_nothing(db, staff, monkeypatch):
    def boom(*_a, **_k):
        db.execute(select(1))
        raise IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed"))

    monkeypatch.setattr(service, "upsert_employees", boom)
    result = run(db, "employees", csv_bytes([["工号", "姓名", "部门"], ["Z1", "甲", "IELTS"]]), filename="a.csv")
    assert result.status == "rejected"
    assert [r.code for r in rejections(db, result.id)] == ["database-conflict"]
    assert db.get(ImportRun, result.id) is not None


def test_unknown_kind_or_mode_is_a_programming_error(db):
    with pytest.raises(Invalid):
        service.run_import(db, kind="payroll", filename="x", content=b"x", actor="t", now=NOW, settings=SETTINGS)
    with pytest.raises(Invalid):
        service.import_rows(db, kind="employees", header=[], rows=[], mode="maybe", actor="t", now=NOW, settings=SETTINGS)


def test_progress_is_reported_in_phases(db, staff):
    seen = []
    service.run_import(
        db, kind="employees", filename="a.csv", content=csv_bytes([["工号", "姓名", "部门"], ["P1", "甲", "IELTS"]]), actor="t", now=NOW,
        settings=SETTINGS, progress=lambda phase, done, total: seen.append(phase),
    )
    assert {"read", "validate", "write"} <= set(seen)
