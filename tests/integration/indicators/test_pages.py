"""The indicator pages in both languages: framework, add / edit / retire, history and results."""

from __future__ import annotations

import json
import re

import pytest

from tests.integration.indicators.conftest import PERIOD_END


@pytest.fixture
def hr(school, as_user):
    return as_user("hr")


@pytest.fixture
def evaluated(hr):
    assert hr.post("/api/v1/evaluations", json={"period_end": PERIOD_END.isoformat()}).status_code == 201


@pytest.mark.parametrize(
    ("path", "zh", "en"),
    [
        ("/indicators", ["量化指标体系", "教学技能提升", "语言能力进阶", "试讲评分 ≥ 85 分 (近 365 天最近一次)", "理论学习时长 ≥ 10 小时 (本自然年合计)",
                         "雅思成绩提升 ≥ 0.5 分", "托福成绩提升 ≥ 5 分", "权重", "版本数", "新增模块"],
         ["Indicator framework", "Teaching skill", "Language level", "Trial-lecture score ≥ 85 points (latest attempt in the last 365 days)",
          "Theory study hours ≥ 10 hours (total in this calendar year)", "Weight", "Versions"]),
        ("/indicators?kind=marketing", ["获客技巧掌握", "业绩转化", "话术模拟得分 ≥ 90 分", "案例分析通过率 = 100 %",
                                        "培训后30天转化率提升 ≥ 8 个百分点 (近 30 天变化)"],
         ["Customer acquisition skill", "Conversion", "Case-analysis pass rate = 100 %"]),
        ("/indicators?kind=admin", ["流程熟悉度", "效率提升", "实操差错率 = 0 % (近 365 天最近一次)", "流程执行时间变化 ≤ -15 % (近 90 天变化)"],
         ["Process familiarity", "Efficiency", "Practical error rate = 0 % (latest attempt in the last 365 days)"]),
        ("/indicators/trial_lecture_score", ["当前规则", "版本历史", "修改规则", "保存为新版本", "停用此指标", "阈值", "生效日期"],
         ["Current rule", "Version history", "Change the rule", "Save as a new version", "Retire this indicator", "Threshold"]),
        ("/indicators/new", ["新增指标", "指标模块", "度量指标", "统计方式", "比较方式", "考核得分"],
         ["Add an indicator", "Indicator module", "Metric", "Aggregation", "Assessment score"]),
        ("/indicators/results?department=TEACH", ["指标考核结果", "各指标达标率", "达标", "未达标", "暂无数据", "运行考核", "李雷"],
         ["Indicator results", "Share met per indicator", "Met", "Not met", "No data yet", "Run an evaluation"]),
        ("/indicators/results/T1", ["李雷", "指标考核结果", "达标", "暂无数据", "依据数据", "加权得分", "assessment:"],
         ["Indicator results", "Met", "No data yet", "Facts used", "Weighted score"]),
    ],
)
def test_pages_render_in_chinese_and_english(hr, evaluated, path, zh, en):
    page = hr.get(path)
    assert page.status_code == 200, page.text
    assert '<html lang="zh-CN">' in page.text and 'href="/indicators"' in page.text and "量化指标" in page.text
    for text in zh:
        assert text in page.text, text
    english = hr.get(path + ("&" if "?" in path else "?") + "lang=en")
    assert english.status_code == 200
    for text in en:
        assert text in english.text, text
    assert "达标" not in english.text and "版本历史" not in english.text


def test_department_results_draw_an_echarts_bar(hr, evaluated):
    html = hr.get("/indicators/results", params={"department": "TEACH", "period_end": "2026-08-31"}).text
    assert '<script src="/static/vendor/echarts.min.js"' in html and 'id="chart-share"' in html
    assert 'data-chart="shares"' in html and '<script src="/static/js/charts.js"' in html
    data = json.loads(re.search(r'<script type="application/json" id="chart-share-data">(.*?)</script>', html).group(1))
    assert data["shares"] == [None, 50.0, None, 100.0, 100.0, None]  # nobody had a session to attend, nor sat TOEFL
    assert 'data-employee="T1"' in html and 'data-employee="M1"' not in html


