"""HR pages: the department tree, the employee list with live search, and the employee profile."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Annotated
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from trainquant import sheets
from trainquant.auth.permissions import Principal
from trainquant.clock import Clock
from trainquant.config import Settings
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.errors import Conflict, Invalid, NotFound
from trainquant.i18n import gettext_ as _
from trainquant.org import schemas, service
from trainquant.org.models import (
    DEPARTMENT_KINDS,
    EMPLOYEE_STATUSES,
    GROWTH_KINDS,
    Employee,
)
from trainquant.pagination import PageParams
from trainquant.params import QueryDate
from trainquant.web.templating import render
from trainquant.web.weekgrid import FIRST_HOUR, LAST_HOUR, week_grid

router = APIRouter(include_in_schema=False)

OrgRead = Annotated[Principal, require("org:read")]
OrgWrite = Annotated[Principal, require("org:write")]
GrowthWrite = Annotated[Principal, require("growth:write")]

PAGE_SIZE = 50
GROWTH_SOURCES = ("manager", "student-feedback", "assessment", "self", "hr")
RESULTS_TARGET = "employee-results"


# ---------------------------------------------------------------- form errors


def _error_text(field: str, error: Mapping) -> str:
    kind, ctx = error.get("type", ""), error.get("ctx") or {}
    if kind in ("missing", "string_too_short"):
        return _("This field is required.")
    if kind == "string_too_long":
        return _("At most %(n)s characters.") % {"n": ctx.get("max_length")}
    if kind == "string_pattern_mismatch":
        if field == "tag":
            return _("One tag, without spaces, commas or semicolons.")
        return _("Use only letters, digits and . _ - (no spaces).")
    if kind == "literal_error":
        return _("Choose one of the options.")
    if kind.startswith("date"):
        return _("Enter a date as YYYY-MM-DD.")
    return str(error.get("msg", _("This value is not valid.")))


def form_errors(exc: ValidationError) -> dict[str, str]:
    """Pydantic errors as one translated message per form field."""
    out: dict[str, str] = {}
    for error in exc.errors():
        loc = error.get("loc") or ("",)
        field = str(loc[0]) if loc[0] else "_form"
        out.setdefault(field, _error_text(field, error))
    return out


def _filled(values: Mapping[str, str]) -> dict[str, str]:
    # An empty form field means "not given": optional fields take their default, required ones are missing.
    return {k: v.strip() for k, v in values.items() if v and v.strip()}


# ---------------------------------------------------------------- departments


@dataclass(frozen=True)
class TreeRow:
    department: schemas.DepartmentRead
    depth: int
    headcount: int  # including sub-departments, as the filtered employee list counts


def department_tree(departments: Iterable[schemas.DepartmentRead]) -> list[TreeRow]:
    """Departments in tree order (children under their parent, by code), with subtree headcounts."""
    deps = list(departments)
    ids = {d.id for d in deps}
    children: dict[int | None, list[schemas.DepartmentRead]] = {}
    for d in sorted(deps, key=lambda d: d.code):
        children.setdefault(d.parent_id if d.parent_id in ids else None, []).append(d)
    rows: list[TreeRow] = []
    seen: set[int] = set()

    def walk(dep: schemas.DepartmentRead, depth: int) -> int:
        seen.add(dep.id)
        index = len(rows)
        rows.append(TreeRow(dep, depth, 0))
        total = dep.employee_count + sum(walk(c, depth + 1) for c in children.get(dep.id, ()) if c.id not in seen)
        rows[index] = TreeRow(dep, depth, total)
        return total

    for root in children.get(None, ()):
        walk(root, 0)
    for dep in deps:  # a cycle stored by hand would hide these; show them rather than lose them
        if dep.id not in seen:
            walk(dep, 0)
    return rows


def _departments_page(request: Request, db: Session, *, form: dict | None = None, errors: dict | None = None, status_code: int = 200):
    return render(
        request,
        "org/departments.html",
        {
            "rows": department_tree(service.list_departments(db)),
            "kinds": DEPARTMENT_KINDS,
            "form": form or {},
            "errors": errors or {},
            "created": request.query_params.get("created"),
        },
        status_code=status_code,
    )


@router.get("/departments")
def departments_page(request: Request, db: ReadSession, _principal: OrgRead):
    return _departments_page(request, db)


@router.post("/departments")
def create_department(
    request: Request,
    db: DbSession,
    _principal: OrgWrite,
    code: Annotated[str, Form()] = "",
    name: Annotated[str, Form()] = "",
    name_en: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    parent_code: Annotated[str, Form()] = "",
):
    form = {"code": code, "name": name, "name_en": name_en, "kind": kind, "parent_code": parent_code}
    try:
        body = schemas.DepartmentCreate.model_validate(_filled(form), strict=False)
    except ValidationError as exc:
        return _departments_page(request, db, form=form, errors=form_errors(exc), status_code=422)
    try:
        dep = service.create_department(db, body)
    except Conflict:
        return _departments_page(request, db, form=form, errors={"code": _("This code is already taken.")}, status_code=409)
    except NotFound:
        return _departments_page(request, db, form=form, errors={"parent_code": _("Unknown parent department.")}, status_code=422)
    return RedirectResponse(f"/departments?created={quote(dep.code, safe='')}", status_code=303)


# ---------------------------------------------------------------- employee list


def _choice(value: str | None, allowed: tuple[str, ...], what: str) -> str | None:
    if not value:
        return None
    if value not in allowed:
        raise Invalid(_("Unknown %(what)s: %(value)s") % {"what": what, "value": value})
    return value


def _is_results_request(request: Request) -> bool:
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-history-restore-request") != "true"
        and headers.get("hx-target") == RESULTS_TARGET
    )


def employee_filter(
    q: Annotated[str | None, Query(max_length=64)] = None,
    department: Annotated[str | None, Query(max_length=32)] = None,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    tag: Annotated[str | None, Query(max_length=48)] = None,
    site: Annotated[str | None, Query(max_length=32)] = None,
) -> service.EmployeeFilter:
    """The list's filters from the query string; the page and its export read the same."""
    return service.EmployeeFilter(
        q=(q or "").strip() or None,
        department=department or None,
        kind=_choice(kind, DEPARTMENT_KINDS, _("department kind")),
        status=_choice(status, EMPLOYEE_STATUSES, _("status")),
        tag=tag or None,
        site=site or None,
    )


