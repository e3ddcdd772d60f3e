"""The isolated effect of a program on a business metric, from the stored records.

Who counts as trained: an approved place in a session of the program that is over, with an
attendance record at the session's minimum participation (a place without a record is not proof of
attendance). Trained on: the end of the person's last such session of the program. The comparison
pool: everyone else in departments of the same kind as the trained (teaching with teaching, sales
with sales), who did not leave; never-trained and not-yet-trained alike, as ``rules.sample`` says.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import and_, func, select, type_coerce
from sqlalchemy.orm import Session
from sqlalchemy.types import NullType

from trainquant.analytics.impact import estimate, rules
from trainquant.attendance.models import AttendanceRecord
from trainquant.auth.permissions import DataScope
from trainquant.db import chunks, driver_fetchall
from trainquant.errors import Forbidden, Invalid, NotFound
from trainquant.integrations.metrics import rules as metric_rules
from trainquant.integrations.metrics.models import MetricRecord
from trainquant.org.models import Department, Employee, ExternalId
from trainquant.training.lookups import get_program
from trainquant.training.models import Enrolment, Program, TrainingSession


@dataclass(frozen=True)
class EffectReport:
    program: Program
    metric: metric_rules.MetricDefinition
    design: rules.Design
    sample: rules.Sample
    naive: rules.Naive | None
    estimate: rules.Estimate | None
    pretrend: rules.PreTrend | None
    finding: rules.Finding
    counterfactual: float | None
    skipped_records: int  # records spanning more than one period: not split across periods
    overlaps: tuple[rules.Overlap, ...] = ()  # other programs aimed at the metric, taken by the trained inside their window

    @property
    def relative(self) -> float | None:
        """The isolated effect over what the trained would have had without it ("+14%")."""
        if self.estimate is None or not self.counterfactual:
            return None
        return self.estimate.effect / self.counterfactual


def design_for(zone: str, *, pre_days: int = 30, post_days: int = 30, period_days: int = 7) -> rules.Design:
    """Weeks from a Monday midnight in the school's zone."""
    origin = datetime(2000, 1, 3, tzinfo=ZoneInfo(zone))
    design = rules.Design(period_days=period_days, pre_days=pre_days, post_days=post_days, origin=origin)
    problem = design.problem()
    if problem:
        raise Invalid(problem, code="effect-design")
    return design


def check_whole_school(scope: DataScope) -> None:
    """Effects and ROI compare across the whole school: the comparison group is everyone of the same
    kind, colleagues a department-only reader may not see."""
    if not scope.all:
        raise Forbidden("an effect compares across the whole school; it is for those who see all of it", code="effects-need-whole-school")


def trainings(db: Session, *, until: datetime, program_id: int | None = None,
              employee_ids: Sequence[int] | None = None) -> list[tuple[int, int, datetime]]:
    """(employee, program, the end of their last attended session of it) for sessions ended by
    ``until``: an approved place with an attendance record at the session's minimum participation."""
    q = (select(Enrolment.employee_id, TrainingSession.program_id, func.max(TrainingSession.ends_at))
         .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
         .join(AttendanceRecord, and_(AttendanceRecord.session_id == Enrolment.session_id, AttendanceRecord.employee_id == Enrolment.employee_id))
         .where(Enrolment.status == "approved", TrainingSession.status != "cancelled", TrainingSession.ends_at <= until,
                AttendanceRecord.participation >= TrainingSession.min_participation)
         .group_by(Enrolment.employee_id, TrainingSession.program_id))
    if program_id is not None:
        q = q.where(TrainingSession.program_id == program_id)
    if employee_ids is not None:
        q = q.where(Enrolment.employee_id.in_(list(employee_ids)))
    return [(eid, pid, at) for eid, pid, at in db.execute(q)]


def trained_dates(db: Session, program_id: int, now: datetime) -> dict[int, datetime]:
    """Employee id -> the end of their last attended session of the program."""
    return {eid: at for eid, _, at in trainings(db, until=now, program_id=program_id)}


