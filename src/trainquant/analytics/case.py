"""The institution's case table (R4, 实战案例), line by line: per department kind, the source's figures
before and after, each with what "before" and "after" mean for it.

- **Participation** compares two periods of the calendar: the half-year before the school began to
  measure its training (``since``) and the half-year from then on; it is the share of approved places
  in sessions that ended in the period attended at the session's minimum participation.
- **A business metric** (rating, retention, conversion, orders, process time, error rate) is a
  training's effect: the trained people's value in the window before their training and after it
  (the naive change, season included), beside the isolated effect with its interval. The program is
  the one that set out to move the metric (``Program.aims``) and trained the most people: chosen by its
  objective and its size, never by its result.
- **New orders year on year** (``yoy:<metric>``) sum the kind's records of the metric over the later period's
  weeks and over the same weeks 52 weeks before: everyone's, the trained or not, season alike on both
  sides, only weeks with records on both. Without nine in ten of the weeks matched, the line says so
  instead of a figure.
- **ROI** compares the cohorts of the program of the kind's first business line trained in each of the two periods, each against the
  costs of its own sessions: the conservative benefit-cost ratio.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.analytics import effect
from trainquant.analytics import rules as report_rules
from trainquant.analytics.impact import rules as impact_rules
from trainquant.analytics.impact import service as impact
from trainquant.analytics.roi import rules as roi_rules
from trainquant.analytics.roi import service as roi
from trainquant.auth.permissions import DataScope
from trainquant.errors import Invalid
from trainquant.integrations.metrics.rules import DEFINITIONS, SUM, MetricDefinition
from trainquant.org.models import Department, Employee
from trainquant.training.models import Enrolment, Program, TrainingSession

# The source's lines per department kind: metric keys, and "participation" / "roi".
LINES: dict[str, tuple[str, ...]] = {
    "teaching": ("participation", "teaching.rating.overall", "teaching.rating.interaction", "teaching.retention"),
    "marketing": ("participation", "crm.conversion_rate", "crm.order_amount", "yoy:crm.order_amount", "roi"),
    "admin": ("participation", "oa.minutes_per_operation", "oa.error_rate", "oa.operating_cost"),
}
PERIODS, TRAINING, COHORTS, YEAR = "periods", "training", "cohorts", "year"
YOY = "yoy:"
YEAR_COVERAGE = 0.9  # the share of a span's weeks that must hold records for a year-on-year figure


@dataclass(frozen=True)
class Periods:
    since: date  # the first day measured with TrainQuant (in the school's zone)
    before: impact.Cohort
    after: impact.Cohort

    @property
    def days(self) -> tuple[date, date, date, date]:
        """First and last day (inclusive) of the period before and of the one after, in the school's zone."""
        one = timedelta(days=1)
        return (self.before[0].date(), (self.before[1] - one).date(), self.after[0].date(), (self.after[1] - one).date())


@dataclass(frozen=True)
class Line:
    kind: str
    key: str
    basis: str  # periods | training | cohorts: what before and after mean
    program: Program | None = None
    metric: MetricDefinition | None = None
    before: float | None = None  # participation (0..1)
    after: float | None = None
    counts: tuple[int, int] = (0, 0)  # places (participation), trained people (ROI), or weeks matched and weeks in the period (year on year)
    effect: impact.EffectReport | None = None  # the training's effect (a metric line)
    roi_before: roi.RoiReport | None = None
    roi_after: roi.RoiReport | None = None


@dataclass(frozen=True)
class CaseTable:
    periods: Periods
    design: impact_rules.Design
    lines: tuple[Line, ...]
    programs: dict[str, Program | None]  # kind -> the program of its first business line (and of its ROI)


def periods(since: date | None, *, today: date, zone: str, months: int = 6) -> Periods:
    """Two equal spans either side of ``since`` (default: ``months`` before today), midnight to midnight
    in the school's zone; the later one ends at today's midnight at the latest."""
    if not 1 <= months <= 24:
        raise Invalid("months is between 1 and 24", code="case-months")
    days = round(months * 365 / 12)
    since = since or today - timedelta(days=days)
    if since > today:
        raise Invalid("since is a past day: the case compares what has happened", code="case-since-future")
    tz = ZoneInfo(zone)

    def at(day: date) -> datetime:
        return datetime.combine(day, time.min, tz)

    end = min(since + timedelta(days=days), today)
    return Periods(since, (at(since - timedelta(days=days)), at(since)), (at(since), at(end)))


