"""The metric registry: its vocabulary, definition checks and the exam scale."""

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
    check_definition,
    exam_band,
    rule_for,
    toefl_band,
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
        ({"metric": "exam_score_change", "aggregation": "sum", "params": {}}, []),  # the exam is optional
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
                 window_days=90, operator=">=", threshold=10, available_kinds=set())
    assert (r.keys, r.empty_is_zero) == (frozenset(), True)


@pytest.mark.parametrize(
    ("toefl", "band"),
    [(0, 4.0), (31, 4.0), (32, 4.5), (59, 5.5), (60, 6.0), (78, 6.0), (79, 6.5), (93, 6.5), (94, 7.0), (101, 7.0),
     (102, 7.5), (109, 7.5), (110, 8.0), (115, 8.5), (117, 8.5), (118, 9.0), (120, 9.0)],
)
def test_toefl_compares_to_ielts_bands(toefl, band):
    assert toefl_band(toefl) == band


def test_exam_band_leaves_ielts_as_it_is():
    assert exam_band("ielts", 6.5) == 6.5
    assert exam_band("toefl", 94) - exam_band("toefl", 93) == 0.5
