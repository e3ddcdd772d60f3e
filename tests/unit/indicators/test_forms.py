"""What the pages say: rule sentences in both languages, number formatting, form mapping."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from pydantic import ValidationError

from trainquant.errors import Invalid
from trainquant.i18n import current_locale
from trainquant.indicators import forms, schemas


@dataclass
class V:
    name: str
    name_en: str
    aggregation: str
    window_days: int
    operator: str
    threshold: float
    unit: str
    metric: str = "assessment_score"
    params: dict | None = None
    weight: float = 1.0
    window_kind: str = "days"
    programs: dict | None = None


TRIAL = V("试讲评分", "Trial-lecture score", "max", 90, ">=", 85.0, "score", params={"assessment_kind": "trial_lecture"})


@pytest.fixture
def zh():
    token = current_locale.set("zh_CN")
    yield
    current_locale.reset(token)


@pytest.fixture
def en():
    token = current_locale.set("en")
    yield
    current_locale.reset(token)


def test_sentence_in_chinese(zh):
    # for assessments the aggregation is the attempt rule, and the sentence says which attempt counts
    assert forms.rule_sentence(TRIAL, "zh_CN") == "试讲评分 ≥ 85 分 (近 90 天最好一次)"
    latest = V("试讲评分", "Trial-lecture score", "last", 365, ">=", 85.0, "score")
    assert forms.rule_sentence(latest, "zh_CN") == "试讲评分 ≥ 85 分 (近 365 天最近一次)"
    rate = V("实操差错率", "Practical error rate", "max", 90, "=", 0.0, "%", metric="error_rate")
    assert forms.rule_sentence(rate, "zh_CN") == "实操差错率 = 0 % (近 90 天最好一次)"
    lift = V("培训后30天转化率提升", "30-day lift", "change", 30, ">=", 8.0, "pp", metric="business_change_points")
    assert forms.rule_sentence(lift, "zh_CN") == "培训后30天转化率提升 ≥ 8 个百分点 (近 30 天变化)"
    hours = V("理论学习时长", "Theory study hours", "sum", 365, ">=", 10.0, "h", metric="study_hours", window_kind="year")
    assert forms.rule_sentence(hours, "zh_CN") == "理论学习时长 ≥ 10 小时 (本自然年合计)"
    term = V("理论学习时长", "Theory study hours", "avg", 365, ">=", 2.0, "h", metric="study_hours", window_kind="term")
    assert forms.rule_sentence(term, "zh_CN") == "理论学习时长 ≥ 2 小时 (本学期平均)"
    after = V("试讲评分", "Trial-lecture score", "max", 60, ">=", 85.0, "score", window_kind="since_training")
    assert forms.rule_sentence(after, "zh_CN") == "试讲评分 ≥ 85 分 (最近一次培训后 60 天内最好一次)"


def test_sentence_in_english(en):
    assert forms.rule_sentence(TRIAL, "en") == "Trial-lecture score ≥ 85 points (best attempt in the last 90 days)"
    hours = V("理论学习时长", "Theory study hours", "sum", 90, ">=", 10.0, "h", metric="study_hours")
    assert forms.rule_sentence(hours, "en") == "Theory study hours ≥ 10 hours (total in the last 90 days)"
    year = V("线上课程学习时长", "Online course hours", "sum", 365, ">=", 8.0, "h", metric="online_hours", window_kind="year")
    assert forms.rule_sentence(year, "en") == "Online course hours ≥ 8 hours (total in this calendar year)"


def test_window_and_programs_in_words(zh):
    change = V("学员评分提升", "Rating lift", "change", 90, ">=", 5.0, "%", metric="assessment_score", window_kind="since_training")
    assert forms.window_detail(change) == "本人最近一次已满 90 天的计入课程培训起的 90 天（培训须在考核截止日前一年内）, 与培训前 90 天相比"
    assert forms.window_detail(V("x", "x", "change", 90, ">=", 1, "h", window_kind="term")).endswith("与上一学期相比")
    assert forms.programs_phrase({}) == "所有课程"
    assert forms.programs_phrase({"target_kinds": ["teaching"], "codes": ["SIM-CI"]}, lambda k: {"teaching": "教学"}[k]) == "面向教学部门的课程; 课程 SIM-CI"
    assert forms.reason_text("window-open") == "最近一次培训后的观察期尚未结束。" and forms.reason_text(None) == ""


@pytest.mark.parametrize(("value", "text"), [(85.0, "85"), (0.5, "0.5"), (-15.0, "-15"), (14.285714, "14.29"), (None, "—"), (-0.0001, "0"), (0.0, "0")])
def test_fmt(value, text):
    assert forms.fmt(value) == text


def test_the_form_round_trips_a_version():
    form = forms.form_from_version(TRIAL)
    body = forms.body_from_form({**form, "code": "x", "module_code": "m"}, create=False)
    assert "code" not in body and body["params"] == {"assessment_kind": "trial_lecture"}
    update = schemas.IndicatorUpdate.model_validate(body, strict=False)  # form text, as the pages validate it
    assert (update.threshold, update.window_days, update.aggregation, update.window_kind) == (85.0, 90, "max", "days")


def test_the_counted_programs_round_trip_through_the_form():
    hours = V("理论学习时长", "Theory study hours", "sum", 365, ">=", 10.0, "h", metric="study_hours", window_kind="year",
              programs={"target_kinds": ["teaching"], "codes": ["SIM-CI", "SIM-GT"], "tags_any": ["grammar-teaching"]})
    form = forms.form_from_version(hours)
    assert (form["program_kinds"], form["program_codes"], form["window_kind"]) == (["teaching"], "SIM-CI, SIM-GT", "year")
    body = forms.body_from_form(form, create=False, kinds=form["program_kinds"], tags=form["program_tags"])
    assert body["programs"] == {"target_kinds": ["teaching"], "codes": ["SIM-CI", "SIM-GT"], "tags_any": ["grammar-teaching"]}
    # nothing ticked or typed: every program; a full-width comma is a comma
    assert forms.body_from_form({"metric": "study_hours", "program_codes": ""}, create=True)["programs"] == {}
    assert forms.body_from_form({"metric": "study_hours", "program_codes": "A，B"}, create=True)["programs"] == {"codes": ["A", "B"]}


def test_the_parameter_goes_under_the_metrics_own_name_or_away():
    assert forms.body_from_form({"metric": "exam_score_change", "param": "ielts"}, create=True)["params"] == {"exam": "ielts"}
    assert forms.body_from_form({"metric": "study_hours", "param": "ielts"}, create=True)["params"] == {}


def test_errors_land_on_form_fields(zh):
    with pytest.raises(ValidationError) as exc:
        schemas.IndicatorCreate.model_validate({"code": "Bad Code", "module_code": "m", "name": "", "name_en": "x", "metric": "nope",
                                                "aggregation": "x", "window_days": "0", "operator": ">=", "threshold": "abc"}, strict=False)
    errors = forms.field_errors(exc.value)
    assert set(errors) == {"code", "name", "metric", "aggregation", "window_days", "threshold"}
    assert errors["window_days"] == "请输入天数(至少 1 天的整数)。"
    problems = Invalid("x", errors=[{"field": "params.assessment_kind", "code": "required"}, {"field": None, "code": "unchanged"}])
    assert forms.problem_errors(problems) == {"param": "此度量指标需要选择参数。", "_form": "没有改动:请至少修改规则的一项。"}
