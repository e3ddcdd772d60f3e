"""HR's training pages: the program list, a program (sessions, enrolments, costs, assessments), a session with
its roster, and the forms to create a program, schedule a session, enrol someone and record costs.

The employee's "my trainings", the manager's approval inbox and the assessment form are in pages_people.py."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trainquant.auth.permissions import Principal
from trainquant.clock import Clock
from trainquant.config import Settings
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.errors import DomainError, Invalid
from trainquant.i18n import gettext_ as _
from trainquant.org.models import DEPARTMENT_KINDS, Site
from trainquant.org.service import list_sites
from trainquant.pagination import PageParams
from trainquant.training import (
    assessments,
    costs,
    enrolment,
    forms,
    lookups,
    schemas,
    service,
)
from trainquant.training.models import (
    CHECKIN_METHODS,
    COST_CATEGORIES,
    MISSING_CHECKOUT_POLICIES,
    PROGRAM_KINDS,
    PROGRAM_LEVELS,
    TrainingSession,
)
from trainquant.training.pages_people import router as people_router
from trainquant.training.pages_session import router as session_router
from trainquant.web.templating import render

router = APIRouter(include_in_schema=False)

TrainingRead = Annotated[Principal, require("training:read")]
TrainingManage = Annotated[Principal, require("training:manage")]
PAGE_SIZE = 50
ROSTER_SIZE = 500
PROGRAM_FIELDS = ("code", "title", "title_en", "kind", "level", "trainer", "trainer_employee_no", "planned_hours", "description")


def _quoted(code: str) -> str:
    return quote(code, safe="")


def shared(settings: Settings) -> dict:
    return {"when": lambda s: forms.session_when(s, settings.default_timezone), "eligibility_lines": forms.eligibility_lines}


# ---------------------------------------------------------------- program list


@router.get("/training")
def programs_page(
    request: Request,
    db: ReadSession,
    principal: TrainingRead,
    settings: AppSettings,
    clock: AppClock,
    q: Annotated[str | None, Query(max_length=64)] = None,
    kind: Annotated[str | None, Query(max_length=16)] = None,
    status: Annotated[str, Query(pattern="^(active|retired|all)$")] = "active",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
):
    if kind and kind not in PROGRAM_KINDS:
        raise Invalid(_("Unknown %(what)s: %(value)s") % {"what": _("program kind"), "value": kind})
    active = {"active": True, "retired": False, "all": None}[status]
    f = service.ProgramFilter(q=(q or "").strip() or None, kind=kind or None, active=active)
    items, total = service.list_programs(db, f, PageParams(page=page, page_size=PAGE_SIZE))
    upcoming = dict(
        db.execute(
            select(TrainingSession.program_id, func.count())
            .where(TrainingSession.status == "scheduled", TrainingSession.starts_at > clock.now())
            .group_by(TrainingSession.program_id)
        ).all()
    )
    return render(request, "training/programs.html", {
        "items": items, "total": total, "page": page, "pages": max(1, -(-total // PAGE_SIZE)), "q": q or "", "kind": kind or "",
        "status": status, "kinds": PROGRAM_KINDS, "upcoming": upcoming, **shared(settings),
    })


# ---------------------------------------------------------------- new program


def _program_form(request: Request, *, form: dict | None = None, errors: dict | None = None, status_code: int = 200):
    return render(request, "training/program_form.html", {
        "form": form or {"kind": "offline", "level": "foundation", "requires_approval": True, "target_kinds": [], "elig_department_kinds": []},
        "errors": errors or {}, "kinds": PROGRAM_KINDS, "levels": PROGRAM_LEVELS, "department_kinds": DEPARTMENT_KINDS,
    }, status_code=status_code)


@router.get("/training/programs/new")
def new_program_page(request: Request, _principal: TrainingManage):
    return _program_form(request)


@router.post("/training/programs/new")
def create_program(
    request: Request,
    db: DbSession,
    clock: AppClock,
    _principal: TrainingManage,
    code: Annotated[str, Form()] = "",
    title: Annotated[str, Form()] = "",
    title_en: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    level: Annotated[str, Form()] = "",
    trainer: Annotated[str, Form()] = "",
    trainer_employee_no: Annotated[str, Form()] = "",
    planned_hours: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    tags: Annotated[str, Form()] = "",
    target_kinds: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies defaults
    requires_approval: Annotated[str, Form()] = "",
    elig_department_kinds: Annotated[list[str], Form()] = [],  # noqa: B006
    elig_tags_any: Annotated[str, Form()] = "",
    elig_hired_within_days: Annotated[str, Form()] = "",
    elig_hired_at_least_days: Annotated[str, Form()] = "",
    elig_prerequisites: Annotated[str, Form()] = "",
):
    form = {
        "code": code, "title": title, "title_en": title_en, "kind": kind, "level": level, "trainer": trainer,
        "trainer_employee_no": trainer_employee_no, "planned_hours": planned_hours, "description": description, "tags": tags,
        "target_kinds": target_kinds, "requires_approval": bool(requires_approval), "elig_department_kinds": elig_department_kinds,
        "elig_tags_any": elig_tags_any, "elig_hired_within_days": elig_hired_within_days,
        "elig_hired_at_least_days": elig_hired_at_least_days, "elig_prerequisites": elig_prerequisites,
    }
    eligibility = {
        "department_kinds": elig_department_kinds, "tags_any": forms.split_list(elig_tags_any),
        "prerequisites": forms.split_list(elig_prerequisites),
        **forms.filled({"hired_within_days": elig_hired_within_days, "hired_at_least_days": elig_hired_at_least_days}),
    }
    data = {
        **forms.filled({k: form[k] for k in PROGRAM_FIELDS}), "tags": forms.split_list(tags), "target_kinds": target_kinds,
        "requires_approval": bool(requires_approval), "eligibility": eligibility,
    }
    try:
        body = schemas.ProgramCreate.model_validate(data, strict=False)
        program = service.create_program(db, body, now=clock.now())
    except ValidationError as exc:
        return _program_form(request, form=form, errors=forms.field_errors(exc, {"eligibility": "elig_"}), status_code=422)
    except DomainError as err:
        errors = {"code": _("This code is already taken.")} if err.status == 409 else forms.refusal_errors(err)
        errors = {("elig_" + k.split(".", 1)[1] if k.startswith("eligibility.") else k): v for k, v in errors.items()}
        return _program_form(request, form=form, errors=errors, status_code=err.status)
    return RedirectResponse(f"/training/programs/{_quoted(program.code)}?done=created", status_code=303)


# ---------------------------------------------------------------- a program


def _program_page(request: Request, db: Session, principal: Principal, code: str, *, settings: Settings, clock: Clock, form=None, errors=None, status_code=200):
    program = lookups.get_program(db, code)
    sessions = list(program.sessions)
    counts = lookups.seat_counts(db, [s.id for s in sessions])
    enrolled, enrolled_total = enrolment.list_enrolments(db, enrolment.EnrolmentFilter(program=code), principal.scope, PageParams(page=1, page_size=ROSTER_SIZE))
    results, _n = assessments.list_assessments(db, assessments.AssessmentFilter(program=code), principal.scope, PageParams(page=1, page_size=100))
    manage = principal.can("training:manage")
    cost_rows, _m = costs.list_costs(db, costs.CostFilter(program=code), PageParams(page=1, page_size=ROSTER_SIZE)) if manage else ([], 0)
    return render(request, "training/program.html", {
        "program": program, "sessions": [(s, counts.get(s.id, {})) for s in sessions], "enrolments": enrolled,
        "enrolled_total": enrolled_total, "results": results, "manage": manage, "cost_rows": cost_rows,
        "totals": costs.program_totals(db, code) if manage else None, "categories": COST_CATEGORIES,
        "form": form or {"currency": "CNY"}, "errors": errors or {}, "done": request.query_params.get("done"),
        "now": clock.now(), **shared(settings),
    }, status_code=status_code)


@router.get("/training/programs/{code}")
def program_page(request: Request, code: str, db: ReadSession, principal: TrainingRead, settings: AppSettings, clock: AppClock):
    return _program_page(request, db, principal, code, settings=settings, clock=clock)


@router.post("/training/programs/{code}/retire")
def retire_program(code: str, db: DbSession, _principal: TrainingManage):
    service.retire_program(db, code)
    return RedirectResponse(f"/training/programs/{_quoted(code)}?done=retired", status_code=303)


@router.post("/training/programs/{code}/costs")
def add_cost(
    request: Request,
    code: str,
    db: DbSession,
    principal: TrainingManage,
    settings: AppSettings,
    clock: AppClock,
    category: Annotated[str, Form()] = "",
    amount: Annotated[str, Form()] = "",
    currency: Annotated[str, Form()] = "",
    session_code: Annotated[str, Form()] = "",
    incurred_on: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
):
    form = {"category": category, "amount": amount, "currency": currency, "session_code": session_code, "incurred_on": incurred_on, "note": note}
    page = {"settings": settings, "clock": clock, "form": form}
    try:
        body = schemas.CostCreate.model_validate({"program_code": code, **forms.filled(form)}, strict=False)
        costs.create_cost(db, principal, body, now=clock.now())
    except ValidationError as exc:
        return _program_page(request, db, principal, code, errors=forms.field_errors(exc), status_code=422, **page)
    except DomainError as err:
        return _program_page(request, db, principal, code, errors=forms.refusal_errors(err), status_code=err.status, **page)
    return RedirectResponse(f"/training/programs/{_quoted(code)}?done=cost#costs", status_code=303)


# ---------------------------------------------------------------- schedule a session


def _session_form(request: Request, db: Session, program, *, settings: Settings, clock: Clock, form=None, errors=None, status_code=200):
    start = (clock.now() + timedelta(days=7)).astimezone(ZoneInfo(settings.default_timezone)).replace(hour=14, minute=0, second=0, microsecond=0)
    default = {
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"), "ends_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "online": program.kind == "online", "checkin_methods": [] if program.kind == "online" else ["qr", "manual"],
        "min_participation": "80", "missing_checkout_policy": "credit-to-end", "trainer": program.trainer or "",
    }
    return render(request, "training/session_form.html", {
        "program": program, "form": form or default, "errors": errors or {}, "sites": list_sites(db), "methods": CHECKIN_METHODS,
        "policies": MISSING_CHECKOUT_POLICIES, "timezone": settings.default_timezone,
    }, status_code=status_code)


@router.get("/training/programs/{code}/sessions/new")
def new_session_page(request: Request, code: str, db: ReadSession, _principal: TrainingManage, settings: AppSettings, clock: AppClock):
    return _session_form(request, db, lookups.get_program(db, code), settings=settings, clock=clock)


@router.post("/training/programs/{code}/sessions/new")
def create_session(
    request: Request,
    code: str,
    db: DbSession,
    _principal: TrainingManage,
    settings: AppSettings,
    clock: AppClock,
    starts_at: Annotated[str, Form()] = "",
    ends_at: Annotated[str, Form()] = "",
    online: Annotated[str, Form()] = "",
    site_code: Annotated[str, Form()] = "",
    venue: Annotated[str, Form()] = "",
    trainer: Annotated[str, Form()] = "",
    trainer_employee_no: Annotated[str, Form()] = "",
    capacity: Annotated[str, Form()] = "",
    checkin_methods: Annotated[list[str], Form()] = [],  # noqa: B006
    min_participation: Annotated[str, Form()] = "",
    missing_checkout_policy: Annotated[str, Form()] = "",
    session_code: Annotated[str, Form()] = "",
):
    program = lookups.get_program(db, code)
    form = {
        "starts_at": starts_at, "ends_at": ends_at, "online": bool(online), "site_code": site_code, "venue": venue, "trainer": trainer,
        "trainer_employee_no": trainer_employee_no, "capacity": capacity, "checkin_methods": checkin_methods,
        "min_participation": min_participation, "missing_checkout_policy": missing_checkout_policy, "session_code": session_code,
    }
    page = {"settings": settings, "clock": clock, "form": form}
    site = db.scalar(select(Site).where(Site.code == site_code)) if site_code else None
    zone = ZoneInfo(site.timezone if site else settings.default_timezone)
    errors: dict[str, str] = {}
    times = {}
    for field, value in (("starts_at", starts_at), ("ends_at", ends_at)):
        times[field] = forms.parse_local(value, zone) if value.strip() else None
        if times[field] is None:
            errors[field] = _("Enter a date and time.")
    venue_site, _sep, venue_name = venue.partition("::")
    if venue_name and venue_site != site_code:
        errors["venue"] = _("This venue is not in the chosen campus.")
    try:
        percent = Decimal(min_participation) / 100 if min_participation.strip() else None
    except ArithmeticError:
        percent, errors["min_participation"] = None, _("Enter a number.")
    if errors:
        return _session_form(request, db, program, errors=errors, status_code=422, **page)
    data = {
        **forms.filled({"code": session_code, "site_code": site_code, "venue": venue_name, "trainer": trainer,
                        "trainer_employee_no": trainer_employee_no, "capacity": capacity, "missing_checkout_policy": missing_checkout_policy}),
        "program_code": program.code, "starts_at": times["starts_at"], "ends_at": times["ends_at"], "online": bool(online),
        "checkin_methods": checkin_methods, "min_participation": float(percent) if percent is not None else None,
    }
    try:
        session = service.create_session(db, schemas.SessionCreate.model_validate(data, strict=False), now=clock.now())
    except ValidationError as exc:
        errors = forms.field_errors(exc)
        errors = {("session_code" if k == "code" else k): v for k, v in errors.items()}
        return _session_form(request, db, program, errors=errors, status_code=422, **page)
    except DomainError as err:
        errors = {"session_code": _("This code is already taken.")} if err.code == "session-code-taken" else forms.refusal_errors(err)
        return _session_form(request, db, program, errors=errors, status_code=err.status, **page)
    return RedirectResponse(f"/training/sessions/{_quoted(session.code)}?done=created", status_code=303)


router.include_router(session_router)
router.include_router(people_router)
