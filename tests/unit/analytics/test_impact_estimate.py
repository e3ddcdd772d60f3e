"""The estimators against constructed panels whose planted effect is known (``simulate/business/panels.py``).

The full 200-trial coverage run is ``bench/bench_effect_coverage.py``; these are fewer, fixed seeds.
"""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from differences import ATTgt

from trainquant.analytics.impact import estimate
from trainquant.analytics.impact.rules import Cell, Design, period_start, sample
from trainquant.simulate.business.panels import staggered

# differences 0.3 still calls pandas with inplace=True, which pandas 3.1 deprecates.
pytestmark = pytest.mark.filterwarnings("ignore:The inplace keyword")


def _fit(panel):
    s = sample(panel.cells, panel.trained_at, panel.design)
    return s, estimate.did2s(s), estimate.twfe(s), estimate.pretrend(s, panel.design)


def test_did2s_intervals_cover_the_planted_effect_across_seeds():
    covered = 0
    trials = 30
    for seed in range(trials):
        panel = staggered(1000 + seed, growth=0.3, weighted=seed % 2 == 0)
        _, e, _, _ = _fit(panel)
        assert e is not None
        covered += e.low <= panel.truth <= e.high
    assert covered / trials >= 0.9, f"covered {covered} of {trials}"


def test_twfe_strays_under_staggered_growing_effects_where_did2s_does_not():
    # Long post windows and effects growing week by week: already-trained people serve as TWFE's
    # controls and drag its figure down (the 1.40 for a true 3.52).
    d = Design(pre_days=28, post_days=140)
    panel = staggered(7, people=150, weeks=52, effect=1.0, growth=0.4, never_share=0.1, design=d)
    _, e, tw, _ = _fit(panel)
    assert e is not None and tw is not None
    assert e.low <= panel.truth <= e.high
    assert not tw.low <= panel.truth <= tw.high
    assert tw.effect < 0.7 * panel.truth


def test_the_pre_trend_test_fires_on_diverging_trends_and_stays_quiet_on_parallel_ones():
    fired = sum(1 for seed in range(10) if (p := _fit(staggered(seed, diverging=0.3))[3]) is not None and p.p_value < 0.05)
    assert fired == 10
    quiet = [p for seed in range(20) if (p := _fit(staggered(200 + seed))[3]) is not None]
    assert len(quiet) == 20
    assert sum(p.p_value < 0.05 for p in quiet) <= 3  # a 5% test: about one false alarm in 20
    assert {lead.rel for lead in quiet[0].leads} == {-1, -2, -3, -4}


def test_did2s_agrees_with_callaway_santanna():
    # A constant effect, so both estimators target the same number: CS's simple ATT over every
    # post period, did2s's over the post window. CS reads the first fully treated week as the cohort.
    panel = staggered(42, people=200, effect=2.0, never_share=0.25)
    _s, e, _, _ = _fit(panel)
    assert e is not None
    rows = []
    for c in panel.cells:
        week = panel.cohorts[c.unit]
        rows.append((c.unit, c.period, math.nan if week is None else float(week + 1), c.value))
    df = pd.DataFrame(rows, columns=["unit", "period", "cohort", "y"]).set_index(["unit", "period"])
    att = ATTgt(data=df, cohort_column="cohort")
    att.fit(formula="y", control_group="not_yet_treated", progress_bar=False)
    simple = att.aggregate("simple")
    cs = float(np.asarray(simple.iloc[0, 0]))
    cs_se = float(np.asarray(simple.iloc[0, 1]))
    assert abs(cs - 2.0) < 3 * cs_se
    assert abs(e.effect - 2.0) < 3 * e.se
    assert abs(cs - e.effect) < 2 * math.hypot(cs_se, e.se)


def test_a_sample_with_nobody_treated_or_everybody_treated_is_not_estimated():
    panel = staggered(1, people=10)
    s = sample(panel.cells, dict.fromkeys(panel.trained_at), panel.design)
    assert estimate.did2s(s) is None and estimate.twfe(s) is None and estimate.pretrend(s, panel.design) is None


def _renewals(seed: int, *, people: int = 120, trained: int = 15, weeks: int = 40):
    """Parallel panels of a skewed small-count rate: a teacher's weekly renewals out of one to four
    students due, no effect and no pre-trend; 15 of 120 trained at staggered weeks."""
    d = Design()
    rng = np.random.default_rng(seed)
    cohorts = list(range(d.pre + 2, weeks - d.post - 1, 4))
    cells, trained_at = [], {}
    for unit in range(people):
        cohort = int(rng.choice(cohorts)) if unit < trained else None
        trained_at[unit] = None if cohort is None else period_start(cohort, d) + timedelta(days=2)
        base = min(0.97, max(0.5, 0.8 + rng.normal(0, 0.05)))
        for week in range(weeks):
            due = int(max(1, rng.poisson(1.6)))
            kept = rng.binomial(due, min(0.99, base + (0.05 if week % 26 in range(6, 10) else 0.0)))
            cells.append(Cell(unit, week, kept / due, float(due)))
    return sample(cells, trained_at, d), d


def test_the_pretrend_flag_keeps_its_size_on_skewed_small_counts():
    # A joint Wald test of the four leads fired on 10 of these 60 (17% for a 5% test); the pooled lead keeps near 5%.
    alarms = 0
    for seed in range(60):
        s, d = _renewals(seed)
        p = estimate.pretrend(s, d)
        alarms += p is not None and p.p_value < d.alpha
    assert alarms <= 6