EmployeeFilters = Annotated[service.EmployeeFilter, Depends(employee_filter)]
EXPORT_MAX = 50_000


PICKER_SIZE = 20


@router.get("/people/options")
def people_options(request: Request, db: ReadSession, principal: OrgRead, q: Annotated[str, Query(max_length=64)] = ""):
    """The people picker's choices (a <datalist>'s options): name, 工号 or pinyin (``huang`` finds 黄清)."""
    text = q.strip()
    items: list[schemas.EmployeeRead] = []
    if text:
        f = service.EmployeeFilter(q=text, status=None)
        items, _total = service.list_employees(db, f, principal.scope, PageParams(page=1, page_size=PICKER_SIZE), show_cost=False)
    return render(request, "org/_people_options.html", {"items": [e for e in items if e.status != "left"]})


@router.get("/employees/export.xlsx")
def employees_export(db: ReadSession, principal: OrgRead, f: EmployeeFilters):
    """Everyone the filters select, as the list shows them (the hourly cost only for who may see it)."""
    show_cost = principal.can("org:write")
    items, _total = service.list_employees(db, f, principal.scope, PageParams(page=1, page_size=EXPORT_MAX), show_cost=show_cost)
    from trainquant.org import export

    return sheets.attachment(export.employees_xlsx(items, show_cost=show_cost), _("Employees"), fallback="employees")


