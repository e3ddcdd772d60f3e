"""The import API end to end: every bad input is a clear 4xx problem, every run is kept, nothing is duplicated."""

from __future__ import annotations

import io
import random
from datetime import date, datetime
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from tests.conftest import (
    login,
    make_api_key,
    make_department,
    make_employee,
    make_user,
)
from tests.integration.imports.conftest import HEADER, problem, staff_rows, upload
from tests.unit.imports.files import csv_bytes, xlsx_bytes
from trainquant.imports.models import ImportRejection, ImportRun
from trainquant.org.models import Employee, EmployeeTag, ExternalId


def employees(db) -> dict[str, Employee]:
    db.expire_all()
    return {e.employee_no: e for e in db.scalars(select(Employee))}


def test_import_then_reimport_updates_never_duplicates(hr, db):
    content = xlsx_bytes(staff_rows(3))
    first = upload(hr, "employees", content)
    assert first.status_code == 201, first.text
    body = first.json()
    assert (body["status"], body["created_count"], body["updated_count"], body["unchanged_count"]) == ("applied", 3, 0, 0)
    assert body["errors"] == [] and body["repeat_of_id"] is None and body["created_by"] == "user:hr"
    got = employees(db)["T001"]
    assert (got.name, got.department.code, got.hire_date, got.hourly_cost, got.site.code) == ("老师1", "IELTS", date(2024, 9, 1), Decimal("120.50"), "BJ")
    assert sorted(t.tag for t in got.tags) == ["新教师", "雅思"]
    assert {x.system: x.external_id for x in got.external_ids} == {"device_pin": "1001"}

    again = upload(hr, "employees", content, filename="same-file-new-name.xlsx")
    assert again.status_code == 201
    body2 = again.json()
    assert (body2["created_count"], body2["updated_count"], body2["unchanged_count"]) == (0, 0, 3)
    assert body2["repeat_of_id"] == body["id"] and body2["sha256"] == body["sha256"]
    assert db.scalar(select(func.count()).select_from(Employee)) == 3
    assert db.scalar(select(func.count()).select_from(EmployeeTag)) == 6


def test_a_changed_file_updates_only_what_changed(hr, db):
    upload(hr, "employees", xlsx_bytes(staff_rows(3)))
    rows = staff_rows(3)
    rows[2][6] = "150"  # T002's hourly cost
    rows[3][10] = "骨干"  # T003's tags
    body = upload(hr, "employees", xlsx_bytes(rows)).json()
    assert (body["created_count"], body["updated_count"], body["unchanged_count"]) == (0, 2, 1)
    staff = employees(db)
    assert staff["T002"].hourly_cost == Decimal("150.00")
    assert [t.tag for t in staff["T003"].tags] == ["骨干"]


def test_a_file_without_a_column_leaves_that_field_alone(hr, db):
    upload(hr, "employees", xlsx_bytes(staff_rows(2)))
    body = upload(hr, "employees", csv_bytes([["工号", "时薪"], ["T001", "99"]], encoding="gbk"), filename="cost.csv").json()
    assert body["updated_count"] == 1
    emp = employees(db)["T001"]
    assert emp.hourly_cost == Decimal("99.00") and emp.position == "讲师" and emp.name == "老师1" and len(emp.tags) == 2


def test_wrong_headers_are_refused_with_row_1(hr, db):
    body = problem(upload(hr, "employees", xlsx_bytes([["工号", "姓名", "入职日起", "部门"], ["T001", "李雷", "2024-09-01", "IELTS"]])), 422)
    assert body["errors"] == [{"row": 1, "column": "入职日起", "code": "unknown-column", "message": "unknown column '入职日起'"}]
    run = db.get(ImportRun, body["import_run_id"])
    assert run.status == "rejected" and db.scalar(select(func.count()).select_from(Employee)) == 0


def test_missing_required_column(hr):
    body = problem(upload(hr, "employees", csv_bytes([["姓名", "部门"], ["李雷", "IELTS"]]), filename="a.csv"), 422)
    assert body["errors"][0]["code"] == "missing-column" and "工号" in body["errors"][0]["message"]


def test_a_header_that_is_really_data(hr):
    body = problem(upload(hr, "employees", csv_bytes([["T001", "李雷", "IELTS"]]), filename="a.csv"), 422)
    assert body["errors"][0]["code"] == "no-header" and "template" in body["errors"][0]["message"]


