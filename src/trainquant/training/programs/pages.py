"""HR's program pages: the list, a program (sessions, enrolments, costs, assessments), the new-program form and costs."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trainquant.auth.permissions import Principal
from trainquant.clock import Clock
from trainquant.config import Settings
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession
from trainquant.errors import DomainError, Invalid
from trainquant.i18n import gettext_ as _
from trainquant.org.models import DEPARTMENT_KINDS
from trainquant.pagination import PageParams
from trainquant.training import forms, lookups, schemas
from trainquant.training.assessments import service as assessments
from trainquant.training.deps import TrainingManage, TrainingRead
from trainquant.training.enrolment import service as enrolment
from trainquant.training.models import (
    COST_CATEGORIES,
    PROGRAM_KINDS,
    PROGRAM_LEVELS,
    TrainingSession,
)
from trainquant.training.programs import costs
from trainquant.training.programs import schemas as cost_schemas
from trainquant.training.programs import service as programs
from trainquant.web.templating import render

router = APIRouter(include_in_schema=False)

PAGE_SIZE = 50
ROSTER_SIZE = 500
PROGRAM_FIELDS = ("code", "title", "title_en", "kind", "level", "trainer", "trainer_employee_no", "planned_hours", "description")


def quoted(code: str) -> str:
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
    f = programs.ProgramFilter(q=(q or "").strip() or None, kind=kind or None, active=active)
    items, total = programs.list_programs(db, f, PageParams(page=page, page_size=PAGE_SIZE))
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
        program = programs.create_program(db, body, now=clock.now())
    except ValidationError as exc:
        return _program_form(request, form=form, errors=forms.field_errors(exc, {"eligibility": "elig_"}), status_code=422)
    except DomainError as err:
        errors = {"code": _("This code is already taken.")} if err.status == 409 else forms.refusal_errors(err)
        errors = {("elig_" + k.split(".", 1)[1] if k.startswith("eligibility.") else k): v for k, v in errors.items()}
        return _program_form(request, form=form, errors=errors, status_code=err.status)
    return RedirectResponse(f"/training/programs/{quoted(program.code)}?done=created", status_code=303)


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
    programs.retire_program(db, code)
    return RedirectResponse(f"/training/programs/{quoted(code)}?done=retired", status_code=303)


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
    try:
        body = cost_schemas.CostCreate.model_validate({"program_code": code, **forms.filled(form)}, strict=False)
        costs.create_cost(db, principal, body, now=clock.now())
    except ValidationError as exc:
        return _program_page(request, db, principal, code, errors=forms.field_errors(exc), status_code=422, settings=settings, clock=clock, form=form)
    except DomainError as err:
        return _program_page(request, db, principal, code, errors=forms.refusal_errors(err), status_code=err.status, settings=settings, clock=clock, form=form)
    return RedirectResponse(f"/training/programs/{quoted(code)}?done=cost#costs", status_code=303)
