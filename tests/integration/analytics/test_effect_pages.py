"""The business-effect pages: a program's effects and ROI, and the school's case table, in both languages."""

from __future__ import annotations

from tests.conftest import login, make_department, make_user
from tests.integration.analytics.test_roi import NOW, sales  # noqa: F401 - the fixture


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
    for text in ("Business effect and ROI", "Order amount", "Credible", "Fully loaded cost", "Trainer fee", "Excellent"):
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
