"""Business metrics: what each one is, and how a window of its records becomes one figure. Pure.

A metric is recorded (a count, an amount, a rating, minutes) or derived: a rate is the ratio of two
recorded metrics' sums over the window (conversions / leads), never a mean of daily rates, so a day
with two leads weighs as much as its two leads and no more. Values are ``Decimal`` throughout (money
among them). A record covers a moment or a period; it counts in a window only when its whole period
lies inside the window [start, end): no prorating, so a monthly figure never leaks into a 30-day
window it only partly covers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

SUM, MEAN, LAST, RATIO = "sum", "mean", "last", "ratio"
HIGHER, LOWER = "higher", "lower"


@dataclass(frozen=True, slots=True)
class MetricDefinition:
    key: str
    label: str  # as the school says it (Chinese)
    label_en: str
    unit: str
    aggregation: str  # sum | mean | last | ratio
    better: str  # higher | lower
    numerator: str | None = None  # ratio: the recorded metrics it divides
    denominator: str | None = None
    minimum: Decimal | None = None  # recorded values outside [minimum, maximum] are refused
    maximum: Decimal | None = None
    money: bool = False

    @property
    def recorded(self) -> bool:
        return self.aggregation != RATIO


_ZERO = Decimal(0)
DEFINITIONS: dict[str, MetricDefinition] = {d.key: d for d in (
    MetricDefinition("teaching.rating.overall", "学员评分（总体）", "Student rating (overall)", "points", MEAN, HIGHER,
                     minimum=_ZERO, maximum=Decimal(5)),
    MetricDefinition("teaching.rating.interaction", "学员评分（课堂互动）", "Student rating (interaction)", "points", MEAN, HIGHER,
                     minimum=_ZERO, maximum=Decimal(5)),
    MetricDefinition("teaching.students", "在读学员", "Students taught", "students", SUM, HIGHER, minimum=_ZERO),
    MetricDefinition("teaching.students.retained", "续费学员", "Students retained", "students", SUM, HIGHER, minimum=_ZERO),
    MetricDefinition("teaching.retention", "续费率", "Retention", "ratio", RATIO, HIGHER,
                     numerator="teaching.students.retained", denominator="teaching.students"),
    MetricDefinition("crm.leads", "线索", "Leads", "leads", SUM, HIGHER, minimum=_ZERO),
    MetricDefinition("crm.conversions", "成交", "Conversions", "conversions", SUM, HIGHER, minimum=_ZERO),
    MetricDefinition("crm.order_amount", "订单金额", "Order amount", "CNY", SUM, HIGHER, minimum=_ZERO, money=True),
    MetricDefinition("crm.conversion_rate", "转化率", "Conversion rate", "ratio", RATIO, HIGHER,
                     numerator="crm.conversions", denominator="crm.leads"),
    MetricDefinition("oa.process_minutes", "流程耗时", "Process time", "minutes", SUM, LOWER, minimum=_ZERO),
    MetricDefinition("oa.operations", "办理事项", "Operations", "operations", SUM, HIGHER, minimum=_ZERO),
    MetricDefinition("oa.errors", "差错", "Errors", "errors", SUM, LOWER, minimum=_ZERO),
    # What the OA system books against a person's operations (their time, materials, couriers, rework).
    MetricDefinition("oa.operating_cost", "运营成本", "Operating cost", "CNY", SUM, LOWER, minimum=_ZERO, money=True),
    MetricDefinition("oa.minutes_per_operation", "单件耗时", "Minutes per operation", "minutes", RATIO, LOWER,
                     numerator="oa.process_minutes", denominator="oa.operations"),
    MetricDefinition("oa.error_rate", "差错率", "Error rate", "ratio", RATIO, LOWER, numerator="oa.errors", denominator="oa.operations"),
)}


@dataclass(frozen=True, slots=True)
class Observation:
    """One record's value over [start, end] (a moment: start == end), UTC."""

    start: datetime
    end: datetime
    value: Decimal


def value_problem(d: MetricDefinition, value: Decimal) -> str | None:
    """Why a recorded value cannot be one of this metric, or None."""
    if not d.recorded:
        return f"{d.key} is derived ({d.numerator} / {d.denominator}): send those instead"
    if not value.is_finite():
        return "the value must be a finite number"
    if d.minimum is not None and value < d.minimum:
        return f"{d.key} is at least {d.minimum}, got {value}"
    if d.maximum is not None and value > d.maximum:
        return f"{d.key} is at most {d.maximum}, got {value}"
    return None


def _inside(observations: Iterable[Observation], start: datetime, end: datetime) -> list[Observation]:
    # Half-open [start, end): a moment at ``end`` belongs to the next window, a period ending at ``end``
    # to this one, so consecutive windows split the records between them.
    return [o for o in observations if start <= o.start < end and o.end <= end]


def window_value(d: MetricDefinition, records: Mapping[str, Iterable[Observation]], start: datetime, end: datetime) -> Decimal | None:
    """The metric over [start, end), from each recorded metric's observations; None when nothing counts
    (no record, or a ratio whose denominator sums to zero)."""
    if d.aggregation == RATIO:
        assert d.numerator is not None and d.denominator is not None  # every ratio names both
        top = _inside(records.get(d.numerator, ()), start, end)
        bottom = _inside(records.get(d.denominator, ()), start, end)
        below = sum((o.value for o in bottom), _ZERO)
        if not bottom or below == 0:
            return None
        return sum((o.value for o in top), _ZERO) / below
    inside = _inside(records.get(d.key, ()), start, end)
    if not inside:
        return None
    if d.aggregation == SUM:
        return sum((o.value for o in inside), _ZERO)
    if d.aggregation == MEAN:
        return sum((o.value for o in inside), _ZERO) / len(inside)
    return max(inside, key=lambda o: (o.end, o.start, o.value)).value  # LAST


@dataclass(frozen=True, slots=True)
class Change:
    before: Decimal
    after: Decimal
    absolute: Decimal  # after - before
    relative: Decimal | None  # absolute / before; None when before is zero
    improved: bool | None  # in the metric's better direction; None when unchanged


def change(d: MetricDefinition, before: Decimal | None, after: Decimal | None) -> Change | None:
    """The naive before/after change (the source's "10% -> 18%"); None when either side has no value."""
    if before is None or after is None:
        return None
    diff = after - before
    relative = diff / before if before != 0 else None
    improved = None if diff == 0 else (diff > 0) == (d.better == HIGHER)
    return Change(before, after, diff, relative, improved)
