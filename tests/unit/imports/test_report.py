"""The error report and the templates open in Excel (openpyxl here) and never turn data into formulas."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

from openpyxl import load_workbook

from tests.unit.test_i18n_catalog import CATALOGUE, python_msgids, template_msgids
from trainquant.i18n import current_locale
from trainquant.imports import report, rules
from trainquant.imports.models import ImportRejection, ImportRun

SRC = Path(__file__).resolve().parents[3] / "src" / "trainquant"


def _run() -> ImportRun:
    return ImportRun(
        id=7, kind="employees", filename="staff.xlsx", sha256="0" * 64, mode="valid-only", status="partial", total_rows=3,
        created_count=1, updated_count=0, unchanged_count=0, rejected_count=2, created_by="user:hr", created_at=datetime(2026, 9, 1, tzinfo=UTC),
    )


def _workbook(rejections, locale: str):
    token = current_locale.set(locale)
    try:
        return load_workbook(io.BytesIO(report.errors_xlsx(_run(), rejections, zone="Asia/Shanghai")))
    finally:
        current_locale.reset(token)


def test_error_report_columns_and_values_in_the_readers_language():
    rejections = [
        ImportRejection(row=3, column="入职日期", code="invalid-date", message="'2023-02-30' is not a real date",
                        params={"t": "%(value)s is not a real date", "p": {"value": "'2023-02-30'"}},
                        raw=json.dumps({"工号": "T1", "入职日期": "2023-02-30"}, ensure_ascii=False)),
        ImportRejection(row=0, column=None, code="empty-file", message="the file is empty", raw=None),
        ImportRejection(row=4, column="=cmd|' /C calc'!A0", code="unknown-column", message="=HYPERLINK(\"http://x\")", raw=None),
    ]
    wb = _workbook(rejections, "zh_CN")
    ws = wb.worksheets[0]
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert ws.title == "被拒绝的行" and values[0] == ["行", "列", "编码", "说明", "原始数据"]
    assert values[1][:3] == [3, "入职日期", "invalid-date"] and values[1][3] == "'2023-02-30' 不是真实存在的日期"  # the stored template, translated
    assert values[2][3] == "the file is empty"  # stored before templates were kept: its English message, as the page shows it
    assert json.loads(values[1][4]) == {"工号": "T1", "入职日期": "2023-02-30"}
    # Text from an uploaded file stays text: no formula reaches the report.
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    assert values[3][1] == "=cmd|' /C calc'!A0"
    summary = {r[0].value: r[1].value for r in wb.worksheets[1].iter_rows()}
    assert summary["状态"] == "部分导入" and summary["被拒绝的行"] == 2 and summary["导入时间（Asia/Shanghai）"] == "2026-09-01 08:00"
    english = _workbook(rejections, "en")
    rows = [[c.value for c in row] for row in english.worksheets[0].iter_rows()]
    assert english.worksheets[0].title == "Rejected rows" and rows[0] == ["Row", "Column", "Code", "Message", "Raw data"]
    assert rows[1][3] == "'2023-02-30' is not a real date"
    summary = {r[0].value: r[1].value for r in english.worksheets[1].iter_rows()}
    assert summary["Status"] == "Partly applied" and summary["Kind"] == "Employees"


def test_error_dicts_parse_the_raw_row():
    r = ImportRejection(row=2, column="工号", code="required", message="m", raw='{"工号": null}')
    assert report.error_dicts([r]) == [{"row": 2, "column": "工号", "code": "required", "message": "m", "raw": {"工号": None}}]


def test_templates_have_the_chinese_headers_and_notes():
    for kind in rules.KINDS:
        wb = load_workbook(io.BytesIO(report.template_xlsx(kind)))
        assert [c.value for c in wb.worksheets[0][1]] == rules.template_headers(kind)
        assert wb.worksheets[1].title == "说明" and wb.worksheets[1].max_row == len(rules.COLUMNS[kind]) + 1


def test_import_pages_are_translated():
    ids = set().union(*(template_msgids(p) for p in (SRC / "web" / "templates" / "imports").glob("*.html")))
    ids |= python_msgids(SRC / "imports" / "pages.py") | python_msgids(SRC / "imports" / "texts.py") | python_msgids(SRC / "imports" / "report.py")
    assert "All or nothing" in ids and "Error report" in ids
    missing = sorted(m for m in ids if not CATALOGUE.get(m))
    assert not missing, f"add these to i18n/zh_CN/imports.po: {missing}"
    assert CATALOGUE["All or nothing"] == "全部或不导入" and CATALOGUE["Valid rows only"] == "仅导入有效行"
    assert CATALOGUE["Error report"] == "错误报告"
