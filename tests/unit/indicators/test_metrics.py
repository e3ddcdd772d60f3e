"""The metric registry: its vocabulary, definition checks, each exam's scale and the counted programs."""

from __future__ import annotations

import pytest

from trainquant.indicators import schemas
from trainquant.indicators.metrics import (
    ASSESSMENT_KINDS,
    CHOICE_NAMES,
    METRICS,
    SOURCES,
    UNITS,
    VOCABULARIES,
    ProgramFacts,
    check_definition,
    programs_in_scope,
    rule_for,
)
from trainquant.indicators.rules import AGGREGATIONS, CHANGE_MODES

GOOD = {"metric": "assessment_score", "params": {"assessment_kind": "trial_lecture"}, "aggregation": "max",
        "window_days": 90, "operator": ">=", "threshold": 85.0, "unit": "score"}


def fields(**changes) -> list[tuple[str, str]]:
    return [(p.field, p.code) for p in check_definition(**(GOOD | changes))]


def test_registry_is_consistent():
    for m in METRICS.values():
        assert set(m.aggregations) <= set(AGGREGATIONS), m.code
        assert m.unit in UNITS and m.source in SOURCES and m.change_mode in CHANGE_MODES, m.code
        assert m.param is None or m.param in VOCABULARIES, m.code
        assert m.name and m.name_en
    assert set(schemas.Unit.__args__) == set(UNITS)
    assert set(schemas.Aggregation.__args__) == set(AGGREGATIONS)
    every_choice = {c for vocab in VOCABULARIES.values() for c in vocab}
    assert every_choice <= set(CHOICE_NAMES)


def test_the_metrics_the_brief_names_are_there():
    assert {"study_hours", "attended_hours", "online_hours", "participation_rate", "assessment_score", "assessment_pass_rate",
            "exam_score_change", "business_change_pct", "business_change_points", "error_rate"} <= set(METRICS)
    # Only assessments feed facts today; the rest are named for the issues that will feed them.
    assert {m.source for m in METRICS.values()} == {"assessments", "attendance", "learning", "business"}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, []),
        ({"metric": "happiness"}, [("metric", "unknown")]),
        ({"operator": "!="}, [("operator", "unknown")]),
        ({"aggregation": "median"}, [("aggregation", "unknown")]),
        ({"aggregation": "sum"}, [("aggregation", "not-allowed")]),  # a sum of scores means nothing
        ({"window_days": 0}, [("window_days", "positive")]),
        ({"window_days": -5}, [("window_days", "positive")]),
        ({"window_days": True}, [("window_days", "positive")]),
        ({"threshold": float("inf")}, [("threshold", "number")]),
        ({"unit": "furlong"}, [("unit", "unknown")]),
        ({"params": {}}, [("params.assessment_kind", "required")]),
        ({"params": {"assessment_kind": ""}}, [("params.assessment_kind", "required")]),
        ({"params": {"assessment_kind": "karaoke"}}, [("params.assessment_kind", "unknown")]),
        ({"params": {"assessment_kind": "trial_lecture", "colour": "red"}}, [("params.colour", "unknown-param")]),
        ({"metric": "study_hours", "aggregation": "sum", "unit": "h", "params": {"assessment_kind": "ielts"}},
         [("params.assessment_kind", "unknown-param")]),
        ({"metric": "study_hours", "aggregation": "sum", "unit": "h", "params": {}}, []),
        ({"metric": "exam_score_change", "aggregation": "sum", "params": {}}, [("params.exam", "required")]),  # one exam each
        ({"metric": "exam_score_change", "aggregation": "sum", "params": {"exam": "gaokao"}}, [("params.exam", "unknown")]),
        ({"metric": "business_change_pct", "aggregation": "change", "params": {}}, [("params.business_metric", "required")]),
        ({"metric": "business_change_pct", "aggregation": "max", "params": {"business_metric": "orders"}},
         [("aggregation", "not-allowed")]),
    ],
)
def test_check_definition(changes, expected):
    assert fields(**changes) == expected


def test_assessment_kinds_from_the_database_are_accepted():
    assert fields(params={"assessment_kind": "child_psychology"}) == [("params.assessment_kind", "unknown")]
    extra = {*ASSESSMENT_KINDS, "child_psychology"}
    assert check_definition(**(GOOD | {"params": {"assessment_kind": "child_psychology"}}), assessment_kinds=extra) == []