def candidates(db: Session, trained: dict[int, datetime]) -> dict[int, datetime | None]:
    """The trained and their comparison pool: people of the same department kinds who have not left."""
    if not trained:
        return {}
    kinds = set(db.scalars(select(Department.kind).join(Employee, Employee.department_id == Department.id)
                           .where(Employee.id.in_(sorted(trained)))))
    pool = db.scalars(select(Employee.id).join(Department, Department.id == Employee.department_id)
                      .where(Department.kind.in_(sorted(kinds)), Employee.status != "left"))
    out: dict[int, datetime | None] = dict.fromkeys(pool)
    out.update(trained)
    return out


def _keys(d: metric_rules.MetricDefinition) -> list[str]:
    if d.aggregation == metric_rules.RATIO:
        assert d.numerator is not None and d.denominator is not None
        return [d.numerator, d.denominator]
    return [d.key]


def _moments(column: np.ndarray) -> np.ndarray:
    """Stored moments as UTC datetime64[us]: SQLite hands back its text, PostgreSQL aware datetimes."""
    if len(column) and isinstance(column[0], str):
        return column.astype("datetime64[us]")
    return np.array([v.astimezone(UTC).replace(tzinfo=None) for v in column], dtype="datetime64[us]")


def _kept_rows(db: Session, keys: list[str], start: datetime, end: datetime) -> list[tuple]:
    """(person, start, end, value[, metric]) of the kept records of ``keys`` starting in [start, end),
    values raw, the metric only when there are several: accepted records by their person, unmapped
    ones by whoever their id is mapped to since. Two reads rather than one outer join: the join cost
    every accepted record a lookup (a quarter of the read at 5 million records), and the unmapped ones
    are few, found through their own index."""
    raw = NullType()
    columns = (type_coerce(MetricRecord.period_start, raw), type_coerce(MetricRecord.period_end, raw), type_coerce(MetricRecord.value, raw),
               *((MetricRecord.metric_key,) if len(keys) > 1 else ()))
    within = (MetricRecord.metric_key.in_(keys), MetricRecord.period_start >= start, MetricRecord.period_start < end,
              MetricRecord.period_end.is_not(None), MetricRecord.value.is_not(None))
    rows = driver_fetchall(db, select(MetricRecord.employee_id, *columns).where(
        MetricRecord.status == "accepted", MetricRecord.employee_id.is_not(None), *within))  # a person's: the id is an integer
    same_id = and_(ExternalId.system == MetricRecord.external_system, ExternalId.external_id == MetricRecord.external_id)
    resolved = [(s, x) for s, x in db.execute(select(MetricRecord.external_system, MetricRecord.external_id)
                                              .join(ExternalId, same_id).where(MetricRecord.status == "unmapped").distinct())
                if s is not None and x is not None]  # the join needs both
    for system in sorted({s for s, _ in resolved}):
        for chunk in chunks(sorted(x for s, x in resolved if s == system), 900):
            rows += driver_fetchall(db, select(ExternalId.employee_id, *columns).join(ExternalId, same_id).where(
                MetricRecord.status == "unmapped", MetricRecord.external_system == system, MetricRecord.external_id.in_(chunk), *within))
    return rows


