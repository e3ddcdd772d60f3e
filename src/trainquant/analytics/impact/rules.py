"""The isolated effect of a training on a business metric: the panel, the naive change, and what the
figures may claim. Pure; the estimation itself (pandas, pyfixest) is in ``estimate``.

Employees are trained at different dates (staggered adoption). A person's metric is read per calendar
period (a week by default) as one *cell*: its value and its weight (a rate's denominator, a mean's
count, 1 for a sum). The sample for one training x metric:

- the span runs from ``pre`` periods before the first training to ``post`` periods after the last;
- a trained person's cells before their training are untreated (they are the not-yet-trained
  comparison for the others), the period in which they were trained is dropped (partly before,
  partly after), the ``post`` periods after it are treated, and later ones are dropped: the effect is
  the one of the post window, not of the months after it;
- a colleague never trained in the span contributes every cell as untreated;
- a trained person without an untreated cell, or without a treated one, cannot be compared with
  themselves and is left out (counted, so the report can say so).

The estimate is then an average over treated cells, weighted as the cells are, of the difference
between what was observed and what the untreated cells predict for that person and period.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

# Periods are counted from a Monday midnight in the school's zone (a week is Monday to Sunday there).
SHANGHAI = timezone(timedelta(hours=8))
Z_975 = 1.959963984540054  # two-sided 95%
Z_80 = 0.8416212335729143  # 80% power

INSUFFICIENT, PRE_TREND, INCONCLUSIVE, CREDIBLE = "insufficient", "pre-trend", "inconclusive", "credible"


@dataclass(frozen=True)
class Design:
    """How one effect is measured: windows in periods, and the least the data must hold."""

    period_days: int = 7
    pre_days: int = 30
    post_days: int = 30
    min_trained: int = 5  # trained people with cells before and after
    min_comparison: int = 5  # people untreated at some period in which a trained person is treated
    alpha: float = 0.05  # the pre-trend test's level
    leads: int = 4  # pre-training periods tested one by one for diverging trends
    # The share of the trained who also took another program aimed at the metric inside their own
    # window, from which the finding says the effect may be partly that program's.
    max_overlap: float = 0.2
    origin: datetime = datetime(2000, 1, 3, tzinfo=SHANGHAI)  # period 0 starts here

    @property
    def pre(self) -> int:
        return max(1, round(self.pre_days / self.period_days))

    @property
    def post(self) -> int:
        return max(1, round(self.post_days / self.period_days))

    def problem(self) -> str | None:
        if not 1 <= self.period_days <= 92:
            return "period_days is between 1 and 92"
        if not self.period_days <= self.pre_days <= 730 or not self.period_days <= self.post_days <= 730:
            return "pre_days and post_days are at least one period and at most 730"
        if self.min_trained < 2 or self.min_comparison < 2:
            return "min_trained and min_comparison are at least 2"
        if not 0 <= self.max_overlap <= 1:
            return "max_overlap is a share, between 0 and 1"
        return None


@dataclass(frozen=True, slots=True)
class Cell:
    """One person's metric over one period: ``value`` with its ``weight``."""

    unit: int
    period: int
    value: float
    weight: float


@dataclass(frozen=True, slots=True)
class Row:
    """A cell of the estimation sample. ``rel`` is the period relative to the person's training (None
    for the never-trained); ``treated`` iff 0 < rel <= post."""

    unit: int
    period: int
    value: float
    weight: float
    treated: bool
    rel: int | None


@dataclass(frozen=True)
class Sample:
    rows: tuple[Row, ...]
    trained: int  # trained people with untreated and treated cells
    comparison: int  # people with an untreated cell in a period where someone is treated
    left_out: int  # trained people without cells on both sides of their training
    span: tuple[int, int]  # first and last period, inclusive

    @property
    def treated_rows(self) -> list[Row]:
        return [r for r in self.rows if r.treated]


def period_of(at: datetime, design: Design) -> int:
    """The period holding ``at`` (tz-aware)."""
    return math.floor((at - design.origin) / timedelta(days=design.period_days))


def period_start(period: int, design: Design) -> datetime:
    return design.origin + timedelta(days=period * design.period_days)


