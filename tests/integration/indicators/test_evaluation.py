"""Evaluation against the database: facts from assessments, versions in effect, stored runs that never change."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conftest import NOW, make_employee
from tests.integration.indicators.conftest import PERIOD_END, make_assessment
from trainquant.errors import DomainError
from trainquant.indicators import evaluation, facts, schemas, service
from trainquant.indicators.models import Evaluation, IndicatorVersion

TZ = ZoneInfo("Asia/Shanghai")
TODAY = date(2026, 9, 1)


def run(db, period_end=PERIOD_END, **population):
    return evaluation.run_evaluation(db, period_end=period_end, actor="test", now=NOW, tz=TZ, **population)


def statuses(db, run_id: int, employee_id: int) -> dict[str, str]:
    rows = db.execute(
        select(IndicatorVersion.indicator_id, Evaluation.status, IndicatorVersion.version)
        .join(IndicatorVersion, IndicatorVersion.id == Evaluation.indicator_version_id)
        .where(Evaluation.run_id == run_id, Evaluation.employee_id == employee_id)
    )
    codes = {i.id: i.code for i in service.list_indicators(db, include_retired=True)}
    return {codes[i]: f"{s}@v{v}" for i, s, v in rows}


def snapshot(db, run_id: int) -> list[tuple]:
    db.expire_all()
    return [
        (e.id, e.employee_id, e.indicator_version_id, e.period_end, e.status, e.value, e.threshold, e.facts)
        for e in db.scalars(select(Evaluation).where(Evaluation.run_id == run_id).order_by(Evaluation.id))
    ]


def version_row(db, version_id: int) -> dict:
    db.expire_all()
    v = db.get(IndicatorVersion, version_id)
    return {c.key: getattr(v, c.key) for c in IndicatorVersion.__table__.columns}


# ---------------------------------------------------------------- facts


def test_assessment_facts(db, school):
    make_assessment(db, employee=school.a1, kind="error_rate", on=date(2026, 8, 6), errors=2, operations=50)
    make_assessment(db, employee=school.m1, kind="toefl", on=date(2025, 6, 1), score=93)
    make_assessment(db, employee=school.m1, kind="toefl", on=date(2026, 8, 1), score=95)  # +2 TOEFL points
    ids = [school.t1.id, school.m1.id, school.a1.id]
    got = facts.load_facts(db, ids, start=date(2026, 6, 1), end=PERIOD_END, kinds=facts.available_kinds())
    by_kind = {}
    for f in got:
        by_kind.setdefault(f.kind, []).append((f.employee_id, f.key, f.on, f.value))
    assert sorted(by_kind["error_rate"]) == [(school.a1.id, "error_rate", date(2026, 8, 5), 0.0), (school.a1.id, "error_rate", date(2026, 8, 6), 0.04)]
    assert sorted(by_kind["assessment_passed"]) == [(school.m1.id, "case_analysis", date(2026, 7, 11), 1.0), (school.m1.id, "case_analysis", date(2026, 8, 11), 1.0)]
    # Successive exam results; the baseline may lie before the window. Each exam on its own scale.
    assert sorted(by_kind["exam_score_change"]) == [(school.t1.id, "ielts", date(2026, 6, 1), 0.5), (school.m1.id, "toefl", date(2026, 8, 1), 2.0)]
    assert (school.t1.id, "trial_lecture", date(2026, 5, 1), 70.0) not in by_kind["assessment_score"]  # before the start
    assert facts.load_facts(db, ids, start=date(2026, 6, 2), end=PERIOD_END, kinds=frozenset({"exam_score_change"}))[0].key == "toefl"


def test_unavailable_kinds_and_unknown_employees_give_nothing(db, school):
    assert facts.load_facts(db, [school.t1.id], start=date(2020, 1, 1), end=PERIOD_END, kinds=frozenset({"study_hours"})) == []
    assert facts.load_facts(db, [999_999], start=date(2020, 1, 1), end=PERIOD_END, kinds=facts.available_kinds()) == []


# ---------------------------------------------------------------- runs


def test_a_run_stores_version_and_evidence(db, school):
    summary = run(db)
    rows = db.scalars(select(Evaluation).where(Evaluation.run_id == summary.run.id)).all()
    assert len(rows) == summary.evaluations == 24
    trial = service.current(service.get_indicator(db, "trial_lecture_score"))
    t1 = next(r for r in rows if r.employee_id == school.t1.id and r.indicator_version_id == trial.id)
    assert (t1.status, t1.value, t1.threshold, t1.period_end) == ("met", 88.0, 85.0, PERIOD_END)
    assert t1.facts == [{"key": "trial_lecture", "on": "2026-07-15", "value": 88.0, "ref": t1.facts[0]["ref"]}]


def test_who_is_evaluated(db, school):
    school.t2.status = "left"
    late = make_employee(db, employee_no="T9", department=school.teach, hire_date=date(2026, 9, 15))
    db.flush()
    summary = run(db, department=school.teach)
    evaluated = set(db.scalars(select(Evaluation.employee_id).where(Evaluation.run_id == summary.run.id)))
    assert evaluated == {school.boss.id, school.t1.id}  # not the leaver, not the one hired after the period
    assert late.id not in evaluated and summary.run.employees == 2
    assert run(db, employee=school.m1).evaluations == 3
    assert run(db, kind="other").evaluations == 0


def test_chunks_and_progress(db, school, monkeypatch):
    monkeypatch.setattr(evaluation, "CHUNK", 2)
    seen = []
    summary = evaluation.run_evaluation(db, period_end=PERIOD_END, actor="t", now=NOW, tz=TZ, on_progress=lambda d, t: seen.append((d, t)))
    assert seen == [(0, 5), (2, 5), (4, 5), (5, 5)]
    assert summary.evaluations == 24


def test_a_version_applies_from_its_date_and_last_quarter_keeps_its_rules(db, school):
    body = schemas.IndicatorUpdate(threshold=90, effective_from=date(2026, 10, 1), note="Q4")
    service.add_version(db, "trial_lecture_score", body, actor="hr", now=NOW, today=TODAY)
    before = run(db, period_end=date(2026, 9, 30))
    after = run(db, period_end=date(2026, 10, 10))  # the 90-day window still holds the 07-15 lecture
    assert statuses(db, before.run.id, school.t1.id)["trial_lecture_score"] == "met@v2"  # 88 >= 85
    assert statuses(db, after.run.id, school.t1.id)["trial_lecture_score"] == "not_met@v3"  # 88 < 90


def test_a_new_indicator_applies_from_today_unless_told(db, school):
    body = schemas.IndicatorCreate(code="test_score", module_code="teaching_skill", name="测试", name_en="Test",
                                   metric="assessment_score", params={"assessment_kind": "trial_lecture"}, aggregation="last",
                                   window_days=365, operator=">=", threshold=60)
    service.create_indicator(db, body, actor="hr", now=NOW, today=TODAY)
    assert "test_score" not in statuses(db, run(db).run.id, school.t1.id)  # 2026-08-31 is before it existed
    assert statuses(db, run(db, period_end=TODAY).run.id, school.t1.id)["test_score"] == "met@v1"


def test_retiring_keeps_history_and_leaves_later_periods_out(db, school):
    first = run(db)
    old = snapshot(db, first.run.id)
    retired_at = datetime(2026, 9, 10, 1, 0, tzinfo=UTC)
    service.retire_indicator(db, "trial_lecture_score", schemas.IndicatorRetire(note="x"), actor="hr", now=retired_at)
    assert "trial_lecture_score" in statuses(db, run(db, period_end=date(2026, 9, 9)).run.id, school.t1.id)
    assert "trial_lecture_score" not in statuses(db, run(db, period_end=date(2026, 9, 10)).run.id, school.t1.id)
    assert snapshot(db, first.run.id) == old


def test_latest_results_follow_the_newest_run(db, school):
    run(db)
    service.add_version(db, "trial_lecture_score", schemas.IndicatorUpdate(threshold=95), actor="hr", now=NOW, today=date(2026, 8, 1))
    second = run(db)
    latest = evaluation.employee_results(db, school.t1)
    assert {r.evaluation.run_id for r in latest} == {second.run.id}
    trial = next(r for r in latest if r.indicator.code == "trial_lecture_score")
    assert (trial.version.version, trial.evaluation.status) == (3, "not_met")
    headcount, stored = evaluation.department_results(db, school.teach)
    assert headcount == 3 and {r.evaluation.run_id for r in stored} == {second.run.id}


# ---------------------------------------------------------------- a new version never alters stored results

edits = st.fixed_dictionaries(
    {},
    optional={
        "threshold": st.floats(min_value=0, max_value=100, allow_nan=False).map(lambda x: round(x, 2)),
        "operator": st.sampled_from([">=", ">", "<=", "<", "="]),
        "aggregation": st.sampled_from(["avg", "max", "min", "last", "count", "change"]),
        "window_days": st.integers(1, 400),
        "weight": st.floats(min_value=0.1, max_value=5, allow_nan=False).map(lambda x: round(x, 2)),
    },
).filter(bool)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(edit=edits, code=st.sampled_from(["trial_lecture_score", "foreign_teacher_communication", "practical_error_rate", "case_analysis_pass_rate"]),
       applies_from=st.sampled_from([None, date(2026, 8, 1), date(2026, 12, 1)]))
def test_a_new_version_never_alters_past_results(db, school, edit, code, applies_from):
    savepoint = db.begin_nested()  # each example starts from the same school
    try:
        first = run(db)
        old_rows = snapshot(db, first.run.id)
        old_version = service.current(service.get_indicator(db, code))
        old_version_row = version_row(db, old_version.id)
        try:
            service.add_version(db, code, schemas.IndicatorUpdate(**edit, effective_from=applies_from), actor="hr", now=NOW, today=TODAY)
        except DomainError as exc:  # an edit equal to the current rule, or not fitting the metric: nothing stored
            assert exc.status == 422, exc
            event("edit refused")
            return
        event("new version stored")
        second = run(db)
        also_later = run(db, period_end=date(2026, 12, 31))
        assert snapshot(db, first.run.id) == old_rows
        assert version_row(db, old_version.id) == old_version_row
        new_version = service.current(service.get_indicator(db, code))
        assert new_version.version == old_version.version + 1
        used = set(db.scalars(select(Evaluation.indicator_version_id).where(Evaluation.run_id == second.run.id)))
        # Left out, a version applies from today (2026-09-01), after the period end that was evaluated again.
        in_effect_now = applies_from is not None and applies_from <= PERIOD_END
        assert (new_version.id in used) is in_effect_now and (old_version.id in used) is not in_effect_now
        assert new_version.id in set(db.scalars(select(Evaluation.indicator_version_id).where(Evaluation.run_id == also_later.run.id)))
    finally:
        savepoint.rollback()


@pytest.mark.parametrize("code", ["trial_lecture_score"])
def test_stored_results_survive_the_indicator_changing_metric(db, school, code):
    first = run(db)
    old_rows = snapshot(db, first.run.id)
    service.add_version(db, code, schemas.IndicatorUpdate(metric="study_hours", aggregation="sum", threshold=10), actor="hr", now=NOW, today=date(2026, 1, 1))
    run(db)
    assert snapshot(db, first.run.id) == old_rows
