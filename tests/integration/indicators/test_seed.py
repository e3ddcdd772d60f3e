"""Migration 0003 seeds exactly the R1.2 defaults of MISSION.md; 0017 gives the three business ones a
second version that reads the isolated effect; 0027 gives the others a second version whose window,
counted programs and attempt rule say what R1.2 means, and splits TOEFL from IELTS."""

from __future__ import annotations

from sqlalchemy import select

from trainquant.indicators.models import Indicator, IndicatorModule, IndicatorVersion

# (department kind, module, module name; indicator name, metric, params, aggregation, window, operator, threshold, unit)
R1_2 = [
    ("teaching", "教学技能提升", "理论学习时长", "study_hours", {}, "sum", 90, ">=", 10, "h"),
    ("teaching", "教学技能提升", "试讲评分", "assessment_score", {"assessment_kind": "trial_lecture"}, "max", 90, ">=", 85, "score"),
    ("teaching", "教学技能提升", "学员评分提升", "business_change_pct", {"business_metric": "student_rating"}, "change", 90, ">=", 5, "%"),
    ("teaching", "语言能力进阶", "雅思/托福成绩提升", "exam_score_change", {}, "sum", 365, ">=", 0.5, "band"),
    ("teaching", "语言能力进阶", "外教沟通考核", "assessment_score", {"assessment_kind": "communication"}, "max", 90, ">=", 90, "score"),
    ("marketing", "获客技巧掌握", "话术模拟得分", "assessment_score", {"assessment_kind": "script_simulation"}, "max", 90, ">=", 90, "score"),
    ("marketing", "获客技巧掌握", "案例分析通过率", "assessment_pass_rate", {"assessment_kind": "case_analysis"}, "avg", 90, "=", 100, "%"),
    ("marketing", "业绩转化", "培训后30天转化率提升", "business_change_points", {"business_metric": "conversion_rate"}, "change", 30, ">=", 8, "pp"),
    ("admin", "流程熟悉度", "线上课程学习时长", "online_hours", {}, "sum", 90, ">=", 8, "h"),
    ("admin", "流程熟悉度", "实操差错率", "error_rate", {"assessment_kind": "error_rate"}, "max", 90, "=", 0, "%"),
    ("admin", "效率提升", "流程执行时间变化", "business_change_pct", {"business_metric": "process_time"}, "change", 90, "<=", -15, "%"),
]


ISOLATED = {"学员评分提升": "business_effect_pct", "培训后30天转化率提升": "business_effect_points", "流程执行时间变化": "business_effect_pct"}


def test_the_seeded_defaults_are_r1_2(db):
    rows = db.execute(
        select(IndicatorModule, Indicator, IndicatorVersion)
        .join(Indicator, Indicator.module_id == IndicatorModule.id)
        .join(IndicatorVersion, (IndicatorVersion.indicator_id == Indicator.id) & (IndicatorVersion.version == 1))
        .where(IndicatorVersion.note == "R1.2 default")
        .order_by(Indicator.id)
    ).unique().all()
    got = [
        (m.department_kind, m.name, v.name, v.metric, v.params, v.aggregation, v.window_days, v.operator, v.threshold, v.unit)
        for m, _i, v in rows
    ]
    assert got == R1_2
    for m, i, v in rows:
        assert m.name_en and v.name_en and m.weight == 1.0 and v.weight == 1.0 and m.active
        assert (i.current_version, v.version, v.effective_from, i.retired_at) == (2, 1, None, None)
        assert v.created_by == "system" and v.note == "R1.2 default"


def test_the_business_defaults_read_the_isolated_effect_from_version_2(db):
    rows = db.execute(select(IndicatorVersion).where(IndicatorVersion.version == 2, IndicatorVersion.name.in_(list(ISOLATED)))).scalars().all()
    assert {v.name: v.metric for v in rows} == ISOLATED
    first = {v.name: v for v in db.scalars(select(IndicatorVersion).where(IndicatorVersion.version == 1, IndicatorVersion.name.in_(list(ISOLATED))))}
    for v in rows:
        same = ("params", "aggregation", "window_days", "operator", "threshold", "unit", "effective_from")
        assert {k: getattr(v, k) for k in same} == {k: getattr(first[v.name], k) for k in same}
        assert "isolated" in (v.note or "")


# (name, metric, params, aggregation, window days, window kind, programs, operator, threshold, unit), as 0027 writes them
SECOND = {
    "理论学习时长": ("study_hours", {}, "sum", 365, "year", {"target_kinds": ["teaching"]}, ">=", 10, "h"),
    "试讲评分": ("assessment_score", {"assessment_kind": "trial_lecture"}, "last", 365, "days", {}, ">=", 85, "score"),
    "雅思成绩提升": ("exam_score_change", {"exam": "ielts"}, "sum", 365, "days", {}, ">=", 0.5, "band"),
    "外教沟通考核": ("assessment_score", {"assessment_kind": "communication"}, "last", 365, "days", {}, ">=", 90, "score"),
    "话术模拟得分": ("assessment_score", {"assessment_kind": "script_simulation"}, "last", 365, "days", {}, ">=", 90, "score"),
    "案例分析通过率": ("assessment_pass_rate", {"assessment_kind": "case_analysis"}, "avg", 365, "days", {}, "=", 100, "%"),
    "线上课程学习时长": ("online_hours", {}, "sum", 365, "year", {"target_kinds": ["admin"]}, ">=", 8, "h"),
    "实操差错率": ("error_rate", {"assessment_kind": "error_rate"}, "last", 365, "days", {}, "=", 0, "%"),
}


def _definition(v: IndicatorVersion) -> tuple:
    return (v.metric, v.params, v.aggregation, v.window_days, v.window_kind, v.programs, v.operator, v.threshold, v.unit)


def test_the_other_defaults_say_what_r1_2_means_from_version_2(db):
    rows = db.execute(select(IndicatorVersion).where(IndicatorVersion.version == 2, IndicatorVersion.name.not_in(list(ISOLATED)))).scalars().all()
    assert {v.name: _definition(v) for v in rows} == SECOND
    for v in rows:  # from the start, like the first: every evaluation from now on reads R1.2 as it means
        assert (v.effective_from, v.created_by, v.weight) == (None, "system", 1.0) and v.note.startswith("v2:")
    # the first versions keep what they were: a 90-day window and the best attempt
    first = db.execute(select(IndicatorVersion).where(IndicatorVersion.version == 1, IndicatorVersion.name == "试讲评分")).scalar_one()
    assert (first.aggregation, first.window_days, first.window_kind, first.programs) == ("max", 90, "days", {})


def test_toefl_is_an_indicator_of_its_own_in_points(db):
    ind = db.execute(select(Indicator).where(Indicator.code == "exam_score_gain_toefl")).scalar_one()
    (v,) = ind.versions
    assert (ind.module.code, ind.current_version, v.name, v.name_en) == ("language_level", 1, "托福成绩提升", "TOEFL score gain")
    assert _definition(v) == ("exam_score_change", {"exam": "toefl"}, "sum", 365, "days", {}, ">=", 5, "score")
