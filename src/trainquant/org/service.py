"""HR core use cases: departments, sites, employees, growth profiles and timetables, within a data scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, exists, false, func, or_, select
from sqlalchemy.orm import Session, joinedload

from trainquant.auth.permissions import DataScope, Principal
from trainquant.db import contains_text
from trainquant.errors import Conflict, Forbidden, Invalid, NotFound
from trainquant.org import pinyin, schemas
from trainquant.org.models import (
    DatedClass,
    Department,
    Employee,
    EmployeeTag,
    GrowthNote,
    Site,
    Venue,
    WeeklySlot,
)
from trainquant.org.rules import EmployeeRecord, Slot, expand_timetable
from trainquant.org.tree import department_subtree
from trainquant.org.upsert import upsert_employees
from trainquant.pagination import PageParams, paginate

# ---------------------------------------------------------------- departments


def list_departments(db: Session) -> list[schemas.DepartmentRead]:
    counts = dict(
        db.execute(
            select(Employee.department_id, func.count()).where(Employee.status != "left").group_by(Employee.department_id)
        ).all()
    )
    rows = db.scalars(select(Department).order_by(Department.code))
    return [
        schemas.DepartmentRead.model_validate(d).model_copy(update={"employee_count": counts.get(d.id, 0)})
        for d in rows
    ]


def get_department(db: Session, code: str) -> Department:
    dep = db.scalar(select(Department).where(Department.code == code))
    if dep is None:
        raise NotFound(f"no department with code {code!r}")
    return dep


def _parent_id(db: Session, parent_code: str | None) -> int | None:
    return None if parent_code is None else get_department(db, parent_code).id


def create_department(db: Session, body: schemas.DepartmentCreate) -> Department:
    if db.scalar(select(Department.id).where(Department.code == body.code)) is not None:
        raise Conflict(f"department {body.code!r} already exists")
    dep = Department(code=body.code, name=body.name, name_en=body.name_en, kind=body.kind, parent_id=_parent_id(db, body.parent_code))
    db.add(dep)
    db.flush()
    return dep


def update_department(db: Session, code: str, body: schemas.DepartmentUpdate) -> Department:
    dep = get_department(db, code)
    data = body.model_dump(exclude_unset=True)
    if "parent_code" in data:
        parent_id = _parent_id(db, data.pop("parent_code"))
        if parent_id is not None and parent_id in department_subtree(db, dep.id):
            raise Invalid("a department cannot be placed under itself or one of its children")
        dep.parent_id = parent_id
    for key, value in data.items():
        if value is None and key in ("name", "kind"):
            raise Invalid(f"{key} cannot be empty")
        setattr(dep, key, value)
    db.flush()
    return dep


# ---------------------------------------------------------------- sites and venues


def list_sites(db: Session) -> list[Site]:
    return list(db.scalars(select(Site).options(joinedload(Site.venues)).order_by(Site.code)).unique())


def create_site(db: Session, body: schemas.SiteCreate) -> Site:
    if db.scalar(select(Site.id).where(Site.code == body.code)) is not None:
        raise Conflict(f"site {body.code!r} already exists", code="site-exists")
    names = [v.name for v in body.venues]
    if len(names) != len(set(names)):
        raise Invalid("venue names must be unique within a site")
    site = Site(code=body.code, name=body.name, timezone=body.timezone, address=body.address)
    site.venues = [Venue(**v.model_dump()) for v in body.venues]
    db.add(site)
    db.flush()
    return site


def add_venue(db: Session, site_code: str, body: schemas.VenueCreate) -> Venue:
    site = db.scalar(select(Site).where(Site.code == site_code))
    if site is None:
        raise NotFound(f"no site with code {site_code!r}")
    if db.scalar(select(Venue.id).where(Venue.site_id == site.id, Venue.name == body.name)) is not None:
        raise Conflict(f"site {site_code!r} already has a venue named {body.name!r}", code="venue-name-taken")
    venue = Venue(site_id=site.id, **body.model_dump())
    db.add(venue)
    db.flush()
    return venue


def update_venue(db: Session, site_code: str, venue_id: int, body: schemas.VenueUpdate) -> Venue:
    venue = db.scalar(select(Venue).join(Site, Site.id == Venue.site_id).where(Site.code == site_code, Venue.id == venue_id))
    if venue is None:
        raise NotFound(f"site {site_code!r} has no venue {venue_id}")
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    if "name" in changes and db.scalar(select(Venue.id).where(Venue.site_id == venue.site_id, Venue.name == changes["name"], Venue.id != venue.id)) is not None:
        raise Conflict(f"site {site_code!r} already has a venue named {changes['name']!r}", code="venue-name-taken")
    for key, value in changes.items():
        setattr(venue, key, value)
    db.flush()
    return venue


# ---------------------------------------------------------------- employees


def scoped(stmt: Select, scope: DataScope) -> Select:
    if scope.all:
        return stmt
    conditions: list[ColumnElement[bool]] = []
    if scope.department_ids:
        conditions.append(Employee.department_id.in_(sorted(scope.department_ids)))
    if scope.employee_id is not None:
        conditions.append(Employee.id == scope.employee_id)
    return stmt.where(or_(*conditions)) if conditions else stmt.where(false())


def to_read(emp: Employee, manager_no: str | None = None, *, show_cost: bool = True) -> schemas.EmployeeRead:
    """``show_cost=False`` hides the hourly cost: HR's figure, not for managers or the employee."""
    return schemas.EmployeeRead(
        id=emp.id,
        employee_no=emp.employee_no,
        name=emp.name,
        department_code=emp.department.code,
        department_name=emp.department.name,
        department_kind=emp.department.kind,
        site_code=emp.site.code if emp.site else None,
        position=emp.position,
        hire_date=emp.hire_date,
        status=emp.status,
        hourly_cost=emp.hourly_cost if show_cost else None,
        manager_no=manager_no if manager_no is not None else (emp.manager.employee_no if emp.manager else None),
        email=emp.email,
        phone=emp.phone,
        tags=[t.tag for t in emp.tags],
        external_ids={x.system: x.external_id for x in emp.external_ids},
    )