def sample(cells: Iterable[Cell], trained_at: Mapping[int, datetime | None], design: Design) -> Sample:
    """The estimation sample from every candidate's cells; ``trained_at`` names every candidate (None:
    not trained in this program). Cells of people not named are ignored."""
    trained_period = {u: period_of(t, design) for u, t in trained_at.items() if t is not None}
    if not trained_period:
        return Sample((), 0, 0, 0, (0, -1))
    first = min(trained_period.values()) - design.pre
    last = max(trained_period.values()) + design.post
    kept: list[Row] = []
    for c in cells:
        if c.unit not in trained_at or not first <= c.period <= last or c.weight <= 0:
            continue
        tp = trained_period.get(c.unit)
        rel = None if tp is None else c.period - tp
        if rel is not None and (rel == 0 or rel > design.post):
            continue
        kept.append(Row(c.unit, c.period, c.value, c.weight, rel is not None and rel > 0, rel))
    before = {r.unit for r in kept if not r.treated}
    after = {r.unit for r in kept if r.treated}
    both = before & after
    left_out = len(set(trained_period) - both)
    rows = tuple(r for r in kept if r.rel is None or r.unit in both)
    treated_periods = {r.period for r in rows if r.treated}
    comparison = {r.unit for r in rows if not r.treated and r.period in treated_periods}
    return Sample(rows, len(both), len(comparison), left_out, (first, last))


@dataclass(frozen=True)
class Naive:
    """The trained people's pooled value in the ``pre`` periods before their training and the ``post``
    periods after it: the before/after change that includes whatever else happened meanwhile."""

    before: float
    after: float
    people: int

    @property
    def change(self) -> float:
        return self.after - self.before

    @property
    def relative(self) -> float | None:
        return self.change / self.before if self.before else None


def naive(s: Sample, design: Design) -> Naive | None:
    """Pooled as the metric aggregates (weighted), over the trained people with cells on both sides."""
    sums: dict[bool, list[float]] = {False: [0.0, 0.0], True: [0.0, 0.0]}
    people: dict[bool, set[int]] = {False: set(), True: set()}
    for r in s.rows:
        if r.rel is None or not -design.pre <= r.rel <= design.post:
            continue
        side = r.rel > 0
        sums[side][0] += r.value * r.weight
        sums[side][1] += r.weight
        people[side].add(r.unit)
    if not sums[False][1] or not sums[True][1]:
        return None
    return Naive(sums[False][0] / sums[False][1], sums[True][0] / sums[True][1], len(people[False] & people[True]))


