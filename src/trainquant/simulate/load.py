"""Write a simulated school into the database. Employees and timetables go through the same upsert
functions the file imports use, so the demo exercises the real write path. Loading twice changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.auth.models import User
from trainquant.auth.service import create_user
from trainquant.errors import Conflict
from trainquant.org.models import Department, Employee, GrowthNote, Site, Venue
from trainquant.org.upsert import (
    UpsertResult,
    employee_ids,
    upsert_employees,
    upsert_timetable,
)
from trainquant.simulate.institution.school import SimulatedSchool

STEPS = ("departments", "sites", "employees", "timetable", "growth notes", "users")


@dataclass
class LoadSummary:
    departments: int = 0
    sites: int = 0
    venues: int = 0
    employees: UpsertResult = field(default_factory=UpsertResult)
    timetable: UpsertResult = field(default_factory=UpsertResult)
    growth_notes: int = 0
    users: int = 0

    @property
    def created(self) -> int:
        return (
            self.departments + self.sites + self.venues + self.employees.created + self.timetable.created
            + self.growth_notes + self.users
        )

    @property
    def updated(self) -> int:
        return self.employees.updated + self.timetable.updated


def is_loaded(db: Session, school: SimulatedSchool) -> bool:
    """The school is there when its first employee and every demo user exist."""
    first = school.employees[0].employee_no
    if db.scalar(select(Employee.id).where(Employee.employee_no == first)) is None:
        return False
    names = [u.username for u in school.demo_users]
    return len(db.scalars(select(User.id).where(User.username.in_(names))).all()) == len(names)


def _departments(db: Session, school: SimulatedSchool) -> int:
    ids = dict(db.execute(select(Department.code, Department.id)).all())
    created = 0
    for spec in school.departments:  # parents come before their children
        if spec.code in ids:
            continue
        dep = Department(code=spec.code, name=spec.name, name_en=spec.name_en, kind=spec.kind,
                         parent_id=ids[spec.parent_code] if spec.parent_code else None)
        db.add(dep)
        db.flush()
        ids[spec.code] = dep.id
        created += 1
    return created


def _sites(db: Session, school: SimulatedSchool) -> tuple[int, int]:
    created_sites = created_venues = 0
    for spec in school.sites:
        site = db.scalar(select(Site).where(Site.code == spec.code))
        if site is None:
            site = Site(code=spec.code, name=spec.name, timezone=spec.timezone, address=spec.address)
            db.add(site)
            db.flush()
            created_sites += 1
        have = set(db.scalars(select(Venue.name).where(Venue.site_id == site.id)))
        for v in spec.venues:
            if v.name not in have:
                db.add(Venue(site_id=site.id, name=v.name, latitude=v.latitude, longitude=v.longitude, radius_m=v.radius_m))
                created_venues += 1
    db.flush()
    return created_sites, created_venues


def _growth(db: Session, school: SimulatedSchool) -> int:
    ids = employee_ids(db, {g.employee_no for g in school.growth})
    have: set[tuple[int, str, str, str, date]] = {
        (e, kind, tag, source, on)
        for e, kind, tag, source, on in db.execute(select(GrowthNote.employee_id, GrowthNote.kind, GrowthNote.tag, GrowthNote.source, GrowthNote.noted_on))
    }
    created = 0
    for g in school.growth:
        key = (ids[g.employee_no], g.kind, g.tag, g.source, g.noted_on)
        if key in have:
            continue
        have.add(key)
        db.add(GrowthNote(employee_id=key[0], kind=g.kind, tag=g.tag, source=g.source, noted_on=g.noted_on, note=g.note))
        created += 1
    db.flush()
    return created


def _users(db: Session, school: SimulatedSchool, now: datetime) -> int:
    created = 0
    for u in school.demo_users:
        if db.scalar(select(User.id).where(User.username == u.username)) is not None:
            continue
        display = None
        if u.employee_no:
            display = db.scalar(select(Employee.name).where(Employee.employee_no == u.employee_no))
        create_user(db, username=u.username, password=u.password, role=u.role, now=now,
                    employee_no=u.employee_no, department_code=u.department, display_name=display)
        created += 1
    return created


def _refuse(what: str, result: UpsertResult) -> None:
    if result.errors:
        raise Conflict(
            f"the simulated {what} clash with data already in the database ({len(result.errors)} rows)",
            errors=[{"row": e.row, "field": e.column, "code": e.code, "message": e.message} for e in result.errors[:50]],
        )


def load_school(
    db: Session,
    school: SimulatedSchool,
    *,
    now: datetime,
    default_tz: str = "Asia/Shanghai",
    progress: Callable[[str], None] | None = None,
) -> LoadSummary:
    """Write ``school``; ``progress`` hears the name of each step as it finishes. Never commits."""
    done = progress or (lambda _step: None)
    summary = LoadSummary()
    summary.departments = _departments(db, school)
    done("departments")
    summary.sites, summary.venues = _sites(db, school)
    done("sites")
    summary.employees = upsert_employees(db, school.employees, now=now)
    _refuse("employees", summary.employees)
    done("employees")
    summary.timetable = upsert_timetable(db, school.slots, school.classes, default_tz=default_tz)
    _refuse("timetables", summary.timetable)
    done("timetable")
    summary.growth_notes = _growth(db, school)
    done("growth notes")
    summary.users = _users(db, school, now)
    done("users")
    return summary
