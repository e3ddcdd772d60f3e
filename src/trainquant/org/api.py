"""JSON routes of the HR core under /api/v1."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from trainquant.auth.permissions import DataScope, Principal
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.errors import Invalid
from trainquant.org import schemas, service
from trainquant.org.rules import DatedClassRecord, WeeklySlotRecord
from trainquant.org.upsert import upsert_timetable
from trainquant.pagination import Page, Paging
from trainquant.params import PathId, QueryDate

router = APIRouter(prefix="/api/v1", tags=["HR core"])

OrgRead = Annotated[Principal, require("org:read")]
OrgWrite = Annotated[Principal, require("org:write")]
GrowthWrite = Annotated[Principal, require("growth:write")]


@router.get("/departments", response_model=list[schemas.DepartmentRead])
def list_departments(db: ReadSession, _: OrgRead):
    return service.list_departments(db)


@router.post("/departments", response_model=schemas.DepartmentRead, status_code=status.HTTP_201_CREATED)
def create_department(body: schemas.DepartmentCreate, db: DbSession, _: OrgWrite):
    return service.create_department(db, body)


@router.get("/departments/{code}", response_model=schemas.DepartmentRead)
def get_department(code: str, db: ReadSession, _: OrgRead):
    return service.get_department(db, code)


@router.patch("/departments/{code}", response_model=schemas.DepartmentRead)
def update_department(code: str, body: schemas.DepartmentUpdate, db: DbSession, _: OrgWrite):
    return service.update_department(db, code, body)


@router.get("/sites", response_model=list[schemas.SiteRead])
def list_sites(db: ReadSession, _: OrgRead):
    return service.list_sites(db)


@router.post("/sites", response_model=schemas.SiteRead, status_code=status.HTTP_201_CREATED)
def create_site(body: schemas.SiteCreate, db: DbSession, _: OrgWrite):
    return service.create_site(db, body)


@router.post("/sites/{code}/venues", response_model=schemas.VenueRead, status_code=status.HTTP_201_CREATED)
def add_venue(code: str, body: schemas.VenueCreate, db: DbSession, _: OrgWrite):
    return service.add_venue(db, code, body)


@router.patch("/sites/{code}/venues/{venue_id}", response_model=schemas.VenueRead)
def update_venue(code: str, venue_id: PathId, body: schemas.VenueUpdate, db: DbSession, _: OrgWrite):
    """Rename a venue or move / widen its geofence; check-ins judged before keep their verdicts."""
    return service.update_venue(db, code, venue_id, body)


@router.get("/employees", response_model=Page[schemas.EmployeeRead])
def list_employees(
    db: ReadSession,
    principal: OrgRead,
    paging: Paging,
    q: Annotated[str | None, Query(max_length=64, description="name, employee_no or position contains")] = None,
    department: Annotated[str | None, Query(max_length=32, description="department code (children included)")] = None,
    kind: schemas.DepartmentKind | None = None,
    status_: Annotated[schemas.EmployeeStatus | None, Query(alias="status")] = None,
    tag: Annotated[str | None, Query(max_length=48)] = None,
    site: Annotated[str | None, Query(max_length=32)] = None,
    hired_from: QueryDate | None = None,
    hired_to: QueryDate | None = None,
):
    f = service.EmployeeFilter(q=q, department=department, kind=kind, status=status_, tag=tag, site=site, hired_from=hired_from, hired_to=hired_to)
    items, total = service.list_employees(db, f, principal.scope, paging, show_cost=principal.can("org:write"))
    return Page.of(items, total, paging)


@router.post("/employees", response_model=schemas.EmployeeRead, status_code=status.HTTP_201_CREATED)
def create_employee(body: schemas.EmployeeCreate, db: DbSession, clock: AppClock, _: OrgWrite):
    return service.to_read(service.create_employee(db, body, now=clock.now()))


@router.get("/employees/{employee_no}", response_model=schemas.EmployeeRead)
def get_employee(employee_no: str, db: ReadSession, principal: OrgRead):
    return service.to_read(service.get_employee(db, employee_no, principal.scope), show_cost=principal.can("org:write"))


@router.patch("/employees/{employee_no}", response_model=schemas.EmployeeRead)
def update_employee(employee_no: str, body: schemas.EmployeeUpdate, db: DbSession, clock: AppClock, _: OrgWrite):
    return service.to_read(service.update_employee(db, employee_no, body, now=clock.now()))


@router.get("/employees/{employee_no}/growth", response_model=list[schemas.GrowthNoteRead])
def list_growth(employee_no: str, db: ReadSession, principal: OrgRead):
    return service.growth_notes(db, service.get_employee(db, employee_no, principal.scope))


@router.post("/employees/{employee_no}/growth", response_model=schemas.GrowthNoteRead, status_code=status.HTTP_201_CREATED)
def add_growth(employee_no: str, body: schemas.GrowthNoteCreate, db: DbSession, principal: GrowthWrite):
    emp = service.get_employee(db, employee_no, principal.scope)
    return service.add_growth_note(db, emp, body, principal)


@router.get("/employees/{employee_no}/timetable", response_model=schemas.TimetableRead)
def get_timetable(employee_no: str, db: ReadSession, principal: OrgRead, settings: AppSettings, clock: AppClock, week_of: QueryDate | None = None):
    emp = service.get_employee(db, employee_no, principal.scope)
    day = week_of or clock.now().astimezone(service.employee_zone(emp, settings.default_timezone)).date()
    return service.timetable(db, emp, week_of=day, default_tz=settings.default_timezone)


@router.post("/employees/{employee_no}/timetable/slots", response_model=schemas.TimetableRead, status_code=status.HTTP_201_CREATED)
def add_slot(employee_no: str, body: schemas.WeeklySlotCreate, db: DbSession, settings: AppSettings, _: OrgWrite):
    emp = service.get_employee(db, employee_no, DataScope(all=True))
    rec = WeeklySlotRecord(employee_no, body.weekday, body.start_time, body.end_time, body.valid_from, body.valid_to, body.course, body.site_code, row=1)
    result = upsert_timetable(db, [rec], [], default_tz=settings.default_timezone)
    if result.errors:
        raise Invalid("; ".join(e.message for e in result.errors))
    return service.timetable(db, emp, week_of=body.valid_from, default_tz=settings.default_timezone)


@router.post("/employees/{employee_no}/timetable/classes", response_model=schemas.TimetableRead, status_code=status.HTTP_201_CREATED)
def add_class(employee_no: str, body: schemas.DatedClassCreate, db: DbSession, settings: AppSettings, _: OrgWrite):
    emp = service.get_employee(db, employee_no, DataScope(all=True))
    zone = service.employee_zone(emp, settings.default_timezone)
    start, end = body.starts_at.astimezone(zone), body.ends_at.astimezone(zone)
    if start.date() != end.date():
        raise Invalid("a class must start and end on the same local day")
    rec = DatedClassRecord(employee_no, start.date(), start.time().replace(tzinfo=None), end.time().replace(tzinfo=None), body.course, body.site_code, row=1)
    result = upsert_timetable(db, [], [rec], default_tz=settings.default_timezone)
    if result.errors:
        raise Invalid("; ".join(e.message for e in result.errors))
    return service.timetable(db, emp, week_of=start.date(), default_tz=settings.default_timezone)
