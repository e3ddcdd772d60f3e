"""The pure evaluation engine: every operator, window and aggregation, with their edges."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainquant.indicators.rules import (
    AGGREGATIONS,
    MET,
    NO_DATA,
    NOT_MET,
    OPERATORS,
    TRAINED,
    TRAINING_LOOKBACK_DAYS,
    WINDOWS,
    Calendar,
    Fact,
    Result,
    Rule,
    Scored,
    Share,
    compare,
    department_module_scores,
    employee_module_scores,
    evaluate,
    evaluate_one,
    first_day_read,
    group_facts,
    indicator_shares,
    span,
    training_span,
    version_in_effect,
    window_start,
)

END = date(2026, 9, 30)
CAL = Calendar(term_start=date(2026, 9, 1), previous_term_start=date(2026, 7, 1))  # the default terms at END


def fact(value: float, days_before_end: int = 0, *, key: str = "trial_lecture", kind: str = "k", emp: int = 1, ref: str | None = None) -> Fact:
    on = END - timedelta(days=days_before_end)
    return Fact(emp, kind, key, on, value, ref or f"r:{on.isoformat()}:{value}")


def rule(aggregation: str = "max", operator: str = ">=", threshold: float = 85, *, window: int = 90, **kw) -> Rule:
    return Rule(indicator_id=1, version_id=1, fact_kind="k", aggregation=aggregation, window_days=window, operator=operator, threshold=threshold, **kw)


def run(r: Rule, facts: list[Fact]):
    return evaluate_one(r, 1, group_facts(facts).get((1, "k"), []), END)


# ---------------------------------------------------------------- operators


@pytest.mark.parametrize(
    ("value", "operator", "threshold", "expected"),
    [
        (85, ">=", 85, True), (84.99, ">=", 85, False), (85.01, ">=", 85, True),
        (85, ">", 85, False), (85.01, ">", 85, True), (84, ">", 85, False),
        (85, "<=", 85, True), (85.01, "<=", 85, False), (84, "<=", 85, True),
        (85, "<", 85, False), (84.99, "<", 85, True), (86, "<", 85, False),
        (85, "=", 85, True), (85.01, "=", 85, False), (84.99, "=", 85, False),
        # threshold 0 with "=": an error rate of exactly 0 (and float noise around it) is met
        (0.0, "=", 0, True), (-0.0, "=", 0, True), (1e-12, "=", 0, True), (0.001, "=", 0, False),
        # float noise at the threshold counts as "exactly at the threshold"
        (0.1 + 0.2, "=", 0.3, True), (0.1 + 0.2, "<=", 0.3, True), (0.1 + 0.2, ">", 0.3, False),
        ((4.41 - 4.2) / 4.2 * 100, ">=", 5, True), ((4.41 - 4.2) / 4.2 * 100, "<", 5, False),
        (-15.000000000001, "<=", -15, True), (-14.99, "<=", -15, False),
    ],
)
def test_compare(value, operator, threshold, expected):
    assert compare(value, operator, threshold) is expected


def test_unknown_operator_and_aggregation_are_refused():
    with pytest.raises(ValueError):
        compare(1, "!=", 1)
    with pytest.raises(ValueError):
        rule(operator="!=")
    with pytest.raises(ValueError):
        rule(aggregation="median")
    with pytest.raises(ValueError):
        rule(window=0)
    with pytest.raises(ValueError):
        rule(threshold=float("nan"))


# ---------------------------------------------------------------- aggregations (and the facts they used)

SCORES = [fact(80, 60), fact(88, 30), fact(84, 5)]


@pytest.mark.parametrize(
    ("aggregation", "facts", "value", "used"),
    [
        ("sum", SCORES, 252, 3),
        ("avg", SCORES, 84, 3),
        ("max", SCORES, 88, 1),
        ("min", SCORES, 80, 1),
        ("last", SCORES, 84, 1),
        ("count", SCORES, 3, 3),
        ("change", SCORES, 4, 2),  # 80 -> 84
        ("max", [fact(88, 30), fact(88, 10, ref="x")], 88, 2),  # ties: both are the evidence
        ("last", [fact(80, 3, ref="a"), fact(90, 3, ref="b"), fact(70, 9)], 85, 2),  # same last day: averaged
        ("change", [fact(80, 50, ref="a"), fact(90, 50, ref="b"), fact(95, 1)], 10, 3),  # 85 -> 95
    ],
)
def test_aggregations(aggregation, facts, value, used):
    result = run(rule(aggregation, ">=", 0), facts)
    assert result.value == pytest.approx(value)
    assert len(result.facts) == used
    assert result.status == MET


@pytest.mark.parametrize("aggregation", ["avg", "max", "min", "last", "change", "sum"])
def test_no_facts_is_no_data(aggregation):
    result = run(rule(aggregation), [])
    assert (result.status, result.value, result.facts) == (NO_DATA, None, ())


def test_count_of_nothing_is_zero_and_a_sum_of_nothing_is_no_data():
    assert (run(rule("count", ">=", 1), []).status, run(rule("count", ">=", 1), []).value) == (NOT_MET, 0)
    # a teacher with no session in the window has no hours to judge: not "0 h, not met"
    hours = run(rule("sum", ">=", 10), [])
    assert (hours.status, hours.reason) == (NO_DATA, "no-facts")
    # a session attended for 0 minutes is a fact: 0 h, not met
    absent = run(rule("sum", ">=", 10), [fact(0.0, 5)])
    assert (absent.status, absent.value, absent.reason) == (NOT_MET, 0.0, None)


def test_change_needs_two_different_days():
    one = run(rule("change", ">=", 0.5), [fact(6.5, 10)])
    assert (one.status, one.value) == (NO_DATA, None)
    assert len(one.facts) == 1  # the lone fact is still shown as evidence
    same_day = run(rule("change", ">=", 0.5), [fact(6.5, 10, ref="a"), fact(7.0, 10, ref="b")])
    assert same_day.status == NO_DATA


@pytest.mark.parametrize(
    ("start", "end", "mode", "expected_value", "status"),
    [
        (4.2, 4.8, "percent", 14.285714, MET),  # R3.1: rating 4.2 -> 4.8 is +14 %
        (4.0, 4.2, "percent", 5.0, MET),  # exactly at the 5 % threshold
        (4.2, 4.41, "percent", 5.0, MET),  # 4.9999999999 in floats: still exactly 5 %
        (4.2, 4.4, "percent", 4.761905, NOT_MET),
        (0.0, 3.0, "percent", None, NO_DATA),  # a change in % of nothing is undefined
        (10.0, 18.0, "absolute", 8.0, MET),  # R3.2: conversion 10 % -> 18 % is +8 points
    ],
)
def test_change_in_percent_and_points(start, end, mode, expected_value, status):
    result = run(rule("change", ">=", 5 if mode == "percent" else 8, change_mode=mode), [fact(start, 80), fact(end, 2)])
    assert result.status == status
    assert result.value == (None if expected_value is None else pytest.approx(expected_value, abs=1e-6))


def test_a_reduction_meets_a_negative_threshold():
    # R3.3: process time 30 -> 24 min is -20 %, which meets "<= -15 %"; 30 -> 26 (-13.3 %) does not.
    r = rule("change", "<=", -15, change_mode="percent")
    assert run(r, [fact(30, 60), fact(24, 1)]).status == MET
    assert run(r, [fact(30, 60), fact(25.5, 1)]).status == MET  # exactly -15 %
    assert run(r, [fact(30, 60), fact(26, 1)]).status == NOT_MET


def test_scale_turns_ratios_into_percent_and_error_rate_zero_is_met():
    r = rule("max", "=", 0, scale=100.0)
    assert run(r, [fact(0 / 50, 10), fact(0 / 80, 40)]).status == MET
    failed = run(r, [fact(0.0, 10), fact(1 / 50, 40)])
    assert (failed.status, failed.value) == (NOT_MET, pytest.approx(2.0))
    rate = run(rule("avg", "=", 100, scale=100.0), [fact(1.0, 10), fact(1.0, 20)])
    assert (rate.status, rate.value) == (MET, 100.0)
    assert run(rule("avg", "=", 100, scale=100.0), [fact(1.0, 10), fact(0.0, 20)]).status == NOT_MET


# ---------------------------------------------------------------- windows


def test_window_includes_its_first_day_and_the_period_end():
    assert window_start(END, 1) == END
    assert window_start(END, 90) == END - timedelta(days=89)
    assert first_day_read(rule("max", window=90), END) == END - timedelta(days=89)
    assert first_day_read(rule("change", window=90), END) == END - timedelta(days=179)
    r = rule("count", ">=", 0, window=90)
    assert run(r, [fact(1, 0), fact(1, 89)]).value == 2  # first and last day of the window
    outside = [fact(1, 90), fact(1, -1)]  # the day before the window, the day after the period end
    assert run(r, outside).value == 0
    assert run(rule("max", window=90), outside).status == NO_DATA


@pytest.mark.parametrize(
    ("aggregation", "expected"),
    [("sum", 20), ("avg", 10), ("max", 15), ("min", 5), ("last", 15), ("count", 2), ("change", 10)],
)
def test_facts_just_outside_the_window_change_nothing(aggregation, expected):
    inside = [fact(5, 29), fact(15, 0)]
    noise = [fact(1000, 30 if aggregation != "change" else 60), fact(-1000, -1)]
    assert run(rule(aggregation, ">=", 0, window=30), inside + noise).value == pytest.approx(expected)


def test_change_starts_from_the_level_at_the_window_start():
    # Monthly readings (a CRM's conversion rate): a 30-day window holds one; the month before is the baseline.
    monthly = [fact(9, 63), fact(10, 33), fact(18, 3)]
    lift = run(rule("change", ">=", 8, window=30), monthly)
    assert (lift.status, lift.value, [f.value for f in lift.facts]) == (MET, 8, [10, 18])
    assert run(rule("change", ">=", 8, window=30), [fact(18, 3)]).status == NO_DATA  # nothing to start from
    # The baseline is the latest day of the window before (facts just before the window count, older ones not).
    assert run(rule("change", ">=", 0, window=30), [fact(7, 59), fact(10, 30), fact(18, 3)]).value == 8
    assert run(rule("change", ">=", 0, window=30), [fact(10, 60), fact(12, 20), fact(18, 3)]).value == 6
    # A baseline before the window with facts on one day inside it is a change; keys filter the baseline too.
    keyed = [fact(100, 40, key="other"), fact(10, 40), fact(18, 3)]
    assert run(rule("change", ">=", 0, window=30, keys=frozenset({"trial_lecture"})), keyed).value == 8


def test_keys_select_facts_of_one_assessment_kind():
    facts = [fact(95, 3, key="script_simulation"), fact(70, 2, key="trial_lecture")]
    assert run(rule("max", keys=frozenset({"trial_lecture"})), facts).value == 70
    assert run(rule("max"), facts).value == 95  # no keys: every key


def test_unavailable_metric_is_no_data_even_with_facts():
    result = run(rule("max", available=False), [fact(99, 1)])
    assert (result.status, result.value, result.facts) == (NO_DATA, None, ())


def test_evaluate_covers_every_employee_and_rule_in_order():
    r1 = Rule(2, 20, "k", "max", 90, ">=", 85)
    r2 = Rule(1, 10, "other", "count", 90, ">=", 1)
    facts = [fact(90, 1, emp=7), fact(80, 1, emp=3)]
    results = evaluate([r1, r2], facts, [7, 3, 7], END)
    assert [(r.employee_id, r.indicator_id) for r in results] == [(3, 1), (3, 2), (7, 1), (7, 2)]
    assert [r.status for r in results] == [NOT_MET, NOT_MET, NOT_MET, MET]


# ---------------------------------------------------------------- determinism

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False, allow_infinity=False)
facts_strategy = st.lists(
    st.builds(
        Fact,
        employee_id=st.integers(1, 4),
        kind=st.sampled_from(["a", "b"]),
        key=st.sampled_from(["", "x", "y"]),
        on=st.dates(min_value=END - timedelta(days=500), max_value=END + timedelta(days=3)),
        value=finite,
        ref=st.text(alphabet="abc0123", min_size=1, max_size=4),
        program=st.sampled_from(["", "P", "Q"]),
    ),
    max_size=40,
)
trainings_strategy = st.lists(
    st.builds(
        Fact, employee_id=st.integers(1, 4), kind=st.just(TRAINED), key=st.sampled_from(["P", "Q"]),
        on=st.dates(min_value=END - timedelta(days=420), max_value=END + timedelta(days=3)), value=st.just(1.0),
        ref=st.text(alphabet="abc0123", min_size=1, max_size=4),
    ).map(lambda f: Fact(f.employee_id, f.kind, f.key, f.on, f.value, f.ref, f.key)),
    max_size=12,
)
rules_strategy = st.lists(
    st.builds(
        Rule,
        indicator_id=st.integers(1, 6),
        version_id=st.integers(1, 3),
        fact_kind=st.sampled_from(["a", "b"]),
        aggregation=st.sampled_from(AGGREGATIONS),
        window_days=st.integers(1, 120),
        operator=st.sampled_from(OPERATORS),
        threshold=finite,
        keys=st.sampled_from([frozenset(), frozenset({"x"}), frozenset({"x", "y"})]),
        scale=st.sampled_from([1.0, 100.0]),
        change_mode=st.sampled_from(["absolute", "percent"]),
        window_kind=st.sampled_from(WINDOWS),
        programs=st.sampled_from([None, frozenset(), frozenset({"P"})]),
        by_program=st.booleans(),
    ),
    min_size=1,
    max_size=4,
    unique_by=lambda r: (r.indicator_id, r.version_id),
)


@settings(max_examples=200, deadline=None)
@given(rules=rules_strategy, facts=facts_strategy, trainings=trainings_strategy, seed=st.integers(0, 2**32 - 1))
def test_the_same_facts_in_any_order_give_the_same_results(rules, facts, trainings, seed):
    facts = facts + trainings
    shuffled = list(facts)
    random.Random(seed).shuffle(shuffled)
    employees = [1, 2, 3, 4]
    assert evaluate(rules, facts, employees, END, CAL) == evaluate(list(reversed(rules)), shuffled, list(reversed(employees)), END, CAL)


@settings(max_examples=150, deadline=None)
@given(rules=rules_strategy, facts=facts_strategy, trainings=trainings_strategy)
def test_results_only_use_facts_inside_the_window(rules, facts, trainings):
    for result in evaluate(rules, facts + trainings, [1, 2, 3, 4], END, CAL):
        r = next(x for x in rules if (x.indicator_id, x.version_id) == (result.indicator_id, result.version_id))
        for f in result.facts:
            assert first_day_read(r, END, CAL) <= f.on <= END
            assert f.employee_id == result.employee_id and f.kind == r.fact_kind
            if r.by_program and r.programs is not None:
                assert f.program in r.programs
        if result.window is not None:
            assert result.window[1] <= END
            assert all(result.window[0] <= f.on <= result.window[1] for f in result.facts if r.aggregation != "change")
        if result.status != NO_DATA:
            assert result.reason is None
            assert compare(result.value, r.operator, r.threshold) is (result.status == MET)
        else:
            assert result.reason is not None


# ---------------------------------------------------------------- versions and summaries


@pytest.mark.parametrize(
    ("versions", "period_end", "expected"),
    [
        ([(1, None)], date(2020, 1, 1), 1),
        ([(1, None), (2, date(2026, 10, 1))], date(2026, 9, 30), 1),  # last quarter keeps version 1
        ([(1, None), (2, date(2026, 10, 1))], date(2026, 10, 1), 2),
        ([(1, date(2026, 7, 1))], date(2026, 6, 30), None),  # did not exist yet
        ([(1, date(2026, 7, 1)), (2, date(2026, 7, 1))], date(2026, 7, 1), 2),  # same day: the later version
    ],
)
def test_version_in_effect(versions, period_end, expected):
    assert version_in_effect(versions, period_end) == expected


def test_module_scores_and_shares():
    rows = [
        Scored(1, 10, 100, 2.0, MET), Scored(1, 11, 100, 1.0, NOT_MET), Scored(1, 12, 200, 1.0, NO_DATA),
        Scored(2, 10, 100, 2.0, NOT_MET), Scored(2, 11, 100, 1.0, NOT_MET), Scored(2, 12, 200, 1.0, NO_DATA),
    ]
    assert employee_module_scores(rows[:3]) == {100: pytest.approx(2 / 3), 200: None}
    shares = indicator_shares(rows)
    assert shares == {10: Share(10, 1, 1, 0), 11: Share(11, 0, 2, 0), 12: Share(12, 0, 0, 2)}
    assert (shares[10].share_met, shares[11].share_met, shares[12].share_met) == (0.5, 0.0, None)
    placement = {10: (100, 2.0), 11: (100, 1.0), 12: (200, 1.0)}
    assert department_module_scores(shares, placement) == {100: pytest.approx(1 / 3), 200: None}


# ---------------------------------------------------------------- windows by meaning, attempt rules, reasons


def trained(days_before_end: int, program: str = "P", emp: int = 1) -> Fact:
    on = END - timedelta(days=days_before_end)
    return Fact(emp, TRAINED, program, on, 1.0, f"t:{on.isoformat()}:{program}", program)


def test_a_term_window_starts_on_the_first_day_of_the_term_and_a_year_on_the_first_of_january():
    assert (span(rule("sum", window_kind="term"), END, CAL).start, span(rule("sum", window_kind="year"), END).start) == (
        date(2026, 9, 1), date(2026, 1, 1))
    # a change compares with the term (the year) before
    assert span(rule("change", window_kind="term"), END, CAL).first_read == date(2026, 7, 1)
    assert span(rule("change", window_kind="year"), END).first_read == date(2025, 1, 1)
    hours = [fact(2.0, 29), fact(2.0, 30), fact(2.0, 200)]  # 1 Sep, 31 Aug (the summer term), 14 Mar
    assert run_cal(rule("sum", ">=", 4, window_kind="term"), hours).value == 2.0
    assert run_cal(rule("sum", ">=", 4, window_kind="year"), hours).value == 6.0
    with pytest.raises(ValueError, match="terms"):
        span(rule("sum", window_kind="term"), END)


def run_cal(r: Rule, facts: list[Fact], trainings: Sequence[Fact] = ()) -> Result:
    return evaluate([r], facts + list(trainings), [1], END, CAL)[0]


def test_the_attempt_rule_decides_which_attempt_counts():
    # a teacher whose latest trial lecture scored 81 after an 88: the latest attempt does not meet 85, the best does
    lectures = [fact(88, 60, ref="a"), fact(81, 10, ref="b")]
    assert (run(rule("last", ">=", 85), lectures).status, run(rule("last", ">=", 85), lectures).value) == (NOT_MET, 81)
    assert run(rule("max", ">=", 85), lectures).status == MET
    assert run(rule("avg", ">=", 85), lectures).value == 84.5


def test_since_the_training_compares_the_days_after_the_latest_training_with_as_many_before():
    r = rule("change", ">=", 5, window=30, window_kind="since_training", change_mode="percent")
    # conversion 10 % before a training 40 days ago, 12 % 20 days after it: +20 %
    facts = [fact(10.0, 45), fact(11.0, 38), fact(12.0, 20), fact(50.0, 2)]  # the last is after the 30 days
    result = run_cal(r, facts, [trained(40)])
    assert (result.status, result.value, result.window) == (MET, pytest.approx(20.0), (END - timedelta(days=40), END - timedelta(days=11)))
    assert {f.value for f in result.facts} == {10.0, 12.0}
    # the baseline is never taken after the training: no value before it is no data
    assert run_cal(r, [fact(11.0, 38), fact(12.0, 20)], [trained(40)]).reason == "no-baseline"


def test_since_the_training_waits_for_the_window_and_needs_a_counted_training():
    r = rule("change", ">=", 5, window=30, window_kind="since_training", programs=frozenset({"P"}))
    facts = [fact(10.0, 60), fact(12.0, 5)]
    assert run_cal(r, facts, [trained(10)]).reason == "window-open"  # 10 of its 30 days passed
    assert run_cal(r, facts, [trained(40, "Q")]).reason == "no-training"  # Q is not counted
    assert run_cal(r, facts, []).reason == "no-training"
    assert run_cal(r, facts, [trained(TRAINING_LOOKBACK_DAYS + 1)]).reason == "no-training"  # too long ago
    # the latest training whose 30 days are over, not a newer one still running
    assert run_cal(r, [fact(10.0, 70), fact(12.0, 40)], [trained(60), trained(10)]).window == (END - timedelta(days=60), END - timedelta(days=31))


def test_counted_programs_filter_hours_but_not_facts_without_programs():
    teaching = [Fact(1, "k", "", END - timedelta(days=3), 2.0, "a", "T1"), Fact(1, "k", "", END - timedelta(days=4), 2.0, "b", "M1")]
    r = rule("sum", ">=", 4, by_program=True, programs=frozenset({"T1"}))
    assert run(r, teaching).value == 2.0  # a marketing course gives a teacher no theory hours
    assert run(rule("sum", ">=", 4, by_program=True), teaching).value == 4.0  # every program
    assert run(rule("sum", ">=", 4, by_program=False, programs=frozenset({"T1"})), teaching).value == 4.0  # scores: the programs choose trainings only
    assert run(rule("sum", ">=", 4, by_program=True, programs=frozenset()), teaching).reason == "no-facts"  # no program matches


def test_each_reason_for_no_data():
    assert run(rule("max", available=False), [fact(90)]).reason == "no-source"
    assert run(rule("max", incomplete=True), [fact(90)]).reason == "incomplete"
    assert run(rule("change", change_mode="percent"), [fact(0.0, 30), fact(5.0, 1)]).reason == "zero-baseline"
    assert run(rule("change"), [fact(5.0, 1)]).reason == "no-baseline"


@settings(max_examples=300, deadline=None)
@given(days=st.lists(st.tuples(st.integers(-3, 420), st.sampled_from(["P", "Q"])), max_size=8), n=st.integers(1, 120),
       counted=st.sampled_from([None, frozenset({"P"}), frozenset({"Q"})]))
def test_the_training_window_matches_a_day_by_day_search(days, n, counted):
    trainings = sorted((trained(d, p) for d, p in days), key=lambda f: (f.on, f.key, f.ref))
    r = rule("avg", window=n, window_kind="since_training", programs=counted)
    got = training_span(r, END, trainings)
    # reference: walk back day by day from the newest day whose n days have passed
    on_day = {(f.on, f.program) for f in trainings}
    ok = counted or {"P", "Q"}
    expected: object = None
    day = END - timedelta(days=n - 1)
    while day >= END - timedelta(days=TRAINING_LOOKBACK_DAYS):
        if any((day, p) in on_day for p in ok):
            expected = (day - timedelta(days=n), day, day + timedelta(days=n - 1))
            break
        day -= timedelta(days=1)
    if expected is None:
        recent = any(END - timedelta(days=TRAINING_LOOKBACK_DAYS) <= d <= END for d, p in ((f.on, f.program) for f in trainings) if p in ok)
        expected = "window-open" if recent else "no-training"
        assert got == expected
    else:
        assert (got.first_read, got.start, got.end) == expected


def test_a_business_figure_without_a_training_says_so():
    r = rule("change", ">=", 5, around_training=True, programs=frozenset({"P"}))
    assert run_cal(r, []).reason == "no-training"  # nothing to compare: no training of the counted programs
    assert run_cal(r, [], [trained(200, "Q")]).reason == "no-training"  # not a counted one
    assert run_cal(r, [], [trained(200)]).reason == "no-facts"  # trained, but no figures (no ratings, say)
    assert first_day_read(r, END, CAL) == END - timedelta(days=TRAINING_LOOKBACK_DAYS)  # the trainings of a year are read
