"""The assessment form (考核): record a result on its kind's scale."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trainquant.auth.permissions import Principal
from trainquant.clock import Clock
from trainquant.config import Settings
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession
from trainquant.errors import DomainError, NotFound
from trainquant.i18n import gettext_ as _
from trainquant.org.models import Employee
from trainquant.org.service import EmployeeFilter, list_employees, scoped
from trainquant.pagination import PageParams
from trainquant.params import parse_id
from trainquant.training import forms, schemas
from trainquant.training.assessments import service as assessments
from trainquant.training.deps import AssessmentsWrite
from trainquant.training.lookups import get_session, local_today
from trainquant.training.models import Assessment, AssessmentKind, Enrolment, Program
from trainquant.web.templating import render

router = APIRouter(include_in_schema=False)

def _today(settings: Settings, clock: Clock) -> date:
    return local_today(clock.now(), settings.default_timezone)


# ---------------------------------------------------------------- record an assessment

RATERS = 3


def _assessment_form(request: Request, db: Session, principal: Principal, *, settings: Settings, clock: Clock, form=None, errors=None, status_code=200):
    people, _n = list_employees(db, EmployeeFilter(status=None), principal.scope, PageParams(page=1, page_size=500), show_cost=False)
    done = request.query_params.get("done")
    recorded = assessments.get_assessment(db, done_id, principal.scope) if (done_id := parse_id(done)) else None
    programs = list(db.scalars(select(Program).order_by(Program.active.desc(), Program.code)))
    defaults = {"assessed_on": _today(settings, clock).isoformat(), "employee_no": request.query_params.get("employee", ""),
                "program_code": request.query_params.get("program", ""), "session_code": request.query_params.get("session", "")}
    return render(request, "training/assessment_form.html", {
        "kinds": assessments.list_kinds(db), "people": people, "programs": programs, "form": form or defaults,
        "errors": errors or {}, "recorded": recorded, "raters": range(1, RATERS + 1),
    }, status_code=status_code)


@router.get("/training/assessments/new")
def new_assessment(request: Request, db: ReadSession, principal: AssessmentsWrite, settings: AppSettings, clock: AppClock):
    return _assessment_form(request, db, principal, settings=settings, clock=clock)


@router.post("/training/assessments/new")
def record_assessment(
    request: Request,
    db: DbSession,
    principal: AssessmentsWrite,
    settings: AppSettings,
    clock: AppClock,
    employee_no: Annotated[str, Form()] = "",
    kind: Annotated[str, Form()] = "",
    assessed_on: Annotated[str, Form()] = "",
    score: Annotated[str, Form()] = "",
    passed: Annotated[str, Form()] = "",
    errors: Annotated[str, Form()] = "",
    operations: Annotated[str, Form()] = "",
    rater: Annotated[str, Form()] = "",
    r1_name: Annotated[str, Form()] = "",
    r1_score: Annotated[str, Form()] = "",
    r2_name: Annotated[str, Form()] = "",
    r2_score: Annotated[str, Form()] = "",
    r3_name: Annotated[str, Form()] = "",
    r3_score: Annotated[str, Form()] = "",
    evidence: Annotated[str, Form()] = "",
    program_code: Annotated[str, Form()] = "",
    session_code: Annotated[str, Form()] = "",
):
    form = {
        "employee_no": employee_no, "kind": kind, "assessed_on": assessed_on, "score": score, "passed": passed, "errors": errors,
        "operations": operations, "rater": rater, "r1_name": r1_name, "r1_score": r1_score, "r2_name": r2_name, "r2_score": r2_score,
        "r3_name": r3_name, "r3_score": r3_score, "evidence": evidence, "program_code": program_code, "session_code": session_code,
    }
    fields = forms.filled({k: form[k] for k in ("employee_no", "kind", "assessed_on", "score", "rater", "errors", "operations", "evidence", "program_code", "session_code")})
    ratings = [
        {"rater": form[f"r{i}_name"].strip(), "score": form[f"r{i}_score"].strip()}
        for i in range(1, RATERS + 1) if form[f"r{i}_name"].strip() or form[f"r{i}_score"].strip()
    ]
    try:
        body = schemas.AssessmentCreate.model_validate({**fields, "ratings": ratings, "passed": {"true": True, "false": False}.get(passed)}, strict=False)
        row = assessments.create_assessment(db, principal, body, now=clock.now(), today=_today(settings, clock))
    except ValidationError as exc:
        return _assessment_form(request, db, principal, errors=forms.field_errors(exc), status_code=422, settings=settings, clock=clock, form=form)
    except NotFound:
        return _assessment_form(request, db, principal, errors={"employee_no": _("Unknown employee no.")}, status_code=422, settings=settings, clock=clock, form=form)
    except DomainError as err:
        return _assessment_form(request, db, principal, errors=forms.assessment_errors(err), status_code=err.status, settings=settings, clock=clock, form=form)
    query = urlencode({"done": row.id, "program": program_code, "session": session_code})
    return RedirectResponse(f"/training/assessments/new?{query}", status_code=303)


# ---------------------------------------------------------------- a whole session's results at once


def _roster(request: Request, db: Session, principal: Principal, code: str, kind_code: str, *, settings: Settings, clock: Clock,
            values: dict | None = None, row_errors: dict | None = None, saved: int | None = None, status_code: int = 200):
    s = get_session(db, code)
    kinds = assessments.list_kinds(db)
    kind = db.get(AssessmentKind, kind_code) if kind_code else None
    if kind is None:  # the kind this program's results have mostly been recorded in, else the first
        usual = db.scalar(select(Assessment.kind_code).where(Assessment.program_id == s.program_id)
                          .group_by(Assessment.kind_code).order_by(func.count().desc(), Assessment.kind_code).limit(1))
        kind = next((k for k in kinds if k.code == usual), kinds[0])
    people = list(db.scalars(scoped(select(Employee).join(Enrolment, Enrolment.employee_id == Employee.id)
                                    .where(Enrolment.session_id == s.id, Enrolment.status == "approved"), principal.scope).order_by(Employee.employee_no)))
    earlier: dict[int, list] = {}
    for a in db.scalars(select(Assessment).where(Assessment.session_id == s.id, Assessment.kind_code == kind.code).order_by(Assessment.id)):
        earlier.setdefault(a.employee_id, []).append(a)
    return render(request, "training/assessment_roster.html", {
        "s": s, "kinds": kinds, "kind": kind, "people": people, "earlier": earlier, "values": values or {}, "row_errors": row_errors or {},
        "saved": saved, "assessed_on": (values or {}).get("assessed_on") or _today(settings, clock).isoformat(),
    }, status_code=status_code)


@router.get("/training/sessions/{code}/assessments")
def roster_page(request: Request, code: str, db: ReadSession, principal: AssessmentsWrite, settings: AppSettings, clock: AppClock, kind: str = ""):
    return _roster(request, db, principal, code, kind, settings=settings, clock=clock)


@router.post("/training/sessions/{code}/assessments")
async def record_roster(request: Request, code: str, db: DbSession, principal: AssessmentsWrite, settings: AppSettings, clock: AppClock):
    """Each filled row recorded as one assessment, in a savepoint of its own: a row refused (off the scale,
    not the reader's team) keeps what was typed and says why; the rows beside it are saved."""
    form = await request.form()
    kind_code = str(form.get("kind", ""))[:32]
    assessed_on = str(form.get("assessed_on", ""))[:10]
    values: dict = {"assessed_on": assessed_on}
    row_errors: dict[str, str] = {}
    saved = 0
    numbers = [str(v)[:32] for v in form.getlist("employee_no")][:1000]
    for no in numbers:
        cells = {f: str(form.get(f"{f}:{no}", "")).strip()[:32] for f in ("score", "passed", "errors", "operations")}
        values[no] = cells
        if not any(cells.values()):
            continue  # left blank: nothing to record for this person
        data: dict[str, object] = {"employee_no": no, "kind": kind_code, "assessed_on": assessed_on, "session_code": code,
                **{k: v for k, v in (("score", cells["score"]), ("errors", cells["errors"]), ("operations", cells["operations"])) if v}}
        if cells["passed"] in ("yes", "no"):
            data["passed"] = cells["passed"] == "yes"
        try:
            body = schemas.AssessmentCreate.model_validate(data, strict=False)
            with db.begin_nested():
                assessments.create_assessment(db, principal, body, now=clock.now(), today=_today(settings, clock))
            saved += 1
            values[no] = {}
        except ValidationError as exc:
            row_errors[no] = "; ".join(dict.fromkeys(forms.field_errors(exc).values()))
        except DomainError as err:
            row_errors[no] = "; ".join(dict.fromkeys(forms.assessment_errors(err).values()))
    return _roster(request, db, principal, code, kind_code, settings=settings, clock=clock, values=values, row_errors=row_errors, saved=saved,
                   status_code=422 if row_errors and not saved else 200)
