"""The import page (upload, result, error table, report link) and the ``trainquant import`` command."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from tests.conftest import login, make_department, make_employee, make_user
from tests.integration.imports.conftest import XLSX, staff_rows
from tests.unit.imports.files import csv_bytes, xlsx_bytes
from trainquant.imports.models import ImportRun
from trainquant.org.models import Employee


def csrf(page_html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page_html).group(1)


def post_file(client, content: bytes, *, kind="employees", mode="valid-only", filename="staff.xlsx", token=None):
    page = client.get("/imports")
    data = {"kind": kind, "mode": mode, "csrf_token": token if token is not None else csrf(page.text)}
    return client.post("/imports", data=data, files={"file": (filename, content, XLSX)}, follow_redirects=False)


def test_the_page_shows_the_form_and_recent_runs_in_chinese(hr):
    page = hr.get("/imports")
    assert page.status_code == 200
    for text in ("导入", "全部或不导入", "仅导入有效行", "下载员工模板", 'enctype="multipart/form-data"', 'name="csrf_token"', "还没有导入记录"):
        assert text in page.text
    english = hr.get("/imports?lang=en")
    assert "All or nothing" in english.text and "Valid rows only" in english.text


def test_upload_redirects_to_the_result_with_counts_errors_and_the_report(hr, db):
    rows = staff_rows(3)
    rows[2][4] = "2023-02-30"
    resp = post_file(hr, xlsx_bytes(rows))
    assert resp.status_code == 303
    result = hr.get(resp.headers["location"])
    assert result.status_code == 200
    html = result.text
    assert "部分导入" in html and "错误报告" in html and "日期不正确" in html and "入职日期" in html
    assert re.search(r'data-testid="count-created">2<', html) and re.search(r'data-testid="count-rejected">1<', html)
    report = re.search(r'href="(/api/v1/imports/\d+/errors\.xlsx)"', html).group(1)
    assert hr.get(report).status_code == 200
    listing = hr.get("/imports").text
    assert "staff.xlsx" in listing and "部分导入" in listing


def test_a_rejected_file_shows_why_and_a_repeat_is_recognised(hr, db):
    first = post_file(hr, b"", filename="empty.csv")
    page = hr.get(first.headers["location"]).text
    assert "文件被拒绝" in page and "空文件" in page and "整个文件" in page
    content = xlsx_bytes(staff_rows(2))
    post_file(hr, content)
    again = hr.get(post_file(hr, content).headers["location"]).text
    assert "完全相同" in again and "所有行均已导入" in again
    assert db.scalar(select(func.count()).select_from(Employee)) == 2


def test_the_page_form_needs_a_file_and_a_kind(hr):
    page = hr.get("/imports")
    token = csrf(page.text)
    missing = hr.post("/imports", data={"kind": "employees", "mode": "valid-only", "csrf_token": token}, files={"file": ("", b"", "application/octet-stream")})
    assert missing.status_code == 422 and "请选择要导入的文件" in missing.text
    wrong = hr.post("/imports", data={"kind": "payroll", "csrf_token": token}, files={"file": ("a.csv", b"x", "text/csv")})
    assert wrong.status_code == 422 and "请选择导入内容" in wrong.text


def test_the_page_refuses_a_missing_csrf_token_and_other_roles(client, db, org):
    make_user(db, username="hr3", role="hr")
    dep = make_department(db, code="TEACH", kind="teaching")
    emp = make_employee(db, employee_no="E9", department=dep)
    make_user(db, username="emp", role="employee", employee=emp)
    db.commit()
    login(client, "hr3")
    assert post_file(client, csv_bytes(staff_rows(1)), token="forged").status_code == 403
    client.post("/logout", data={"csrf_token": csrf(client.get("/imports").text)})
    login(client, "emp")
    assert client.get("/imports").status_code == 403
    assert client.get("/imports/1").status_code == 403
    assert db.scalar(select(func.count()).select_from(ImportRun)) == 0


def test_unknown_run_page_is_404(hr):
    assert hr.get("/imports/424242").status_code == 404


@pytest.fixture
def cli_db(cli_engine):
    from trainquant.cli import common
    from trainquant.db import unit_of_work
    from trainquant.org.models import Department

    with unit_of_work(common.sessions()) as db:
        db.add_all([Department(code="IELTS", name="雅思组", kind="teaching"), Department(code="MKT", name="市场部", kind="marketing")])
    return common


def test_cli_import_summary_errors_and_exit_codes(cli_db, tmp_path):
    from trainquant.cli.main import app

    good = tmp_path / "staff.xlsx"
    rows = staff_rows(3)
    for row in rows[1:]:
        row[8] = None  # no site in this database
    good.write_bytes(xlsx_bytes(rows))
    runner = CliRunner()
    ok = runner.invoke(app, ["import", "employees", str(good)])
    assert ok.exit_code == 0, ok.output
    assert "applied" in ok.output and "3" in ok.output

    rows[2][4] = "2023-02-30"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(rows, encoding="gbk"))
    rejected = runner.invoke(app, ["import", "employees", str(bad), "--mode", "all-or-nothing"])
    assert rejected.exit_code == 1
    assert "rejected" in rejected.output and "invalid-date" in rejected.output and "入职日期" in rejected.output

    timetable = tmp_path / "tt.csv"
    timetable.write_bytes(csv_bytes([["工号", "星期", "开始时间", "结束时间", "生效日期"], ["T001", "周一", "9:00", "10:00", "2026-09-01"]]))
    assert runner.invoke(app, ["import", "timetables", str(timetable)]).exit_code == 0
    assert runner.invoke(app, ["import", "employees", str(good), "--mode", "sometimes"]).exit_code == 2
    assert runner.invoke(app, ["import", "employees", str(tmp_path / "missing.xlsx")]).exit_code == 2


def test_a_rejections_details_are_in_the_readers_language(hr, db):
    """Issue 13: the details column was English on the Chinese page."""
    rows = staff_rows(3)
    rows[2][4] = "2023-02-30"  # not a real date
    rows[3][5] = "退休"  # no such status
    location = post_file(hr, xlsx_bytes(rows)).headers["location"]
    zh = html.unescape(hr.get(location).text)
    assert "'2023-02-30' 不是真实存在的日期" in zh and "未知的状态 '退休'；请填写 在职、试用、休假 或 离职" in zh
    assert "is not a real date" not in zh
    en = html.unescape(hr.get(location, params={"lang": "en"}).text)
    assert "'2023-02-30' is not a real date" in en
    # A rejection stored before its template was kept shows its English message, as before.
    from trainquant.imports.models import ImportRejection

    db.execute(ImportRejection.__table__.update().values(params={}))
    db.commit()
    assert "'2023-02-30' is not a real date" in html.unescape(hr.get(location, params={"lang": "zh_CN"}).text)


def test_every_rejection_template_has_a_chinese_translation():
    """A template written in the code and not in imports.po would show English on a Chinese page."""
    import ast
    from pathlib import Path

    from babel.messages.pofile import read_po

    import trainquant

    root = Path(trainquant.__file__).parent
    catalogue = {m.id for m in read_po((root / "i18n/zh_CN/imports.po").open("rb")) if m.id and m.string}
    dynamic = {"%(value)s is not a valid ": ("email", "phone"), "%(value)s names several ": ("departments; use the code", "sites; use the code"),
               "unknown ": ("department %(value)s", "site %(value)s")}
    templates = set()
    for path in ("imports/rules.py", "imports/service.py", "org/upsert.py"):
        for node in ast.walk(ast.parse((root / path).read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "of" and getattr(node.func.value, "id", None) == "Msg":
                first = node.args[0]
                if isinstance(first, ast.Constant):
                    templates.add(first.value)
                else:  # "…" + what: the ends the code puts there
                    head = first.left.value if isinstance(first.left, ast.Constant) else first.left.left.value
                    templates.update(head + tail for tail in dynamic[head])
    assert len(templates) > 40
    assert sorted(templates - catalogue) == []