def test_bad_dates_valid_only_writes_the_valid_rows(hr, db):
    rows = staff_rows(3)
    rows[2][4] = "2023-02-30"
    rows[3][4] = "2024/9/31"
    resp = upload(hr, "employees", xlsx_bytes(rows), mode="valid-only")
    assert resp.status_code == 201
    body = resp.json()
    assert body["status"] == "partial" and body["created_count"] == 1 and body["rejected_count"] == 2
    assert [(e["row"], e["column"], e["code"]) for e in body["errors"]] == [(3, "入职日期", "invalid-date"), (4, "入职日期", "invalid-date")]
    assert body["errors"][0]["raw"]["入职日期"] == "2023-02-30" and body["errors"][0]["raw"]["工号"] == "T002"
    assert set(employees(db)) == {"T001"}


def test_all_or_nothing_writes_nothing_but_keeps_the_run_and_its_rejections(hr, db):
    rows = staff_rows(3)
    rows[3][2] = "不存在的部门"
    body = problem(upload(hr, "employees", xlsx_bytes(rows), mode="all-or-nothing"), 422)
    assert body["errors"] == [{"row": 4, "column": "部门", "code": "unknown-department", "message": "unknown department '不存在的部门'"}]
    assert "nothing was written" in body["detail"] and body["import_run_id"]
    assert employees(db) == {}
    assert db.scalar(select(func.count()).select_from(ExternalId)) == 0
    run = db.get(ImportRun, body["import_run_id"])
    assert (run.status, run.mode, run.total_rows, run.rejected_count, run.created_count) == ("rejected", "all-or-nothing", 3, 1, 0)
    rejection = db.scalars(select(ImportRejection).where(ImportRejection.run_id == run.id)).one()
    assert rejection.code == "unknown-department" and "不存在的部门" in rejection.raw
    # The same file, fixed, goes through; the earlier rejected run is still there.
    rows[3][2] = "MKT"
    assert upload(hr, "employees", xlsx_bytes(rows), mode="all-or-nothing").json()["created_count"] == 3
    assert db.scalar(select(func.count()).select_from(ImportRun)) == 2


def test_every_row_failing_in_valid_only_mode_is_a_rejection(hr):
    rows = staff_rows(2)
    for row in rows[1:]:
        row[2] = "NOPE"
    body = problem(upload(hr, "employees", xlsx_bytes(rows)), 422)
    assert {e["code"] for e in body["errors"]} == {"unknown-department"}


def test_duplicate_employee_no_in_the_file_and_in_the_database(hr, db):
    dep = make_department(db, code="OLD", kind="admin")
    make_employee(db, employee_no="T001", department=dep, name="旧名字")
    db.commit()
    rows = staff_rows(2)
    rows.append(list(rows[1]))  # T001 again, in row 4
    body = upload(hr, "employees", xlsx_bytes(rows)).json()
    assert body["status"] == "partial" and body["created_count"] == 1 and body["updated_count"] == 1
    assert body["errors"] == [{"row": 4, "column": "工号", "code": "duplicate-in-file", "message": "employee_no 'T001' already given in row 2", "raw": body["errors"][0]["raw"]}]
    staff = employees(db)
    assert staff["T001"].name == "老师1" and staff["T001"].department.code == "IELTS"


def test_managers_in_the_same_file_and_in_the_database(hr, db):
    upload(hr, "employees", xlsx_bytes(staff_rows(1)))
    rows = [[*HEADER[:3], "上级工号"], ["T010", "下属", "IELTS", "T011"], ["T011", "组长", "IELTS", "T001"], ["T012", "自己", "IELTS", "T012"],
            ["T013", "无上级", "IELTS", "T999"]]
    body = upload(hr, "employees", xlsx_bytes(rows)).json()
    assert {(e["row"], e["code"]) for e in body["errors"]} == {(4, "self-manager"), (5, "unknown-manager")}
    staff = employees(db)
    assert staff["T010"].manager.employee_no == "T011" and staff["T011"].manager.employee_no == "T001"


@pytest.mark.parametrize(
    "cells,column,code",
    [
        ({"姓名": "长" * 65}, "姓名", "too-long"),
        ({"岗位": "x" * 65}, "岗位", "too-long"),
        ({"邮箱": "a" * 115 + "@b.com"}, "邮箱", "too-long"),
        ({"考勤机编号": "9" * 65}, "考勤机编号", "too-long"),
        ({"工号": "T" * 33}, "工号", "too-long"),
        ({"工号": "T 1"}, "工号", "invalid-code"),
        ({"时薪": "12.345"}, "时薪", "invalid-money"),
        ({"时薪": "-5"}, "时薪", "invalid-money"),
        ({"状态": "退休"}, "状态", "invalid-status"),
    ],
)
def test_oversized_and_malformed_fields(hr, db, cells, column, code):
    rows = staff_rows(1)
    for key, value in cells.items():
        rows[1][HEADER.index(key)] = value
    body = problem(upload(hr, "employees", xlsx_bytes(rows)), 422)
    assert [(e["column"], e["code"]) for e in body["errors"]] == [(column, code)]
    assert employees(db) == {}


