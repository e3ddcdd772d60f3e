"""The effect sample, the naive change and what a figure may claim (``analytics/impact/rules.py``)."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from trainquant.analytics.impact.rules import (
    CREDIBLE,
    INCONCLUSIVE,
    INSUFFICIENT,
    PRE_TREND,
    Cell,
    Design,
    Estimate,
    Overlap,
    PreTrend,
    accumulate,
    cells_from,
    counterfactual,
    finding,
    naive,
    overlaps,
    period_of,
    period_start,
    sample,
)

D = Design()  # weekly, 30 days = 4 periods before and after


def trained_in(period: int, d: Design = D):
    return period_start(period, d) + timedelta(days=2, hours=9)


def test_periods_are_weeks_from_a_monday_midnight_in_the_schools_zone():
    monday = period_start(1400, D)
    assert monday.weekday() == 0 and (monday.hour, monday.minute) == (0, 0)
    assert period_of(monday, D) == 1400
    assert period_of(monday - timedelta(microseconds=1), D) == 1399
    assert period_of(monday + timedelta(days=6, hours=23, minutes=59), D) == 1400


def test_the_training_week_is_dropped_and_so_is_everything_after_the_post_window():
    cells = [Cell(1, p, 1.0, 1.0) for p in range(0, 20)] + [Cell(2, p, 1.0, 1.0) for p in range(0, 20)]
    s = sample(cells, {1: trained_in(10), 2: None}, D)
    assert s.span == (6, 14)
    mine = {r.period: r for r in s.rows if r.unit == 1}
    assert sorted(mine) == [6, 7, 8, 9, 11, 12, 13, 14]
    assert [p for p, r in sorted(mine.items()) if r.treated] == [11, 12, 13, 14]
    assert {r.rel for r in mine.values()} == {-4, -3, -2, -1, 1, 2, 3, 4}
    never = [r for r in s.rows if r.unit == 2]
    assert [r.period for r in never] == list(range(6, 15)) and not any(r.treated or r.rel is not None for r in never)
    assert (s.trained, s.comparison, s.left_out) == (1, 1, 0)


def test_a_not_yet_trained_colleague_is_a_comparison_until_their_own_training():
    cells = [Cell(u, p, 0.0, 1.0) for u in (1, 2) for p in range(0, 30)]
    s = sample(cells, {1: trained_in(10), 2: trained_in(20)}, D)
    two = {r.period: r.treated for r in s.rows if r.unit == 2}
    # Unit 2 is untreated while unit 1 is treated (11-14), and treated itself only after week 20.
    assert not any(two[p] for p in range(11, 15))
    assert [p for p, t in sorted(two.items()) if t] == [21, 22, 23, 24]
    # Unit 2 compares with unit 1 in weeks 11-14; unit 1 has no cell left in 21-24 to compare with unit 2.
    assert s.comparison == 1
    assert s.trained == 2


def test_people_without_cells_on_both_sides_are_left_out_and_counted():
    cells = [Cell(1, p, 0.0, 1.0) for p in range(11, 15)]  # only after
    cells += [Cell(2, p, 0.0, 1.0) for p in range(5, 10)]  # only before
    cells += [Cell(3, p, 0.0, 1.0) for p in range(5, 15)]  # both
    cells += [Cell(9, p, 0.0, 1.0) for p in range(5, 15)]  # somebody not among the candidates
    s = sample(cells, {1: trained_in(10), 2: trained_in(10), 3: trained_in(10)}, D)
    assert (s.trained, s.left_out) == (1, 2)
    assert {r.unit for r in s.rows} == {3}


def test_cells_without_weight_count_nowhere():
    s = sample([Cell(1, 9, 5.0, 0.0), Cell(1, 11, 5.0, 1.0)], {1: trained_in(10)}, D)
    assert s.rows == ()


def test_nobody_trained_gives_an_empty_sample():
    s = sample([Cell(1, 3, 1.0, 1.0)], {1: None}, D)
    assert (s.rows, s.trained, s.comparison) == ((), 0, 0)


def test_a_rate_is_pooled_over_its_denominator_in_the_naive_change():
    # Before: 1 of 10 leads and 1 of 10 leads (10%); after: 9 of 30 and 0 of 20 -> 9 of 50 = 18%, not
    # the mean of 30% and 0%.
    acc = {(1, 8): [1.0, 10.0], (1, 9): [1.0, 10.0], (1, 11): [9.0, 30.0], (1, 12): [0.0, 20.0]}
    s = sample(cells_from(acc), {1: trained_in(10)}, D)
    n = naive(s, D)
    assert n is not None
    assert abs(n.before - 0.10) < 1e-12 and abs(n.after - 0.18) < 1e-12
    assert abs(n.change - 0.08) < 1e-12 and abs((n.relative or 0) - 0.8) < 1e-12
    assert n.people == 1


def test_accumulate_sums_each_persons_period():
    monday = period_start(100, D)
    got = accumulate([(1, monday, 1.0, 10.0), (1, monday + timedelta(days=6), 2.0, 5.0), (1, monday + timedelta(days=7), 3.0, 1.0)], D)
    assert got == {(1, 100): [3.0, 15.0], (1, 101): [3.0, 1.0]}


@given(st.lists(st.tuples(st.integers(0, 5), st.integers(-8, 8), st.integers(0, 50), st.integers(1, 50)), min_size=1, max_size=60))
def test_naive_matches_a_direct_pooling_of_the_trained_windows(raw):
    # Reference: numerators and denominators summed straight from the input, weeks -4..-1 and 1..4
    # around week 20, people with weeks on both sides only.
    by_cell: dict[tuple[int, int], list[float]] = {}
    for unit, rel, top, bottom in raw:
        if rel == 0:
            continue
        acc = by_cell.setdefault((unit, 20 + rel), [0.0, 0.0])
        acc[0] += top
        acc[1] += bottom
    before_units = {u for (u, p) in by_cell if -4 <= p - 20 <= -1}
    after_units = {u for (u, p) in by_cell if 1 <= p - 20 <= 4}
    both = before_units & after_units
    s = sample(cells_from(by_cell), {u: trained_in(20) for u in range(6)}, D)
    n = naive(s, D)
    sides = [[sum(v[i] for (u, p), v in by_cell.items() if u in both and lo <= p - 20 <= hi) for i in (0, 1)]
             for lo, hi in ((-4, -1), (1, 4))]
    if not both:
        assert n is None
        return
    assert n is not None and n.people == len(both)
    assert abs(n.before - sides[0][0] / sides[0][1]) < 1e-9
    assert abs(n.after - sides[1][0] / sides[1][1]) < 1e-9


def _enough():
    cells = [Cell(u, p, 0.0, 1.0) for u in range(12) for p in range(0, 20)]
    return sample(cells, {u: (trained_in(10) if u < 6 else None) for u in range(12)}, D)


def test_too_little_data_gives_no_number_and_says_why():
    s = sample([Cell(1, p, 0.0, 1.0) for p in range(5, 15)], {1: trained_in(10)}, D)
    f = finding(s, D, Estimate(1.0, 0.1, "did2s"), PreTrend((), 0.5), higher_is_better=True)
    assert f.status == INSUFFICIENT and set(f.reasons) == {"too-few-trained", "too-few-comparison"}
    f = finding(_enough(), D, None, None, higher_is_better=True)
    assert f.status == INSUFFICIENT and f.reasons == ("not-estimable",)
    f = finding(_enough(), D, Estimate(float("nan"), 0.1, "did2s"), None, higher_is_better=True)
    assert f.status == INSUFFICIENT


def test_a_diverging_pre_trend_outranks_a_clear_interval():
    f = finding(_enough(), D, Estimate(2.0, 0.1, "did2s"), PreTrend((), 0.001), higher_is_better=True)
    assert f.status == PRE_TREND and f.improved is None


def test_an_interval_across_zero_is_inconclusive_and_a_clear_one_is_credible_in_the_better_direction():
    s = _enough()
    assert finding(s, D, Estimate(0.1, 0.1, "did2s"), PreTrend((), 0.6), higher_is_better=True).status == INCONCLUSIVE
    up = finding(s, D, Estimate(0.5, 0.1, "did2s"), PreTrend((), 0.6), higher_is_better=True)
    assert (up.status, up.improved) == (CREDIBLE, True)
    down = finding(s, D, Estimate(-0.5, 0.1, "did2s"), PreTrend((), 0.6), higher_is_better=False)
    assert (down.status, down.improved) == (CREDIBLE, True)  # process time down is better
    worse = finding(s, D, Estimate(-0.5, 0.1, "did2s"), PreTrend((), 0.6), higher_is_better=True)
    assert (worse.status, worse.improved) == (CREDIBLE, False)
    untested = finding(s, D, Estimate(0.5, 0.1, "did2s"), None, higher_is_better=True)
    assert untested.status == CREDIBLE and untested.reasons == ("pre-trend-untested",)


def test_the_interval_and_the_smallest_detectable_effect():
    e = Estimate(1.0, 0.5, "did2s")
    assert abs(e.low - (1.0 - 1.959964 * 0.5)) < 1e-6 and abs(e.high - (1.0 + 1.959964 * 0.5)) < 1e-6
    assert abs(e.detectable - 2.801585 * 0.5) < 1e-6


def test_the_counterfactual_is_the_treated_mean_without_the_effect():
    cells = [Cell(1, 9, 4.0, 1.0), Cell(1, 11, 4.9, 3.0), Cell(1, 12, 4.5, 1.0)]
    s = sample(cells, {1: trained_in(10)}, D)
    cf = counterfactual(s, Estimate(0.5, 0.1, "did2s"))
    assert cf is not None and abs(cf - ((4.9 * 3 + 4.5) / 4 - 0.5)) < 1e-12


def test_design_limits():
    assert Design().problem() is None
    assert Design(period_days=0).problem() is not None
    assert Design(pre_days=3).problem() is not None
    assert Design(post_days=1000).problem() is not None
    assert Design(min_trained=1).problem() is not None
    assert (Design(pre_days=30).pre, Design(post_days=90).post, Design(period_days=30, post_days=30).post) == (4, 13, 1)


def test_person_naive_pools_each_persons_windows():
    from trainquant.analytics.impact.rules import person_naive

    acc = {(1, 8): [1.0, 10.0], (1, 9): [1.0, 10.0], (1, 11): [9.0, 30.0], (1, 12): [0.0, 20.0],
           (2, 9): [4.0, 1.0], (2, 11): [6.0, 1.0], (3, 11): [1.0, 1.0]}
    s = sample(cells_from(acc), {1: trained_in(10), 2: trained_in(10), 3: trained_in(10)}, D)
    got = person_naive(s, D)
    assert set(got) == {1, 2}  # 3 has no weeks before
    assert abs(got[1][0] - 0.1) < 1e-12 and abs(got[1][1] - 0.18) < 1e-12
    assert got[2] == (4.0, 6.0)


# ---------------------------------------------------------------- another program aimed at the figure meanwhile


def test_another_program_inside_the_window_is_counted_and_outside_it_is_not():
    s = _enough()  # six trained in period 10; the window runs from period 6 to period 14
    trained = {u: (trained_in(10) if u < 6 else None) for u in range(12)}
    others = {"B": {0: trained_in(6), 1: trained_in(14), 2: trained_in(5), 3: trained_in(15), 7: trained_in(10)},
              "A": {4: trained_in(9)}, "C": {2: trained_in(30)}}
    # 0 and 1 at the window's edges count, 2 and 3 just outside do not, 7 was never trained in this program.
    assert overlaps(s, trained, others, D) == (Overlap("B", 2), Overlap("A", 1))


def test_the_finding_says_so_from_the_shared_share_on_without_changing_its_status():
    s = _enough()  # six trained
    clear = Estimate(0.5, 0.1, "did2s")
    assert finding(s, D, clear, PreTrend((), 0.6), higher_is_better=True, overlap=(Overlap("B", 1),)).reasons == ()  # 1 of 6 < 20%
    f = finding(s, D, clear, PreTrend((), 0.6), higher_is_better=True, overlap=(Overlap("A", 1), Overlap("B", 2)))  # 2 of 6
    assert f.status == CREDIBLE and f.reasons == ("concurrent-training",)
    assert finding(s, D, Estimate(2.0, 0.1, "did2s"), PreTrend((), 0.001), higher_is_better=True,
                   overlap=(Overlap("B", 6),)).reasons == ("leads-differ", "concurrent-training")
    anyone = Design(max_overlap=0.0)
    assert finding(s, anyone, clear, PreTrend((), 0.6), higher_is_better=True, overlap=(Overlap("B", 1),)).reasons == ("concurrent-training",)
    assert finding(s, anyone, clear, PreTrend((), 0.6), higher_is_better=True).reasons == ()
    assert Design(max_overlap=1.5).problem() is not None


@given(st.lists(st.tuples(st.integers(0, 29), st.integers(2, 40)), max_size=30, unique_by=lambda t: t[0]),
       st.dictionaries(st.sampled_from("ABC"), st.dictionaries(st.integers(0, 39), st.integers(-5, 60), max_size=25), max_size=3))
def test_overlaps_match_a_count_by_days(own, others_raw):
    """Against a count on whole days since period 0's Monday (no period arithmetic of the module's)."""
    trained = {u: trained_in(p) for u, p in own}
    candidates = {**dict.fromkeys(range(40)), **trained}
    cells = [Cell(u, p, 1.0, 1.0) for u in range(40) for p in range(0, 50)]
    s = sample(cells, candidates, D)
    others = {code: {u: trained_in(p) for u, p in people.items()} for code, people in others_raw.items()}
    got = {o.program: o.people for o in overlaps(s, candidates, others, D)}
    counted = {r.unit for r in s.rows if r.rel is not None}
    origin = D.origin
    want = {}
    for code, people in others.items():
        n = 0
        for u in counted:
            if u not in people:
                continue
            mine = (trained[u] - origin).days // 7
            theirs = (people[u] - origin).days // 7
            if mine - 4 <= theirs <= mine + 4:  # 30 days = 4 weeks on either side
                n += 1
        if n:
            want[code] = n
    assert got == want
