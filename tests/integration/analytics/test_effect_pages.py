"""The business-effect pages: a program's effects and ROI, and the school's case table, in both languages."""

from __future__ import annotations

import io
import re
import zlib
from datetime import date
from decimal import Decimal

from openpyxl import load_workbook

from tests.conftest import login, make_department, make_user
from tests.integration.analytics.test_roi import NOW, sales  # noqa: F401 - the fixture
from trainquant.analytics import case
from trainquant.analytics.impact.service import design_for
from trainquant.analytics.roi.rules import DEFAULT_FACTORS


def _hr(client, db):
    make_user(db, username="hr1", role="hr")
    db.commit()
    login(client, "hr1")


def test_a_programs_effects_and_roi_page(client, db, clock, sales):  # noqa: F811 - the fixture
    clock.at = NOW
    _hr(client, db)
    zh = client.get("/reports/programs/CLOSE/effects?pre_days=28&post_days=28")
    assert zh.status_code == 200
    for text in ("业务效果与投资回报", "订单金额", "可信", "隔离后的培训效果", "全口径成本", "讲师费", "保守值（置信区间下限）", "contribution_margin"):
        assert text in zh.text, text
    en = client.get("/reports/programs/CLOSE/effects?pre_days=28&post_days=28&lang=en")
    for text in ("Business effect and ROI", "Order amount", "Credible", "Fully loaded cost", "Trainer fee", "Fair", "Benefits over 4.0 weeks"):
        assert text in en.text, text
    assert "订单金额" not in en.text
    assert client.get("/reports/programs/CLOSE").text.count("/reports/programs/CLOSE/effects") == 1


def test_the_case_table_lists_programs_by_department_kind(client, db, clock, sales):  # noqa: F811
    clock.at = NOW
    _hr(client, db)
    page = client.get("/reports/case?lang=en")
    assert page.status_code == 200
    assert 'data-testid="case-marketing"' in page.text and 'data-program="CLOSE"' in page.text
    assert 'data-metric="crm.order_amount"' in page.text
    assert "/reports/case" in client.get("/reports").text


def test_a_manager_sees_no_whole_school_effects(client, db, clock, sales):  # noqa: F811
    clock.at = NOW
    dep = make_department(db, code="MGR")
    make_user(db, username="boss", role="manager", department=dep)
    db.commit()
    login(client, "boss")
    assert client.get("/reports/case").status_code == 403
    assert client.get("/reports/programs/CLOSE/effects").status_code == 403


def _inflated(pdf: bytes) -> bytes:
    """A PDF's compressed streams, inflated: its font dictionaries live in object streams."""
    out = []
    for m in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(m.group(1)))
        except zlib.error:
            continue
    return b"".join(out)


CASE = "since=2026-05-12&months=1"  # CLOSE-1 (28 April) before, CLOSE-2 and CLOSE-3 (19 May, 9 June) after


def test_the_case_table_answers_the_source_line_by_line(db, sales):  # noqa: F811
    table = case.case_table(db, since=date(2026, 5, 12), today=NOW.date(), zone="Asia/Shanghai",
                            design=design_for("Asia/Shanghai"), factors=dict(DEFAULT_FACTORS), now=NOW, months=1)
    lines = {(line.kind, line.key): line for line in table.lines}
    assert table.periods.days == (date(2026, 4, 12), date(2026, 5, 11), date(2026, 5, 12), date(2026, 6, 10))
    # Every place attended 110 of 120 minutes, above the 80% minimum: all attended, in both periods.
    part = lines[("marketing", "participation")]
    assert (part.before, part.after, part.counts) == (1.0, 1.0, (7, 14))
    assert lines[("teaching", "participation")].before is None and lines[("teaching", "teaching.retention")].program is None
    orders = lines[("marketing", "crm.order_amount")]
    assert orders.program is not None and orders.program.code == "CLOSE" and orders.effect is not None
    assert orders.effect.finding.status == "credible" and orders.effect.sample.trained == 21
    roi = lines[("marketing", "roi")]
    assert roi.counts == (7, 14) and roi.roi_before is not None and roi.roi_after is not None
    # The program-wide costs split by the cohorts' sessions: one of three, then two of three.
    assert dict(roi.roi_before.roi.costs.by_category)["trainer_fee"] == Decimal("2000.00")
    assert dict(roi.roi_after.roi.costs.by_category)["trainer_fee"] == Decimal("4000.00")


def test_the_case_page_and_its_exports(client, db, clock, sales):  # noqa: F811
    clock.at = NOW
    _hr(client, db)
    en = client.get(f"/reports/case?{CASE}&lang=en")
    assert en.status_code == 200
    for text in ('data-line="marketing:roi"', 'data-line="teaching:participation"', "Training participation", "100.0%",
                 "Cohorts trained before and after 2026-05-12", "No program sets out to move this figure yet"):
        assert text in en.text, text
    assert f"/reports/case/export.pdf?{CASE}" in en.text.replace("&amp;", "&")
    zh = client.get(f"/reports/case?{CASE}&lang=zh_CN")
    assert "案例对照表" in zh.text and "培训参与率" in zh.text

    book = client.get(f"/reports/case/export.xlsx?{CASE}&lang=en")
    assert book.status_code == 200 and book.headers["content-type"].startswith("application/vnd.openxmlformats")
    wb = load_workbook(io.BytesIO(book.content))
    assert wb.sheetnames == ["Case", "Programs", "Periods"]
    rows = {(r[0], r[1]): r for r in wb["Case"].iter_rows(min_row=2, values_only=True)}
    assert rows[("Marketing", "Order amount")][2] == "CLOSE training" and rows[("Marketing", "Order amount")][10] == "Credible"
    assert rows[("Marketing", "Training participation")][4:6] == (100.0, 100.0)
    zh_book = load_workbook(io.BytesIO(client.get(f"/reports/case/export.xlsx?{CASE}&lang=zh_CN").content))
    assert zh_book.sheetnames[0] == "案例"

    pdf = client.get(f"/reports/case/export.pdf?{CASE}&lang=zh_CN")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    inflated = pdf.content + _inflated(pdf.content)
    assert re.search(rb"/BaseFont /[A-Z]{6}\+Noto-Sans-CJK", inflated)  # the Chinese text is set in an embedded CJK font
    assert re.search(rb"/MediaBox \[\s*0 0 841\.8\d* 595\.2\d*", inflated)  # print.css was read: A4 landscape
    assert "filename*=UTF-8''%E5%9F%B9%E8%AE%AD%E6%A1%88%E4%BE%8B-2026-05-12.pdf" in pdf.headers["content-disposition"]


def test_the_case_refuses_a_future_start_and_odd_spans(client, db, clock, sales):  # noqa: F811
    clock.at = NOW
    _hr(client, db)
    future = client.get("/reports/case?since=2027-01-01")
    assert future.status_code == 422 and "since is a past day" in future.text
    assert client.get("/reports/case?months=0").status_code == 422
    assert client.get("/reports/case/export.pdf?since=2027-01-01").status_code == 422
