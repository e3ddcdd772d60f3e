"""Constructed panels with a planted training effect, for checking the effect estimators (tests and
``bench/bench_effect_coverage.py``). Each knows its own truth, computed here from the planted effects
and never by the estimators' code.

A person's weekly value = their level + the week's level (a common trend and a holiday season that
lifts everyone) + their training's effect from the week after their training (constant, or growing
with the weeks since) + noise. Training dates are staggered over cohorts; some people are never
trained. ``diverging`` adds a trend of its own to the trained people's weeks before their training,
which a pre-trend test should catch.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from trainquant.analytics.impact.rules import Cell, Design, period_start


@dataclass(frozen=True)
class Panel:
    cells: list[Cell]
    trained_at: dict[int, datetime | None]
    truth: float  # the weighted mean planted effect over the treated cells (0 < weeks since <= post)
    design: Design
    cohorts: dict[int, int | None]  # the week each person was trained in


def staggered(seed: int, *, people: int = 120, weeks: int = 26, effect: float = 2.0, growth: float = 0.0,
              season: float = 1.5, trend: float = 0.05, noise: float = 1.0, diverging: float = 0.0,
              never_share: float = 0.3, weighted: bool = False, design: Design | None = None) -> Panel:
    """A panel of ``people`` x ``weeks``. The effect in the k-th week after training is
    ``effect + growth * (k - 1)``; ``season`` lifts weeks 6-9 and 19-22 (summer and winter)."""
    design = design or Design()
    rng = np.random.default_rng(seed)
    first = design.pre + 1
    cohorts = list(range(first, weeks - design.post, 3)) or [first]
    level = rng.normal(0.0, 1.0, people)
    week_level = trend * np.arange(weeks) + rng.normal(0.0, 0.3, weeks)
    for lo, hi in ((6, 10), (19, 23)):
        week_level[lo:hi] += season
    cells: list[Cell] = []
    trained_at: dict[int, datetime | None] = {}
    cohort_of: dict[int, int | None] = {}
    planted, planted_weight = 0.0, 0.0
    for unit in range(people):
        cohort = cohort_of[unit] = None if rng.random() < never_share else int(rng.choice(cohorts))
        # Trained on the Wednesday of the cohort's week.
        trained_at[unit] = None if cohort is None else period_start(cohort, design) + timedelta(days=2, hours=10)
        for week in range(weeks):
            since = None if cohort is None else week - cohort
            tau = effect + growth * (since - 1) if since is not None and since > 0 else 0.0
            drift = diverging * since if since is not None and since < 0 else 0.0
            weight = float(rng.integers(5, 40)) if weighted else 1.0
            value = level[unit] + week_level[week] + tau + drift + rng.normal(0.0, noise / math.sqrt(weight))
            cells.append(Cell(unit, week, float(value), weight))
            if since is not None and 0 < since <= design.post:
                planted += tau * weight
                planted_weight += weight
    return Panel(cells, trained_at, planted / planted_weight if planted_weight else math.nan, design, cohort_of)
