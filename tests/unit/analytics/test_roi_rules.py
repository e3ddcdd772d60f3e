"""Phillips ROI in Decimal (``analytics/roi/rules.py``)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from trainquant.analytics.roi.rules import (
    DEFAULT_FACTORS,
    Attended,
    CostLine,
    Costs,
    Effect,
    band,
    benefits,
    fully_loaded,
    ratio,
    relative,
    roi,
)

F = DEFAULT_FACTORS
money_st = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False, allow_infinity=False)


def test_the_seeds_two_to_one():
    r = ratio(Decimal(20000), Decimal(10000))
    assert (r.bcr, r.roi_percent, r.gap) == (Decimal("2.00"), Decimal("100.0"), None)


def test_a_training_that_cost_nothing_has_no_ratio_but_a_gap():
    r = ratio(Decimal(5000), Decimal(0))
    assert (r.bcr, r.roi_percent, r.gap) == (None, None, "no-cost")


def test_a_negative_effect_gives_a_negative_roi():
    e = Effect("crm.order_amount", Decimal(-100), Decimal(-180), Decimal(-20), people=10)
    [b] = benefits([e], F, hourly_cost=None)
    m = F["contribution_margin"].value
    assert b.isolated == Decimal(-100 * 10 * 52) * m and b.conservative == Decimal(-180 * 10 * 52) * m
    costs = fully_loaded([CostLine("trainer_fee", Decimal(10000))], [])
    result = roi(costs, [b], orders_after=Decimal(30000))
    assert result.isolated.roi_percent is not None and result.isolated.roi_percent < -100
    assert result.conservative.bcr is not None and result.conservative.bcr < (result.isolated.bcr or 0)


def test_participants_time_is_a_cost_and_a_missing_hourly_cost_is_a_named_gap_not_a_crash():
    costs = fully_loaded(
        [CostLine("trainer_fee", Decimal("3000")), CostLine("venue", Decimal("500")), CostLine("design", Decimal("9000"), Decimal("0.25"))],
        [Attended(1, 90, Decimal("120")), Attended(2, 120, None), Attended(3, 0, None)],
    )
    assert dict(costs.by_category) == {"design": Decimal("2250.00"), "trainer_fee": Decimal("3000.00"), "venue": Decimal("500.00")}
    assert costs.participants_time == Decimal("180.00") and costs.participant_minutes == 210
    assert costs.uncosted == (2,)  # 3 attended nothing, so costs nothing
    assert costs.total == Decimal("5930.00")
    result = roi(costs, [], orders_after=None)
    assert "participants-without-hourly-cost" in result.gaps and "no-monetized-effect" in result.gaps
    assert result.naive.gap == "no-orders"


@given(st.lists(st.tuples(money_st, st.decimals(min_value=0, max_value=1, places=2)), max_size=8),
       st.lists(st.tuples(st.integers(0, 600), st.one_of(st.none(), money_st)), max_size=8))
def test_fully_loaded_is_the_sum_of_its_parts(lines, people):
    costs = fully_loaded([CostLine("other", a, s) for a, s in lines], [Attended(i, m, h) for i, (m, h) in enumerate(people)])
    # Reference: exact fractions, rounded once per part as money is booked.
    items = sum((Fraction(a) * Fraction(s) for a, s in lines), Fraction(0))
    time = sum((Fraction(h) * m / 60 for m, h in people if h is not None and m > 0), Fraction(0))
    cents = [Decimal(x.numerator) / Decimal(x.denominator) for x in (items, time)]
    expected = sum((c.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) for c in cents), Decimal(0))
    assert costs.total == expected
    assert costs.uncosted == tuple(i for i, (m, h) in enumerate(people) if h is None and m > 0)


@given(st.decimals(min_value=-1000, max_value=1000, places=2), st.decimals(min_value=0, max_value=500, places=2),
       st.integers(1, 500), st.sampled_from(["crm.order_amount", "teaching.retention", "oa.error_rate", "oa.minutes_per_operation"]))
def test_the_conservative_benefit_never_exceeds_the_isolated_one(point, half, people, metric):
    e = Effect(metric, point, point - half, point + half, people=people, volume=Decimal(3))
    [b] = benefits([e], F, hourly_cost=Decimal(80))
    assert b.isolated is not None and b.conservative is not None
    assert b.conservative <= b.isolated


def test_lower_is_better_metrics_turn_a_fall_into_money():
    # Process time 30 -> 24 minutes per operation (-6), 40 operations a week each, 12 people, 90 CNY/h.
    e = Effect("oa.minutes_per_operation", Decimal(-6), Decimal(-8), Decimal(-4), people=12, volume=Decimal(40))
    [b] = benefits([e], F, hourly_cost=Decimal(90))
    assert b.isolated == Decimal(6 * 40 * 12 * 52 * 90) / 60
    assert b.conservative == Decimal(4 * 40 * 12 * 52 * 90) / 60
    [gap] = benefits([e], F, hourly_cost=None)
    assert (gap.isolated, gap.gap) == (None, "no-hourly-cost")
    errors = Effect("oa.error_rate", Decimal("-0.05"), Decimal("-0.07"), Decimal("-0.03"), people=12, volume=Decimal(40))
    [b] = benefits([errors], F, hourly_cost=None)  # errors avoided are costs saved: no margin
    assert b.isolated == Decimal("0.05") * 40 * 12 * 52 * F["cost_per_error"].value


def test_a_rating_counts_through_retention_once():
    rating = Effect("teaching.rating.overall", Decimal("0.5"), Decimal("0.3"), Decimal("0.7"), people=20, volume=Decimal(2))
    [alone] = benefits([rating], F, hourly_cost=None)
    m = F["contribution_margin"].value
    per = F["retention_per_rating_point"].value * F["revenue_per_retained_student"].value * m
    assert alone.isolated == (Decimal("0.5") * 2 * per * 20 * 52).quantize(Decimal("0.01"))
    assert alone.factors == ("contribution_margin", "retention_per_rating_point", "revenue_per_retained_student")
    retention = Effect("teaching.retention", Decimal("0.08"), Decimal("0.02"), Decimal("0.14"), people=20, volume=Decimal(2))
    both = {b.metric: b for b in benefits([rating, retention], F, hourly_cost=None)}
    assert both["teaching.rating.overall"].gap == "counted-as-retention" and both["teaching.rating.overall"].isolated is None
    assert both["teaching.retention"].isolated == (Decimal("0.08") * 2 * F["revenue_per_retained_student"].value * m * 20 * 52).quantize(Decimal("0.01"))


def test_an_effect_not_told_apart_from_none_is_worth_nothing_conservatively():
    e = Effect("crm.order_amount", Decimal(50), Decimal(-400), Decimal(500), people=10, claimed=False)
    [b] = benefits([e], F, hourly_cost=None)
    assert b.conservative == 0 and b.isolated is not None and b.isolated > 0


def test_conversion_is_counted_as_orders_and_unusable_effects_bring_no_money():
    conv = Effect("crm.conversion_rate", Decimal("0.08"), Decimal("0.05"), Decimal("0.11"), people=9)
    flagged = Effect("crm.order_amount", Decimal(500), Decimal(100), Decimal(900), people=9, usable=False)
    got = benefits([conv, flagged], F, hourly_cost=None)
    assert [(b.isolated, b.gap) for b in got] == [(None, "counted-as-orders"), (None, "effect-not-usable")]


def test_bands_and_the_effect_conversion_rate():
    assert [band(Decimal(x)) for x in (350, 200, 150, 0, -5)] == ["excellent", "excellent", "good", "fair", "poor"]
    assert band(None) is None
    assert relative(Decimal("4.2"), Decimal("4.8")) == Decimal("14.3")
    assert relative(Decimal(30), Decimal(24)) == Decimal("-20.0")
    assert relative(Decimal(0), Decimal(1)) is None


def test_costs_total_includes_time():
    c = Costs((("venue", Decimal("10.00")),), Decimal("5.00"), 30, ())
    assert c.total == Decimal("15.00")
