"""A person's business effect of each training they attended, and HR marking their way of working as
their department's template (R3.3: "process time 30 -> 24 min, -20%, excellent; the method becomes
the department's template").

A person's figures come from their program's sample (the whole comparison pool): before and after
their training (the naive windows), and what the imputation says their post window would have
averaged without it (``estimate.person_effects``). Their gain is the isolated one, in percent of that
counterfactual in the metric's better direction, and is rated by the gain bands. A person's effect
is far noisier than a program's; the program's credibility is shown beside it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.analytics.impact import rules as impact_rules
from trainquant.analytics.impact import service as impact
from trainquant.analytics.models import DepartmentTemplate
from trainquant.analytics.roi import rules as roi_rules
from trainquant.auth.permissions import DataScope
from trainquant.errors import Conflict, Invalid, NotFound
from trainquant.integrations.metrics.rules import DEFINITIONS, HIGHER, MetricDefinition
from trainquant.org.models import Department, Employee
from trainquant.org.service import get_employee
from trainquant.training.lookups import get_program
from trainquant.training.models import Program

# The business metrics of each department kind: what a program with no stated aims is looked at for, and
# what the case page lists per program.
KIND_METRICS = {"teaching": ("teaching.rating.overall", "teaching.rating.interaction", "teaching.retention"),
                "marketing": ("crm.conversion_rate", "crm.order_amount"),
                "admin": ("oa.minutes_per_operation", "oa.error_rate", "oa.operating_cost")}


@dataclass(frozen=True)
class PersonEffect:
    program: Program
    metric: MetricDefinition
    trained_at: datetime
    naive: tuple[float, float] | None  # their value before and after the training
    imputed: tuple[float, float] | None  # their post window without the training (imputed), and as it was
    finding: impact_rules.Finding  # the program's: how far its effect on this metric can be trusted
    band: str | None

    @property
    def effect(self) -> float | None:
        return None if self.imputed is None else self.imputed[1] - self.imputed[0]

    @property
    def gain_percent(self) -> Decimal | None:
        """The isolated gain over the counterfactual, positive when better (30 -> 24 min is +20)."""
        if self.imputed is None or not self.imputed[0]:
            return None
        change = roi_rules.relative(Decimal(repr(self.imputed[0])), Decimal(repr(self.imputed[1])))
        if change is None:
            return None
        return change if self.metric.better == HIGHER else -change


def _metrics(program: Program, kind: str) -> tuple[str, ...]:
    return tuple(program.aims) if program.aims else KIND_METRICS.get(kind, ())


def person_effects(db: Session, employee: Employee, *, design: impact_rules.Design, now: datetime,
                   bands: tuple[roi_rules.Band, ...] = roi_rules.DEFAULT_GAIN_BANDS) -> list[PersonEffect]:
    """Per training the person attended and metric it aims at: their figures, latest training first."""
    version = impact.facts_version(db)
    kind = employee.department.kind
    out: list[PersonEffect] = []
    done = sorted(impact.trainings(db, until=now, employee_ids=[employee.id]), key=lambda t: t[2], reverse=True)
    for _eid, program_id, at in done:
        program = db.get(Program, program_id)
        assert program is not None
        for metric in _metrics(program, kind):
            rep = impact.cached_effect(db, program.code, metric, design=design, now=now, version=version)
            if not rep.sample.rows:
                continue  # no records of this metric for these people
            naive = impact_rules.person_naive(rep.sample, design).get(employee.id)
            imputed = impact.cached_person_effects(db, program.code, metric, design=design, now=now, version=version).get(employee.id)
            pe = PersonEffect(program, rep.metric, at, naive, imputed, rep.finding, None)
            gain = pe.gain_percent
            out.append(pe if gain is None else replace(pe, band=roi_rules.band(gain, bands)))
    return out


# ---------------------------------------------------------------- department templates


def mark_template(db: Session, *, employee_no: str, metric: str, program_code: str, note: str, by: str, now: datetime,
                  scope: DataScope, design: impact_rules.Design, bands: tuple[roi_rules.Band, ...]) -> DepartmentTemplate:
    """The person's way of working becomes their department's template for the metric, with the figures
    it was marked on; the department's current template for the metric is retired."""
    employee = get_employee(db, employee_no, scope)
    if metric not in DEFINITIONS:
        raise NotFound(f"no metric {metric!r}", code="unknown-metric")
    program = get_program(db, program_code)
    if not note.strip():
        raise Invalid("say what the way of working is: the department will follow the note", code="template-note")
    mine = [p for p in person_effects(db, employee, design=design, now=now, bands=bands) if p.program.id == program.id and p.metric.key == metric]
    if not mine or mine[0].imputed is None:
        raise Conflict(f"{employee_no} has no measured effect of {program_code} on {metric} to mark", code="template-not-measured")
    pe = mine[0]
    current = db.scalar(select(DepartmentTemplate).where(DepartmentTemplate.department_id == employee.department_id,
                                                          DepartmentTemplate.metric_key == metric, DepartmentTemplate.active.is_(True)))
    if current is not None:
        current.active, current.retired_by, current.retired_at = False, by, now
        db.flush()  # the partial unique index allows the new current template only once this one is retired
    row = DepartmentTemplate(department_id=employee.department_id, employee_id=employee.id, metric_key=metric, program_id=program.id,
                             note=note.strip(), before=pe.naive[0] if pe.naive else None, after=pe.naive[1] if pe.naive else None,
                             effect=pe.effect, band=pe.band, active=True, marked_by=by, marked_at=now)
    db.add(row)
    db.flush()
    return row


def retire_template(db: Session, template_id: int, *, by: str, now: datetime, scope: DataScope) -> DepartmentTemplate:
    row = db.get(DepartmentTemplate, template_id)
    if row is None or not scope.allows(department_id=row.department_id, employee_id=row.employee_id):
        raise NotFound(f"no template {template_id}", code="template-not-found")
    if row.active:
        row.active, row.retired_by, row.retired_at = False, by, now
        db.flush()
    return row


def templates(db: Session, scope: DataScope, *, department_ids: list[int] | None = None, employee_id: int | None = None,
              current_only: bool = True) -> list[DepartmentTemplate]:
    """Templates visible to the reader (their department's, or all), newest first."""
    q = select(DepartmentTemplate).join(Department, Department.id == DepartmentTemplate.department_id)
    if current_only:
        q = q.where(DepartmentTemplate.active.is_(True))
    if department_ids is not None:
        q = q.where(DepartmentTemplate.department_id.in_(department_ids))
    if employee_id is not None:
        q = q.where(DepartmentTemplate.employee_id == employee_id)
    rows = db.scalars(q.order_by(DepartmentTemplate.marked_at.desc(), DepartmentTemplate.id.desc()))
    return [r for r in rows if scope.allows(department_id=r.department_id, employee_id=r.employee_id)]
