"""Indicator evaluation: facts in, one result per employee and indicator out.

Pure: no database, no clock. The same facts in any order give the same results, because facts are
put in a canonical order first and sums use ``math.fsum`` (exactly rounded, so order-free).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from operator import attrgetter

OPERATORS = (">=", ">", "<=", "<", "=")
AGGREGATIONS = ("sum", "avg", "max", "min", "last", "count", "change")
CHANGE_MODES = ("absolute", "percent")
MET, NOT_MET, NO_DATA = "met", "not_met", "no_data"
STATUSES = (MET, NOT_MET, NO_DATA)
# What a window means: the last n days; the school term the period end is in (from its start); the
# calendar year (from 1 January); or the n days from the person's latest training of the counted
# programs (the n days before it are the baseline of a change).
WINDOWS = ("days", "term", "year", "since_training")
TRAINED = "trained"  # the fact kind of a training attended: key and program are the program's code
TRAINING_LOOKBACK_DAYS = 365  # "since the training" looks for trainings this far back from the period end
# Why a result has no data (stored with it; the pages translate the code).
NO_SOURCE = "no-source"  # no fact source feeds the metric yet
INCOMPLETE = "incomplete"  # the definition lacks what the metric needs (an exam not chosen)
NO_FACTS = "no-facts"  # nothing measured in the window (no session of the counted programs, no assessment)
NO_BASELINE = "no-baseline"  # a change with no value to start from
ZERO_BASELINE = "zero-baseline"  # a change in % from a value of 0
NO_TRAINING = "no-training"  # "since the training", and no training of the counted programs
WINDOW_OPEN = "window-open"  # "since the training", and the n days after it have not all passed
REASONS = (NO_SOURCE, INCOMPLETE, NO_FACTS, NO_BASELINE, ZERO_BASELINE, NO_TRAINING, WINDOW_OPEN)

# Values are measured quantities (hours, scores, ratios); float noise such as 0.1 + 0.2 != 0.3 or a
# percentage of 4.999999999999 for an exact 5 % must not decide a result. Both tolerances are far below
# any meaningful step of the units in use (0.5 band, 0.01 h, 0.01 %).
REL_TOL = 1e-9
ABS_TOL = 1e-9


@dataclass(frozen=True, slots=True)
class Fact:
    """One measured value about one employee: a trial-lecture score, attended hours of a session ..."""

    employee_id: int
    kind: str  # the fact kind a source provides, e.g. "assessment_score"
    key: str  # narrows the kind, e.g. the assessment kind "trial_lecture"; "" when the kind has no key
    on: date
    value: float
    ref: str  # the evidence: "assessment:17", "checkin-session:4:12" ...
    program: str = ""  # the program the fact belongs to, where the source knows it (hours, trainings)


@dataclass(frozen=True, slots=True)
class Calendar:
    """The school's terms around a period end: the first day of the term it falls in, and of the one before."""

    term_start: date
    previous_term_start: date


@dataclass(frozen=True, slots=True)
class Rule:
    """One indicator version reduced to what evaluation needs."""

    indicator_id: int
    version_id: int
    fact_kind: str
    aggregation: str
    window_days: int
    operator: str
    threshold: float
    keys: frozenset[str] = frozenset()  # empty: facts of every key
    scale: float = 1.0  # each fact value is multiplied by it first (a ratio shown in %)
    change_mode: str = "absolute"  # "change": last - first, or that difference in % of first
    available: bool = True  # False while no fact source feeds ``fact_kind``: always "no data"
    window_kind: str = "days"
    # The programs whose trainings count (None: every program): they choose the training a
    # "since_training" window starts from, and, where ``by_program``, the facts themselves.
    programs: frozenset[str] | None = None
    by_program: bool = False  # the metric's facts carry their program (hours, participation)
    incomplete: bool = False  # the definition lacks what the metric needs: always "no data"
    # The metric's facts exist only around a person's training (business figures before and after it):
    # without any training of the counted programs, "no data" says so rather than "nothing measured".
    around_training: bool = False

    def __post_init__(self) -> None:
        if self.operator not in OPERATORS:
            raise ValueError(f"unknown operator {self.operator!r}")
        if self.aggregation not in AGGREGATIONS:
            raise ValueError(f"unknown aggregation {self.aggregation!r}")
        if self.change_mode not in CHANGE_MODES:
            raise ValueError(f"unknown change mode {self.change_mode!r}")
        if self.window_kind not in WINDOWS:
            raise ValueError(f"unknown window {self.window_kind!r}")
        if self.window_days <= 0:
            raise ValueError("the window must be at least one day")
        if not math.isfinite(self.threshold) or not math.isfinite(self.scale):
            raise ValueError("threshold and scale must be finite numbers")