@dataclass(frozen=True)
class EmployeeFilter:
    q: str | None = None
    department: str | None = None  # code; includes its children
    kind: str | None = None
    status: str | None = None
    tag: str | None = None
    site: str | None = None
    hired_from: date | None = None
    hired_to: date | None = None


def employee_query(db: Session, f: EmployeeFilter, scope: DataScope) -> Select:
    stmt = (
        select(Employee)
        .join(Employee.department)
        .options(joinedload(Employee.department), joinedload(Employee.site), joinedload(Employee.manager))
    )
    if f.q:
        q = f.q.strip()
        found = [contains_text(Employee.name, q), contains_text(Employee.employee_no, q), contains_text(Employee.position, q)]
        if pinyin.is_pinyin_query(q):  # "huang" finds 黄清: names are matched by their pinyin in Python (cached per name)
            names = db.execute(scoped(select(Employee.id, Employee.name), scope)).all()
            ids = [i for i, name in names if pinyin.matches(name, q)]
            if ids:
                found.append(Employee.id.in_(ids))
        stmt = stmt.where(or_(*found))
    if f.department:
        dep = get_department(db, f.department)
        stmt = stmt.where(Employee.department_id.in_(sorted(department_subtree(db, dep.id))))
    if f.kind:
        stmt = stmt.where(Department.kind == f.kind)
    if f.status:
        stmt = stmt.where(Employee.status == f.status)
    if f.tag:
        stmt = stmt.where(exists().where(EmployeeTag.employee_id == Employee.id, EmployeeTag.tag == f.tag))
    if f.site:
        stmt = stmt.where(Employee.site_id == select(Site.id).where(Site.code == f.site).scalar_subquery())
    if f.hired_from:
        stmt = stmt.where(Employee.hire_date >= f.hired_from)
    if f.hired_to:
        stmt = stmt.where(Employee.hire_date <= f.hired_to)
    return scoped(stmt, scope).order_by(Employee.employee_no)


def list_employees(
    db: Session, f: EmployeeFilter, scope: DataScope, page: PageParams, *, show_cost: bool = True
) -> tuple[list[schemas.EmployeeRead], int]:
    rows, total = paginate(db, employee_query(db, f, scope), page)
    return [to_read(e, show_cost=show_cost) for e in rows], total


def list_employee_tags(db: Session) -> list[str]:
    """Every tag in use, for filter choices."""
    return list(db.scalars(select(EmployeeTag.tag).distinct().order_by(EmployeeTag.tag)))


def get_employee(db: Session, employee_no: str, scope: DataScope) -> Employee:
    emp = db.scalar(
        select(Employee)
        .where(Employee.employee_no == employee_no)
        .options(joinedload(Employee.department), joinedload(Employee.site), joinedload(Employee.manager))
    )
    # Out of scope reads as not found: a manager must not learn who exists in other departments.
    if emp is None or not scope.allows(department_id=emp.department_id, employee_id=emp.id):
        raise NotFound(f"no employee with employee_no {employee_no!r}")
    return emp


def _record(employee_no: str, data: dict, present: set[str]) -> EmployeeRecord:
    ext = data.get("external_ids") or {}
    return EmployeeRecord(
        employee_no=employee_no,
        row=1,
        name=data.get("name"),
        department=data.get("department_code"),
        site=data.get("site_code"),
        position=data.get("position"),
        hire_date=data.get("hire_date"),
        status=data.get("status") or "active",
        hourly_cost=data.get("hourly_cost"),
        manager_no=data.get("manager_no"),
        email=data.get("email"),
        phone=data.get("phone"),
        tags=tuple(data.get("tags") or ()),
        external_ids=tuple(sorted(ext.items())),
        present=frozenset(present),
    )


