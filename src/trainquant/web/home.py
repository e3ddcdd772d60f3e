"""The home page by role (工作台): HR sees the school, a manager their departments, an employee their own.

What each shows is read through the domains' own services and scopes (the effect report's facts, the
approval inbox's query, the alert filter, the attendance history), never a query of its own past them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from trainquant.analytics import effect
from trainquant.analytics import rules as figures
from trainquant.auth.permissions import Principal
from trainquant.org.models import Department, Employee
from trainquant.org.service import scoped
from trainquant.training.models import Enrolment, TrainingSession

MONTHS = 6  # the trend
RECENT_DAYS = 90  # the department table
AHEAD_DAYS = 14  # upcoming sessions


@dataclass(frozen=True)
class Group:
    department: Department
    participation: figures.Participation  # the last RECENT_DAYS


@dataclass
class Home:
    view: str  # "school" | "team" | "me"
    groups: list[Group] = field(default_factory=list)
    trend: dict = field(default_factory=dict)  # {"labels": months, "series": [{"name", "values"}]}: attendance rate %
    pending_approvals: int | None = None
    open_alerts: int | None = None
    upcoming: list[tuple[TrainingSession, int]] = field(default_factory=list)  # with its approved places
    imports: list = field(default_factory=list)
    mine: dict | None = None


def _months(today: date, count: int) -> list[date]:
    first = today.replace(day=1)
    out = []
    for _ in range(count):
        out.append(first)
        first = (first - timedelta(days=1)).replace(day=1)
    return list(reversed(out))


def _rows_of(db: Session, principal: Principal) -> list[tuple[Department, bool]]:
    """The departments the table has a row for, each with whether it counts its sub-departments: below
    the reader's one top department (the school's first level for HR, a manager's sub-departments),
    the top itself for its own people when it has any; or the top departments when there are several."""
    visible = effect.visible_departments(db, principal.scope)
    ids = {d.id for d in visible}
    top = [d for d in visible if d.parent_id not in ids]
    if len(top) != 1:
        return [(d, True) for d in top]
    children = [d for d in visible if d.parent_id == top[0].id]
    own = db.scalar(select(func.count()).select_from(Employee).where(Employee.department_id == top[0].id, Employee.status != "left"))
    return [(d, True) for d in children] + ([(top[0], False)] if own or not children else [])


def _groups_and_trend(db: Session, principal: Principal, *, now: datetime, zone: ZoneInfo, english: bool) -> tuple[list[Group], dict]:
    from trainquant.org.tree import department_subtree

    rows = _rows_of(db, principal)
    months = _months(now.astimezone(zone).date(), MONTHS)
    since = datetime.combine(months[0], datetime.min.time(), zone)
    facts = effect.enrolment_facts(db, principal.scope, now=now, where=[TrainingSession.ends_at >= since, TrainingSession.ends_at <= now])
    people = {f.employee_id for f in facts}
    department_of = dict(db.execute(select(Employee.id, Employee.department_id).where(Employee.id.in_(sorted(people)))).all()) if people else {}
    sessions = {f.session_id for f in facts}
    ended = dict(db.execute(select(TrainingSession.id, TrainingSession.ends_at).where(TrainingSession.id.in_(sorted(sessions)))).all()) if sessions else {}
    group_of: dict[int, int] = {}
    for row, whole in rows:
        for dep in (department_subtree(db, row.id) if whole else {row.id}):
            group_of[dep] = row.id
    recent_since = now - timedelta(days=RECENT_DAYS)
    recent: dict[int, list] = defaultdict(list)
    monthly: dict[tuple[int, date], list] = defaultdict(list)
    for f in facts:
        group = group_of.get(department_of.get(f.employee_id, -1))
        if group is None:
            continue
        at = ended[f.session_id]
        if at >= recent_since:
            recent[group].append(f)
        monthly[(group, at.astimezone(zone).date().replace(day=1))].append(f)
    groups = [Group(row, figures.participation(recent.get(row.id, []))) for row, _ in rows]
    series = []
    for row, _ in rows:
        values = []
        for m in months:
            rate = figures.participation(monthly.get((row.id, m), [])).attendance_rate
            values.append(None if rate is None else round(rate * 100, 1))
        series.append({"name": (row.name_en if english and row.name_en else row.name), "values": values})
    return groups, {"labels": [m.strftime("%Y-%m") for m in months], "series": series}


def _upcoming(db: Session, principal: Principal, *, now: datetime) -> list[tuple[TrainingSession, int]]:
    """The next AHEAD_DAYS' sessions: all for HR; for a manager, those their people are enrolled in."""
    stmt = (select(TrainingSession).where(TrainingSession.status == "scheduled", TrainingSession.starts_at > now,
                                          TrainingSession.starts_at <= now + timedelta(days=AHEAD_DAYS))
            .options(joinedload(TrainingSession.program), joinedload(TrainingSession.venue)).order_by(TrainingSession.starts_at).limit(8))
    if not principal.scope.all:
        theirs = scoped(select(Enrolment.session_id).join(Employee, Employee.id == Enrolment.employee_id), principal.scope)
        stmt = stmt.where(TrainingSession.id.in_(theirs))
    sessions = list(db.scalars(stmt).unique())
    counts = dict(db.execute(select(Enrolment.session_id, func.count()).where(Enrolment.session_id.in_([s.id for s in sessions]),
                                                                             Enrolment.status == figures.APPROVED).group_by(Enrolment.session_id)).all())
    return [(s, counts.get(s.id, 0)) for s in sessions]


