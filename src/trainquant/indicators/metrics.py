"""The metric registry: what an indicator can measure, and which fact kind feeds each metric.

Pure, like ``rules.py``. A metric whose fact kind no source provides yet evaluates to "no data"; the
attendance, online-learning and business-integration issues only add fact sources in ``facts.py``.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

from trainquant.indicators.rules import AGGREGATIONS, OPERATORS, WINDOWS, Rule

# Assessment kinds the training domain records (its table may hold more: callers pass those in).
ASSESSMENT_KINDS = (
    "trial_lecture", "online_test", "script_simulation", "case_analysis", "ielts", "toefl", "communication", "error_rate",
)
EXAM_KINDS = ("ielts", "toefl")
# Each exam is judged on its own scale: an IELTS change in bands, a TOEFL iBT change in points (0-120).
# There is no sound exchange rate between the two (ETS's concordance maps ranges, not steps).
EXAM_UNITS = {"ielts": "band", "toefl": "score"}
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
    by_program: bool = False  # its facts carry the program they come from (the counted programs filter them)
    attempts: bool = False  # its facts are attempts (assessments): the aggregation is an attempt rule (latest, best, mean)

    @property
    def choices(self) -> tuple[str, ...]:
        return VOCABULARIES[self.param] if self.param else ()


_HOURS = ("sum", "avg", "max", "min", "last", "count")
_SCORES = ("avg", "max", "min", "last", "count", "change")
_ALL = (
    Metric("study_hours", "学习时长", "Study hours", "study_hours", "attendance", "h", _HOURS, by_program=True),
    Metric("attended_hours", "出勤时长", "Attended hours", "attended_hours", "attendance", "h", _HOURS, by_program=True),
    Metric("online_hours", "线上学习时长", "Online learning hours", "online_hours", "learning", "h", _HOURS, by_program=True),
    Metric("participation_rate", "参与率", "Participation rate", "participation_rate", "attendance", "%",
           ("avg", "max", "min", "last", "count"), scale=100.0, by_program=True),
    Metric("assessment_score", "考核得分", "Assessment score", "assessment_score", "assessments", "score", _SCORES,
           param="assessment_kind", param_required=True, attempts=True),
    Metric("assessment_pass_rate", "考核通过率", "Assessment pass rate", "assessment_passed", "assessments", "%",
           ("avg", "max", "min", "last", "count"), param="assessment_kind", param_required=True, scale=100.0, attempts=True),
    # Successive results of one exam, on its own scale (EXAM_UNITS): the exam is part of the definition.
    Metric("exam_score_change", "雅思/托福成绩变化", "IELTS/TOEFL score change", "exam_score_change", "assessments", "band",
           ("sum", "max", "min", "last", "count"), param="exam", param_required=True),
    Metric("error_rate", "差错率", "Error rate", "error_rate", "assessments", "%", ("avg", "max", "min", "last", "count"),
           param="assessment_kind", scale=100.0, attempts=True),
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
    window_kind: str = "days",
    programs: Mapping[str, Any] | None = None,
    program_codes: Collection[str] | None = None,
) -> list[Problem]:
    """Everything wrong with an indicator definition, one problem per field (empty when it is sound).
    ``program_codes``: the programs that exist (None: codes in the scope are not checked)."""
    problems: list[Problem] = []
    if window_kind not in WINDOWS:
        problems.append(Problem("window_kind", "unknown", f"unknown window {window_kind!r}; known: {', '.join(WINDOWS)}"))
    problems += check_scope(programs or {}, program_codes)
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
        if window_kind == "since_training" and spec.source == "business":
            # the business source compares the days after a person's latest training with those before
            # it itself; a window of the rule's own would cut its two figures apart
            problems.append(Problem("window_kind", "business-window", f"{spec.code} is read around the latest training already: use a window of days"))
        exam = params.get("exam") if spec.param == "exam" else None
        if exam in EXAM_UNITS and unit != EXAM_UNITS[exam]:
            problems.append(Problem("unit", "exam-scale", f"a {exam} change is measured in {EXAM_UNITS[exam]}, not {unit!r}"))
    return problems


# ---------------------------------------------------------------- the programs an indicator counts

SCOPE_KEYS = ("target_kinds", "codes", "tags_any")
DEPARTMENT_KINDS = ("teaching", "marketing", "admin", "other")


@dataclass(frozen=True)
class ProgramFacts:
    """What the scope of counted programs is matched against."""

    code: str
    target_kinds: tuple[str, ...]
    tags: tuple[str, ...]


def check_scope(scope: Mapping[str, Any], program_codes: Collection[str] | None) -> list[Problem]:
    problems: list[Problem] = []
    for name, value in scope.items():
        where = f"programs.{name}"
        if name not in SCOPE_KEYS:
            problems.append(Problem(where, "unknown-param", f"the counted programs are chosen by {', '.join(SCOPE_KEYS)}, not {name!r}"))
        elif not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
            problems.append(Problem(where, "list", f"{where} is a non-empty list of texts"))
        elif name == "target_kinds" and (bad := sorted(set(value) - set(DEPARTMENT_KINDS))):
            problems.append(Problem(where, "unknown", f"unknown department kind {', '.join(bad)}; known: {', '.join(DEPARTMENT_KINDS)}"))
        elif name == "codes" and program_codes is not None and (bad := sorted(set(value) - set(program_codes))):
            problems.append(Problem(where, "unknown", f"no program with code {', '.join(bad)}"))
    return problems


def programs_in_scope(scope: Mapping[str, Any], programs: Collection[ProgramFacts]) -> frozenset[str] | None:
    """The codes of the programs an indicator counts: those meeting every condition of its scope (a
    target department kind among ``target_kinds``, a code among ``codes``, a tag among ``tags_any``);
    None when the scope is empty (every program counts)."""
    if not scope:
        return None
    kinds, codes, tags = (set(scope.get(k) or ()) for k in SCOPE_KEYS)
    return frozenset(
        p.code for p in programs
        if (not kinds or kinds & set(p.target_kinds)) and (not codes or p.code in codes) and (not tags or tags & set(p.tags))
    )


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
    window_kind: str = "days",
    programs: frozenset[str] | None = None,
) -> Rule:
    """``programs``: the codes of the counted programs (``programs_in_scope``)."""
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
        available=spec.fact_kind in available_kinds,
        window_kind=window_kind,
        programs=programs,
        by_program=spec.by_program,
        # a version stored before the parameter was required (an exam left open) cannot be judged
        incomplete=spec.param_required and not key,
        around_training=spec.source == "business",
    )
