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
    assert forms.rule_sentence(TRIAL, "zh_CN") == "试讲评分 ≥ 85 分 (近 90 天最高)"
    rate = V("实操差错率", "Practical error rate", "max", 90, "=", 0.0, "%")
    assert forms.rule_sentence(rate, "zh_CN") == "实操差错率 = 0 % (近 90 天最高)"
    lift = V("培训后30天转化率提升", "30-day lift", "change", 30, ">=", 8.0, "pp")
    assert forms.rule_sentence(lift, "zh_CN") == "培训后30天转化率提升 ≥ 8 个百分点 (近 30 天变化)"


def test_sentence_in_english(en):
    assert forms.rule_sentence(TRIAL, "en") == "Trial-lecture score ≥ 85 points (highest in the last 90 days)"
    hours = V("理论学习时长", "Theory study hours", "sum", 90, ">=", 10.0, "h")
    assert forms.rule_sentence(hours, "en") == "Theory study hours ≥ 10 hours (total over the last 90 days)"


@pytest.mark.parametrize(("value", "text"), [(85.0, "85"), (0.5, "0.5"), (-15.0, "-15"), (14.285714, "14.29"), (None, "—"), (-0.0001, "0"), (0.0, "0")])
def test_fmt(value, text):
    assert forms.fmt(value) == text


def test_the_form_round_trips_a_version():
    form = forms.form_from_version(TRIAL)
    body = forms.body_from_form({**form, "code": "x", "module_code": "m"}, create=False)
    assert "code" not in body and body["params"] == {"assessment_kind": "trial_lecture"}
    update = schemas.IndicatorUpdate.model_validate(body, strict=False)  # form text, as the pages validate it
    assert (update.threshold, update.window_days, update.aggregation) == (85.0, 90, "max")


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