@pytest.mark.parametrize(
    "content,filename,code,status",
    [
        (b"", "empty.xlsx", "empty-file", 422),
        (b"", "empty.csv", "empty-file", 422),
        (b"\r\n\r\n", "blank.csv", "no-header", 422),
        (random.Random(3).randbytes(10 * 1024 * 1024), "junk.xlsx", "not-a-workbook", 422),
        (random.Random(5).randbytes(10 * 1024 * 1024), "junk.csv", "not-a-table", 422),
        (b"PK\x03\x04" + random.Random(4).randbytes(4096), "fake.xlsx", "not-a-workbook", 422),
        ("工号,姓名\r\n".encode(), "header-only.csv", "no-rows", 422),
    ],
)
def test_unusable_files_are_4xx_problems_and_are_recorded(hr, db, content, filename, code, status):
    body = problem(upload(hr, "employees", content, filename=filename), status)
    assert body["errors"][0]["code"] == code
    run = db.get(ImportRun, body["import_run_id"])
    assert run.status == "rejected" and run.filename == filename


def test_a_file_over_the_size_limit_is_413_and_recorded(hr, app, db):
    app.state.settings = app.state.settings.model_copy(update={"import_max_bytes": 2000})
    content = csv_bytes(staff_rows(40))
    assert len(content) > 2000
    body = problem(upload(hr, "employees", content, filename="big.csv"), 413)
    assert body["errors"][0]["code"] == "too-large" and db.get(ImportRun, body["import_run_id"]).status == "rejected"
    # A declared size far above the limit is refused before the body is read (and before it is stored).
    huge = problem(hr.post("/api/v1/imports/employees", content=b"x" * 200_000, headers={"Content-Type": "multipart/form-data; boundary=x"}), 413)
    assert "import_run_id" not in huge


def test_too_many_rows(hr, app):
    app.state.settings = app.state.settings.model_copy(update={"import_max_rows": 5})
    body = problem(upload(hr, "employees", xlsx_bytes(staff_rows(6))), 413)
    assert body["errors"][0]["code"] == "too-many-rows"


@pytest.mark.parametrize("encoding,bom,delimiter", [("gbk", False, ","), ("utf-8", True, ","), ("utf-8", True, ";"), ("gb18030", False, "\t")])
def test_csv_as_excel_in_china_writes_it(hr, db, encoding, bom, delimiter):
    content = csv_bytes(staff_rows(2), encoding=encoding, bom=bom, delimiter=delimiter)
    resp = upload(hr, "employees", content, filename="员工.csv")
    assert resp.status_code == 201, resp.text
    assert employees(db)["T002"].name == "老师2" and employees(db)["T002"].department.code == "MKT"


def test_xlsx_with_formulas_and_merged_cells(hr, db):
    content = xlsx_bytes(
        [["工号", "姓名", "部门", "时薪", "入职日期"], ["T001", "李雷", "雅思组", None, datetime(2024, 3, 1)], ["T002", "韩梅梅", None, None, 45536],
         ["T003", "王芳", None, None, "2024年9月1日"]],
        merges=["C2:C4"],
        formulas={"D2": ("60*2", 120), "D3": ("D2/2", 60), "D4": ("ROUND(D3*1.05,2)", 63)},
    )
    resp = upload(hr, "employees", content)
    assert resp.status_code == 201, resp.text
    staff = employees(db)
    assert {no: (e.department.code, e.hourly_cost) for no, e in staff.items()} == {
        "T001": ("IELTS", Decimal("120.00")), "T002": ("IELTS", Decimal("60.00")), "T003": ("IELTS", Decimal("63.00")),
    }
    assert staff["T002"].hire_date == date(2024, 9, 1) == staff["T003"].hire_date


def test_error_report_downloads_and_opens(hr):
    rows = staff_rows(2)
    rows[1][4] = "2023-02-30"
    run_id = upload(hr, "employees", xlsx_bytes(rows)).json()["id"]
    resp = hr.get(f"/api/v1/imports/{run_id}/errors.xlsx")
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert f"import-{run_id}-errors.xlsx" in resp.headers["content-disposition"]
    ws = load_workbook(io.BytesIO(resp.content)).worksheets[0]
    values = [[c.value for c in r] for r in ws.iter_rows()]
    assert values[0][:4] == ["行", "列", "编码", "说明"]
    assert values[1][:3] == [2, "入职日期", "invalid-date"] and "不是真实存在的日期" in values[1][3] and "T001" in values[1][4]
    english = load_workbook(io.BytesIO(hr.get(f"/api/v1/imports/{run_id}/errors.xlsx", params={"lang": "en"}).content)).worksheets[0]
    first = [[c.value for c in r] for r in english.iter_rows()][:2]
    assert first[0][:4] == ["Row", "Column", "Code", "Message"] and first[1][3] == "'2023-02-30' is not a real date"