def _kind_departments(db: Session) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for dep_id, kind in db.execute(select(Department.id, Department.kind)):
        out.setdefault(kind, []).append(dep_id)
    return out


def program_for(db: Session, kind: str, metric: str, *, design: impact_rules.Design, now: datetime, version: tuple) -> Program | None:
    """The program a line reads its effect from: of the kind's programs that aim at the metric (their
    impact objective, set before they ran), the one with the most trained people measured before and
    after (ties: the first code). Never chosen by the effect it shows."""
    best: tuple[int, Program] | None = None
    for program in db.scalars(select(Program).order_by(Program.code)):
        if metric not in (program.aims or []) or (program.target_kinds and kind not in program.target_kinds):
            continue
        trained = impact.cached_effect(db, program.code, metric, design=design, now=now, version=version).sample.trained
        if best is None or trained > best[0]:
            best = (trained, program)
    return best[1] if best else None


def participation(db: Session, departments: list[int], span: impact.Cohort, *, now: datetime) -> report_rules.Participation:
    facts = effect.enrolment_facts(db, DataScope(all=True), now=now, where=[
        Employee.department_id.in_(departments), TrainingSession.ends_at >= span[0], TrainingSession.ends_at < span[1],
        Enrolment.status == report_rules.APPROVED])
    return report_rules.participation(facts)


def case_table(db: Session, *, since: date | None, today: date, zone: str, design: impact_rules.Design,
               factors: dict[str, roi_rules.Factor], now: datetime, months: int = 6,
               bands: tuple[roi_rules.Band, ...] = roi_rules.DEFAULT_BANDS) -> CaseTable:
    p = periods(since, today=today, zone=zone, months=months)
    departments = _kind_departments(db)
    version = impact.facts_version(db)
    lines: list[Line] = []
    programs: dict[str, Program | None] = {}
    for kind, keys in LINES.items():
        metrics = [k for k in keys if k not in ("participation", "roi") and not k.startswith(YOY)]
        of_metric = {k: program_for(db, kind, k, design=design, now=now, version=version) for k in metrics}
        programs[kind] = of_metric[metrics[0]]
        for key in keys:
            program = programs[kind] if key == "roi" else of_metric.get(key)
            if key == "participation":
                before = participation(db, departments.get(kind, []), p.before, now=now)
                after = participation(db, departments.get(kind, []), p.after, now=now)
                lines.append(Line(kind, key, PERIODS, before=before.attendance_rate, after=after.attendance_rate,
                                  counts=(before.completed, after.completed)))
            elif key.startswith(YOY):
                lines.append(year_on_year(db, kind, key.removeprefix(YOY), p, design, departments.get(kind, [])))
            elif program is None:
                lines.append(Line(kind, key, COHORTS if key == "roi" else TRAINING))
            elif key == "roi":
                old = roi.program_roi(db, program.code, design=design, factors=factors, now=now, cohort=p.before, bands=bands)
                new = roi.program_roi(db, program.code, design=design, factors=factors, now=now, cohort=p.after, bands=bands)
                lines.append(Line(kind, key, COHORTS, program, roi_before=old, roi_after=new,
                                  counts=(_trained(old), _trained(new))))
            else:
                rep = impact.cached_effect(db, program.code, key, design=design, now=now, version=version)
                lines.append(Line(kind, key, TRAINING, program, rep.metric, effect=rep))
    return CaseTable(p, design, tuple(lines), programs)


def year_before(at: datetime) -> datetime:
    """The same weekday a year before: 52 weeks (364 days), so each week meets its counterpart."""
    return at - timedelta(weeks=52)


def _period_sums(db: Session, people: set[int], metric: str, span: impact.Cohort, design: impact_rules.Design) -> dict[int, float]:
    cells, _ = impact.load_cells(db, DEFINITIONS[metric], people, design, span[0], span[1])
    out: dict[int, float] = {}
    for c in cells:
        out[c.period] = out.get(c.period, 0.0) + c.value
    return out


