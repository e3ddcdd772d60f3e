"""The slot finder: load a target group's classes and other trainings, rank slots, plan a cover."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from trainquant.attendance.service import TeachingCalendar
from trainquant.errors import Invalid, NotFound
from trainquant.org.models import Department, Employee, EmployeeTag
from trainquant.training.models import Enrolment, Program, TrainingSession
from trainquant.training.scheduling import rules as sr

MAX_DAYS = 62
MAX_PEOPLE = 3_000
WORKING = ("active", "probation")


@dataclass(frozen=True)
class Group:
    program: str | None = None
    department_kinds: tuple[str, ...] = ()
    departments: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    employee_nos: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.program or self.department_kinds or self.departments or self.tags or self.employee_nos)


@dataclass
class SlotSearch:
    people: list[sr.Person]
    ranked: list[sr.SlotOption]
    options: list[sr.SlotOption]
    tz: ZoneInfo
    by_id: dict[int, sr.Person] = field(default_factory=dict)


def group_members(db: Session, group: Group) -> list[Employee]:
    """Who the group names; a program stands for its target department kinds (or everyone it is for)."""
    if group.empty:
        raise Invalid("name a group: a program, department kinds, departments, tags or employee numbers", code="group-missing")
    kinds, codes = set(group.department_kinds), set(group.departments)
    if group.program:
        program = db.scalar(select(Program).where(Program.code == group.program))
        if program is None:
            raise NotFound(f"no program with code {group.program!r}", code="unknown-program")
        kinds |= set(program.target_kinds or []) | set((program.eligibility or {}).get("department_kinds", []))
    stmt = select(Employee).join(Department, Department.id == Employee.department_id).where(Employee.status.in_(WORKING))
    conditions = []
    if kinds:
        conditions.append(Department.kind.in_(sorted(kinds)))
    if codes:
        conditions.append(Department.code.in_(sorted(codes)))
    if group.tags:
        conditions.append(Employee.id.in_(select(EmployeeTag.employee_id).where(EmployeeTag.tag.in_(sorted(group.tags)))))
    if group.employee_nos:
        conditions.append(Employee.employee_no.in_(sorted(group.employee_nos)))
    if conditions:
        stmt = stmt.where(or_(*conditions))
    members = list(db.scalars(stmt.order_by(Employee.employee_no)))
    if len(members) > MAX_PEOPLE:
        raise Invalid(f"the group has {len(members)} people; at most {MAX_PEOPLE} can be planned at once", code="group-too-large", people=len(members), limit=MAX_PEOPLE)
    return members


def load_people(db: Session, members: list[Employee], start: datetime, end: datetime, *, default_tz: str, exclude_session_id: int | None = None) -> list[sr.Person]:
    ids = [e.id for e in members]
    calendar = TeachingCalendar(db, ids, default_tz)
    busy: dict[int, list[sr.Busy]] = defaultdict(list)
    for e in ids:
        busy[e] = [sr.Busy(i.start, i.end, sr.TEACHING, "class") for i in calendar.classes(e, start, end)]
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        rows = db.execute(
            select(Enrolment.employee_id, TrainingSession.id, TrainingSession.code, TrainingSession.starts_at, TrainingSession.ends_at)
            .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
            .where(Enrolment.employee_id.in_(chunk), Enrolment.status == "approved", TrainingSession.status != "cancelled",
                   TrainingSession.starts_at < end, TrainingSession.ends_at > start)
        ).all()
        trainer_rows = db.execute(
            select(TrainingSession.trainer_employee_id, TrainingSession.id, TrainingSession.code, TrainingSession.starts_at, TrainingSession.ends_at)
            .where(TrainingSession.trainer_employee_id.in_(chunk), TrainingSession.status != "cancelled",
                   TrainingSession.starts_at < end, TrainingSession.ends_at > start)
        ).all()
        for eid, sid, code, s, t in [*rows, *trainer_rows]:
            assert eid is not None  # both queries select by employee id
            if sid != exclude_session_id:
                busy[eid].append(sr.Busy(s, t, sr.TRAINING, code))
    departments = {d.id: d for d in db.scalars(select(Department))}
    return [
        sr.Person(e.id, e.employee_no, e.name, departments[e.department_id].code, departments[e.department_id].kind,
                  tuple(sorted(busy[e.id], key=lambda b: (b.start, b.end))))
        for e in members
    ]


def find_slots(
    db: Session, group: Group, *, first: date, last: date, length_minutes: int, default_tz: str,
    grid_minutes: int = 30, day_start: time = time(8, 0), day_end: time = time(21, 0),
    peaks: tuple[sr.PeakRule, ...] = sr.DEFAULT_PEAKS, limit: int = 20, weekdays: tuple[int, ...] | None = None,
    exclude_session_id: int | None = None,
) -> SlotSearch:
    if last < first:
        raise Invalid("the date range ends before it starts", code="range-reversed")
    if (last - first).days + 1 > MAX_DAYS:
        raise Invalid(f"at most {MAX_DAYS} days at once", code="range-too-long", limit=MAX_DAYS)
    if not 15 <= length_minutes <= 12 * 60:
        raise Invalid("the length must be between 15 minutes and 12 hours", code="length-out-of-range")
    if day_end <= day_start:
        raise Invalid("the day must end after it starts", code="day-reversed")
    tz = ZoneInfo(default_tz)
    cands = sr.candidates(first, last, length_minutes=length_minutes, tz=tz, grid_minutes=grid_minutes, day_start=day_start, day_end=day_end, weekdays=weekdays)
    if not cands:
        raise Invalid("no candidate slot fits: widen the day or the date range, or shorten the session", code="no-slot-fits")
    members = group_members(db, group)
    people = load_people(db, members, cands[0].start - timedelta(hours=1), cands[-1].end + timedelta(hours=1), default_tz=default_tz, exclude_session_id=exclude_session_id)
    options = sr.evaluate(people, cands, peaks=peaks, tz=tz)
    return SlotSearch(people, sr.rank(options, limit=limit), options, tz, {p.employee_id: p for p in people})


def slot_dict(o: sr.SlotOption, search: SlotSearch) -> dict:
    who = search.by_id
    return {
        "start": o.start, "end": o.end,
        "local_start": o.start.astimezone(search.tz).strftime("%Y-%m-%d %H:%M"),
        "local_end": o.end.astimezone(search.tz).strftime("%H:%M"),
        "form_start": o.start.astimezone(search.tz).strftime("%Y-%m-%dT%H:%M"), "form_end": o.end.astimezone(search.tz).strftime("%Y-%m-%dT%H:%M"),
        "weekday": o.start.astimezone(search.tz).weekday(),
        "free_count": o.free_count, "group_size": len(search.people),
        "free": [who[e].employee_no for e in o.free],
        "missing": [{"employee_no": who[m.employee_id].employee_no, "name": who[m.employee_id].name, "reason": m.reason, "label": m.label} for m in o.missing],
    }


def plan_dict(plan: sr.CoverPlan, search: SlotSearch) -> dict:
    who = search.by_id
    return {
        "sessions": [
            {"start": s.start, "end": s.end, "local_start": s.start.astimezone(search.tz).strftime("%Y-%m-%d %H:%M"),
             "local_end": s.end.astimezone(search.tz).strftime("%H:%M"), "form_start": s.start.astimezone(search.tz).strftime("%Y-%m-%dT%H:%M"),
             "form_end": s.end.astimezone(search.tz).strftime("%Y-%m-%dT%H:%M"),
             "employee_nos": [who[e].employee_no for e in s.employee_ids], "names": [who[e].name for e in s.employee_ids]}
            for s in plan.sessions
        ],
        "uncoverable": [who[e].employee_no for e in plan.uncoverable],
        "too_few": [who[e].employee_no for e in plan.too_few],
        "names": {who[e].employee_no: who[e].name for e in (*plan.uncoverable, *plan.too_few)},
        "lower_bound": plan.lower_bound, "optimal": plan.optimal, "method": plan.method, "group_size": len(search.people),
    }


def best_slot(search: SlotSearch) -> dict | None:
    """The top slot, JSON-ready (stored in an alert's suggestion)."""
    if not search.ranked:
        return None
    out = slot_dict(search.ranked[0], search)
    out["start"], out["end"] = out["start"].isoformat(), out["end"].isoformat()
    out["missing"] = out["missing"][:20]
    return out