def load_cells(db: Session, d: metric_rules.MetricDefinition, people: set[int], design: rules.Design,
               start: datetime, end: datetime) -> tuple[list[rules.Cell], int]:
    """Each person's records of the metric in [start, end) as period cells (kept records: accepted,
    and unmapped ones whose id has since been mapped to the person). Returns the cells and how many
    records span more than one period (left out: a monthly figure is never prorated into weeks).

    Column-wise: a year of weekly records for 50,000 people is millions of rows, so the moments and
    values come back as the driver gives them (no per-value type conversion) and are grouped into
    cells with NumPy; ``rules.period_of`` and ``rules.cells_from`` say what each step computes."""
    rows = _kept_rows(db, _keys(d), start, end)
    if not rows or not people:
        return [], 0
    table = np.array(rows, dtype=object)  # columns in one C pass (``zip(*rows)`` took 2.5 s at 2.6 M rows)
    unit = table[:, 0].astype(np.int64)
    asked = np.isin(unit, np.fromiter(people, dtype=np.int64, count=len(people)))
    if not asked.all():
        table, unit = table[asked], unit[asked]
    if not len(unit):
        return [], 0
    a, b = _moments(table[:, 1]), _moments(table[:, 2])
    origin = np.datetime64(design.origin.astimezone(UTC).replace(tzinfo=None), "us")
    step = np.timedelta64(design.period_days, "D").astype("timedelta64[us]").astype(np.int64)
    period = (a - origin).astype(np.int64) // step
    last = ((b - origin).astype(np.int64) - 1) // step  # the period of the last microsecond covered
    spans = (last > period) & (b > a)
    keep = ~spans
    value = table[:, 3].astype(np.float64)
    if d.aggregation == metric_rules.RATIO:
        keys = table[:, 4]
        top = np.where(keys == d.numerator, value, 0.0)
        bottom = np.where(keys == d.denominator, value, 0.0)
    elif d.aggregation == metric_rules.MEAN:
        top, bottom = value, np.ones(len(value))
    else:  # SUM (and LAST, refused before this): one cell per period, weight 1
        top, bottom = value, np.zeros(len(value))
    unit, period, top, bottom = unit[keep], period[keep], top[keep], bottom[keep]
    if not len(unit):
        return [], int(spans.sum())
    low = int(period.min())
    width = int(period.max()) - low + 1
    found, where = np.unique(unit * width + (period - low), return_inverse=True)  # sorted by person, then period
    tops = np.bincount(where, top, len(found))
    bottoms = np.ones(len(found)) if d.aggregation == metric_rules.SUM else np.bincount(where, bottom, len(found))
    weighed = bottoms > 0
    found, tops, bottoms = found[weighed], tops[weighed], bottoms[weighed]
    out = list(map(rules.Cell, (found // width).tolist(), (found % width + low).tolist(), (tops / bottoms).tolist(), bottoms.tolist()))
    return out, int(spans.sum())


Cohort = tuple[datetime, datetime]  # trained in [start, end)


@dataclass(frozen=True)
class Pool:
    """Whom a program's effects compare: the trained, with when (``trained_dates``), and every candidate
    (``candidates``; None: not trained in it). The same for each metric of the program: read once."""

    trained: Mapping[int, datetime]
    people: Mapping[int, datetime | None]


def program_pool(db: Session, program_id: int, now: datetime, cohort: Cohort | None = None) -> Pool:
    """With a ``cohort``, only those trained in it count as trained, and the program's other trainees
    are left out altogether: they are neither this cohort's people nor a fair comparison for it
    (already treated, or treated by the same program later)."""
    trained = trained_dates(db, program_id, now)
    outside: set[int] = set()
    if cohort is not None:
        outside = {e for e, at in trained.items() if not cohort[0] <= at < cohort[1]}
        trained = {e: at for e, at in trained.items() if e not in outside}
    return Pool(trained, {e: at for e, at in candidates(db, trained).items() if e not in outside})


def program_sample(db: Session, program_id: int, d: metric_rules.MetricDefinition, *, design: rules.Design,
                   now: datetime, cohort: Cohort | None = None, pool: Pool | None = None) -> tuple[rules.Sample, int]:
    """The estimation sample of one program and metric (over ``program_pool``, unless given), and how
    many records were left out as longer than a period."""
    pool = pool if pool is not None else program_pool(db, program_id, now, cohort)
    trained, people = pool.trained, pool.people
    if not trained:
        return rules.sample([], people, design), 0
    first, last = min(trained.values()), max(trained.values())
    start = rules.period_start(rules.period_of(first, design) - design.pre, design)
    end = rules.period_start(rules.period_of(last, design) + design.post + 1, design)
    cells, skipped = load_cells(db, d, set(people), design, start, end)
    return rules.sample(cells, people, design), skipped


def definition(metric: str) -> metric_rules.MetricDefinition:
    d = metric_rules.DEFINITIONS.get(metric)
    if d is None:
        raise NotFound(f"no metric {metric!r}", code="unknown-metric")
    if d.aggregation == metric_rules.LAST:
        raise Invalid(f"{metric} keeps its last value; an effect needs a metric that aggregates", code="metric-not-comparable")
    return d


T = TypeVar("T")
# Effects recomputed only when their facts changed: keyed by what they are computed from and a version
# of the facts (the newest metric record and attendance figure), for pages that show many at once.
_CACHE: dict[tuple, EffectReport] = {}
_CACHE_MAX = 512


def _cached(cache: dict[tuple, T], key: tuple, compute: Callable[[], T]) -> T:
    """``compute()`` once per key; the cache starts over past ``_CACHE_MAX`` entries."""
    found = cache.get(key)
    if found is None:
        if len(cache) >= _CACHE_MAX:
            cache.clear()
        found = cache[key] = compute()
    return found


def facts_version(db: Session) -> tuple:
    """Changes whenever an effect's facts do: metric records are append-only (their newest id), and
    attendance figures are rewritten with a new ``computed_at``. No count: a page pays this every time."""
    return (db.scalar(select(func.max(MetricRecord.id))), db.scalar(select(func.max(AttendanceRecord.computed_at))))


def cached_effect(db: Session, code: str, metric: str, *, design: rules.Design, now: datetime, version: tuple,
                  cohort: Cohort | None = None, pools: dict[tuple, Pool] | None = None) -> EffectReport:
    """``program_effect``, computed once per facts version and day. A caller asking for several metrics
    of a program (a page, the ROI) passes its own ``pools``: the program's pool is then read once for
    all of them, and lives no longer than the caller's dict."""
    def compute() -> EffectReport:
        pool = None
        if pools is not None:
            pool = _cached(pools, (code, now, cohort), lambda: program_pool(db, get_program(db, code).id, now, cohort))
        return program_effect(db, code, metric, design=design, now=now, cohort=cohort, pool=pool)

    return _cached(_CACHE, (code, metric, design, version, now.date(), cohort), compute)


_PERSONS: dict[tuple, dict[int, tuple[float, float]]] = {}


def cached_person_effects(db: Session, code: str, metric: str, *, design: rules.Design, now: datetime,
                          version: tuple) -> dict[int, tuple[float, float]]:
    """``estimate.person_effects`` of the program's sample, once per facts version and day."""
    def compute() -> dict[int, tuple[float, float]]:
        rep = cached_effect(db, code, metric, design=design, now=now, version=version)
        return estimate.person_effects(rep.sample) if rep.sample.trained else {}

    return _cached(_PERSONS, (code, metric, design, version, now.date()), compute)


def program_effect(db: Session, code: str, metric: str, *, design: rules.Design, now: datetime,
                   cohort: Cohort | None = None, pool: Pool | None = None) -> EffectReport:
    d = definition(metric)
    program = get_program(db, code)
    pool = pool if pool is not None else program_pool(db, program.id, now, cohort)
    s, skipped = program_sample(db, program.id, d, design=design, now=now, cohort=cohort, pool=pool)
    overlap = rules.overlaps(s, pool.trained, aimed_elsewhere(db, program, d.key, now), design) if s.trained else ()
    frame = estimate.frame(s)
    est = estimate.did2s(s, frame) if s.trained and s.comparison else None
    pre = estimate.pretrend(s, design, frame) if est is not None else None
    finding = rules.finding(s, design, est, pre, higher_is_better=d.better == metric_rules.HIGHER, overlap=overlap)
    shown = est if finding.status != rules.INSUFFICIENT else None
    return EffectReport(program, d, design, s, rules.naive(s, design), shown, pre if shown else None, finding,
                        rules.counterfactual(s, shown) if shown else None, skipped, overlap)


def aimed_elsewhere(db: Session, program: Program, metric: str, now: datetime) -> dict[str, dict[int, datetime]]:
    """The trained of every other program whose aims name ``metric``, by its code (``trained_dates``)."""
    others = [(pid, code) for pid, code, aims in db.execute(select(Program.id, Program.code, Program.aims).where(Program.id != program.id))
              if metric in (aims or ())]
    return {code: trained_dates(db, pid, now) for pid, code in sorted(others, key=lambda o: o[1])}
