"""Return on a training, Phillips style, in Decimal. Pure.

Costs are fully loaded: every cost item of the program and its sessions (needs analysis, design and
development prorated over the runs it serves, licences, trainer, venue, materials, travel, evaluation,
overhead) plus the participants' time, their hourly cost x the minutes they attended. A participant
without an hourly cost leaves a gap the report names; their time is never counted as free without
saying so.

Benefits are money from the *isolated* effect of the training on a business metric, through versioned
conversion factors that name their source, over a horizon: by default only the weeks in which the
effect was measured after the training (what the records show, nothing extrapolated), at most the first
year (Phillips: short programs claim first-year benefits at most). A school whose follow-up shows the
effect lasting sets ``benefit_weeks`` (up to 52) as a factor with its source:

- order amount: the effect is revenue per person and week, counted at the contribution margin (money
  the school keeps, not what the student pays: Phillips counts profit contribution);
- retention: extra retained students x revenue per retained student x the margin; a rating effect goes through the
  retention a rating point is worth, and only when retention itself was not measured (one chain, never
  counted twice);
- minutes per operation: minutes saved x operations x hourly cost;
- error rate: errors avoided x operations x cost of an error.

The conversion rate is not turned into money: its money is the order amount, counted once.

Three figures stand side by side: the *naive* one the source prints (orders after the training over
its cost), the *isolated* one from the effect's point estimate, and the *conservative* one from the
lower end of its 95% interval (for a metric where lower is better, the end nearest no gain), which is
the one to quote. An effect whose interval includes zero counts as no benefit there (never as
the loss its lower end would suggest).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
ZERO = Decimal(0)
WEEKS_PER_YEAR = Decimal(52)
MEASURED = Decimal(0)  # benefit_weeks: the weeks measured after the training


@dataclass(frozen=True, slots=True)
class CostLine:
    category: str
    amount: Decimal
    share: Decimal = Decimal(1)  # of a cost serving several runs (design, licences), this run's part


@dataclass(frozen=True, slots=True)
class Attended:
    employee_id: int
    minutes: int
    hourly_cost: Decimal | None


@dataclass(frozen=True)
class Costs:
    by_category: tuple[tuple[str, Decimal], ...]
    participants_time: Decimal
    participant_minutes: int
    uncosted: tuple[int, ...]  # participants whose attended time has no hourly cost

    @property
    def total(self) -> Decimal:
        return sum((a for _, a in self.by_category), ZERO) + self.participants_time


def money(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def fully_loaded(lines: Iterable[CostLine], attended: Iterable[Attended]) -> Costs:
    by: dict[str, Decimal] = {}
    for line in lines:
        by[line.category] = by.get(line.category, ZERO) + line.amount * line.share
    time_cost, minutes, uncosted = ZERO, 0, []
    for a in attended:
        if a.minutes <= 0:
            continue
        minutes += a.minutes
        if a.hourly_cost is None:
            uncosted.append(a.employee_id)
        else:
            time_cost += a.hourly_cost * a.minutes / 60
    return Costs(tuple((c, money(v)) for c, v in sorted(by.items())), money(time_cost), minutes, tuple(sorted(uncosted)))


@dataclass(frozen=True, slots=True)
class Factor:
    key: str
    value: Decimal
    unit: str
    source: str  # where the figure comes from, as the school's finance team would cite it
    version: str  # e.g. "2026-09"; a report names the versions it used
    valid_from: date


# The defaults a school replaces with its own (``TQ_ROI_FACTORS``); each names where it comes from.
DEFAULT_FACTORS: dict[str, Factor] = {f.key: f for f in (
    Factor("revenue_per_retained_student", Decimal("6800"), "CNY", "a renewal's average order, 2025 finance report (demo school)", "2026-01", date(2026, 1, 1)),
    Factor("retention_per_rating_point", Decimal("0.08"), "retention points per rating point",
           "renewals against the previous term's rating, 2025 (demo school)", "2026-01", date(2026, 1, 1)),
    Factor("cost_per_error", Decimal("150"), "CNY", "rework and refunds per process error, 2025 OA audit (demo school)", "2026-01", date(2026, 1, 1)),
    Factor("contribution_margin", Decimal("0.25"), "share of revenue",
           "course sales' contribution after teaching costs, 2025 finance report (demo school)", "2026-01", date(2026, 1, 1)),
    Factor("benefit_weeks", MEASURED, "weeks of benefit counted (0: the weeks measured after the training; at most 52)",
           "TrainQuant's default: only what the records show", "2026-12", date(2026, 12, 1)),
)}


def horizon(benefit_weeks: Decimal, *, measured_weeks: Decimal, period_days: int) -> Decimal:
    """The periods of benefit counted: the measured weeks unless the school set more, never past a year."""
    weeks = measured_weeks if benefit_weeks <= 0 else benefit_weeks
    return min(weeks, WEEKS_PER_YEAR) * 7 / Decimal(period_days)


@dataclass(frozen=True, slots=True)
class Effect:
    """An isolated effect on one metric, per person and period (a week), for ``people`` trained people,
    and how much of the metric's volume each of them handles per period (students up for renewal,
    operations; 1 for money and ratings)."""

    metric: str
    point: Decimal
    low: Decimal  # the 95% interval
    high: Decimal
    people: int
    volume: Decimal = Decimal(1)
    periods: Decimal = WEEKS_PER_YEAR  # of benefit counted (the horizon, in the effect's periods)
    usable: bool = True  # False: no figure, or one the pre-trend test disowns
    claimed: bool = True  # the interval excludes zero; an effect not told apart from none is worth 0 conservatively


@dataclass(frozen=True)
class Benefit:
    metric: str
    isolated: Decimal | None
    conservative: Decimal | None
    factors: tuple[str, ...]  # factor keys used (their versions are in the report's factor list)
    gap: str | None = None  # why no money: a code the pages translate


HIGHER_IS_BETTER = {"crm.order_amount": True, "teaching.retention": True, "teaching.rating.overall": True,
                    "oa.minutes_per_operation": False, "oa.error_rate": False}
NOT_MONETIZED = {"crm.conversion_rate": "counted-as-orders", "crm.leads": "counted-as-orders", "crm.conversions": "counted-as-orders",
                 "teaching.rating.interaction": "counted-as-rating"}


def _conservative(e: Effect) -> Decimal:
    if not e.claimed:
        return ZERO  # nothing shown either way: no benefit claimed, and no loss made up from noise
    return e.low if HIGHER_IS_BETTER.get(e.metric, True) else e.high


def _gain(e: Effect, value: Decimal) -> Decimal:
    """The effect as a gain (positive = better), per person-period."""
    return value if HIGHER_IS_BETTER.get(e.metric, True) else -value


def _year(e: Effect, per_unit: Decimal, value: Decimal) -> Decimal:
    return money(_gain(e, value) * e.volume * per_unit * e.people * e.periods)


def benefits(effects: Sequence[Effect], factors: Mapping[str, Factor], *, hourly_cost: Decimal | None) -> list[Benefit]:
    """The money of each usable effect over its horizon; the rest are listed with why they have none."""
    out: list[Benefit] = []
    measured = {e.metric for e in effects if e.usable}
    for e in effects:
        if e.metric in NOT_MONETIZED:
            out.append(Benefit(e.metric, None, None, (), NOT_MONETIZED[e.metric]))
            continue
        if not e.usable:
            out.append(Benefit(e.metric, None, None, (), "effect-not-usable"))
            continue
        margin = factors["contribution_margin"].value
        if e.metric == "crm.order_amount":
            out.append(Benefit(e.metric, _year(e, margin, e.point), _year(e, margin, _conservative(e)), ("contribution_margin",)))
        elif e.metric == "teaching.retention":
            per = factors["revenue_per_retained_student"].value * margin
            out.append(Benefit(e.metric, _year(e, per, e.point), _year(e, per, _conservative(e)), ("contribution_margin", "revenue_per_retained_student")))
        elif e.metric == "teaching.rating.overall":
            if "teaching.retention" in measured:
                out.append(Benefit(e.metric, None, None, (), "counted-as-retention"))
                continue
            per = factors["retention_per_rating_point"].value * factors["revenue_per_retained_student"].value * margin
            out.append(Benefit(e.metric, _year(e, per, e.point), _year(e, per, _conservative(e)),
                               ("contribution_margin", "retention_per_rating_point", "revenue_per_retained_student")))
        elif e.metric == "oa.minutes_per_operation":
            if hourly_cost is None:
                out.append(Benefit(e.metric, None, None, (), "no-hourly-cost"))
                continue
            per = hourly_cost / 60
            out.append(Benefit(e.metric, _year(e, per, e.point), _year(e, per, _conservative(e)), ()))
        elif e.metric == "oa.error_rate":
            per = factors["cost_per_error"].value
            out.append(Benefit(e.metric, _year(e, per, e.point), _year(e, per, _conservative(e)), ("cost_per_error",)))
        else:
            out.append(Benefit(e.metric, None, None, (), "no-conversion"))
    return out


@dataclass(frozen=True)
class Ratio:
    benefits: Decimal
    costs: Decimal
    bcr: Decimal | None  # benefits / costs: the "2:1"
    roi_percent: Decimal | None  # (benefits - costs) / costs x 100
    gap: str | None = None


def ratio(benefit: Decimal, cost: Decimal) -> Ratio:
    """BCR and ROI %; a training that cost nothing has neither (a gap, not infinity)."""
    if cost <= 0:
        return Ratio(benefit, cost, None, None, "no-cost")
    bcr = (benefit / cost).quantize(CENT, rounding=ROUND_HALF_UP)
    pct = ((benefit - cost) / cost * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    return Ratio(benefit, cost, bcr, pct)


@dataclass(frozen=True)
class Roi:
    costs: Costs
    benefits: tuple[Benefit, ...]
    naive: Ratio  # the trained people's orders after the training over the cost (the source's "2:1")
    isolated: Ratio
    conservative: Ratio
    gaps: tuple[str, ...]  # codes: what the figures leave out


def roi(costs: Costs, items: Sequence[Benefit], *, orders_after: Decimal | None) -> Roi:
    isolated = sum((b.isolated for b in items if b.isolated is not None), ZERO)
    conservative = sum((b.conservative for b in items if b.conservative is not None), ZERO)
    gaps = []
    if costs.uncosted:
        gaps.append("participants-without-hourly-cost")
    if not any(b.isolated is not None for b in items):
        gaps.append("no-monetized-effect")
    naive = ratio(orders_after, costs.total) if orders_after is not None else Ratio(ZERO, costs.total, None, None, "no-orders")
    return Roi(costs, tuple(items), naive, ratio(isolated, costs.total), ratio(conservative, costs.total), tuple(gaps))


@dataclass(frozen=True, slots=True)
class Band:
    code: str  # excellent | good | fair | poor
    min_roi_percent: Decimal  # the band's lowest figure (an ROI %, or a gain % for gain bands)


DEFAULT_BANDS = (Band("excellent", Decimal(200)), Band("good", Decimal(100)), Band("fair", Decimal(0)), Band("poor", Decimal("-Infinity")))
# A person's gain from a training, in percent of what they would have had without it, in the metric's
# better direction (R3.3: process time 30 -> 24 min is a 20% gain, "excellent").
DEFAULT_GAIN_BANDS = (Band("excellent", Decimal(15)), Band("good", Decimal(8)), Band("fair", Decimal(0)), Band("poor", Decimal("-Infinity")))
BAND_CODES = ("excellent", "good", "fair", "poor")


def bands(lowest: Mapping[str, Decimal], defaults: Sequence[Band]) -> tuple[Band, ...]:
    """The defaults with some bands' lowest figures replaced; "poor" always takes everything below."""
    out = [Band(b.code, lowest.get(b.code, b.min_roi_percent)) if b.code != "poor" else b for b in defaults]
    return tuple(sorted(out, key=lambda b: b.min_roi_percent, reverse=True))


def band(roi_percent: Decimal | None, bands: Sequence[Band] = DEFAULT_BANDS) -> str | None:
    """The rating of an ROI % ("excellent" at 200% and above by default); None without a figure."""
    if roi_percent is None:
        return None
    for b in sorted(bands, key=lambda b: b.min_roi_percent, reverse=True):
        if roi_percent >= b.min_roi_percent:
            return b.code
    return None


def relative(before: Decimal, after: Decimal) -> Decimal | None:
    """The training effect conversion rate of R3.1 (4.2 -> 4.8 = +14.3%) and R3.3's efficiency gain
    (30 -> 24 min = -20%), in percent to one decimal; None from a zero base."""
    if before == 0:
        return None
    return ((after - before) / before * 100).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
