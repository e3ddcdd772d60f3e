"""Evaluation runs: load facts, apply the rules in effect at the period end, store every result with its
version and evidence; and read results back per employee and per department."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, insert, or_, select
from sqlalchemy.orm import Session, contains_eager

from trainquant.analytics import terms
from trainquant.auth.permissions import DataScope
from trainquant.errors import Forbidden
from trainquant.indicators import facts as fact_sources
from trainquant.indicators import schemas
from trainquant.indicators.metrics import ProgramFacts, programs_in_scope, rule_for
from trainquant.indicators.models import (
    Evaluation,
    EvaluationRun,
    Indicator,
    IndicatorModule,
    IndicatorVersion,
)
from trainquant.indicators.rules import (
    MET,
    NO_DATA,
    NOT_MET,
    TRAINED,
    Calendar,
    Result,
    Rule,
    Scored,
    department_module_scores,
    employee_module_scores,
    evaluate,
    first_day_read,
    indicator_shares,
)
from trainquant.indicators.service import in_effect
from trainquant.integrations.outbox.service import listeners, publish
from trainquant.org import service as org_service
from trainquant.org.models import Department, Employee
from trainquant.org.tree import department_subtree
from trainquant.training.models import Program

CHUNK = 2000  # employees evaluated (and facts held in memory) at a time
Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class RunSummary:
    run: EvaluationRun
    evaluations: int
    met: int
    not_met: int
    no_data: int


@dataclass(frozen=True)
class Placed:
    """A rule with the definitions it came from."""

    rule: Rule
    version: IndicatorVersion
    indicator: Indicator


def rules_in_effect(db: Session, period_end: date, tz: ZoneInfo, kinds: Sequence[str] | None = None) -> dict[str, list[Placed]]:
    """Per department kind, the rules of its active modules' indicators as they stood at ``period_end``."""
    stmt = (
        select(Indicator)
        .join(Indicator.module)
        .options(contains_eager(Indicator.module))
        .where(IndicatorModule.active.is_(True))
        .order_by(Indicator.id)
    )
    if kinds is not None:
        stmt = stmt.where(IndicatorModule.department_kind.in_(kinds))
    provided = fact_sources.available_kinds()
    programs = [ProgramFacts(code, tuple(targets or ()), tuple(tags or ())) for code, targets, tags in
                db.execute(select(Program.code, Program.target_kinds, Program.tags))]
    out: dict[str, list[Placed]] = {}
    for ind in db.scalars(stmt).unique():
        version = in_effect(ind, period_end, tz)
        if version is None:
            continue
        rule = rule_for(
            indicator_id=ind.id, version_id=version.id, metric=version.metric, params=version.params,
            aggregation=version.aggregation, window_days=version.window_days, operator=version.operator,
            threshold=version.threshold, available_kinds=provided, window_kind=version.window_kind,
            programs=programs_in_scope(version.programs or {}, programs),
        )
        out.setdefault(ind.module.department_kind, []).append(Placed(rule, version, ind))
    return out


def population(db: Session, *, period_end: date, kind: str | None = None, department: Department | None = None,
               employee: Employee | None = None) -> list[tuple[int, str]]:
    """(employee id, department kind) of everyone to evaluate: employed at the period end, not left."""
    stmt = (
        select(Employee.id, Department.kind)
        .join(Department, Department.id == Employee.department_id)
        .where(Employee.status != "left", or_(Employee.hire_date.is_(None), Employee.hire_date <= period_end))
        .order_by(Employee.id)
    )
    if employee is not None:
        stmt = stmt.where(Employee.id == employee.id)
    if department is not None:
        stmt = stmt.where(Employee.department_id.in_(sorted(department_subtree(db, department.id))))
    if kind is not None:
        stmt = stmt.where(Department.kind == kind)
    return [(i, k) for i, k in db.execute(stmt)]


def _row(run: EvaluationRun, result: Result) -> dict:
    return {
        "run_id": run.id,
        "employee_id": result.employee_id,
        "indicator_version_id": result.version_id,
        "period_end": run.period_end,
        "status": result.status,
        "value": result.value,
        "threshold": result.threshold,
        "facts": [{"key": f.key, "on": f.on.isoformat(), "value": f.value, "ref": f.ref} | ({"program": f.program} if f.program else {})
                  for f in result.facts],
        "reason": result.reason,
        "window_start": result.window[0] if result.window else None,
        "window_end": result.window[1] if result.window else None,
    }


def calendar_at(period_end: date, school_terms: str = terms.DEFAULT_SPEC) -> Calendar:
    """The school's term the period end falls in and the one before (``TQ_SCHOOL_TERMS``)."""
    now, before = terms.recent(period_end, terms.parse(school_terms), 2)
    return Calendar(now.start, before.start)


