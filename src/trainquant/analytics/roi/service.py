"""A program's return, from its stored costs, its participants' attended time and the isolated
effects on the business metrics (``analytics.impact``), through ``roi.rules``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trainquant.analytics.impact import rules as impact_rules
from trainquant.analytics.impact.service import Cohort, EffectReport, Pool, cached_effect, facts_version, load_cells
from trainquant.analytics.roi import rules
from trainquant.attendance.models import AttendanceRecord
from trainquant.errors import Invalid
from trainquant.integrations.metrics.rules import DEFINITIONS
from trainquant.org.models import Employee
from trainquant.training.lookups import get_program
from trainquant.training.models import CostItem, Program, TrainingSession

# The effects a program's ROI is built from, and those shown beside them (never money: counted once elsewhere).
MONETIZED = ("crm.order_amount", "teaching.retention", "teaching.rating.overall", "oa.minutes_per_operation", "oa.error_rate")
SHOWN = ("crm.conversion_rate", "teaching.rating.interaction")
USABLE = (impact_rules.CREDIBLE, impact_rules.INCONCLUSIVE)


@dataclass(frozen=True)
class RoiReport:
    program: Program
    roi: rules.Roi
    effects: dict[str, EffectReport]
    factors: tuple[rules.Factor, ...]
    band: str | None  # of the conservative ROI %
    benefit_weeks: Decimal  # the horizon the benefits are counted over


def factors_from(overrides: dict[str, Any]) -> dict[str, rules.Factor]:
    """The defaults with the school's replacements (``TQ_ROI_FACTORS``: key -> {value, source, version})."""
    out = dict(rules.DEFAULT_FACTORS)
    for key, given in overrides.items():
        base = out.get(key)
        if base is None:
            raise Invalid(f"no ROI factor {key!r}; known: {', '.join(sorted(out))}", code="unknown-roi-factor")
        try:
            value = Decimal(str(given["value"]))
        except (KeyError, ArithmeticError, TypeError, ValueError):
            raise Invalid(f"ROI factor {key}: give a numeric value", code="roi-factor-value") from None
        if key == "benefit_weeks" and not 0 <= value <= rules.WEEKS_PER_YEAR:
            raise Invalid("ROI factor benefit_weeks is between 0 (the weeks measured) and 52 (the first year)", code="roi-factor-value")
        out[key] = rules.Factor(key, value, base.unit, str(given.get("source") or "set by the school"), str(given.get("version") or "school"),
                                date.fromisoformat(str(given.get("valid_from") or base.valid_from.isoformat())))
    return out


def bands_from(settings_bands: dict[str, dict[str, float]], scale: str) -> tuple[rules.Band, ...]:
    """A scale's bands (``roi`` or ``gain``) with the school's lowest figures (``TQ_RATING_BANDS``), in order."""
    defaults = {"roi": rules.DEFAULT_BANDS, "gain": rules.DEFAULT_GAIN_BANDS}
    unknown = sorted(set(settings_bands) - set(defaults))
    if unknown:
        raise Invalid(f"no rating scale {', '.join(unknown)}; known: gain, roi", code="unknown-rating-scale")
    given = settings_bands.get(scale, {})
    if set(given) - set(rules.BAND_CODES[:-1]):
        raise Invalid(f"rating bands of {scale}: give excellent, good and fair (poor is what is left)", code="rating-band")
    try:
        lowest = {code: Decimal(str(v)) for code, v in given.items()}
    except ArithmeticError:
        raise Invalid(f"rating bands of {scale}: give numbers", code="rating-band") from None
    out = rules.bands(lowest, defaults[scale])
    if [b.code for b in out] != list(rules.BAND_CODES):
        raise Invalid(f"rating bands of {scale}: excellent > good > fair", code="rating-band")
    return out


def _decimal(x: float) -> Decimal:
    return Decimal(repr(x)).quantize(Decimal("0.000001"))