@dataclass(frozen=True, slots=True)
class Result:
    employee_id: int
    indicator_id: int
    version_id: int
    status: str
    value: float | None
    threshold: float
    facts: tuple[Fact, ...] = field(default=())  # the facts the value was computed from
    reason: str | None = None  # why there is no data (one of REASONS); None when there is a value
    window: tuple[date, date] | None = None  # the first and last day the value was taken from


@dataclass(frozen=True, slots=True)
class Span:
    """The days a rule reads: its window ``start``..``end``, and from ``first_read`` the baseline of a change."""

    first_read: date
    start: date
    end: date


def window_start(period_end: date, window_days: int) -> date:
    """First day of the window: a window of n days ends on ``period_end`` and includes it."""
    return period_end - timedelta(days=window_days - 1)


def span(rule: Rule, period_end: date, calendar: Calendar | None = None) -> Span:
    """The window of a "days", "term" or "year" rule; a change also reads the period before it, of equal
    length (the previous term, the previous year)."""
    change = rule.aggregation == "change"
    if rule.window_kind == "days":
        start = window_start(period_end, rule.window_days)
        return Span(start - timedelta(days=rule.window_days) if change else start, start, period_end)
    if rule.window_kind == "year":
        start = date(period_end.year, 1, 1)
        return Span(date(period_end.year - 1, 1, 1) if change else start, start, period_end)
    if rule.window_kind == "term":
        if calendar is None:
            raise ValueError("a term window needs the school's terms")
        return Span(calendar.previous_term_start if change else calendar.term_start, calendar.term_start, period_end)
    raise ValueError("a window since the training is each person's own (training_span)")


def training_span(rule: Rule, period_end: date, trainings: Sequence[Fact]) -> Span | str:
    """The window from the person's latest training of the counted programs whose ``window_days`` days
    have all passed by the period end, and the as many days before it (a change's baseline); a reason
    when there is none. ``trainings``: the person's "trained" facts in canonical order."""
    n = rule.window_days
    earliest = period_end - timedelta(days=TRAINING_LOOKBACK_DAYS)
    counted = [t for t in trainings if earliest <= t.on <= period_end and (rule.programs is None or t.program in rule.programs)]
    complete = [t for t in counted if t.on + timedelta(days=n - 1) <= period_end]
    if complete:
        day = complete[-1].on
        return Span(day - timedelta(days=n), day, day + timedelta(days=n - 1))
    return WINDOW_OPEN if counted else NO_TRAINING


def _trained_recently(rule: Rule, period_end: date, trainings: Sequence[Fact]) -> bool:
    earliest = period_end - timedelta(days=TRAINING_LOOKBACK_DAYS)
    return any(earliest <= t.on <= period_end and (rule.programs is None or t.program in rule.programs) for t in trainings)


def first_day_read(rule: Rule, period_end: date, calendar: Calendar | None = None) -> date:
    """The earliest day whose facts ``rule`` may use, for anyone."""
    if rule.window_kind == "since_training":
        return period_end - timedelta(days=TRAINING_LOOKBACK_DAYS + rule.window_days)
    first = span(rule, period_end, calendar).first_read
    return min(first, period_end - timedelta(days=TRAINING_LOOKBACK_DAYS)) if rule.around_training else first


def compare(value: float, operator: str, threshold: float) -> bool:
    """``value <operator> threshold``, where a value within float tolerance counts as equal."""
    close = math.isclose(value, threshold, rel_tol=REL_TOL, abs_tol=ABS_TOL)
    if operator == "=":
        return close
    if operator == ">=":
        return close or value > threshold
    if operator == "<=":
        return close or value < threshold
    if operator == ">":
        return not close and value > threshold
    if operator == "<":
        return not close and value < threshold
    raise ValueError(f"unknown operator {operator!r}")


_canonical = attrgetter("on", "key", "ref", "value")  # the order facts are used in, whatever order they came in


