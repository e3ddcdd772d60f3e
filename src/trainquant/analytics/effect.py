"""The training effect report (培训效果报告): loads enrolments, attendance, assessments, indicator results and
costs within the reader's data scope, and hands them to the pure aggregation in ``rules``."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from trainquant.analytics import rules, terms
from trainquant.attendance.models import AttendanceRecord
from trainquant.auth.permissions import DataScope
from trainquant.indicators.evaluation import check_department_visible, latest_results
from trainquant.org.models import Department, Employee
from trainquant.org.service import get_department, get_employee, scoped
from trainquant.org.tree import department_subtree
from trainquant.training.lookups import get_program, get_session
from trainquant.training.models import (
    Assessment,
    AssessmentKind,
    CostItem,
    Enrolment,
    Program,
    TrainingSession,
)

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Figures:
    """What a report says about one group of enrolments: a session, a program, a department."""

    participation: rules.Participation
    assessments: tuple[rules.KindStats, ...]
    pass_rate: float | None
    indicators: tuple[rules.IndicatorShare, ...]
    cost: Decimal | None  # None where a cost cannot be attributed (a department)
    scores: dict[str, list[float]] = field(default_factory=dict)  # per kind, for the charts


@dataclass(frozen=True)
class Row:
    """A line of a table of sessions or programs."""

    code: str
    title: str
    starts_at: datetime | None
    figures: Figures
    title_en: str | None = None


@dataclass(frozen=True, slots=True)
class Assessed:
    """An assessment as the aggregation needs it: where it belongs, and its fact."""

    program_id: int | None
    session_id: int | None
    fact: rules.AssessmentFact


@dataclass(frozen=True)
class Loaded:
    enrolments: list[rules.EnrolmentFact]
    assessments: list[Assessed]
    indicators: list[rules.IndicatorFact]
    names: dict[str, tuple[str, str]]  # indicator code -> (name, name_en)


def kind_names(db: Session) -> dict[str, tuple[str, str, str]]:
    """code -> (name, English name, scale): a ``ratio`` kind (an error rate) reads as a percentage."""
    return {k.code: (k.name, k.name_en, k.scale) for k in db.scalars(select(AssessmentKind))}



def enrolment_facts(db: Session, scope: DataScope, *, now: datetime, where: list) -> list[rules.EnrolmentFact]:
    # Enrolments outnumber their sessions many times over: what belongs to the session (program, end,
    # status, threshold) is read once per session, not converted again on every enrolment's row.
    stmt: Select = (
        select(Enrolment.employee_id, Enrolment.session_id, Enrolment.status)
        .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .join(Employee, Employee.id == Enrolment.employee_id)
        .where(*where)
    )
    rows = db.execute(scoped(stmt, scope)).all()
    session_ids = sorted({r[1] for r in rows})
    measured: dict[tuple[int, int], float] = {}
    sessions: dict[int, tuple[int, bool, float]] = {}  # session id -> (program id, over, min participation)
    for i in range(0, len(session_ids), 1000):
        chunk = session_ids[i : i + 1000]
        stmt = select(AttendanceRecord.session_id, AttendanceRecord.employee_id, AttendanceRecord.participation)
        for sid, eid, part in db.execute(stmt.where(AttendanceRecord.session_id.in_(chunk))):
            measured[(sid, eid)] = part
        of_session = select(TrainingSession.id, TrainingSession.program_id, TrainingSession.ends_at, TrainingSession.status,
                            TrainingSession.min_participation).where(TrainingSession.id.in_(chunk))
        for sid, pid, ends_at, s_status, minimum in db.execute(of_session):
            sessions[sid] = (pid, s_status != "cancelled" and ends_at <= now, minimum)
    return [
        rules.EnrolmentFact(
            employee_id=eid, session_id=sid, program_id=sessions[sid][0], status=status,
            session_over=sessions[sid][1], min_participation=sessions[sid][2],
            participation=measured.get((sid, eid)),
        )
        for eid, sid, status in rows
    ]


def _assessments(db: Session, scope: DataScope, where: list) -> list[Assessment]:
    """The assessments themselves, for pages that list them (a session's people, an employee)."""
    stmt = select(Assessment).join(Employee, Employee.id == Assessment.employee_id).where(*where)
    return list(db.scalars(scoped(stmt, scope).order_by(Assessment.assessed_on, Assessment.id)))


def _assessed(db: Session, scope: DataScope, where: list) -> list[Assessed]:
    """What the aggregation reads of the same assessments, as plain columns."""
    stmt = (select(Assessment.program_id, Assessment.session_id, Assessment.employee_id, Assessment.kind_code, Assessment.score, Assessment.passed)
            .join(Employee, Employee.id == Assessment.employee_id).where(*where))
    rows = db.execute(scoped(stmt, scope).order_by(Assessment.assessed_on, Assessment.id))
    return [Assessed(pid, sid, rules.AssessmentFact(eid, kind, score, passed)) for pid, sid, eid, kind, score, passed in rows]


def _indicators(db: Session, employee_ids: set[int]) -> tuple[list[rules.IndicatorFact], dict[str, tuple[str, str]]]:
    if not employee_ids:
        return [], {}
    stored = latest_results(db, select(Employee.id).where(Employee.id.in_(sorted(employee_ids))))
    facts = [rules.IndicatorFact(r.evaluation.employee_id, r.indicator.code, r.evaluation.status) for r in stored]
    return facts, {r.indicator.code: (r.version.name, r.version.name_en) for r in stored}


def load(db: Session, scope: DataScope, *, now: datetime, enrolment_where: list, assessment_where: list, indicators: bool = True) -> Loaded:
    enrolments = enrolment_facts(db, scope, now=now, where=enrolment_where)
    participants = {f.employee_id for f in enrolments if f.status == rules.APPROVED}
    facts, names = _indicators(db, participants) if indicators else ([], {})
    return Loaded(enrolments, _assessed(db, scope, assessment_where), facts, names)


def figures(enrolments: list[rules.EnrolmentFact], assessments: list[rules.AssessmentFact],
            indicators: list[rules.IndicatorFact], cost: Decimal | None) -> Figures:
    stats = rules.assessment_stats(assessments)
    scores: dict[str, list[float]] = defaultdict(list)
    for a in assessments:
        if a.score is not None:
            scores[a.kind].append(a.score)
    return Figures(rules.participation(enrolments), stats, rules.pass_rate(stats), rules.indicator_shares(indicators), cost, dict(scores))


def _participants_of(enrolments: list[rules.EnrolmentFact], facts: list[rules.IndicatorFact]) -> list[rules.IndicatorFact]:
    ids = {f.employee_id for f in enrolments if f.status == rules.APPROVED}
    return [f for f in facts if f.employee_id in ids]


def costs_by(db: Session, column, ids: list[int]) -> dict[int, Decimal]:
    # Money is summed per target; the demo and the case school book everything in CNY.
    totals: dict[int, Decimal] = defaultdict(lambda: ZERO)
    if ids:
        for target, amount in db.execute(select(column, CostItem.amount).where(column.in_(ids))):
            totals[target] += amount
    return totals


# ---------------------------------------------------------------- the reports


@dataclass(frozen=True)
class SessionReport:
    session: TrainingSession
    figures: Figures
    people: list[dict]  # one line per enrolment: who, status, participation, attended, scores
    names: dict[str, tuple[str, str]]


@dataclass(frozen=True)
class ProgramReport:
    program: Program
    figures: Figures
    sessions: list[Row]
    names: dict[str, tuple[str, str]]


@dataclass(frozen=True)
class EmployeeReport:
    employee: Employee
    trainings: list[dict]
    assessments: list[Assessment]
    indicators: list  # StoredResult
    figures: Figures


@dataclass(frozen=True)
class DepartmentReport:
    department: Department
    figures: Figures
    programs: list[Row]
    names: dict[str, tuple[str, str]]


def session_report(db: Session, code: str, scope: DataScope, *, now: datetime) -> SessionReport:
    s = get_session(db, code)
    loaded = load(db, scope, now=now, enrolment_where=[Enrolment.session_id == s.id], assessment_where=[Assessment.session_id == s.id])
    cost = costs_by(db, CostItem.session_id, [s.id]).get(s.id, ZERO)
    fig = figures(loaded.enrolments, [a.fact for a in loaded.assessments], loaded.indicators, cost)
    employees = {e.id: e for e in db.scalars(select(Employee).where(Employee.id.in_([f.employee_id for f in loaded.enrolments])))}
    scores: dict[int, list[Assessment]] = defaultdict(list)
    for a in _assessments(db, scope, [Assessment.session_id == s.id]):
        scores[a.employee_id].append(a)
    statuses = db.execute(select(Enrolment.employee_id, Enrolment.reason).where(Enrolment.session_id == s.id))
    reasons = dict(statuses.all())
    people = [
        {"employee": employees[f.employee_id], "status": f.status, "participation": f.participation,
         "attended": rules.attended(f), "reason": reasons.get(f.employee_id), "assessments": scores.get(f.employee_id, [])}
        for f in sorted(loaded.enrolments, key=lambda f: employees[f.employee_id].employee_no)
    ]
    return SessionReport(s, fig, people, loaded.names)


def program_report(db: Session, code: str, scope: DataScope, *, now: datetime) -> ProgramReport:
    p = get_program(db, code)
    loaded = load(db, scope, now=now, enrolment_where=[TrainingSession.program_id == p.id], assessment_where=[Assessment.program_id == p.id])
    sessions = list(db.scalars(select(TrainingSession).where(TrainingSession.program_id == p.id).order_by(TrainingSession.starts_at)))
    session_costs = costs_by(db, CostItem.session_id, [s.id for s in sessions])
    rows = []
    for s in sessions:
        enrolments = [f for f in loaded.enrolments if f.session_id == s.id]
        facts = [a.fact for a in loaded.assessments if a.session_id == s.id]
        rows.append(Row(s.code, s.code, s.starts_at, figures(enrolments, facts, _participants_of(enrolments, loaded.indicators), session_costs.get(s.id, ZERO))))
    cost = costs_by(db, CostItem.program_id, [p.id]).get(p.id, ZERO)
    fig = figures(loaded.enrolments, [a.fact for a in loaded.assessments], loaded.indicators, cost)
    return ProgramReport(p, fig, rows, loaded.names)


ALL_DAYS = terms.Range()


@dataclass(frozen=True)
class Filter:
    """What a report is narrowed to: a department's people (with its sub-departments) and the days its
    sessions started on (and its assessments were taken on), in the school's zone."""

    department_ids: tuple[int, ...] | None = None
    days: terms.Range = ALL_DAYS
    zone: str = "UTC"

    def _bounds(self) -> tuple[datetime | None, datetime | None]:
        zone = ZoneInfo(self.zone)
        start = None if self.days.start is None else datetime.combine(self.days.start, time(), zone)
        end = None if self.days.end is None else datetime.combine(self.days.end + timedelta(days=1), time(), zone)
        return start, end

    def sessions_where(self) -> list:
        start, end = self._bounds()
        return [c for c in (None if start is None else TrainingSession.starts_at >= start,
                            None if end is None else TrainingSession.starts_at < end) if c is not None]

    def people_where(self) -> list:
        return [] if self.department_ids is None else [Employee.department_id.in_(self.department_ids)]

    def assessments_where(self) -> list:
        days = [c for c in (None if self.days.start is None else Assessment.assessed_on >= self.days.start,
                            None if self.days.end is None else Assessment.assessed_on <= self.days.end) if c is not None]
        return self.people_where() + days


EVERYTHING = Filter()


def allocated_costs(db: Session, enrolments: list[rules.EnrolmentFact], where: list) -> rules.Allocation:
    """The costs the ``enrolments``' approved places carry (``rules.allocate_costs``), of the sessions
    ``where`` selects."""
    in_play = dict(db.execute(select(TrainingSession.id, TrainingSession.program_id).where(*where)).all())
    programs = sorted(set(in_play.values()))
    held: dict[int, int] = {}
    for i in range(0, len(programs), 1000):
        chunk = programs[i : i + 1000]
        held.update(db.execute(select(TrainingSession.id, TrainingSession.program_id)
                               .where(TrainingSession.program_id.in_(chunk), TrainingSession.status != "cancelled")).all())
    places: dict[int, int] = defaultdict(int)
    session_costs: dict[int, Decimal] = defaultdict(lambda: ZERO)
    program_costs: dict[int, Decimal] = defaultdict(lambda: ZERO)
    ids = sorted(in_play)
    for i in range(0, len(ids), 1000):
        chunk = ids[i : i + 1000]
        places.update(db.execute(select(Enrolment.session_id, func.count()).where(Enrolment.session_id.in_(chunk), Enrolment.status == rules.APPROVED)
                                 .group_by(Enrolment.session_id)).all())
        for sid, amount in db.execute(select(CostItem.session_id, CostItem.amount).where(CostItem.session_id.in_(chunk))):
            session_costs[sid] += amount  # type: ignore[index]  # in_(chunk): never NULL
    for i in range(0, len(programs), 1000):
        chunk = programs[i : i + 1000]
        for pid, amount in db.execute(select(CostItem.program_id, CostItem.amount).where(CostItem.program_id.in_(chunk), CostItem.session_id.is_(None))):
            program_costs[pid] += amount  # type: ignore[index]  # in_(chunk): never NULL
    chosen: dict[int, int] = defaultdict(int)
    for f in enrolments:
        if f.status == rules.APPROVED and f.session_id in in_play:
            chosen[f.session_id] += 1
    return rules.allocate_costs(session_costs, program_costs, held, places, chosen, in_play)


@dataclass(frozen=True)
class Overview:
    rows: list[Row]
    allocated: bool  # the costs are the filtered places' share, not the programs' whole costs
    unallocated: Decimal | None  # with a whole-school period: what cancelled or empty sessions cost


def _program_rows(db: Session, loaded: Loaded, *, costs: dict[int, Decimal] | None) -> list[Row]:
    enrolments: dict[int, list[rules.EnrolmentFact]] = defaultdict(list)
    for f in loaded.enrolments:
        enrolments[f.program_id].append(f)
    assessed: dict[int, list[rules.AssessmentFact]] = defaultdict(list)
    for a in loaded.assessments:
        if a.program_id:
            assessed[a.program_id].append(a.fact)
    ids = sorted(enrolments.keys() | assessed.keys())
    programs = list(db.scalars(select(Program).where(Program.id.in_(ids)).order_by(Program.code)))
    first = dict(db.execute(select(TrainingSession.program_id, func.min(TrainingSession.starts_at))
                            .where(TrainingSession.program_id.in_(ids)).group_by(TrainingSession.program_id)).all())
    rows = []
    for p in programs:
        own = enrolments.get(p.id, [])
        rows.append(Row(p.code, p.title, first.get(p.id), figures(own, assessed.get(p.id, []), _participants_of(own, loaded.indicators),
                                                                    None if costs is None else costs.get(p.id, ZERO)),
                        p.title_en))
    return rows


def _load_filtered(db: Session, scope: DataScope, *, now: datetime, narrow: Filter, indicators: bool) -> Loaded:
    return load(db, scope, now=now, enrolment_where=narrow.people_where() + narrow.sessions_where(),
                assessment_where=narrow.assessments_where(), indicators=indicators)


def _overview(db: Session, scope: DataScope, loaded: Loaded, narrow: Filter) -> Overview:
    if narrow == EVERYTHING and scope.all:
        ids = sorted({f.program_id for f in loaded.enrolments} | {a.program_id for a in loaded.assessments if a.program_id})
        return Overview(_program_rows(db, loaded, costs=costs_by(db, CostItem.program_id, ids)), False, None)
    allocation = allocated_costs(db, loaded.enrolments, narrow.sessions_where())
    whole_school = scope.all and narrow.department_ids is None
    return Overview(_program_rows(db, loaded, costs=allocation.by_program), True, allocation.unallocated if whole_school else None)


def programs_overview(db: Session, scope: DataScope, *, now: datetime, narrow: Filter = EVERYTHING) -> Overview:
    """Every program with enrolments or assessments visible to the reader, in the filter, with the
    share of its participants' indicator results that are met.

    Unfiltered, for a reader who sees the whole school, each program's whole cost; otherwise the part
    the places shown carry (``allocated_costs``): a department's figures next to the whole programs'
    costs would read as the department's cost.
    """
    return _overview(db, scope, _load_filtered(db, scope, now=now, narrow=narrow, indicators=True), narrow)


def department_report(db: Session, code: str, scope: DataScope, *, now: datetime, narrow: Filter = EVERYTHING) -> DepartmentReport:
    """A department's figures (its sub-departments included) in ``narrow``'s days; its programs' costs
    are the part its places carry, and its indicator shares are of all its current staff."""
    dep = get_department(db, code)
    check_department_visible(scope, dep)
    ids = tuple(sorted(department_subtree(db, dep.id)))
    narrow = Filter(ids, narrow.days, narrow.zone)
    loaded = _load_filtered(db, scope, now=now, narrow=narrow, indicators=True)
    overview = _overview(db, scope, loaded, narrow)
    people = select(Employee.id).where(Employee.department_id.in_(ids), Employee.status != "left")
    visible = set(db.scalars(scoped(people, scope)))
    facts, names = _indicators(db, visible)
    cost = sum((r.figures.cost or ZERO for r in overview.rows), ZERO)
    fig = figures(loaded.enrolments, [a.fact for a in loaded.assessments], facts, cost)
    return DepartmentReport(dep, fig, overview.rows, names)


def employee_report(db: Session, employee_no: str, scope: DataScope, *, now: datetime) -> EmployeeReport:
    emp = get_employee(db, employee_no, scope)
    rows = db.execute(
        select(Enrolment, TrainingSession, Program)
        .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .join(Program, Program.id == TrainingSession.program_id)
        .where(Enrolment.employee_id == emp.id)
        .order_by(TrainingSession.starts_at.desc())
    ).all()
    measured = dict(db.execute(select(AttendanceRecord.session_id, AttendanceRecord.participation).where(AttendanceRecord.employee_id == emp.id)).all())
    facts, trainings = [], []
    for e, s, p in rows:
        fact = rules.EnrolmentFact(emp.id, s.id, p.id, e.status, s.status != "cancelled" and s.ends_at <= now, s.min_participation, measured.get(s.id))
        facts.append(fact)
        trainings.append({"program": p, "session": s, "status": e.status, "participation": fact.participation,
                          "attended": rules.attended(fact), "over": fact.session_over})
    loaded = _assessments(db, DataScope(all=True), [Assessment.employee_id == emp.id])
    stored = latest_results(db, select(Employee.id).where(Employee.id == emp.id))
    indicator_facts = [rules.IndicatorFact(r.evaluation.employee_id, r.indicator.code, r.evaluation.status) for r in stored]
    assessed = [rules.AssessmentFact(a.employee_id, a.kind_code, a.score, a.passed) for a in loaded]
    fig = figures(facts, assessed, indicator_facts, None)
    return EmployeeReport(emp, trainings, loaded, stored, fig)


def visible_departments(db: Session, scope: DataScope) -> list[Department]:
    deps = list(db.scalars(select(Department).order_by(Department.code)))
    return deps if scope.all else [d for d in deps if d.id in scope.department_ids]