def test_rule_for_carries_the_metric_semantics():
    r = rule_for(indicator_id=1, version_id=2, metric="error_rate", params={"assessment_kind": "error_rate"}, aggregation="max",
                 window_days=90, operator="=", threshold=0, available_kinds={"error_rate"})
    assert (r.fact_kind, r.keys, r.scale, r.available) == ("error_rate", frozenset({"error_rate"}), 100.0, True)
    r = rule_for(indicator_id=1, version_id=2, metric="business_change_pct", params={"business_metric": "student_rating"},
                 aggregation="change", window_days=90, operator=">=", threshold=5, available_kinds={"error_rate"})
    assert (r.fact_kind, r.change_mode, r.available) == ("business_metric", "percent", False)
    r = rule_for(indicator_id=1, version_id=2, metric="study_hours", params={}, aggregation="sum",
                 window_days=90, operator=">=", threshold=10, available_kinds=set(), programs=frozenset({"P1"}), window_kind="year")
    assert (r.keys, r.by_program, r.programs, r.window_kind, r.incomplete) == (frozenset(), True, frozenset({"P1"}), "year", False)


def test_an_exam_change_names_its_exam_and_is_measured_on_its_scale():
    exam = GOOD | {"metric": "exam_score_change", "aggregation": "sum", "threshold": 0.5}
    assert [(p.field, p.code) for p in check_definition(**(exam | {"params": {}, "unit": "band"}))] == [("params.exam", "required")]
    assert check_definition(**(exam | {"params": {"exam": "ielts"}, "unit": "band"})) == []
    assert check_definition(**(exam | {"params": {"exam": "toefl"}, "unit": "score", "threshold": 5})) == []
    # a TOEFL change is in TOEFL points; calling it bands would compare it with IELTS steps
    assert [(p.field, p.code) for p in check_definition(**(exam | {"params": {"exam": "toefl"}, "unit": "band"}))] == [("unit", "exam-scale")]
    assert [(p.field, p.code) for p in check_definition(**(exam | {"params": {"exam": "ielts"}, "unit": "score"}))] == [("unit", "exam-scale")]


def test_a_stored_exam_version_without_its_exam_cannot_be_judged():
    r = rule_for(indicator_id=1, version_id=2, metric="exam_score_change", params={}, aggregation="sum",
                 window_days=365, operator=">=", threshold=0.5, available_kinds={"exam_score_change"})
    assert r.incomplete


def test_windows_and_program_scopes_are_checked():
    assert fields(window_kind="month") == [("window_kind", "unknown")]
    assert fields(window_kind="since_training") == []
    business = {"metric": "business_change_pct", "params": {"business_metric": "student_rating"}, "aggregation": "change", "unit": "%"}
    assert fields(**business, window_kind="since_training") == [("window_kind", "business-window")]
    assert fields(programs={"target_kinds": ["teaching"]}) == []
    assert fields(programs={"kinds": ["teaching"]}) == [("programs.kinds", "unknown-param")]
    assert fields(programs={"target_kinds": []}) == [("programs.target_kinds", "list")]
    assert fields(programs={"target_kinds": ["sales"]}) == [("programs.target_kinds", "unknown")]
    assert [(p.field, p.code) for p in check_definition(**GOOD, programs={"codes": ["A", "Z"]}, program_codes={"A"})] == [
        ("programs.codes", "unknown")]


PROGRAMS = [ProgramFacts("T1", ("teaching",), ("grammar-teaching",)), ProgramFacts("T2", ("teaching", "admin"), ()),
            ProgramFacts("M1", ("marketing",), ("sales-script",))]


@pytest.mark.parametrize(
    ("scope", "codes"),
    [({}, None), ({"target_kinds": ["teaching"]}, {"T1", "T2"}), ({"target_kinds": ["admin", "marketing"]}, {"T2", "M1"}),
     ({"codes": ["M1"]}, {"M1"}), ({"target_kinds": ["teaching"], "tags_any": ["grammar-teaching"]}, {"T1"}),
     ({"target_kinds": ["teaching"], "codes": ["M1"]}, set()), ({"tags_any": ["nothing"]}, set())],
)
def test_the_counted_programs_meet_every_condition_of_the_scope(scope, codes):
    assert programs_in_scope(scope, PROGRAMS) == (None if codes is None else frozenset(codes))


def test_the_api_vocabularies_of_windows_and_reasons_are_the_engines():
    from typing import get_args

    from trainquant.indicators.models import WINDOWS as STORED
    from trainquant.indicators.rules import REASONS, WINDOWS

    assert set(get_args(schemas.WindowKind)) == set(WINDOWS) == set(STORED)
    assert set(get_args(schemas.Reason)) == set(REASONS)