def _mine(db: Session, employee: Employee, *, now: datetime) -> dict:
    from trainquant.attendance.live import history
    from trainquant.indicators.evaluation import latest_results

    ahead = list(db.scalars(
        select(Enrolment).join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .where(Enrolment.employee_id == employee.id, TrainingSession.starts_at > now, TrainingSession.status == "scheduled",
               Enrolment.status.in_(("approved", "requested", "waitlisted")))
        .options(joinedload(Enrolment.session).joinedload(TrainingSession.program)).order_by(TrainingSession.starts_at).limit(6)))
    held = [r for r in history(db, employee, now=now) if r.held == "ended"]
    results = latest_results(db, select(Employee.id).where(Employee.id == employee.id))
    return {
        "employee": employee, "ahead": ahead, "held": len(held), "recent": list(reversed(held))[:5],
        "participation": (sum(r.participation for r in held) / len(held)) if held else None,
        "indicators": results,
    }


def build(db: Session, principal: Principal, *, now: datetime, zone: str, english: bool) -> Home:
    from trainquant.alerts.service import AlertFilter, list_alerts
    from trainquant.pagination import PageParams
    from trainquant.training.enrolment.service import approvals_query

    me = db.get(Employee, principal.employee_id) if principal.employee_id is not None else None
    if principal.role == "employee" or not (principal.scope.all or principal.scope.department_ids):
        return Home("me", mine=_mine(db, me, now=now) if me is not None else None)
    home = Home("school" if principal.scope.all else "team")
    if principal.can("reports:read"):
        home.groups, home.trend = _groups_and_trend(db, principal, now=now, zone=ZoneInfo(zone), english=english)
    if principal.can("training:approve"):
        stmt = approvals_query(principal, now=now)
        home.pending_approvals = db.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    if principal.can("alerts:read"):
        home.open_alerts = list_alerts(db, AlertFilter(status="open"), principal.scope, PageParams(page=1, page_size=1))[1]
    home.upcoming = _upcoming(db, principal, now=now)
    if principal.can("import:write"):
        from trainquant.imports.models import ImportRun

        home.imports = list(db.scalars(select(ImportRun).order_by(ImportRun.id.desc()).limit(5)))
    if me is not None:
        home.mine = _mine(db, me, now=now)
    return home