_API_TO_RECORD = {"department_code": "department", "site_code": "site"}


def _raise_row_errors(errors) -> None:
    if not errors:
        return
    first = errors[0]
    cls = Conflict if first.code in ("exists", "external-id-taken") else Invalid
    raise cls(
        "; ".join(e.message for e in errors),
        errors=[{"field": e.column, "code": e.code, "message": e.message} for e in errors],
    )


def create_employee(db: Session, body: schemas.EmployeeCreate, *, now: datetime) -> Employee:
    data = body.model_dump()
    present = {_API_TO_RECORD.get(k, k) for k in data} - {"employee_no"}
    result = upsert_employees(db, [_record(body.employee_no, data, present)], now=now, on_existing="conflict")
    _raise_row_errors(result.errors)
    return get_employee(db, body.employee_no, DataScope(all=True))


def update_employee(db: Session, employee_no: str, body: schemas.EmployeeUpdate, *, now: datetime) -> Employee:
    get_employee(db, employee_no, DataScope(all=True))
    data = body.model_dump(exclude_unset=True)
    for required in ("name", "department_code", "status"):
        if required in data and data[required] is None:
            raise Invalid(f"{required} cannot be empty", errors=[{"field": required, "code": "required", "message": "cannot be empty"}])
    present = {_API_TO_RECORD.get(k, k) for k in data}
    result = upsert_employees(db, [_record(employee_no, data, present)], now=now)
    _raise_row_errors(result.errors)
    return get_employee(db, employee_no, DataScope(all=True))


# ---------------------------------------------------------------- growth profile


def growth_notes(db: Session, emp: Employee) -> list[GrowthNote]:
    return list(db.scalars(select(GrowthNote).where(GrowthNote.employee_id == emp.id).order_by(GrowthNote.noted_on.desc(), GrowthNote.id)))


def _own_manager_note(principal: Principal, emp: Employee) -> bool:
    return principal.employee_id == emp.id and principal.role == "manager"


def may_add_growth_note(principal: Principal, emp: Employee) -> bool:
    """Whether to offer ``principal`` a growth-note form for ``emp`` (scope is checked when loading ``emp``)."""
    return principal.can("growth:write") and not _own_manager_note(principal, emp)


def add_growth_note(db: Session, emp: Employee, body: schemas.GrowthNoteCreate, principal: Principal) -> GrowthNote:
    if _own_manager_note(principal, emp):
        raise Forbidden("managers record growth notes for their team, not for themselves")
    dup = db.scalar(
        select(GrowthNote.id).where(
            GrowthNote.employee_id == emp.id,
            GrowthNote.kind == body.kind,
            GrowthNote.tag == body.tag,
            GrowthNote.source == body.source,
            GrowthNote.noted_on == body.noted_on,
        )
    )
    if dup is not None:
        raise Conflict("this growth note is already recorded", existing_id=dup)
    note = GrowthNote(employee_id=emp.id, **body.model_dump())
    db.add(note)
    db.flush()
    return note


# ---------------------------------------------------------------- timetable


def employee_zone(emp: Employee, default_tz: str) -> ZoneInfo:
    return ZoneInfo(emp.site.timezone if emp.site else default_tz)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


def timetable(db: Session, emp: Employee, *, week_of: date, default_tz: str) -> schemas.TimetableRead:
    zone = employee_zone(emp, default_tz)
    monday = week_start(week_of)
    sunday = monday + timedelta(days=6)
    slots = list(db.scalars(select(WeeklySlot).where(WeeklySlot.employee_id == emp.id).order_by(WeeklySlot.weekday, WeeklySlot.start_time)))
    dated = db.execute(
        select(DatedClass.starts_at, DatedClass.ends_at, DatedClass.course).where(
            DatedClass.employee_id == emp.id,
            DatedClass.starts_at >= datetime.combine(monday - timedelta(days=1), datetime.min.time(), zone),
            DatedClass.starts_at < datetime.combine(sunday + timedelta(days=2), datetime.min.time(), zone),
        )
    )
    pure = [Slot(s.weekday, s.start_time, s.end_time, s.valid_from, s.valid_to, s.course) for s in slots]
    occ = expand_timetable(pure, list(dated), start=monday, end=sunday, tz=zone)
    return schemas.TimetableRead(
        employee_no=emp.employee_no,
        timezone=zone.key,
        week_start=monday,
        weekly_hours=round(sum((o.ends_at - o.starts_at).total_seconds() for o in occ) / 3600, 2),
        slots=[schemas.WeeklySlotRead.model_validate(s) for s in slots],
        occurrences=[schemas.OccurrenceRead(**{k: getattr(o, k) for k in schemas.OccurrenceRead.model_fields}) for o in occ],
    )