def test_runs_list_newest_first_and_errors_paged(hr):
    ids = [upload(hr, "employees", xlsx_bytes(staff_rows(1, start=i))).json()["id"] for i in (1, 2, 3)]
    page = hr.get("/api/v1/imports", params={"page_size": 2}).json()
    assert page["total"] == 3 and [r["id"] for r in page["items"]] == ids[::-1][:2]
    assert hr.get("/api/v1/imports", params={"kind": "timetables"}).json()["total"] == 0
    rows = staff_rows(5)
    for row in rows[1:]:
        row[6] = "-1"
    run_id = upload(hr, "employees", xlsx_bytes(rows)).json()["import_run_id"]
    errors = hr.get(f"/api/v1/imports/{run_id}/errors", params={"page": 2, "page_size": 2}).json()
    assert errors["total"] == 5 and [e["row"] for e in errors["items"]] == [4, 5]
    one = hr.get(f"/api/v1/imports/{run_id}").json()
    assert one["status"] == "rejected" and one["errors_total"] == 5
    problem(hr.get("/api/v1/imports/99999"), 404)
    problem(hr.get("/api/v1/imports/99999/errors.xlsx"), 404)


def test_bad_requests_are_problems(hr):
    problem(upload(hr, "employees", b"x", filename="a.csv", mode="sometimes"), 422)
    problem(upload(hr, "payroll", b"x", filename="a.csv"), 422)
    problem(hr.post("/api/v1/imports/employees", data={"mode": "valid-only"}), 422)
    problem(hr.post("/api/v1/imports/employees", json={"file": "nope"}), 422)


def test_template_downloads_and_imports(hr, db):
    resp = hr.get("/api/v1/imports/templates/employees.xlsx")
    assert resp.status_code == 200
    wb = load_workbook(io.BytesIO(resp.content))
    assert [c.value for c in wb.worksheets[0][1]][:3] == ["工号", "姓名", "部门"]
    ws = wb.worksheets[0]
    ws.append(["T100", "新人", "IELTS"])
    buf = io.BytesIO()
    wb.save(buf)
    assert upload(hr, "employees", buf.getvalue()).json()["created_count"] == 1
    assert hr.get("/api/v1/imports/templates/timetables.xlsx").status_code == 200
    problem(hr.get("/api/v1/imports/templates/payroll.xlsx"), 422)


@pytest.mark.parametrize("role", ["employee", "manager"])
def test_employees_and_managers_may_not_import(client, db, org, role):
    dep = make_department(db, code="TEACH", kind="teaching")
    emp = make_employee(db, employee_no="E1", department=dep)
    make_user(db, username="u", role=role, employee=emp, department=dep if role == "manager" else None)
    db.commit()
    client.headers["X-CSRF-Token"] = login(client, "u")
    problem(upload(client, "employees", xlsx_bytes(staff_rows(1))), 403)
    problem(client.get("/api/v1/imports"), 403)
    problem(client.get("/api/v1/imports/templates/employees.xlsx"), 403)
    assert db.scalar(select(func.count()).select_from(ImportRun)) == 0


def test_api_keys_need_the_import_scope(client, db, org):
    reader = make_api_key(db, scopes=["org:read", "org:write"], name="writer")
    importer = make_api_key(db, scopes=["import:write"], name="importer")
    db.commit()
    problem(client.post("/api/v1/imports/employees", files={"file": ("a.csv", b"x")}, headers={"Authorization": f"Bearer {reader}"}), 403)
    resp = client.post("/api/v1/imports/employees", files={"file": ("a.csv", csv_bytes(staff_rows(1)))}, headers={"Authorization": f"Bearer {importer}"})
    assert resp.status_code == 201 and resp.json()["created_by"] == "apikey:importer"


def test_a_session_upload_without_the_csrf_token_is_refused(client, db, org):
    make_user(db, username="hr2", role="hr")
    db.commit()
    login(client, "hr2")
    problem(upload(client, "employees", xlsx_bytes(staff_rows(1))), 403)
    problem(client.post("/api/v1/imports/employees", files={"file": ("a.csv", b"x")}), 403)


def test_anonymous_is_401(client):
    problem(upload(client, "employees", b"x", filename="a.csv"), 401)