def _costs(db: Session, program: Program, cohort: Cohort | None = None) -> rules.Costs:
    """The program's fully loaded costs; of a ``cohort``, those of the sessions that started in it, with
    the program-wide items (design, needs analysis: no session of their own) prorated by its share of
    the program's held sessions."""
    held = select(TrainingSession.id, TrainingSession.starts_at).where(TrainingSession.program_id == program.id,
                                                                      TrainingSession.status != "cancelled")
    sessions: dict[int, datetime] = dict(db.execute(held).all())
    if cohort is not None:
        sessions = {sid: at for sid, at in sessions.items() if cohort[0] <= at < cohort[1]}
        total = db.scalar(select(func.count()).select_from(held.subquery())) or 0
        fraction = Decimal(len(sessions)) / Decimal(total) if total else Decimal(0)
    else:
        fraction = Decimal(1)
    lines = []
    for category, amount, share, session_id in db.execute(select(CostItem.category, CostItem.amount, CostItem.share, CostItem.session_id)
                                                          .where(CostItem.program_id == program.id)):
        if session_id is None:
            lines.append(rules.CostLine(category, amount, share * fraction))
        elif cohort is None or session_id in sessions:
            lines.append(rules.CostLine(category, amount, share))
    attended = [rules.Attended(eid, seconds // 60, hourly)
                for eid, seconds, hourly in db.execute(
                    select(AttendanceRecord.employee_id, AttendanceRecord.attended_seconds, Employee.hourly_cost)
                    .join(TrainingSession, TrainingSession.id == AttendanceRecord.session_id)
                    .join(Employee, Employee.id == AttendanceRecord.employee_id)
                    .where(TrainingSession.program_id == program.id, TrainingSession.status != "cancelled",
                           AttendanceRecord.session_id.in_(sorted(sessions))))]
    return rules.fully_loaded(lines, attended)


def _volume(rep: EffectReport) -> Decimal:
    """What each trained person handles per period where the effect applies: a rate's denominator
    (students up for renewal, operations) as their treated cells weigh; 1 for money and means."""
    if rep.metric.aggregation != "ratio":
        return Decimal(1)
    rows = rep.sample.treated_rows
    people = {r.unit for r in rows} or {0}
    return _decimal(sum(r.weight for r in rows) / len(people) / max(1, rep.design.post))


def _students(db: Session, rep: EffectReport) -> Decimal | None:
    """Students each trained teacher has up for renewal per period, for a rating's chain to money."""
    trained = {r.unit for r in rep.sample.treated_rows}
    if not trained:
        return None
    first, last = rep.sample.span
    cells, _ = load_cells(db, DEFINITIONS["teaching.students"], trained, rep.design, impact_rules.period_start(first, rep.design),
                          impact_rules.period_start(last + 1, rep.design))
    if not cells:
        return None
    return _decimal(sum(c.value for c in cells) / len(cells))


def program_roi(db: Session, code: str, *, design: impact_rules.Design, factors: dict[str, rules.Factor], now: datetime,
                cohort: Cohort | None = None, bands: tuple[rules.Band, ...] = rules.DEFAULT_BANDS) -> RoiReport:
    """A program's ROI; with a ``cohort``, of the people trained in it against the costs of its sessions."""
    program = get_program(db, code)
    costs = _costs(db, program, cohort)
    version = facts_version(db)
    pools: dict[tuple, Pool] = {}
    reports = {m: cached_effect(db, code, m, design=design, now=now, version=version, cohort=cohort, pools=pools)
               for m in (*MONETIZED, *SHOWN)}
    measured = Decimal(design.post * design.period_days) / 7
    periods = rules.horizon(factors["benefit_weeks"].value, measured_weeks=measured, period_days=design.period_days)
    effects: list[rules.Effect] = []
    for metric, rep in reports.items():
        if not rep.sample.rows:
            continue  # no records of this metric for these people: not part of this program's story
        e = rep.estimate
        usable = e is not None and rep.finding.status in USABLE
        volume = _volume(rep)
        if metric == "teaching.rating.overall":
            volume = _students(db, rep) or Decimal(0)
        effects.append(rules.Effect(metric, _decimal(e.effect) if e else Decimal(0), _decimal(e.low) if e else Decimal(0),
                                    _decimal(e.high) if e else Decimal(0), people=rep.sample.trained, volume=volume,
                                    periods=periods, usable=usable, claimed=rep.finding.status == impact_rules.CREDIBLE))
    trained = db.scalars(select(Employee.hourly_cost).where(Employee.id.in_(sorted({r.unit for rep in reports.values() for r in rep.sample.treated_rows}))))
    known = [h for h in trained if h is not None]
    hourly = sum(known, Decimal(0)) / len(known) if known else None
    items = rules.benefits(effects, factors, hourly_cost=hourly)
    orders = reports["crm.order_amount"]
    orders_after = None
    if orders.sample.treated_rows:
        orders_after = rules.money(sum((_decimal(r.value * r.weight) for r in orders.sample.treated_rows), Decimal(0)))
    result = rules.roi(costs, items, orders_after=orders_after)
    used = sorted({k for b in items for k in b.factors} | {"benefit_weeks"})
    return RoiReport(program, result, reports, tuple(factors[k] for k in used), rules.band(result.conservative.roi_percent, bands),
                     (periods * design.period_days / 7).quantize(Decimal("0.1")))
