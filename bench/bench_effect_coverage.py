"""How often the isolated effect's 95% interval covers the effect planted in a constructed panel.

    .venv/bin/python bench/bench_effect_coverage.py [--trials 200] [--people 120]

Each trial is a staggered panel (``simulate/business/panels.py``): 120 people over 26 weeks, cohorts trained
every third week, a third never trained, a common trend, a holiday season that lifts everyone, and an
effect that grows week by week after training (half the trials weigh their cells as rates do). It
prints, side by side:

- did2s's coverage of the planted effect (aim >= 90%) and its mean error;
- the naive before/after change, which includes the season and the trend;
- plain two-way fixed effects on long post windows (20 weeks, growing effects), where already-trained
  people act as its controls: its mean figure against the truth, and its coverage;
- the pre-trend test: how often it fires on parallel panels (a 5% test) and on diverging ones.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from rich.progress import track

from trainquant.analytics.impact import estimate
from trainquant.analytics.impact.rules import Design, naive, sample
from trainquant.simulate.business.panels import staggered


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=200)
    parser.add_argument("--people", type=int, default=120)
    args = parser.parse_args()

    started = time.perf_counter()
    covered, errors, naive_errors = 0, [], []
    for seed in track(range(args.trials), description="did2s on staggered panels"):
        panel = staggered(seed, people=args.people, growth=0.3, weighted=seed % 2 == 0)
        s = sample(panel.cells, panel.trained_at, panel.design)
        e = estimate.did2s(s)
        n = naive(s, panel.design)
        assert e is not None and n is not None
        covered += e.low <= panel.truth <= e.high
        errors.append(e.effect - panel.truth)
        naive_errors.append(n.change - panel.truth)
    per_trial = (time.perf_counter() - started) / args.trials

    long = Design(pre_days=28, post_days=140)
    tw_cov, ds_cov, tw_ratio, truths = 0, 0, [], []
    long_trials = max(10, args.trials // 10)
    for seed in track(range(long_trials), description="TWFE against did2s, long windows"):
        panel = staggered(10_000 + seed, people=args.people, weeks=52, effect=1.0, growth=0.4, never_share=0.1, design=long)
        s = sample(panel.cells, panel.trained_at, long)
        e, tw = estimate.did2s(s), estimate.twfe(s)
        assert e is not None and tw is not None
        ds_cov += e.low <= panel.truth <= e.high
        tw_cov += tw.low <= panel.truth <= tw.high
        tw_ratio.append(tw.effect / panel.truth)
        truths.append(panel.truth)

    pre_trials = max(20, args.trials // 4)
    false_alarms = fired = 0
    for seed in track(range(pre_trials), description="pre-trend test"):
        for diverging in (0.0, 0.3):
            panel = staggered(20_000 + seed, people=args.people, diverging=diverging)
            p = estimate.pretrend(sample(panel.cells, panel.trained_at, panel.design), panel.design)
            hit = p is not None and p.p_value < 0.05
            false_alarms += hit and not diverging
            fired += hit and bool(diverging)

    coverage = covered / args.trials
    print(f"did2s, {args.trials} staggered panels ({args.people} people x 26 weeks, growing effects):")
    print(f"  95% interval covers the planted effect in {covered}/{args.trials} = {coverage:.1%}   (aim >= 90%: x{coverage / 0.9:.2f})")
    print(f"  mean error {statistics.mean(errors):+.3f}, mean |error| {statistics.mean(map(abs, errors)):.3f}; "
          f"naive before/after mean error {statistics.mean(naive_errors):+.3f} (season and trend included)")
    print(f"  {per_trial * 1000:.0f} ms per trial (did2s + naive)")
    print(f"long post windows ({long_trials} panels, 52 weeks, 20 weeks after training, effects growing 0.4 a week):")
    print(f"  truth {statistics.mean(truths):.2f}; did2s covers {ds_cov}/{long_trials}; "
          f"TWFE gives {statistics.mean(tw_ratio):.2f} of the truth and covers {tw_cov}/{long_trials}")
    print(f"pre-trend test ({pre_trials} panels each): fires on {fired}/{pre_trials} diverging, "
          f"{false_alarms}/{pre_trials} parallel (a 5% test)")
    if coverage < 0.9:
        sys.exit(1)


if __name__ == "__main__":
    main()
