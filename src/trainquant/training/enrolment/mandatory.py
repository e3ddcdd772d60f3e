"""Mandatory rules ("new teachers must attend onboarding within 30 days") and the run that applies them.

A run enrols whoever matches a rule and has not yet been enrolled, completed the program or been let off
by HR; running it again changes nothing."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from trainquant.errors import Conflict, NotFound
from trainquant.org.models import Employee
from trainquant.training import rules, schemas
from trainquant.training.enrolment.service import perform
from trainquant.training.lookups import get_session, program_ref, seat_counts
from trainquant.training.models import (
    Enrolment,
    MandatoryRule,
    Program,
    TrainingSession,
)
from trainquant.training.programs.service import check_prerequisites


def get_rule(db: Session, code: str) -> MandatoryRule:
    rule = db.scalar(select(MandatoryRule).where(MandatoryRule.code == code).options(joinedload(MandatoryRule.program)))
    if rule is None:
        raise NotFound(f"no mandatory rule with code {code!r}")
    return rule


def rule_read(rule: MandatoryRule) -> schemas.MandatoryRuleRead:
    return schemas.MandatoryRuleRead(
        id=rule.id, code=rule.code, name=rule.name, program_code=rule.program.code, condition=dict(rule.condition or {}),
        due_days=rule.due_days, active=rule.active, created_at=rule.created_at,
    )


def list_rules(db: Session) -> list[MandatoryRule]:
    return list(db.scalars(select(MandatoryRule).options(joinedload(MandatoryRule.program)).order_by(MandatoryRule.code)))


def create_rule(db: Session, body: schemas.MandatoryRuleCreate, *, now: datetime) -> MandatoryRule:
    if db.scalar(select(MandatoryRule.id).where(MandatoryRule.code == body.code)) is not None:
        raise Conflict(f"mandatory rule {body.code!r} already exists", code="rule-code-taken")
    program = program_ref(db, body.program_code)
    check_prerequisites(db, body.condition, program.code, "condition.prerequisites")
    rule = MandatoryRule(
        code=body.code, name=body.name, program_id=program.id, condition=body.condition.stored(), due_days=body.due_days,
        active=body.active, created_at=now,
    )
    db.add(rule)
    db.flush()
    return get_rule(db, rule.code)


def update_rule(db: Session, code: str, body: schemas.MandatoryRuleUpdate) -> MandatoryRule:
    rule = get_rule(db, code)
    data = body.model_dump(exclude_unset=True, exclude={"condition"})
    if body.condition is not None:
        check_prerequisites(db, body.condition, rule.program.code, "condition.prerequisites")
        rule.condition = body.condition.stored()
    for key, value in data.items():
        if value is not None:
            setattr(rule, key, value)
    db.flush()
    return rule


def delete_rule(db: Session, code: str) -> None:
    # Enrolments it made stay (source "mandatory"); they just no longer point at a rule.
    db.delete(get_rule(db, code))
    db.flush()


# ---------------------------------------------------------------- the run


def _completed(db: Session, *, now: datetime) -> dict[int, set[str]]:
    out: dict[int, set[str]] = defaultdict(set)
    rows = db.execute(
        select(Enrolment.employee_id, Program.code)
        .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .join(Program, Program.id == TrainingSession.program_id)
        .where(Enrolment.status == rules.APPROVED, TrainingSession.status != "cancelled", TrainingSession.ends_at <= now)
    )
    for employee_id, code in rows:
        out[employee_id].add(code)
    return out


def _program_enrolments(db: Session, program: Program) -> dict[int, list[tuple[int, rules.ProgramEnrolment]]]:
    out: dict[int, list[tuple[int, rules.ProgramEnrolment]]] = defaultdict(list)
    rows = db.execute(
        select(Enrolment.employee_id, Enrolment.session_id, Enrolment.status, Enrolment.mandatory_rule_id, TrainingSession.ends_at, TrainingSession.status)
        .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .where(TrainingSession.program_id == program.id)
    )
    for employee_id, session_id, status, rule_id, ends_at, session_status in rows:
        out[employee_id].append((session_id, rules.ProgramEnrolment(status, ends_at, session_status == "cancelled", rule_id)))
    return out


def _busy(db: Session, *, now: datetime) -> defaultdict[int, list[tuple[datetime, datetime]]]:
    """Per employee, the times of their live places (requested, approved, waiting) in sessions still to end."""
    out: defaultdict[int, list[tuple[datetime, datetime]]] = defaultdict(list)
    rows = db.execute(
        select(Enrolment.employee_id, TrainingSession.starts_at, TrainingSession.ends_at)
        .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .where(Enrolment.status.in_((rules.REQUESTED, rules.APPROVED, rules.WAITLISTED)), TrainingSession.status != "cancelled",
               TrainingSession.ends_at > now)
    )
    for employee_id, starts_at, ends_at in rows:
        out[employee_id].append((starts_at, ends_at))
    return out


def _openings(db: Session, program: Program, *, now: datetime) -> tuple[list[rules.Opening], dict[int, str]]:
    sessions = list(
        db.scalars(
            select(TrainingSession).where(TrainingSession.program_id == program.id, TrainingSession.status == "scheduled", TrainingSession.starts_at > now)
        )
    )
    counts = seat_counts(db, [s.id for s in sessions])
    openings = [
        rules.Opening(s.id, s.starts_at, s.capacity, counts.get(s.id, Counter()).get(rules.APPROVED, 0), counts.get(s.id, Counter()).get(rules.WAITLISTED, 0),
                      s.ends_at)
        for s in sessions
    ]
    return openings, {s.id: s.code for s in sessions}


def run(db: Session, *, now: datetime, today: date, timezone: str, rule_code: str | None = None, dry_run: bool = False) -> schemas.MandatoryRunRead:
    """Apply the active mandatory rules (or one). A dry run reports what it would do and writes nothing."""
    savepoint = db.begin_nested() if dry_run else None
    try:
        report = _run(db, now=now, today=today, timezone=timezone, rule_code=rule_code, dry_run=dry_run)
    finally:
        if savepoint is not None:
            savepoint.rollback()
    return report


def _run(db: Session, *, now: datetime, today: date, timezone: str, rule_code: str | None, dry_run: bool) -> schemas.MandatoryRunRead:
    if rule_code is not None:
        chosen = [get_rule(db, rule_code)]
        if not chosen[0].active:
            raise Conflict(f"mandatory rule {rule_code!r} is not active", code="rule-inactive")
    else:
        chosen = [r for r in list_rules(db) if r.active]
    staff = list(
        db.scalars(select(Employee).where(Employee.status != "left").options(joinedload(Employee.department)).order_by(Employee.employee_no))
    )
    completed = _completed(db, now=now)
    busy = _busy(db, now=now)
    outcomes: list[schemas.MandatoryOutcome] = []
    already = 0
    for rule in chosen:
        program = rule.program
        if not program.active:
            continue
        condition = rules.Eligibility.from_json(rule.condition)
        existing = _program_enrolments(db, program)
        openings, codes = _openings(db, program, now=now)
        rule_start = rule.created_at.astimezone(ZoneInfo(timezone)).date()
        actor = rules.Actor(name=f"rule:{rule.code}"[:64], can_manage=True, department_ids=None)
        for emp in staff:
            who = rules.Candidate(emp.department.kind, frozenset(t.tag for t in emp.tags), emp.hire_date, emp.status, frozenset(completed[emp.id]))
            if rules.eligibility_failures(condition, who, today=today):
                continue
            prior = existing.get(emp.id, [])
            if rules.mandatory_need([p for _sid, p in prior], rule_id=rule.id, now=now) != "enrol":
                already += 1
                continue
            due = rules.mandatory_due_date(hire_date=emp.hire_date, rule_start=rule_start, due_days=rule.due_days)
            # A session where the employee already has a live or decided place is not offered again.
            taken = {sid for sid, p in prior if p.status != rules.CANCELLED}
            offered = [o for o in openings if o.session_id not in taken and o.starts_at > now]
            opening = rules.pick_session(rules.free_of(offered, busy[emp.id]), now=now)
            outcome = {"rule_code": rule.code, "employee_no": emp.employee_no, "employee_name": emp.name, "due_date": due}
            if opening is None:
                outcomes.append(schemas.MandatoryOutcome(**outcome, outcome="busy" if offered else "unscheduled", session_code=None))
                continue
            session = get_session(db, codes[opening.session_id], lock=True)
            try:
                row = perform(
                    db, session, emp, "enrol", actor=actor, now=now, today=today, reason=f"mandatory rule {rule.code}",
                    source="mandatory", rule_id=rule.id, due_date=due,
                )
            except Conflict as clash:
                if clash.code != "person-busy":  # enrolled elsewhere meanwhile: their time is taken, not the run
                    raise
                outcomes.append(schemas.MandatoryOutcome(**outcome, outcome="busy", session_code=None))
                continue
            busy[emp.id].append((session.starts_at, session.ends_at))
            seated = row.status == rules.APPROVED
            updated = replace(opening, approved=opening.approved + seated, waiting=opening.waiting + (not seated))
            openings = [updated if o.session_id == opening.session_id else o for o in openings]
            outcomes.append(schemas.MandatoryOutcome(**outcome, outcome=row.status, session_code=session.code))
    return schemas.MandatoryRunRead(
        dry_run=dry_run,
        enrolled=sum(o.outcome == "approved" for o in outcomes),
        waitlisted=sum(o.outcome == "waitlisted" for o in outcomes),
        unscheduled=sum(o.outcome == "unscheduled" for o in outcomes),
        busy=sum(o.outcome == "busy" for o in outcomes),
        already=already,
        outcomes=outcomes,
    )