def test_edit_on_the_page_makes_a_new_version(hr):
    page = hr.get("/indicators/trial_lecture_score").text
    assert 'name="threshold" inputmode="decimal" value="85"' in page
    form = {
        "name": "试讲评分", "name_en": "Trial-lecture score", "metric": "assessment_score", "param": "trial_lecture",
        "aggregation": "max", "window_days": "90", "operator": ">=", "threshold": "88", "unit": "score", "weight": "1",
        "effective_from": "", "note": "提高标准",
    }
    resp = hr.post("/indicators/trial_lecture_score", data=form, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    after = hr.get(resp.headers["location"]).text
    assert "已保存为版本 3" in after and "试讲评分 ≥ 88 分 (近 90 天最好一次)" in after
    assert 'data-version="2"' in after and "试讲评分 ≥ 85 分 (近 365 天最近一次)" in after and "提高标准" in after
    assert 'data-version="1"' in after and "试讲评分 ≥ 85 分 (近 90 天最好一次)" in after
    unchanged = hr.post("/indicators/trial_lecture_score", data=form)
    assert unchanged.status_code == 422 and "没有改动" in unchanged.text
    bad = hr.post("/indicators/trial_lecture_score", data=form | {"window_days": "0", "param": ""})
    assert bad.status_code == 422
    assert 'data-field="window_days"' in bad.text and "请输入天数" in bad.text
    missing_param = hr.post("/indicators/trial_lecture_score", data=form | {"threshold": "70", "param": ""})
    assert missing_param.status_code == 422 and 'data-field="param"' in missing_param.text


def test_add_and_retire_on_the_pages(hr):
    module = hr.post("/indicators/modules", data={"department_kind": "teaching", "code": "kids_teaching", "name": "少儿教学", "name_en": "Kids teaching", "weight": "1"}, follow_redirects=False)
    assert module.status_code == 303
    form = {
        "module_code": "kids_teaching", "code": "child_psychology_score", "name": "儿童心理学考核", "name_en": "Child psychology",
        "metric": "assessment_score", "param": "online_test", "aggregation": "max", "window_days": "90", "operator": ">=",
        "threshold": "80", "unit": "", "weight": "1", "effective_from": "", "note": "",
    }
    created = hr.post("/indicators/new", data=form, follow_redirects=False)
    assert created.status_code == 303 and created.headers["location"] == "/indicators/child_psychology_score?done=created"
    again = hr.post("/indicators/new", data=form)
    assert again.status_code == 409 and 'data-field="code"' in again.text
    wrong = hr.post("/indicators/new", data=form | {"code": "x2", "metric": "nope", "aggregation": "median"})
    assert wrong.status_code == 422 and 'data-field="metric"' in wrong.text and 'data-field="aggregation"' in wrong.text
    retired = hr.post("/indicators/child_psychology_score/retire", data={"note": "停办"}, follow_redirects=False)
    assert retired.status_code == 303
    framework = hr.get("/indicators").text
    assert "child_psychology_score" not in framework and "少儿教学" in framework
    assert "child_psychology_score" in hr.get("/indicators", params={"retired": 1}).text
    detail = hr.get("/indicators/child_psychology_score").text
    assert "已停用" in detail and "停办" in detail and "保存为新版本" not in detail


def test_a_run_from_the_results_page(hr):
    resp = hr.post("/indicators/results/run", data={"department": "TEACH", "period_end": "2026-08-31", "scope": "department"}, follow_redirects=False)
    assert resp.status_code == 303 and "ran=" in resp.headers["location"]
    page = hr.get(resp.headers["location"]).text
    assert "已保存" in page and 'data-employee="T1"' in page


def test_employees_and_managers_on_the_pages(school, as_user, evaluated):
    t1 = as_user("t1")
    assert t1.get("/indicators").status_code == 200
    assert "新增模块" not in t1.get("/indicators").text
    mine = t1.get("/indicators/results", follow_redirects=False)
    assert mine.status_code == 303 and mine.headers["location"] == "/indicators/results/T1"
    assert t1.get("/indicators/results/T2").status_code == 404
    assert t1.get("/indicators/new").status_code == 403
    assert t1.post("/indicators/trial_lecture_score", data={"threshold": "1"}).status_code == 403
    boss = as_user("boss")
    page = boss.get("/indicators/results")
    assert page.status_code == 200 and 'data-employee="T1"' in page.text and "运行考核" not in page.text
    assert boss.get("/indicators/results", params={"department": "MKT"}).status_code == 403
    assert boss.get("/indicators/results/M1").status_code == 404


def test_online_course_hours_have_their_source(hr):
    # Online course hours come from the LRS (issue 12): no indicator waits for a data source any more.
    page = hr.get("/indicators", params={"kind": "admin"})
    assert "待接入数据源" not in page.text
    assert "awaiting its data source" not in hr.get("/indicators", params={"kind": "admin", "lang": "en"}).text


def test_department_results_export_one_row_per_person_and_indicator(hr, evaluated):
    import io

    from openpyxl import load_workbook

    page = hr.get("/indicators/results", params={"department": "TEACH", "period_end": "2026-08-31"}).text
    assert 'href="/indicators/results/export.xlsx?department=TEACH&amp;period_end=2026-08-31"' in page
    got = hr.get("/indicators/results/export.xlsx", params={"department": "TEACH", "period_end": "2026-08-31"})
    header, *rows = list(load_workbook(io.BytesIO(got.content))["指标考核结果"].iter_rows(values_only=True))
    assert header[:2] == ("工号", "姓名") and {r[0] for r in rows} == {"T0", "T1", "T2"}  # TEACH's people, each indicator a row
    assert "M1" not in {r[0] for r in rows}
    assert hr.get("/indicators/results/export.xlsx").status_code == 422  # which department


def test_a_run_is_read_back_on_its_page_with_why_results_have_no_data(hr, evaluated):
    runs = hr.get("/indicators/runs")
    assert runs.status_code == 200 and 'data-run="' in runs.text and "考核记录" in runs.text
    run_id = re.search(r'data-run="(\d+)"', runs.text).group(1)
    page = hr.get(f"/indicators/runs/{run_id}")
    assert page.status_code == 200
    assert "暂无数据的原因" in page.text and "统计周期内没有可计的记录" in page.text
    assert 'data-reason="no-facts"' in page.text and "2026-01-01 – 2026-08-31" in page.text  # the calendar year's window
    only = hr.get(f"/indicators/runs/{run_id}", params={"status": "met", "lang": "en"})
    assert "Evaluation run" in only.text and 'data-reason="' not in only.text  # met rows only; the summary still says why others lack data
    assert "Nothing to count in the window" in only.text
    paged = hr.get(f"/indicators/runs/{run_id}", params={"page_size": 5, "page": 2})
    assert paged.status_code == 200 and paged.text.count('<tr data-employee="') == 5 and 'rel="prev"' in paged.text
    assert hr.get(f"/indicators/runs/{run_id}", params={"reason": "bored"}).status_code == 422
    assert hr.get("/indicators/runs/999999").status_code == 404
    # the employee's page says why, too
    t1 = hr.get("/indicators/results/T1", params={"lang": "zh_CN"})
    assert 'data-reason="no-facts"' in t1.text and "统计周期内没有可计的记录" in t1.text


def test_the_window_and_the_counted_programs_are_part_of_the_rule(hr):
    page = hr.get("/indicators/theory_study_hours").text
    assert "考核截止日所在自然年（自 1 月 1 日起）" in page and "面向教学部门的课程" in page
    assert '<option value="year" selected>' in page and 'name="program_kinds" value="teaching" checked' in page
    form = {
        "name": "理论学习时长", "name_en": "Theory study hours", "metric": "study_hours", "param": "", "aggregation": "sum",
        "window_kind": "term", "window_days": "365", "program_kinds": ["teaching", "admin"], "program_codes": "", "operator": ">=",
        "threshold": "6", "unit": "h", "weight": "1", "effective_from": "", "note": "每学期",
    }
    resp = hr.post("/indicators/theory_study_hours", data=form, follow_redirects=False)
    assert resp.status_code == 303, resp.text
    v = hr.get("/api/v1/indicators/theory_study_hours").json()["current"]
    assert (v["version"], v["window_kind"], v["programs"], v["threshold"]) == (3, "term", {"target_kinds": ["teaching", "admin"]}, 6)
    assert "理论学习时长 ≥ 6 小时 (本学期合计)" in hr.get("/indicators/theory_study_hours").text
    bad = hr.post("/indicators/theory_study_hours", data=form | {"program_codes": "NOPE-1", "threshold": "7"})
    assert bad.status_code == 422 and 'data-field="program_codes"' in bad.text and "没有此编号的课程" in bad.text
    business = hr.post("/indicators/student_rating_improvement", data=form | {
        "metric": "business_change_pct", "param": "student_rating", "aggregation": "change", "window_kind": "since_training", "unit": "%"})
    assert business.status_code == 422 and 'data-field="window_kind"' in business.text