def run_evaluation(
    db: Session,
    *,
    period_end: date,
    actor: str,
    now: datetime,
    tz: ZoneInfo,
    kind: str | None = None,
    department: Department | None = None,
    employee: Employee | None = None,
    on_progress: Progress | None = None,
    school_terms: str = terms.DEFAULT_SPEC,
) -> RunSummary:
    """Evaluate one population at ``period_end`` into a new run; earlier runs are never touched."""
    calendar = calendar_at(period_end, school_terms)
    label = (
        f"employee:{employee.employee_no}" if employee is not None
        else f"department:{department.code}" if department is not None
        else f"kind:{kind}" if kind is not None
        else "all"
    )
    people = population(db, period_end=period_end, kind=kind, department=department, employee=employee)
    placed = rules_in_effect(db, period_end, tz, kinds=sorted({k for _, k in people}))
    run = EvaluationRun(period_end=period_end, department_kind=kind, population=label, employees=len(people), created_by=actor, created_at=now)
    db.add(run)
    db.flush()
    counts = {MET: 0, NOT_MET: 0, NO_DATA: 0}
    announce = _announcer(db, placed, period_end=period_end, now=now)
    if on_progress:
        on_progress(0, len(people))
    for i in range(0, len(people), CHUNK):
        chunk = people[i : i + CHUNK]
        rows = []
        for dep_kind in sorted({k for _, k in chunk}):
            rules = [p.rule for p in placed.get(dep_kind, ())]
            ids = [e for e, k in chunk if k == dep_kind]
            if not rules:
                continue
            needed = frozenset(r.fact_kind for r in rules if r.available and not r.incomplete)
            if any(r.window_kind == "since_training" or r.around_training for r in rules if r.fact_kind in needed):
                needed |= {TRAINED}
            start = min(first_day_read(r, period_end, calendar) for r in rules)
            facts = fact_sources.load_facts(db, ids, start=start, end=period_end, kinds=needed) if needed else []
            for result in evaluate(rules, facts, ids, period_end, calendar):
                counts[result.status] += 1
                rows.append(_row(run, result))
        if rows:
            # A Core insert: one executemany per chunk. (The ORM's bulk insert leaves None values out of
            # each row's key set, so rows alternating "no data" and a value became one statement each.)
            db.execute(insert(Evaluation.__table__), rows)
            announce(rows)
        if on_progress:
            on_progress(min(i + CHUNK, len(people)), len(people))
    return RunSummary(run, sum(counts.values()), counts[MET], counts[NOT_MET], counts[NO_DATA])


def _announcer(db: Session, placed: dict[str, list[Placed]], *, period_end: date, now: datetime):
    """``indicator.met`` for each result met, in the run's transaction, to the systems subscribed; once
    per person, indicator version and period however often the period is evaluated again."""
    subs = listeners(db, "indicator.met")
    versions = {p.version.id: p for group in placed.values() for p in group}

    def announce(rows: list[dict]) -> None:
        met = [r for r in rows if r["status"] == MET]
        if not subs or not met:
            return
        numbers = dict(db.execute(select(Employee.id, Employee.employee_no).where(Employee.id.in_(sorted({r["employee_id"] for r in met})))).all())
        for r in met:
            p = versions[r["indicator_version_id"]]
            payload = {"employee_no": numbers[r["employee_id"]], "indicator_code": p.indicator.code, "name": p.version.name,
                       "name_en": p.version.name_en, "value": r["value"], "threshold": r["threshold"], "period_end": period_end.isoformat()}
            publish(db, "indicator.met", f"indicator.met:{r['employee_id']}:{r['indicator_version_id']}:{period_end.isoformat()}", payload,
                    occurred_at=now, now=now, subscribers=subs)

    return announce


def run_counts(db: Session, run: EvaluationRun, scope: DataScope | None = None) -> RunSummary:
    """The run's results by status (of the people ``scope`` may see, when given)."""
    stmt = select(Evaluation.status, func.count()).where(Evaluation.run_id == run.id).group_by(Evaluation.status)
    if scope is not None:
        stmt = org_service.scoped(stmt.join(Employee, Employee.id == Evaluation.employee_id), scope)
    counts = dict(db.execute(stmt).all())
    return RunSummary(run, sum(counts.values()), counts.get(MET, 0), counts.get(NOT_MET, 0), counts.get(NO_DATA, 0))


# ---------------------------------------------------------------- reading results


@dataclass(frozen=True)
class StoredResult:
    evaluation: Evaluation
    version: IndicatorVersion
    indicator: Indicator
    module: IndicatorModule


def _latest_runs(employee_ids_stmt, period_end: date | None):
    """Per employee, the newest run that evaluated them (at ``period_end`` when given)."""
    stmt = select(Evaluation.employee_id, func.max(Evaluation.run_id).label("run_id")).where(Evaluation.employee_id.in_(employee_ids_stmt))
    if period_end is not None:
        stmt = stmt.where(Evaluation.period_end == period_end)
    return stmt.group_by(Evaluation.employee_id).subquery()


