"""Enrolment use cases: request, HR enrolment, approve, reject, override, cancel; the approval inbox; listings.

Every decision is made by the pure state machine in rules.py; this module loads the roster, applies the
changes it returns and records each of them as an EnrolmentEvent."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, contains_eager, joinedload

from trainquant.auth.permissions import DataScope, Principal
from trainquant.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from trainquant.org.models import Employee, EmployeeTag
from trainquant.org.service import get_department, scoped
from trainquant.org.tree import department_subtree
from trainquant.pagination import PageParams, paginate
from trainquant.training import rules, schemas
from trainquant.training.lookups import employee_ref, get_session, refusal, session_ref
from trainquant.training.models import (
    Enrolment,
    EnrolmentEvent,
    Program,
    TrainingSession,
)

OVERRIDES = {"approve": "override_approve", "reject": "override_reject"}
ELIGIBILITY_SKIPPED, OVERLAP_ALLOWED, LATE_ENTRY = "eligibility-skipped", "overlap-allowed", "late-entry"


def actor_for(principal: Principal) -> rules.Actor:
    return rules.Actor(
        name=principal.name[:64],
        employee_id=principal.employee_id,
        can_enrol=principal.can("training:enrol"),
        can_approve=principal.can("training:approve"),
        can_manage=principal.can("training:manage"),
        department_ids=None if principal.scope.all else principal.scope.department_ids,
    )


# ---------------------------------------------------------------- the roster and its changes


def load_roster(db: Session, session: TrainingSession) -> tuple[dict[int, Enrolment], list[rules.Place]]:
    rows = {e.employee_id: e for e in db.scalars(select(Enrolment).where(Enrolment.session_id == session.id))}
    places = [rules.Place(e.employee_id, e.status, e.source, e.waitlist_position) for e in rows.values()]
    return rows, places


def session_state(session: TrainingSession) -> rules.SessionState:
    return rules.SessionState(
        starts_at=session.starts_at,
        capacity=session.capacity,
        cancelled=session.status == "cancelled",
        requires_approval=session.program.requires_approval,
        program_active=session.program.active,
    )


def apply_changes(
    db: Session,
    session: TrainingSession,
    rows: dict[int, Enrolment],
    changes: tuple[rules.Change, ...],
    *,
    now: datetime,
    source: str = "self",
    rule_id: int | None = None,
    due_date: date | None = None,
    exceptions: dict[int, list[str]] | None = None,
) -> dict[int, Enrolment]:
    """``exceptions``: per employee, what the step that seats or queues them overrode (kept on the row and its event)."""
    for c in changes:
        row = rows.get(c.employee_id)
        if row is None:
            row = Enrolment(session_id=session.id, employee_id=c.employee_id, status=c.to_status, source=source, created_at=now, updated_at=now)
            db.add(row)
            rows[c.employee_id] = row
        if c.from_status in (None, rules.CANCELLED) and c.to_status in rules.ACTIVE:
            # A new or reopened enrolment: who asked for it this time.
            row.source, row.mandatory_rule_id, row.due_date = source, rule_id, due_date
        row.status, row.waitlist_position, row.updated_at = c.to_status, c.waitlist_position, now
        if c.reason:
            row.reason = c.reason
        marks = (exceptions or {}).get(c.employee_id, []) if c.from_status in (None, rules.CANCELLED) else []
        if c.from_status in (None, rules.CANCELLED) and c.to_status in rules.ACTIVE:
            row.exceptions = sorted(marks)  # a reopened place carries only what this enrolment overrode
        db.flush()
        db.add(EnrolmentEvent(enrolment_id=row.id, from_status=c.from_status, to_status=c.to_status, actor=c.actor[:64], reason=c.reason,
                              exceptions=sorted(marks), at=now))
    db.flush()
    return rows


def completed_programs(db: Session, employee_id: int, *, now: datetime) -> frozenset[str]:
    """Programs with an approved enrolment in a session that has ended (what prerequisites ask for)."""
    return frozenset(
        db.scalars(
            select(Program.code)
            .join(TrainingSession, TrainingSession.program_id == Program.id)
            .join(Enrolment, Enrolment.session_id == TrainingSession.id)
            .where(
                Enrolment.employee_id == employee_id,
                Enrolment.status == rules.APPROVED,
                TrainingSession.status != "cancelled",
                TrainingSession.ends_at <= now,
            )
            .distinct()
        )
    )


def candidate(db: Session, emp: Employee, *, now: datetime) -> rules.Candidate:
    return rules.Candidate(
        department_kind=emp.department.kind,
        tags=frozenset(t.tag for t in emp.tags),
        hire_date=emp.hire_date,
        status=emp.status,
        completed=completed_programs(db, emp.id, now=now),
    )


def eligibility_failures(db: Session, program: Program, emp: Employee, *, now: datetime, today: date) -> tuple[rules.Failure, ...]:
    return rules.eligibility_failures(rules.Eligibility.from_json(program.eligibility), candidate(db, emp, now=now), today=today)


def perform(
    db: Session,
    session: TrainingSession,
    emp: Employee,
    action: str,
    *,
    actor: rules.Actor,
    now: datetime,
    today: date,
    reason: str | None = None,
    source: str = "self",
    rule_id: int | None = None,
    due_date: date | None = None,
    check_eligibility: bool = False,
    allow_overlap: bool = False,
) -> Enrolment:
    rows, places = load_roster(db, session)
    try:
        changes = rules.act(
            action, actor=actor, employee_id=emp.id, department_id=emp.department_id, session=session_state(session),
            places=places, now=now, reason=reason,
        )
    except rules.Refused as refused:
        raise refusal(refused) from None
    if action in ("request", "enrol") and emp.status == "left":  # not even HR's skip of the rules enrols a leaver
        raise Invalid(f"{emp.employee_no} has left", code="employee-left", errors=[{"field": "eligibility.status", "code": "status", "message": "the employee has left"}])
    overridden: list[str] = []
    # Judged when they decide, or when HR's skip needs to know whether it overrode anything (not for rule runs).
    judged = action in ("request", "enrol") and (check_eligibility or source == "hr")
    failures = eligibility_failures(db, session.program, emp, now=now, today=today) if judged else ()
    if check_eligibility:
        if failures:
            raise Invalid(
                f"{emp.employee_no} is not eligible for {session.program.code}: " + "; ".join(f.message for f in failures),
                code="not-eligible",
                errors=[{"field": f"eligibility.{f.condition}", "code": f.condition, "message": f.message} for f in failures],
            )
    elif failures and source == "hr":
        overridden.append(ELIGIBILITY_SKIPPED)  # HR enrolled someone the rules turn away
    clashes = overlapping(db, emp.id, session) if action in ("request", "enrol") else []
    if clashes and not allow_overlap:  # a warning to confirm, not a rule: a person may choose to split their time
        codes = [c.code for c in clashes]
        raise Conflict(
            f"{emp.employee_no} is already enrolled in {', '.join(codes)} at an overlapping time; send allow_overlap: true to enrol anyway",
            code="person-busy", errors=[{"field": "allow_overlap", "code": "person-busy", "message": f"overlaps {', '.join(codes)}"}],
            clashing_sessions=codes, employee_no=emp.employee_no,
        )
    if clashes:
        overridden.append(OVERLAP_ALLOWED)
    if action == "enrol" and now >= session.starts_at:
        overridden.append(LATE_ENTRY)  # rules.act let it through: HR, with a reason
    rows = apply_changes(db, session, rows, changes, now=now, source=source, rule_id=rule_id, due_date=due_date,
                         exceptions={emp.id: overridden} if overridden else None)
    return rows[emp.id]


def overlapping(db: Session, employee_id: int, session: TrainingSession) -> list[TrainingSession]:
    """The person's other sessions (requested, approved or waiting; not cancelled) at a time that overlaps
    ``session`` (touching ends are fine)."""
    return list(db.scalars(
        select(TrainingSession).join(Enrolment, Enrolment.session_id == TrainingSession.id).where(
            Enrolment.employee_id == employee_id, Enrolment.status.in_((rules.REQUESTED, rules.APPROVED, rules.WAITLISTED)),
            TrainingSession.id != session.id, TrainingSession.status != "cancelled",
            TrainingSession.starts_at < session.ends_at, TrainingSession.ends_at > session.starts_at,
        ).order_by(TrainingSession.starts_at)
    ))


def resize_session(db: Session, session: TrainingSession, capacity: int | None, *, now: datetime) -> None:
    rows, places = load_roster(db, session)
    try:
        changes = rules.resize(places, capacity=capacity, started=now >= session.starts_at)
    except rules.Refused as refused:
        raise refusal(refused) from None
    session.capacity = capacity
    apply_changes(db, session, rows, changes, now=now)


# ---------------------------------------------------------------- the actions


def request(db: Session, principal: Principal, body: schemas.EnrolmentRequest, *, now: datetime, today: date) -> Enrolment:
    no_employee = Forbidden("this account is not linked to an employee, so it cannot request enrolment for itself", code="no-employee-record")
    if principal.employee_id is None:
        raise no_employee
    session = session_ref(db, body.session_code, lock=True)
    emp = db.scalar(select(Employee).where(Employee.id == principal.employee_id).options(joinedload(Employee.department)))
    if emp is None:  # deleted since the account was loaded (the link is SET NULL)
        raise no_employee
    return perform(db, session, emp, "request", actor=actor_for(principal), now=now, today=today, reason=body.reason, check_eligibility=True,
                   allow_overlap=body.allow_overlap)


def hr_enrol(db: Session, principal: Principal, body: schemas.HrEnrol, *, now: datetime, today: date) -> Enrolment:
    session = session_ref(db, body.session_code, lock=True)
    emp = employee_ref(db, body.employee_no)
    return perform(
        db, session, emp, "enrol", actor=actor_for(principal), now=now, today=today, reason=body.reason, source="hr",
        check_eligibility=not body.skip_eligibility, allow_overlap=body.allow_overlap,
    )


BULK_MAX = 1000  # people enrolled in one request


@dataclass(frozen=True)
class BulkEnrolment:
    enrolled: list[tuple[str, str]]  # (employee no, status: approved / waitlisted / requested)
    refused: list[tuple[str, DomainError]]  # each with why, in the order asked


def hr_enrol_many(db: Session, principal: Principal, session_code: str, employee_nos: Iterable[str], *, reason: str | None,
                  now: datetime, today: date) -> BulkEnrolment:
    """HR enrols many people into one session (a department, a tag, a slot's group), each as
    ``hr_enrol`` would: one refused (not eligible, already enrolled, busy) is kept with its reason and
    never stops the others. Each person in a savepoint of their own."""
    wanted = list(dict.fromkeys(n.strip() for n in employee_nos if n and n.strip()))
    if len(wanted) > BULK_MAX:
        raise Invalid(f"at most {BULK_MAX} people at once", code="bulk-too-many")
    enrolled: list[tuple[str, str]] = []
    refused: list[tuple[str, DomainError]] = []
    for no in wanted:
        try:
            with db.begin_nested():
                row = hr_enrol(db, principal, schemas.HrEnrol(session_code=session_code, employee_no=no, reason=reason), now=now, today=today)
            enrolled.append((no, row.status))
        except DomainError as err:
            refused.append((no, err))
    return BulkEnrolment(enrolled, refused)


@dataclass(frozen=True)
class BulkDecision:
    done: list[tuple[int, str]]  # (enrolment id, its status after: approved, or waitlisted when the session was full)
    refused: list[tuple[int, DomainError]]


def decide_many(db: Session, principal: Principal, enrolment_ids: Iterable[int], action: str, *, reason: str | None,
                now: datetime, today: date) -> BulkDecision:
    """``decide`` for many requests, each in a savepoint of its own: one refused (not the reader's
    department, decided meanwhile) is kept with its reason and never stops the others."""
    wanted = list(dict.fromkeys(enrolment_ids))
    if len(wanted) > BULK_MAX:
        raise Invalid(f"at most {BULK_MAX} requests at once", code="bulk-too-many")
    done: list[tuple[int, str]] = []
    refused: list[tuple[int, DomainError]] = []
    for enrolment_id in wanted:
        try:
            with db.begin_nested():
                row = decide(db, principal, enrolment_id, action, reason=reason, now=now, today=today)
            done.append((enrolment_id, row.status))
        except DomainError as err:
            refused.append((enrolment_id, err))
    return BulkDecision(done, refused)


def people_of(db: Session, scope: DataScope, *, department: str | None = None, tag: str | None = None) -> list[str]:
    """The employee numbers of a department (its sub-departments included) or of a tag: the current
    staff (not left) the reader may see."""
    stmt = select(Employee.employee_no).where(Employee.status != "left")
    if department:
        stmt = stmt.where(Employee.department_id.in_(sorted(department_subtree(db, get_department(db, department).id))))
    if tag:
        stmt = stmt.where(Employee.id.in_(select(EmployeeTag.employee_id).where(EmployeeTag.tag == tag)))
    return list(db.scalars(scoped(stmt, scope).order_by(Employee.employee_no)))


def get_row(db: Session, enrolment_id: int) -> Enrolment:
    row = db.scalar(select(Enrolment).where(Enrolment.id == enrolment_id).options(joinedload(Enrolment.employee).joinedload(Employee.department)))
    if row is None:
        raise NotFound(f"no enrolment {enrolment_id}")
    return row


def decide(db: Session, principal: Principal, enrolment_id: int, action: str, *, reason: str | None, now: datetime, today: date) -> Enrolment:
    """approve, reject, override_approve, override_reject or cancel an existing enrolment."""
    row = get_row(db, enrolment_id)
    session = get_session(db, row.session.code, lock=True)
    return perform(db, session, row.employee, action, actor=actor_for(principal), now=now, today=today, reason=reason)


# ---------------------------------------------------------------- reads


@dataclass(frozen=True)
class EnrolmentFilter:
    session: str | None = None
    program: str | None = None
    employee: str | None = None  # employee_no
    department: str | None = None  # code; children included
    status: str | None = None
    source: str | None = None
    employee_id: int | None = None


def base_query() -> Select:
    return (
        select(Enrolment)
        .join(Enrolment.session)
        .join(TrainingSession.program)
        .join(Enrolment.employee)
        .join(Employee.department)
        .options(
            contains_eager(Enrolment.session).contains_eager(TrainingSession.program),
            contains_eager(Enrolment.employee).contains_eager(Employee.department),
        )
    )


def enrolment_query(db: Session, f: EnrolmentFilter, scope: DataScope) -> Select:
    stmt = base_query()
    if f.session:
        stmt = stmt.where(TrainingSession.code == f.session)
    if f.program:
        stmt = stmt.where(Program.code == f.program)
    if f.employee:
        stmt = stmt.where(Employee.employee_no == f.employee)
    if f.employee_id is not None:
        stmt = stmt.where(Enrolment.employee_id == f.employee_id)
    if f.department:
        dep = get_department(db, f.department)
        stmt = stmt.where(Employee.department_id.in_(sorted(department_subtree(db, dep.id))))
    if f.status:
        stmt = stmt.where(Enrolment.status == f.status)
    if f.source:
        stmt = stmt.where(Enrolment.source == f.source)
    return scoped(stmt, scope).order_by(TrainingSession.starts_at.desc(), TrainingSession.code, Employee.employee_no)


def waitlist_ranks(db: Session, rows: list[Enrolment]) -> dict[int, int]:
    session_ids = sorted({r.session_id for r in rows if r.status == rules.WAITLISTED})
    if not session_ids:
        return {}
    ranks: dict[int, int] = {}
    seen: dict[int, int] = {}
    waiting = db.execute(
        select(Enrolment.id, Enrolment.session_id)
        .where(Enrolment.session_id.in_(session_ids), Enrolment.status == rules.WAITLISTED)
        .order_by(Enrolment.session_id, Enrolment.waitlist_position, Enrolment.employee_id)
    )
    for enrolment_id, session_id in waiting:
        seen[session_id] = seen.get(session_id, 0) + 1
        ranks[enrolment_id] = seen[session_id]
    return ranks


def to_read(row: Enrolment, *, rank: int | None = None, history: list[EnrolmentEvent] | None = None) -> schemas.EnrolmentRead:
    s, emp = row.session, row.employee
    return schemas.EnrolmentRead(
        id=row.id, session_code=s.code, program_code=s.program.code, program_title=s.program.title, program_title_en=s.program.title_en, starts_at=s.starts_at,
        ends_at=s.ends_at, employee_no=emp.employee_no, employee_name=emp.name, department_code=emp.department.code,
        status=row.status, source=row.source, due_date=row.due_date, reason=row.reason, exceptions=list(row.exceptions or []), waitlist_rank=rank,
        created_at=row.created_at, updated_at=row.updated_at,
        history=None if history is None else [schemas.EnrolmentEventRead.model_validate(e) for e in history],
    )


def read_page(db: Session, stmt: Select, page: PageParams) -> tuple[list[schemas.EnrolmentRead], int]:
    rows, total = paginate(db, stmt, page)
    ranks = waitlist_ranks(db, rows)
    return [to_read(r, rank=ranks.get(r.id)) for r in rows], total


def list_enrolments(db: Session, f: EnrolmentFilter, scope: DataScope, page: PageParams) -> tuple[list[schemas.EnrolmentRead], int]:
    return read_page(db, enrolment_query(db, f, scope), page)


def history(db: Session, enrolment_id: int) -> list[EnrolmentEvent]:
    return list(db.scalars(select(EnrolmentEvent).where(EnrolmentEvent.enrolment_id == enrolment_id).order_by(EnrolmentEvent.id)))


def get_enrolment(db: Session, enrolment_id: int, scope: DataScope) -> schemas.EnrolmentRead:
    row = db.scalar(base_query().where(Enrolment.id == enrolment_id))
    # Out of scope reads as not found, as for employees.
    if row is None or not scope.allows(department_id=row.employee.department_id, employee_id=row.employee_id):
        raise NotFound(f"no enrolment {enrolment_id}")
    return to_read(row, rank=waitlist_ranks(db, [row]).get(row.id), history=history(db, row.id))


def approvals_query(principal: Principal, *, now: datetime, program: str | None = None, department_ids: Iterable[int] | None = None) -> Select:
    """Requests waiting for a decision by ``principal``: their departments' (all, for HR), never their
    own; of one program, of some departments, when asked."""
    stmt = base_query().where(
        Enrolment.status == rules.REQUESTED, TrainingSession.status == "scheduled", TrainingSession.starts_at > now
    )
    if program:
        stmt = stmt.where(Program.code == program)
    if department_ids is not None:
        stmt = stmt.where(Employee.department_id.in_(sorted(department_ids)))
    if principal.employee_id is not None:
        stmt = stmt.where(Enrolment.employee_id != principal.employee_id)
    return scoped(stmt, principal.scope).order_by(TrainingSession.starts_at, Enrolment.created_at, Enrolment.id)