def person_naive(s: Sample, design: Design) -> dict[int, tuple[float, float]]:
    """Per trained person with cells on both sides: (their pooled value in the ``pre`` periods before
    training, in the ``post`` periods after), weighted as the metric aggregates."""
    sums: dict[tuple[int, bool], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in s.rows:
        if r.rel is None or not -design.pre <= r.rel <= design.post:
            continue
        acc = sums[(r.unit, r.rel > 0)]
        acc[0] += r.value * r.weight
        acc[1] += r.weight
    units = {u for u, _ in sums}
    return {u: (sums[(u, False)][0] / sums[(u, False)][1], sums[(u, True)][0] / sums[(u, True)][1])
            for u in sorted(units) if sums.get((u, False), [0, 0])[1] and sums.get((u, True), [0, 0])[1]}


@dataclass(frozen=True)
class Estimate:
    """An average effect on the treated with its standard error (clustered by person)."""

    effect: float
    se: float
    method: str

    @property
    def low(self) -> float:
        return self.effect - Z_975 * self.se

    @property
    def high(self) -> float:
        return self.effect + Z_975 * self.se

    @property
    def detectable(self) -> float:
        """The smallest effect this design detects 80% of the time at the 5% level (2.80 standard errors)."""
        return (Z_975 + Z_80) * self.se


@dataclass(frozen=True)
class Lead:
    rel: int  # periods before training, negative
    coefficient: float
    se: float


@dataclass(frozen=True)
class PreTrend:
    """Borusyak-Jaravel-Spiess's test: among untreated cells, do the periods just before a training
    differ from what the person and period explain? ``leads`` one by one; ``p_value`` of their pooled
    coefficient (``estimate.pretrend`` says why not of a joint test)."""

    leads: tuple[Lead, ...]
    p_value: float


@dataclass(frozen=True)
class Finding:
    status: str  # insufficient | pre-trend | inconclusive | credible
    reasons: tuple[str, ...] = field(default=())  # codes: why the figure claims less (or nothing)
    improved: bool | None = None  # the effect in the metric's better direction (None: not claimed)


@dataclass(frozen=True)
class Overlap:
    """How many of the trained (those with cells before and after) also took ``program``, another
    program aimed at the same metric, inside their own window: from ``pre`` periods before their
    training to ``post`` after it. Their change may be partly that program's; neither estimate
    separates the two."""

    program: str
    people: int


def overlaps(s: Sample, trained_at: Mapping[int, datetime | None], others: Mapping[str, Mapping[int, datetime]],
             design: Design) -> tuple[Overlap, ...]:
    """Per other program with anyone in common inside the window, most people first."""
    own = {r.unit for r in s.rows if r.rel is not None}
    periods = {u: period_of(at, design) for u, at in trained_at.items() if at is not None and u in own}
    out = []
    for code, theirs in others.items():
        n = sum(1 for u, tp in periods.items() if u in theirs and tp - design.pre <= period_of(theirs[u], design) <= tp + design.post)
        if n:
            out.append(Overlap(code, n))
    return tuple(sorted(out, key=lambda o: (-o.people, o.program)))


def finding(s: Sample, design: Design, estimate: Estimate | None, pretrend: PreTrend | None, *, higher_is_better: bool,
            overlap: Sequence[Overlap] = ()) -> Finding:
    """What the figures may claim. No number when the data cannot carry one; otherwise the number with
    the weakest status that applies (a pre-trend outranks an interval that excludes zero). Another
    program taken by ``max_overlap`` of the trained or more inside their window is said (a reason), not
    a status: the figure is still what the data show, for the two programs together."""
    reasons = []
    if s.trained < design.min_trained:
        reasons.append("too-few-trained")
    if s.comparison < design.min_comparison:
        reasons.append("too-few-comparison")
    if estimate is None or not math.isfinite(estimate.effect) or not math.isfinite(estimate.se):
        reasons.append("not-estimable")
    if reasons:
        return Finding(INSUFFICIENT, tuple(reasons))
    assert estimate is not None
    # Each overlap names at least one person, so a share of 0 flags any.
    concurrent = ("concurrent-training",) if any(o.people >= design.max_overlap * s.trained for o in overlap) else ()
    if pretrend is None:
        reasons.append("pre-trend-untested")
    elif pretrend.p_value < design.alpha:
        return Finding(PRE_TREND, ("leads-differ", *concurrent))
    reasons.extend(concurrent)
    if estimate.low <= 0 <= estimate.high:
        return Finding(INCONCLUSIVE, (*reasons, "interval-covers-zero"))
    return Finding(CREDIBLE, tuple(reasons), improved=(estimate.effect > 0) == higher_is_better)


def counterfactual(s: Sample, estimate: Estimate) -> float | None:
    """What the treated cells would have averaged without the training (their weighted mean minus the
    effect): the base of a relative effect ("+14%")."""
    rows = s.treated_rows
    weight = sum(r.weight for r in rows)
    if not weight:
        return None
    return sum(r.value * r.weight for r in rows) / weight - estimate.effect


def cells_from(values: Mapping[tuple[int, int], Sequence[float]]) -> list[Cell]:
    """Cells from (unit, period) -> [numerator, denominator] sums: value = numerator / denominator,
    weight = denominator. A mean's denominator is its count; a sum's is 1 per period."""
    return [Cell(u, p, top / bottom, bottom) for (u, p), (top, bottom) in sorted(values.items()) if bottom > 0]


def accumulate(items: Iterable[tuple[int, datetime, float, float]], design: Design) -> dict[tuple[int, int], list[float]]:
    """(unit, moment, numerator, denominator) -> the per-period sums ``cells_from`` reads."""
    out: dict[tuple[int, int], list[float]] = defaultdict(lambda: [0.0, 0.0])
    for unit, at, top, bottom in items:
        acc = out[(unit, period_of(at, design))]
        acc[0] += top
        acc[1] += bottom
    return dict(out)