def _day_mean(facts: Sequence[Fact], day: date, scale: float) -> tuple[float, tuple[Fact, ...]]:
    same_day = tuple(f for f in facts if f.on == day)
    return math.fsum(f.value * scale for f in same_day) / len(same_day), same_day


def measure(rule: Rule, facts: Sequence[Fact], before: Sequence[Fact] = ()) -> tuple[float | None, tuple[Fact, ...], str | None]:
    """The window's value, the facts it came from, and why there is none; ``facts`` are in the window,
    in canonical order.

    ``before``: facts of the baseline period, used only by "change", whose baseline is the level at the
    window's start: the latest day before the window if there is one (monthly ratings, say), else (not
    for a window since a training, whose first days already follow it) the first day in it. No value:
    no facts (except count), a change without a baseline, or a change in % from a value of 0.
    """
    agg, scale = rule.aggregation, rule.scale
    if agg == "count":
        return float(len(facts)), tuple(facts), None
    if not facts:
        return None, (), NO_FACTS
    values = [f.value * scale for f in facts]
    if agg == "sum":
        return math.fsum(values), tuple(facts), None
    if agg == "avg":
        return math.fsum(values) / len(values), tuple(facts), None
    if agg in ("max", "min"):
        best = max(values) if agg == "max" else min(values)
        return best, tuple(f for f, v in zip(facts, values, strict=True) if v == best), None
    if agg == "last":
        value, used = _day_mean(facts, facts[-1].on, scale)
        return value, used, None
    # change: from the baseline day's value to the last day's (several facts on one day are averaged)
    last_day = facts[-1].on
    if before:
        start, used_start = _day_mean(before, before[-1].on, scale)
    elif facts[0].on != last_day and rule.window_kind != "since_training":
        start, used_start = _day_mean(facts, facts[0].on, scale)
    else:
        return None, tuple(facts), NO_BASELINE
    end, used_end = _day_mean(facts, last_day, scale)
    used = used_start + used_end
    if rule.change_mode == "absolute":
        return end - start, used, None
    if start == 0:
        return None, used, ZERO_BASELINE
    return (end - start) / abs(start) * 100.0, used, None


def evaluate_one(rule: Rule, employee_id: int, facts: Sequence[Fact], period_end: date, *, calendar: Calendar | None = None,
                 trainings: Sequence[Fact] = ()) -> Result:
    """``facts``: this employee's facts of the rule's kind, in canonical order (see ``group_facts``);
    ``trainings``: their "trained" facts, for a window since the training."""
    fixed = None if rule.window_kind == "since_training" else span(rule, period_end, calendar)
    return _evaluate(rule, employee_id, facts, [f.on for f in facts], fixed, period_end, trainings)


def _evaluate(rule: Rule, employee_id: int, facts: Sequence[Fact], days: Sequence[date], fixed: Span | None, period_end: date,
              trainings: Sequence[Fact]) -> Result:
    """``days``: the facts' dates; ``fixed``: the window when it is the same for everyone."""

    def no_data(reason: str, used: tuple[Fact, ...] = (), window: tuple[date, date] | None = None) -> Result:
        return Result(employee_id, rule.indicator_id, rule.version_id, NO_DATA, None, rule.threshold, used, reason, window)

    if not rule.available:
        return no_data(NO_SOURCE)
    if rule.incomplete:
        return no_data(INCOMPLETE)
    window = fixed if fixed is not None else training_span(rule, period_end, trainings)
    if isinstance(window, str):
        return no_data(window)
    lo, hi = bisect_left(days, window.start), bisect_right(days, window.end)
    in_window: Sequence[Fact] = facts[lo:hi]
    before: Sequence[Fact] = facts[bisect_left(days, window.first_read) : lo] if rule.aggregation == "change" else ()
    if rule.keys:
        in_window = [f for f in in_window if f.key in rule.keys]
        before = [f for f in before if f.key in rule.keys]
    if rule.by_program and rule.programs is not None:
        in_window = [f for f in in_window if f.program in rule.programs]
        before = [f for f in before if f.program in rule.programs]
    value, used, reason = measure(rule, in_window, before)
    bounds = (window.start, window.end)
    if value is None and reason == NO_FACTS and rule.around_training and not _trained_recently(rule, period_end, trainings):
        reason = NO_TRAINING
    if value is None:
        return no_data(reason or NO_FACTS, used, bounds)
    status = MET if compare(value, rule.operator, rule.threshold) else NOT_MET
    return Result(employee_id, rule.indicator_id, rule.version_id, status, value, rule.threshold, used, None, bounds)