@router.get("/employees")
def employees_page(
    request: Request,
    db: ReadSession,
    principal: OrgRead,
    f: EmployeeFilters,
    page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
):
    items, total = service.list_employees(db, f, principal.scope, PageParams(page=page, page_size=PAGE_SIZE))
    sites = service.list_sites(db)
    context = {
        "items": items,
        "total": total,
        "page": page,
        "pages": max(1, -(-total // PAGE_SIZE)),
        "filters": f,
        "site_names": {s.code: s.name for s in sites},
    }
    if _is_results_request(request):
        response = render(request, "org/_employee_table.html", {**context, "oob": True})
        # The address bar gets the search without the empty filter fields the form also sends.
        given = urlencode([(k, v) for k, v in request.query_params.multi_items() if v])
        response.headers["HX-Push-Url"] = f"/employees?{given}" if given else "/employees"
    else:
        context |= {
            "departments": department_tree(service.list_departments(db)),
            "sites": sites,
            "tags": service.list_employee_tags(db),
            "kinds": DEPARTMENT_KINDS,
            "statuses": EMPLOYEE_STATUSES,
        }
        response = render(request, "org/employees.html", context)
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


# ---------------------------------------------------------------- profile and week view


def _profile_page(
    request: Request,
    db: Session,
    principal: Principal,
    emp: Employee,
    *,
    settings: Settings,
    clock: Clock,
    week: date | None = None,
    form: dict | None = None,
    errors: dict | None = None,
    status_code: int = 200,
):
    today = clock.now().astimezone(service.employee_zone(emp, settings.default_timezone)).date()
    tt = service.timetable(db, emp, week_of=week or today, default_tz=settings.default_timezone)
    days, outside = week_grid(tt.occurrences, tt.week_start)
    notes = service.growth_notes(db, emp)
    manager = emp.manager
    from trainquant.analytics.effect import employee_report  # the profile shows the person's record; analytics reads org, not back

    record = employee_report(db, emp.employee_no, principal.scope, now=clock.now())
    own = principal.employee_id is not None and principal.employee_id == emp.id
    return render(
        request,
        "org/profile.html",
        {
            "emp": emp,
            "manager": manager,
            "record": record,
            "own": own,
            "can_report": principal.can("reports:read"),
            "manager_visible": manager is not None and principal.scope.allows(department_id=manager.department_id, employee_id=manager.id),
            "show_cost": principal.can("org:write"),
            "needs": [n for n in notes if n.kind == "need"],
            "weaknesses": [n for n in notes if n.kind == "weakness"],
            "can_note": service.may_add_growth_note(principal, emp),
            "growth_kinds": GROWTH_KINDS,
            "sources": GROWTH_SOURCES,
            "form": form or {"kind": "need", "source": "manager", "noted_on": today.isoformat()},
            "errors": errors or {},
            "noted": request.query_params.get("noted") == "1",
            "tt": tt,
            "days": days,
            "outside": outside,
            "today": today,
            "hours": list(range(FIRST_HOUR, LAST_HOUR)),
            "prev_week": tt.week_start - timedelta(days=7),
            "next_week": tt.week_start + timedelta(days=7),
            "this_week": service.week_start(today),
        },
        status_code=status_code,
    )


@router.get("/employees/{employee_no}")
def employee_profile(
    request: Request, employee_no: str, db: ReadSession, principal: OrgRead, settings: AppSettings, clock: AppClock, week: QueryDate | None = None
):
    emp = service.get_employee(db, employee_no, principal.scope)
    return _profile_page(request, db, principal, emp, settings=settings, clock=clock, week=week)


@router.post("/employees/{employee_no}")
def add_growth_note(
    request: Request,
    employee_no: str,
    db: DbSession,
    principal: GrowthWrite,
    settings: AppSettings,
    clock: AppClock,
    kind: Annotated[str, Form()] = "",
    tag: Annotated[str, Form()] = "",
    source: Annotated[str, Form()] = "",
    noted_on: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
):
    emp = service.get_employee(db, employee_no, principal.scope)
    form = {"kind": kind, "tag": tag, "source": source, "noted_on": noted_on, "note": note}
    try:
        body = schemas.GrowthNoteCreate.model_validate(_filled(form), strict=False)
    except ValidationError as exc:
        return _profile_page(request, db, principal, emp, errors=form_errors(exc), status_code=422, settings=settings, clock=clock, form=form)
    try:
        service.add_growth_note(db, emp, body, principal)
    except Conflict:
        return _profile_page(request, db, principal, emp, errors={"tag": _("This growth note is already recorded.")}, status_code=409, settings=settings, clock=clock, form=form)
    return RedirectResponse(f"/employees/{quote(emp.employee_no, safe='')}?noted=1#growth", status_code=303)