def latest_results(db: Session, employee_ids_stmt, period_end: date | None = None) -> list[StoredResult]:
    latest = _latest_runs(employee_ids_stmt, period_end)
    stmt = (
        select(Evaluation, IndicatorVersion, Indicator, IndicatorModule)
        .join(latest, (latest.c.employee_id == Evaluation.employee_id) & (latest.c.run_id == Evaluation.run_id))
        .join(IndicatorVersion, IndicatorVersion.id == Evaluation.indicator_version_id)
        .join(Indicator, Indicator.id == IndicatorVersion.indicator_id)
        .join(IndicatorModule, IndicatorModule.id == Indicator.module_id)
        .options(contains_eager(Indicator.module))
        .order_by(Evaluation.employee_id, IndicatorModule.id, Indicator.id)
    )
    return [StoredResult(*row) for row in db.execute(stmt).unique()]


def employee_results(db: Session, employee: Employee, period_end: date | None = None) -> list[StoredResult]:
    return latest_results(db, select(Employee.id).where(Employee.id == employee.id), period_end)


def check_department_visible(scope: DataScope, department: Department) -> None:
    if not (scope.all or department.id in scope.department_ids):
        raise Forbidden("department results are only for HR and the department's managers")


def department_results(db: Session, department: Department, period_end: date | None = None) -> tuple[int, list[StoredResult]]:
    """Headcount (not left) of the department and its children, and their latest results."""
    ids = sorted(department_subtree(db, department.id))
    members = select(Employee.id).where(Employee.department_id.in_(ids), Employee.status != "left")
    headcount = db.scalar(select(func.count()).select_from(members.subquery())) or 0
    return headcount, latest_results(db, members, period_end)


def period_ends(db: Session, limit: int = 12) -> list[date]:
    return list(db.scalars(select(EvaluationRun.period_end).distinct().order_by(EvaluationRun.period_end.desc()).limit(limit)))


# ---------------------------------------------------------------- read models


def _scored(r: StoredResult) -> Scored:
    return Scored(r.evaluation.employee_id, r.indicator.id, r.module.id, r.version.weight, r.evaluation.status)


def _module_reads(modules: dict[int, IndicatorModule], scores: dict[int, float | None]) -> list[schemas.ModuleScoreRead]:
    return [
        schemas.ModuleScoreRead(module_code=m.code, name=m.name, name_en=m.name_en, weight=m.weight, score=scores.get(m.id))
        for m in modules.values()
    ]


def result_read(r: StoredResult) -> schemas.ResultRead:
    v, e = r.version, r.evaluation
    return schemas.ResultRead(
        indicator_code=r.indicator.code, module_code=r.module.code, version=v.version, name=v.name, name_en=v.name_en,
        metric=v.metric, aggregation=v.aggregation, window_days=v.window_days, window_kind=v.window_kind, programs=v.programs or {},
        operator=v.operator, threshold=e.threshold, unit=v.unit, status=e.status, value=e.value, reason=e.reason,
        window_start=e.window_start, window_end=e.window_end, facts=[schemas.FactRead(**f) for f in e.facts],
    )


def employee_results_read(employee: Employee, stored: list[StoredResult]) -> schemas.EmployeeResultsRead:
    first = stored[0].evaluation if stored else None
    return schemas.EmployeeResultsRead(
        employee_no=employee.employee_no, name=employee.name, department_code=employee.department.code,
        run_id=first.run_id if first else None, period_end=first.period_end if first else None,
        results=[result_read(r) for r in stored],
        modules=_module_reads({r.module.id: r.module for r in stored}, employee_module_scores(map(_scored, stored))),
    )


def department_summary_read(department: Department, headcount: int, stored: list[StoredResult], period_end: date | None) -> schemas.DepartmentSummaryRead:
    shares = indicator_shares(map(_scored, stored))
    # A department's employees may have been evaluated under different versions: the newest one names it.
    newest: dict[int, StoredResult] = {}
    versions: dict[int, set[int]] = {}
    for r in stored:
        versions.setdefault(r.indicator.id, set()).add(r.version.version)
        if r.indicator.id not in newest or r.version.version > newest[r.indicator.id].version.version:
            newest[r.indicator.id] = r
    placement = {i: (r.module.id, r.version.weight) for i, r in newest.items()}
    indicators = [
        schemas.IndicatorShareRead(
            indicator_code=newest[i].indicator.code, module_code=newest[i].module.code, name=newest[i].version.name,
            name_en=newest[i].version.name_en, versions=sorted(versions[i]), met=s.met, not_met=s.not_met,
            no_data=s.no_data, share_met=s.share_met,
        )
        for i, s in shares.items()
    ]
    modules = {r.module.id: r.module for r in sorted(stored, key=lambda r: r.module.id)}
    return schemas.DepartmentSummaryRead(
        department_code=department.code, period_end=period_end, employees=headcount, indicators=indicators,
        modules=_module_reads(modules, department_module_scores(shares, placement)),
    )