def group_facts(facts: Iterable[Fact]) -> dict[tuple[int, str], list[Fact]]:
    """Facts by (employee, kind), each list in canonical order."""
    groups: dict[tuple[int, str], list[Fact]] = {}
    for fact in facts:
        key = (fact.employee_id, fact.kind)
        bucket = groups.get(key)
        if bucket is None:
            groups[key] = [fact]
        else:
            bucket.append(fact)
    for bucket in groups.values():
        bucket.sort(key=_canonical)
    return groups


def evaluate(rules: Sequence[Rule], facts: Iterable[Fact], employee_ids: Iterable[int], period_end: date,
             calendar: Calendar | None = None) -> list[Result]:
    """Every rule for every employee, ordered by employee, then indicator and version."""
    groups = group_facts(facts)
    ordered = sorted(rules, key=lambda r: (r.indicator_id, r.version_id))
    fixed = [None if r.window_kind == "since_training" else span(r, period_end, calendar) for r in ordered]
    kinds = sorted({r.fact_kind for r in ordered})
    out: list[Result] = []
    for employee_id in sorted(set(employee_ids)):
        mine = {kind: groups.get((employee_id, kind), ()) for kind in kinds}
        days = {kind: [f.on for f in facts] for kind, facts in mine.items()}  # once per employee, not per rule
        trainings = groups.get((employee_id, TRAINED), ())
        for rule, window in zip(ordered, fixed, strict=True):
            kind = rule.fact_kind
            out.append(_evaluate(rule, employee_id, mine[kind], days[kind], window, period_end, trainings))
    return out


# ---------------------------------------------------------------- summaries


@dataclass(frozen=True, slots=True)
class Scored:
    """A stored result, reduced to what summaries need."""

    employee_id: int
    indicator_id: int
    module_id: int
    weight: float
    status: str


@dataclass(frozen=True, slots=True)
class Share:
    indicator_id: int
    met: int
    not_met: int
    no_data: int

    @property
    def assessed(self) -> int:
        return self.met + self.not_met

    @property
    def share_met(self) -> float | None:
        """Met among those with data; None when nobody has data yet."""
        return self.met / self.assessed if self.assessed else None


def weighted_score(parts: Iterable[tuple[float, float | None]]) -> float | None:
    """Σ weight·score / Σ weight over the parts that have a score (0..1); None when none has one."""
    scored = [(w, s) for w, s in parts if s is not None and w > 0]
    total = math.fsum(w for w, _ in scored)
    return math.fsum(w * s for w, s in scored) / total if total else None


def employee_module_scores(results: Iterable[Scored]) -> dict[int, float | None]:
    """Per module: the weighted share of indicators met, among those with data."""
    parts: dict[int, list[tuple[float, float | None]]] = {}
    for r in results:
        score = None if r.status == NO_DATA else (1.0 if r.status == MET else 0.0)
        parts.setdefault(r.module_id, []).append((r.weight, score))
    return {module: weighted_score(p) for module, p in sorted(parts.items())}


def indicator_shares(results: Iterable[Scored]) -> dict[int, Share]:
    counts: dict[int, list[int]] = {}
    for r in results:
        c = counts.setdefault(r.indicator_id, [0, 0, 0])
        c[STATUSES.index(r.status)] += 1
    return {i: Share(i, *c) for i, c in sorted(counts.items())}


def department_module_scores(shares: Mapping[int, Share], placement: Mapping[int, tuple[int, float]]) -> dict[int, float | None]:
    """Per module: Σ weight·share met / Σ weight over its indicators; ``placement``: indicator -> (module, weight)."""
    parts: dict[int, list[tuple[float, float | None]]] = {}
    for indicator_id, share in shares.items():
        module_id, weight = placement[indicator_id]
        parts.setdefault(module_id, []).append((weight, share.share_met))
    return {module: weighted_score(p) for module, p in sorted(parts.items())}


def version_in_effect(versions: Iterable[tuple[int, date | None]], period_end: date) -> int | None:
    """The version applying to ``period_end``: the highest whose ``effective_from`` is on or before it
    (None: from the start); None when the indicator did not exist yet."""
    eligible = [number for number, start in versions if start is None or start <= period_end]
    return max(eligible) if eligible else None
