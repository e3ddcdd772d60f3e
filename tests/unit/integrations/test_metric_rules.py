"""How a window of business records becomes one figure (``integrations/metrics/rules.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from trainquant.integrations.metrics import rules
from trainquant.integrations.metrics.rules import DEFINITIONS, Observation, change, value_problem, window_value

T0 = datetime(2026, 9, 1, tzinfo=UTC)
WINDOW = (T0, T0 + timedelta(days=30))


def day(n: int, value: int | str, hours: int = 3) -> Observation:
    at = T0 + timedelta(days=n, hours=hours)
    return Observation(at, at, Decimal(value))


def test_a_conversion_rate_is_conversions_over_leads_never_a_mean_of_daily_rates():
    # Day 1: 1 lead, 1 conversion (100%); day 2: 9 leads, 0 conversions (0%). The mean of the daily
    # rates would be 50%; over the window 1 of 10 leads converted.
    records = {"crm.leads": [day(1, 1), day(2, 9)], "crm.conversions": [day(1, 1)]}
    assert window_value(DEFINITIONS["crm.conversion_rate"], records, *WINDOW) == Decimal("0.1")


def test_sums_means_and_what_counts_in_a_window():
    d_sum, d_mean = DEFINITIONS["crm.order_amount"], DEFINITIONS["teaching.rating.overall"]
    records = {"crm.order_amount": [day(1, "12000.50"), day(3, "7999.50"), day(40, "99999")],
               "teaching.rating.overall": [day(2, "4.2"), day(5, "4.8")]}
    assert window_value(d_sum, records, *WINDOW) == Decimal("20000.00")  # the day-40 order is outside
    assert window_value(d_mean, records, *WINDOW) == Decimal("4.5")
    # A monthly record that only partly covers the window does not count (no prorating).
    month = Observation(T0 - timedelta(days=10), T0 + timedelta(days=20), Decimal(50))
    assert window_value(DEFINITIONS["crm.leads"], {"crm.leads": [month]}, *WINDOW) is None


def test_no_value_without_records_or_with_a_zero_denominator():
    assert window_value(DEFINITIONS["crm.leads"], {}, *WINDOW) is None
    assert window_value(DEFINITIONS["oa.error_rate"], {"oa.errors": [day(1, 0)], "oa.operations": [day(1, 0)]}, *WINDOW) is None
    assert window_value(DEFINITIONS["oa.error_rate"], {"oa.operations": [day(1, 40)]}, *WINDOW) == Decimal(0)


def test_the_naive_change_knows_which_way_is_better():
    up = change(DEFINITIONS["crm.conversion_rate"], Decimal("0.10"), Decimal("0.18"))
    assert up is not None and (up.absolute, up.relative, up.improved) == (Decimal("0.08"), Decimal("0.8"), True)
    faster = change(DEFINITIONS["oa.minutes_per_operation"], Decimal(30), Decimal(24))
    assert faster is not None and (faster.relative, faster.improved) == (Decimal("-0.2"), True)  # -20%: better, minutes are lower-is-better
    assert change(DEFINITIONS["oa.errors"], Decimal(0), Decimal(3)) == rules.Change(Decimal(0), Decimal(3), Decimal(3), None, False)
    assert change(DEFINITIONS["crm.leads"], None, Decimal(3)) is None


def test_values_a_metric_cannot_have_are_named():
    assert value_problem(DEFINITIONS["teaching.rating.overall"], Decimal("5.5")) == "teaching.rating.overall is at most 5, got 5.5"
    assert value_problem(DEFINITIONS["crm.leads"], Decimal(-1)) is not None
    assert value_problem(DEFINITIONS["crm.conversion_rate"], Decimal("0.2")) is not None  # derived: send its parts
    assert value_problem(DEFINITIONS["crm.leads"], Decimal("NaN")) is not None
    assert value_problem(DEFINITIONS["crm.order_amount"], Decimal("20000.00")) is None


counts = st.lists(st.tuples(st.integers(0, 29), st.integers(0, 50), st.integers(0, 50)), min_size=1, max_size=30)


@given(counts)
def test_a_rate_over_a_window_is_the_ratio_of_the_sums(days):
    """Against a reference that adds the counts by hand: leads and conversions per day, any order."""
    leads = [day(n, a + b) for n, a, b in days]
    conversions = [day(n, b) for n, a, b in days]
    total_leads, total_conv = sum(a + b for _, a, b in days), sum(b for _, _, b in days)
    got = window_value(DEFINITIONS["crm.conversion_rate"], {"crm.leads": leads[::-1], "crm.conversions": conversions}, *WINDOW)
    assert got == (Decimal(total_conv) / Decimal(total_leads) if total_leads else None)


@given(counts, st.integers(1, 29))
def test_a_sum_over_a_window_is_the_sum_of_its_two_halves(days, cut):
    """Consecutive windows split the records: a record at the cut itself is counted once."""
    d = DEFINITIONS["oa.process_minutes"]
    records = {"oa.process_minutes": [day(n, a, hours=0 if b % 2 else 3) for n, a, b in days]}
    middle = T0 + timedelta(days=cut)
    whole = window_value(d, records, *WINDOW) or Decimal(0)
    halves = (window_value(d, records, WINDOW[0], middle) or Decimal(0)) + (window_value(d, records, middle, WINDOW[1]) or Decimal(0))
    assert whole == halves