def year_on_year(db: Session, kind: str, metric: str, p: Periods, design: impact_rules.Design, departments: list[int]) -> Line:
    """A summed metric over the later period against the same weeks a year before (52 weeks earlier,
    weekday for weekday), for everyone of the kind's departments then and now (those who have left
    included: their records were the department's). Only weeks that hold records on both sides count
    (the week in progress has none yet); with fewer than ``YEAR_COVERAGE`` of the period's weeks
    matched there is no history to compare, and no figure."""
    d = DEFINITIONS[metric]
    assert d.aggregation == SUM, "a year-on-year total adds records up"
    people = set(db.scalars(select(Employee.id).where(Employee.department_id.in_(departments)))) if departments else set()
    lag = round(364 / design.period_days)
    after = _period_sums(db, people, metric, p.after, design)
    before = _period_sums(db, people, metric, (year_before(p.after[0]), year_before(p.after[1])), design)
    matched = sorted(k for k in after if k - lag in before)
    first, last = impact_rules.period_of(p.after[0], design), impact_rules.period_of(p.after[1] - timedelta(microseconds=1), design)
    if not matched or len(matched) < YEAR_COVERAGE * (last - first + 1):
        return Line(kind, YOY + metric, YEAR, metric=d, before=None, after=sum(after.values()) if after else None,
                    counts=(len(matched), last - first + 1))
    return Line(kind, YOY + metric, YEAR, metric=d, before=sum(before[k - lag] for k in matched), after=sum(after[k] for k in matched),
                counts=(len(matched), last - first + 1))


def _trained(rep: roi.RoiReport) -> int:
    return max((e.sample.trained for e in rep.effects.values()), default=0)


# ---------------------------------------------------------------- weekly figures of a group of people


@dataclass(frozen=True)
class Weekly:
    """A group's metric week by week over both periods (pooled as the metric aggregates: a rate over
    its denominators, a mean over its records, a sum per person and week), and over each period."""

    metric: MetricDefinition
    weeks: tuple[date, ...]  # each week's first day, in the school's zone
    values: tuple[float | None, ...]
    before: float | None
    after: float | None
    people: int  # with a record in the span


def _pooled(cells: list[impact_rules.Cell]) -> float | None:
    weight = sum(c.weight for c in cells)
    return sum(c.value * c.weight for c in cells) / weight if weight else None


def weekly(db: Session, people: set[int], metric: str, p: Periods, design: impact_rules.Design) -> Weekly:
    d = DEFINITIONS[metric]
    cells, _ = impact.load_cells(db, d, people, design, p.before[0], p.after[1])
    first, last = impact_rules.period_of(p.before[0], design), impact_rules.period_of(p.after[1] - timedelta(microseconds=1), design)
    by_period: dict[int, list[impact_rules.Cell]] = {}
    for c in cells:
        by_period.setdefault(c.period, []).append(c)
    since = impact_rules.period_of(p.after[0], design)
    zone = p.before[0].tzinfo
    weeks = tuple(impact_rules.period_start(k, design).astimezone(zone).date() for k in range(first, last + 1))
    values = tuple(_pooled(by_period.get(k, [])) for k in range(first, last + 1))
    before = _pooled([c for c in cells if c.period < since])
    after = _pooled([c for c in cells if c.period >= since])
    return Weekly(d, weeks, values, before, after, len({c.unit for c in cells}))


def kind_people(db: Session, kind: str, department_ids: list[int] | None = None) -> set[int]:
    """Everyone in departments of the kind (or in the given departments), who has not left."""
    q = select(Employee.id).join(Department, Department.id == Employee.department_id).where(Employee.status != "left")
    q = q.where(Department.id.in_(department_ids)) if department_ids is not None else q.where(Department.kind == kind)
    return set(db.scalars(q))


def group_weekly(db: Session, kind: str, p: Periods, design: impact_rules.Design, department_ids: list[int] | None = None) -> list[Weekly]:
    """The kind's business metrics for its people (or a department's), week by week."""
    people = kind_people(db, kind, department_ids)
    return [weekly(db, people, key, p, design) for key in LINES.get(kind, ()) if key in DEFINITIONS]


def chart(w: Weekly, p: Periods, design: impact_rules.Design, name: str) -> dict:
    """What the weekly line chart draws (charts.js ``weekly``): rates in percent, the week the school
    began to measure marked."""
    scale = 100.0 if w.metric.unit == "ratio" else 1.0
    mark = impact_rules.period_start(impact_rules.period_of(p.after[0], design), design).astimezone(p.after[0].tzinfo).date()
    return {"name": name, "labels": [d.isoformat() for d in w.weeks], "values": [None if v is None else round(v * scale, 3) for v in w.values],
            "unit": "%" if w.metric.unit == "ratio" else "", "mark": mark.isoformat()}
