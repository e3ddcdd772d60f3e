"""Write a simulated training year into the database through the training models: programs, the onboarding
rule, sessions, enrolments with one EnrolmentEvent per transition, assessments (checked against their kind's
scale) and costs. Loading twice creates nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.org.models import Employee, Site, Venue
from trainquant.simulate.institution.school import SimulatedSchool
from trainquant.simulate.training.generate import ACTOR
from trainquant.simulate.training.spec import EnrolmentSpec, TrainingYear
from trainquant.training import rules
from trainquant.training.assessments.service import scale_of
from trainquant.training.models import (
    Assessment,
    AssessmentKind,
    CostItem,
    Enrolment,
    EnrolmentEvent,
    MandatoryRule,
    Program,
    TrainingSession,
)


@dataclass
class TrainingLoadSummary:
    programs: int = 0
    rules: int = 0
    sessions: int = 0
    enrolments: int = 0
    events: int = 0
    assessments: int = 0
    costs: int = 0

    @property
    def created(self) -> int:
        return self.programs + self.rules + self.sessions + self.enrolments + self.events + self.assessments + self.costs


def _programs(db: Session, year: TrainingYear, now: datetime, out: TrainingLoadSummary) -> dict[str, int]:
    ids = dict(db.execute(select(Program.code, Program.id).where(Program.code.in_([p.code for p in year.programs]))).all())
    for p in year.programs:
        if p.code in ids:
            continue
        row = Program(code=p.code, title=p.title, title_en=p.title_en, kind=p.kind, level=p.level, target_kinds=list(p.target_kinds),
                      tags=list(p.tags), aims=list(p.aims), trainer=p.trainer, planned_hours=p.planned_hours, eligibility=dict(p.eligibility),
                      requires_approval=p.requires_approval, description=p.description or None, created_at=now)
        db.add(row)
        db.flush()
        ids[p.code] = row.id
        out.programs += 1
    return ids


def _rules(db: Session, year: TrainingYear, programs: dict[str, int], now: datetime, out: TrainingLoadSummary) -> dict[str, int]:
    ids = dict(db.execute(select(MandatoryRule.code, MandatoryRule.id)).all())
    for r in year.rules:
        if r.code in ids:
            continue
        row = MandatoryRule(code=r.code, program_id=programs[r.program_code], name=r.name, condition=dict(r.condition),
                            due_days=r.due_days, created_at=now)
        db.add(row)
        db.flush()
        ids[r.code] = row.id
        out.rules += 1
    return ids


def _sessions(db: Session, year: TrainingYear, programs: dict[str, int], now: datetime, out: TrainingLoadSummary) -> dict[str, int]:
    codes = [s.code for s in year.sessions]
    ids = dict(db.execute(select(TrainingSession.code, TrainingSession.id).where(TrainingSession.code.in_(codes))).all())
    sites = dict(db.execute(select(Site.code, Site.id)).all())
    venues = {(site_id, name): vid for vid, site_id, name in db.execute(select(Venue.id, Venue.site_id, Venue.name))}
    new = []
    for s in year.sessions:
        if s.code in ids:
            continue
        site_id = sites[s.site] if s.site else None
        new.append(TrainingSession(
            code=s.code, program_id=programs[s.program_code], sequence=s.sequence, starts_at=s.starts_at, ends_at=s.ends_at,
            site_id=site_id, venue_id=venues.get((site_id, s.venue)) if s.venue and site_id is not None else None, online=s.online, trainer=s.trainer,
            capacity=s.capacity, checkin_methods=list(s.checkin_methods), status=s.status, created_at=now,
        ))
    db.add_all(new)
    db.flush()
    ids.update({s.code: s.id for s in new})
    out.sessions += len(new)
    return ids


def _enrolments(db: Session, year: TrainingYear, sessions: dict[str, int], employees: dict[str, int],
                rule_ids: dict[str, int], out: TrainingLoadSummary) -> None:
    have: set[tuple[int, int]] = {(s, e) for s, e in db.execute(select(Enrolment.session_id, Enrolment.employee_id).where(Enrolment.session_id.in_(list(sessions.values()))))}
    pending: list[tuple[Enrolment, EnrolmentSpec]] = []
    for e in year.enrolments:
        key = (sessions[e.session_code], employees[e.employee_no])
        if key in have:
            continue
        have.add(key)
        row = Enrolment(session_id=key[0], employee_id=key[1], status=e.status, source=e.source,
                        mandatory_rule_id=rule_ids.get(e.mandatory_rule) if e.mandatory_rule else None, due_date=e.due_date,
                        reason=e.reason, created_at=e.created_at, updated_at=e.events[-1].at)
        pending.append((row, e))
    db.add_all([row for row, _ in pending])
    db.flush()
    events = [
        EnrolmentEvent(enrolment_id=row.id, from_status=ev.from_status, to_status=ev.to_status, actor=ACTOR, reason=ev.reason, at=ev.at)
        for row, spec in pending for ev in spec.events
    ]
    db.add_all(events)
    db.flush()
    out.enrolments += len(pending)
    out.events += len(events)


def _assessments(db: Session, year: TrainingYear, programs: dict[str, int], sessions: dict[str, int], employees: dict[str, int],
                 now: datetime, out: TrainingLoadSummary) -> None:
    scales = {k.code: scale_of(k) for k in db.scalars(select(AssessmentKind))}
    have: set[tuple[int, str, date]] = {(e, k, on) for e, k, on in db.execute(select(Assessment.employee_id, Assessment.kind_code, Assessment.assessed_on))}
    new = []
    for a in year.assessments:
        key = (employees[a.employee_no], a.kind, a.assessed_on)
        if key in have:
            continue
        have.add(key)
        # The same check a person's entry gets: on the kind's scale, raters averaged, passed from the pass mark.
        scored = rules.score_assessment(scales[a.kind], rules.Result(
            score=None if a.score is None else Decimal(str(a.score)),
            ratings=tuple(rules.Rating(r, Decimal(str(s))) for r, s in a.ratings),
            passed=a.passed, errors=a.errors, operations=a.operations,
        ))
        new.append(Assessment(
            employee_id=key[0], kind_code=a.kind, program_id=programs[a.program_code], session_id=sessions[a.session_code],
            assessed_on=a.assessed_on, score=None if scored.score is None else float(scored.score), passed=scored.passed,
            ratings=[{"rater": r, "score": s} for r, s in a.ratings], errors=a.errors, operations=a.operations,
            rater=a.rater, created_by=ACTOR, created_at=now,
        ))
    db.add_all(new)
    db.flush()
    out.assessments += len(new)


def _costs(db: Session, year: TrainingYear, programs: dict[str, int], sessions: dict[str, int], now: datetime,
           out: TrainingLoadSummary) -> None:
    # A session may carry two items of one category on one day (its trainer's fee and the role-play actors'): the note tells them apart.
    have: set[tuple[int | None, str, date | None, str | None]] = {
        (s, c, on, note) for s, c, on, note in db.execute(select(CostItem.session_id, CostItem.category, CostItem.incurred_on, CostItem.note))}
    new = []
    for c in year.costs:
        key = (sessions[c.session_code], c.category, c.incurred_on, c.note)
        if key in have:
            continue
        have.add(key)
        new.append(CostItem(program_id=programs[c.program_code], session_id=key[0], category=c.category, amount=c.amount, share=c.share,
                            currency="CNY", incurred_on=c.incurred_on, note=c.note, created_by=ACTOR, created_at=now))
    db.add_all(new)
    db.flush()
    out.costs += len(new)


def load_training(db: Session, school: SimulatedSchool, year: TrainingYear, *, now: datetime) -> TrainingLoadSummary:
    """Write ``year`` (the school must be loaded already). Never commits."""
    out = TrainingLoadSummary()
    nos = {e.employee_no for e in school.employees}
    employees = dict(db.execute(select(Employee.employee_no, Employee.id).where(Employee.employee_no.in_(nos))).all())
    programs = _programs(db, year, now, out)
    rule_ids = _rules(db, year, programs, now, out)
    sessions = _sessions(db, year, programs, now, out)
    _enrolments(db, year, sessions, employees, rule_ids, out)
    _assessments(db, year, programs, sessions, employees, now, out)
    _costs(db, year, programs, sessions, now, out)
    return out
