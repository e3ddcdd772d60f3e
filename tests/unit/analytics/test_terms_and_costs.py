"""The school's terms and the allocation of costs to a report's places, against hand counts and an
independent reference (costs spread person by person)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainquant.analytics import terms
from trainquant.analytics.rules import allocate_costs

SEASONS = terms.parse("winter:01-01,spring:03-01,summer:07-01,autumn:09-01")


def test_terms_of_a_year_by_hand():
    got = [(t.key, t.start, t.end) for t in terms.terms_of_year(2026, SEASONS)]
    assert got == [("2026-winter", date(2026, 1, 1), date(2026, 2, 28)), ("2026-spring", date(2026, 3, 1), date(2026, 6, 30)),
                   ("2026-summer", date(2026, 7, 1), date(2026, 8, 31)), ("2026-autumn", date(2026, 9, 1), date(2026, 12, 31))]
    assert terms.terms_of_year(2028, SEASONS)[0].end == date(2028, 2, 29)


def test_recent_terms_start_with_todays_and_go_back_over_new_year():
    assert [t.key for t in terms.recent(date(2026, 3, 1), SEASONS, 3)] == ["2026-spring", "2026-winter", "2025-autumn"]
    assert terms.find("2026-summer", SEASONS).start == date(2026, 7, 1)
    assert terms.find("2026-monsoon", SEASONS) is None and terms.find("summer", SEASONS) is None


@pytest.mark.parametrize("spec", ["", "spring:03-01", "winter:01-01,autumn:09-01,summer:07-01", "winter:01-01,winter:06-01",
                                  "winter:01-01,spring:02-30", "winter:01-01,spring:02-29", "winter:01-01,spring 3"])
def test_a_bad_term_spec_is_refused(spec):
    with pytest.raises(terms.TermSpecError):
        terms.parse(spec)


@given(st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 31)))
def test_every_day_is_in_exactly_one_term(day):
    holding = [t for y in (day.year - 1, day.year, day.year + 1) for t in terms.terms_of_year(y, SEASONS) if t.start <= day <= t.end]
    assert len(holding) == 1
    assert terms.recent(day, SEASONS, 1) == holding


def test_allocation_by_hand():
    # Program 1: session 10 (1,800.50, 3 places), session 11 (nothing of its own, 1 place), 99.50 program-wide;
    # session 12 cancelled with a 120 deposit. The chosen places: 1 of session 10's.
    got = allocate_costs({10: Decimal("1800.50"), 12: Decimal("120")}, {1: Decimal("99.50")}, {10: 1, 11: 1},
                         {10: 3, 11: 1}, {10: 1}, [10, 11, 12])
    assert (got.by_program, got.unallocated) == ({1: Decimal("616.75")}, Decimal("120.00"))


money = st.decimals(min_value=0, max_value=100_000, places=2)


@st.composite
def school(draw):
    programs = draw(st.integers(1, 4))
    sessions = draw(st.lists(st.tuples(st.integers(1, programs), st.booleans(), money, st.lists(st.integers(0, 3), max_size=6)),
                             min_size=1, max_size=10))
    program_costs = {p: draw(money) for p in range(1, programs + 1) if draw(st.booleans())}
    return sessions, program_costs


@given(school())
def test_the_departments_of_a_school_carry_its_costs_between_them(drawn):
    """Each place drawn belongs to one of four departments: their allocations add up to what a
    person-by-person reference spreads (each place carries its session's cost / places, its program's
    cost / its held sessions / places), to a cent per department."""
    sessions, program_costs = drawn
    held = {sid: p for sid, (p, cancelled, _, _) in enumerate(sessions) if not cancelled}
    places = {sid: len(seats) for sid, (_, _, _, seats) in enumerate(sessions) if sid in held}
    own = {sid: cost for sid, (_, _, cost, _) in enumerate(sessions)}
    runs = {p: sum(1 for q in held.values() if q == p) for p in program_costs}
    totals = {}
    for dep in range(4):
        chosen = {sid: sum(1 for d in seats if d == dep) for sid, (_, _, _, seats) in enumerate(sessions)}
        totals[dep] = allocate_costs(own, program_costs, held, places, chosen, range(len(sessions)))
    # The reference: a place's share, one place at a time, as floats.
    expected = [0.0] * 4
    lost = 0.0
    for program, cancelled, cost, seats in sessions:
        carried = float(cost) + (0 if cancelled else float(program_costs.get(program, 0)) / runs.get(program, 1))
        if cancelled or not seats:
            lost += float(cost) if cancelled else carried
            continue
        for d in seats:
            expected[d] += carried / len(seats)
    for dep in range(4):
        assert float(sum(totals[dep].by_program.values(), Decimal(0))) == pytest.approx(expected[dep], abs=0.005 * 4 + 1e-6)
        assert float(totals[dep].unallocated) == pytest.approx(lost, abs=0.006)
    whole = sum(float(c) for c in own.values()) + sum(float(c) for p, c in program_costs.items() if runs[p])
    carried = sum(float(sum(t.by_program.values(), Decimal(0))) for t in totals.values())
    assert carried + float(totals[0].unallocated) == pytest.approx(whole, abs=0.005 * 4 * 4 + 0.005)  # nothing lost, nothing twice
