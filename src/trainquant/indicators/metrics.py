"""The metric registry: what an indicator can measure, and which fact kind feeds each metric.

Pure, like ``rules.py``. A metric whose fact kind no source provides yet evaluates to "no data"; the
attendance, online-learning and business-integration issues only add fact sources in ``facts.py``.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from trainquant.indicators.rules import AGGREGATIONS, OPERATORS, Rule

# Assessment kinds the training domain records (its table may hold more: callers pass those in).
ASSESSMENT_KINDS = (
    "trial_lecture", "online_test", "script_simulation", "case_analysis", "ielts", "toefl", "communication", "error_rate",
)
EXAM_KINDS = ("ielts", "toefl")
# Business metrics the teaching platform, CRM and OA report per employee (R3).
BUSINESS_METRICS = ("student_rating", "conversion_rate", "process_time", "orders", "order_value", "retention_rate")
UNITS = ("h", "score", "%", "pp", "band", "count", "min", "CNY")
# Display names of the parameter values: (Chinese, English).
CHOICE_NAMES: dict[str, tuple[str, str]] = {
    "trial_lecture": ("试讲", "Trial lecture"), "online_test": ("在线测试", "Online test"),
    "script_simulation": ("话术模拟", "Sales-script simulation"), "case_analysis": ("案例分析", "Case analysis"),
    "ielts": ("雅思", "IELTS"), "toefl": ("托福", "TOEFL"), "communication": ("外教沟通", "Foreign-teacher communication"),
    "error_rate": ("实操差错率", "Practical error rate"), "student_rating": ("学员评分", "Student rating"),
    "conversion_rate": ("转化率", "Conversion rate"), "process_time": ("流程执行时间", "Process execution time"),
    "orders": ("订单数", "Orders"), "order_value": ("订单金额", "Order value"), "retention_rate": ("续费率", "Retention rate"),
}
VOCABULARIES: dict[str, tuple[str, ...]] = {
    "assessment_kind": ASSESSMENT_KINDS, "exam": EXAM_KINDS, "business_metric": BUSINESS_METRICS,
}
# Where each fact kind comes from; "assessments" and "attendance" are built, the others return no data yet.
SOURCES = ("assessments", "attendance", "learning", "business")


@dataclass(frozen=True)
class Metric:
    code: str
    name: str
    name_en: str
    fact_kind: str
    source: str  # the domain whose fact source feeds ``fact_kind``
    unit: str  # the default unit
    aggregations: tuple[str, ...]  # those that make sense for it
    param: str | None = None  # the one parameter, naming the fact key (vocabulary of the same name)
    param_required: bool = False
    scale: float = 1.0
    change_mode: str = "absolute"
    empty_is_zero: bool = False

    @property
    def choices(self) -> tuple[str, ...]:
        return VOCABULARIES[self.param] if self.param else ()


_HOURS = ("sum", "avg", "max", "min", "last", "count")
_SCORES = ("avg", "max", "min", "last", "count", "change")
_ALL = (
    Metric("study_hours", "学习时长", "Study hours", "study_hours", "attendance", "h", _HOURS, empty_is_zero=True),
    Metric("attended_hours", "出勤时长", "Attended hours", "attended_hours", "attendance", "h", _HOURS, empty_is_zero=True),
    Metric("online_hours", "线上学习时长", "Online learning hours", "online_hours", "learning", "h", _HOURS, empty_is_zero=True),
    Metric("participation_rate", "参与率", "Participation rate", "participation_rate", "attendance", "%",
           ("avg", "max", "min", "last", "count"), scale=100.0),
    Metric("assessment_score", "考核得分", "Assessment score", "assessment_score", "assessments", "score", _SCORES,
           param="assessment_kind", param_required=True),
    Metric("assessment_pass_rate", "考核通过率", "Assessment pass rate", "assessment_passed", "assessments", "%",
           ("avg", "max", "min", "last", "count"), param="assessment_kind", param_required=True, scale=100.0),
    # Successive results of the same exam; TOEFL steps are expressed in IELTS bands (see toefl_band).
    Metric("exam_score_change", "雅思/托福成绩变化", "IELTS/TOEFL score change", "exam_score_change", "assessments", "band",
           ("sum", "max", "min", "last", "count"), param="exam"),
    Metric("error_rate", "差错率", "Error rate", "error_rate", "assessments", "%", ("avg", "max", "min", "last", "count"),
           param="assessment_kind", scale=100.0),
    Metric("business_value", "业务指标值", "Business metric value", "business_metric", "business", "score",
           ("avg", "max", "min", "last"), param="business_metric", param_required=True),
    Metric("business_change_pct", "业务指标变化率", "Business metric change (%)", "business_metric", "business", "%",
           ("change",), param="business_metric", param_required=True, change_mode="percent"),
    Metric("business_change_points", "业务指标变化值", "Business metric change (points)", "business_metric", "business", "pp",
           ("change",), param="business_metric", param_required=True),
    # The same change with what would have happened anyway taken out (the isolated effect, indicators/business.py).
    Metric("business_effect_pct", "业务指标培训效果率（已隔离）", "Business metric training effect (%, isolated)", "business_effect", "business", "%",
           ("change",), param="business_metric", param_required=True, change_mode="percent"),
    Metric("business_effect_points", "业务指标培训效果值（已隔离）", "Business metric training effect (points, isolated)", "business_effect", "business",
           "pp", ("change",), param="business_metric", param_required=True),
)
METRICS: dict[str, Metric] = {m.code: m for m in _ALL}


@dataclass(frozen=True)
class Problem:
    field: str
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "message": self.message}


def check_definition(
    *,
    metric: str,
    params: Mapping[str, Any],
    aggregation: str,
    window_days: int,
    operator: str,
    threshold: float,
    unit: str,
    assessment_kinds: Collection[str] = ASSESSMENT_KINDS,
) -> list[Problem]:
    """Everything wrong with an indicator definition, one problem per field (empty when it is sound)."""
    problems: list[Problem] = []
    spec = METRICS.get(metric)
    if spec is None:
        problems.append(Problem("metric", "unknown", f"unknown metric {metric!r}; known: {', '.join(METRICS)}"))
    if aggregation not in AGGREGATIONS:
        problems.append(Problem("aggregation", "unknown", f"unknown aggregation {aggregation!r}; known: {', '.join(AGGREGATIONS)}"))
    elif spec is not None and aggregation not in spec.aggregations:
        problems.append(Problem("aggregation", "not-allowed", f"{metric} takes {', '.join(spec.aggregations)}, not {aggregation!r}"))
    if operator not in OPERATORS:
        problems.append(Problem("operator", "unknown", f"unknown operator {operator!r}; known: {', '.join(OPERATORS)}"))
    if isinstance(window_days, bool) or not isinstance(window_days, int) or window_days <= 0:
        problems.append(Problem("window_days", "positive", "the window must be a whole number of days, at least 1"))
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not math.isfinite(threshold):
        problems.append(Problem("threshold", "number", "the threshold must be a finite number"))
    if unit not in UNITS:
        problems.append(Problem("unit", "unknown", f"unknown unit {unit!r}; known: {', '.join(UNITS)}"))
    if spec is not None:
        problems += _check_params(spec, params, assessment_kinds)
    return problems


def _check_params(spec: Metric, params: Mapping[str, Any], assessment_kinds: Collection[str]) -> list[Problem]:
    problems = [
        Problem(f"params.{name}", "unknown-param", f"{spec.code} takes {spec.param or 'no parameters'}, not {name!r}")
        for name in params
        if name != spec.param
    ]
    if spec.param is None:
        return problems
    value = params.get(spec.param)
    choices = tuple(assessment_kinds) if spec.param == "assessment_kind" else spec.choices
    if value is None or value == "":
        if spec.param_required:
            problems.append(Problem(f"params.{spec.param}", "required", f"{spec.code} needs params.{spec.param}"))
    elif not isinstance(value, str) or value not in choices:
        problems.append(Problem(f"params.{spec.param}", "unknown", f"unknown {spec.param} {value!r}; known: {', '.join(sorted(choices))}"))
    return problems


def rule_for(
    *,
    indicator_id: int,
    version_id: int,
    metric: str,
    params: Mapping[str, Any],
    aggregation: str,
    window_days: int,
    operator: str,
    threshold: float,
    available_kinds: Collection[str],
) -> Rule:
    spec = METRICS[metric]
    key = params.get(spec.param) if spec.param else None
    return Rule(
        indicator_id=indicator_id,
        version_id=version_id,
        fact_kind=spec.fact_kind,
        aggregation=aggregation,
        window_days=window_days,
        operator=operator,
        threshold=float(threshold),
        keys=frozenset({key}) if key else frozenset(),
        scale=spec.scale,
        change_mode=spec.change_mode,
        empty_is_zero=spec.empty_is_zero,
        available=spec.fact_kind in available_kinds,
    )


# ETS, "Linking TOEFL iBT Scores to IELTS Scores" (2010): the lowest TOEFL iBT score of each IELTS band.
_TOEFL_FLOORS = (0, 32, 35, 46, 60, 79, 94, 102, 110, 115, 118)
_IELTS_BANDS = (4.0, 4.5, 5.0, 5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0)


def toefl_band(score: float) -> float:
    """The IELTS band a TOEFL iBT score (0-120) compares to, so "+0.5" means one band step for both exams."""
    return _IELTS_BANDS[max(0, bisect_right(_TOEFL_FLOORS, score) - 1)]


def exam_band(kind: str, score: float) -> float:
    return toefl_band(score) if kind == "toefl" else score
