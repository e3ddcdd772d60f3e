"""The employee's "my trainings" (我的培训) and the manager's approval inbox (审批)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from trainquant import sheets
from trainquant.auth.permissions import DataScope, Principal
from trainquant.clock import Clock
from trainquant.config import Settings
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession
from trainquant.errors import DomainError, NotFound
from trainquant.i18n import gettext_ as _
from trainquant.org.models import Employee, GrowthNote
from trainquant.pagination import PageParams
from trainquant.params import PathId
from trainquant.training import forms, rules, schemas
from trainquant.training.assessments import service as assessments
from trainquant.training.deps import TrainingApprove, TrainingEnrol
from trainquant.training.enrolment import service as enrolment
from trainquant.training.lookups import local_today, seat_counts
from trainquant.training.models import Program, TrainingSession
from trainquant.web.templating import render

router = APIRouter(include_in_schema=False)

OPEN_SESSIONS = 100


def _today(settings: Settings, clock: Clock) -> date:
    return local_today(clock.now(), settings.default_timezone)


# ---------------------------------------------------------------- my trainings


def _my_page(request: Request, db: Session, principal: Principal, *, settings: Settings, clock: Clock, error: str | None = None, status_code: int = 200,
             confirm: dict | None = None):
    context: dict = {
        "error": error, "confirm": confirm, "done": request.query_params.get("done"), "when": lambda s: forms.session_when(s, settings.default_timezone),
        "span": lambda e: forms.span(e.starts_at, e.ends_at, settings.default_timezone),
    }
    emp = None
    if principal.employee_id is not None:
        emp = db.scalar(select(Employee).where(Employee.id == principal.employee_id).options(joinedload(Employee.department)))
    if emp is None:  # an account without an employee (the link is SET NULL when the employee is deleted)
        return render(request, "training/my.html", {**context, "emp": None}, status_code=status_code)
    now, today = clock.now(), _today(settings, clock)
    own = DataScope(employee_id=emp.id)
    mine, _n = enrolment.list_enrolments(db, enrolment.EnrolmentFilter(employee_id=emp.id), own, PageParams(page=1, page_size=200))
    held = {e.session_code for e in mine if e.status != rules.CANCELLED}
    sessions = list(
        db.scalars(
            select(TrainingSession).join(TrainingSession.program)
            .where(TrainingSession.status == "scheduled", TrainingSession.starts_at > now, Program.active.is_(True))
            .options(joinedload(TrainingSession.program), joinedload(TrainingSession.site), joinedload(TrainingSession.venue))
            .order_by(TrainingSession.starts_at).limit(OPEN_SESSIONS)
        )
    )
    who = enrolment.candidate(db, emp, now=now)
    verdicts: dict[int, bool] = {}
    for s in sessions:
        if s.program_id not in verdicts:
            rule = rules.Eligibility.from_json(s.program.eligibility)
            verdicts[s.program_id] = not rules.eligibility_failures(rule, who, today=today)
    needs = set(db.scalars(select(GrowthNote.tag).where(GrowthNote.employee_id == emp.id)))
    open_sessions = [s for s in sessions if verdicts[s.program_id] and s.code not in held]
    counts = seat_counts(db, [s.id for s in open_sessions])
    results, _m = assessments.list_assessments(db, assessments.AssessmentFilter(employee_id=emp.id), own, PageParams(page=1, page_size=50))
    return render(request, "training/my.html", {
        **context, "emp": emp, "now": now,
        "upcoming": [e for e in mine if e.ends_at > now], "past": [e for e in mine if e.ends_at <= now],
        "open_sessions": [(s, counts.get(s.id, {}), bool(needs & set(s.program.tags or []))) for s in open_sessions],
        "closed": sum(1 for s in sessions if not verdicts[s.program_id]), "results": results,
    }, status_code=status_code)


@router.get("/my/trainings")
def my_trainings(request: Request, db: ReadSession, principal: TrainingEnrol, settings: AppSettings, clock: AppClock):
    return _my_page(request, db, principal, settings=settings, clock=clock)


@router.post("/my/trainings/request")
def request_enrolment(
    request: Request,
    db: DbSession,
    principal: TrainingEnrol,
    settings: AppSettings,
    clock: AppClock,
    session_code: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    allow_overlap: Annotated[str, Form()] = "",
):
    try:
        body = schemas.EnrolmentRequest.model_validate(
            {"session_code": session_code, "reason": reason.strip()[:500] or None, "allow_overlap": bool(allow_overlap)}, strict=False)
        row = enrolment.request(db, principal, body, now=clock.now(), today=_today(settings, clock))
    except ValidationError:
        return _my_page(request, db, principal, settings=settings, clock=clock, error=_("Choose a session."), status_code=422)
    except DomainError as err:
        if err.code == "person-busy":  # asked, not refused: the page offers to send the request anyway
            return _my_page(request, db, principal, settings=settings, clock=clock, error=forms.enrolment_refusal(err), status_code=err.status,
                            confirm={"session_code": session_code, "reason": reason.strip()[:500]})
        return _my_page(request, db, principal, settings=settings, clock=clock, error=forms.enrolment_refusal(err), status_code=err.status)
    return RedirectResponse(f"/my/trainings?{urlencode({'done': row.status})}", status_code=303)


@router.post("/my/trainings/{enrolment_id}/cancel")
def cancel_enrolment(
    request: Request,
    enrolment_id: PathId,
    db: DbSession,
    principal: TrainingEnrol,
    settings: AppSettings,
    clock: AppClock,
    reason: Annotated[str, Form()] = "",
):
    try:
        enrolment.decide(db, principal, enrolment_id, "cancel", reason=reason.strip()[:500] or None, now=clock.now(), today=_today(settings, clock))
    except DomainError as err:
        return _my_page(request, db, principal, settings=settings, clock=clock, error=forms.enrolment_refusal(err), status_code=err.status)
    return RedirectResponse("/my/trainings?done=cancelled", status_code=303)


# ---------------------------------------------------------------- the approval inbox


def _is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


@dataclass(frozen=True)
class ApprovalFilter:
    program: str = ""
    department: str = ""

    def query(self) -> str:
        return urlencode({k: v for k, v in (("program", self.program), ("department", self.department)) if v})

    def department_ids(self, db: Session, principal: Principal) -> list[int] | None:
        if not self.department:
            return None
        from trainquant.indicators.evaluation import check_department_visible
        from trainquant.org.service import get_department
        from trainquant.org.tree import department_subtree

        dep = get_department(db, self.department)
        check_department_visible(principal.scope, dep)
        return sorted(department_subtree(db, dep.id))

    def select(self, db: Session, principal: Principal, now):
        return enrolment.approvals_query(principal, now=now, program=self.program or None, department_ids=self.department_ids(db, principal))


def _approvals(request: Request, db: Session, principal: Principal, *, settings: Settings, clock: Clock, page: int = 1, error: str | None = None,
               status_code: int = 200, flt: ApprovalFilter | None = None, bulk: dict | None = None):
    from trainquant.analytics.effect import visible_departments

    flt = flt or ApprovalFilter()
    items, total = enrolment.read_page(db, flt.select(db, principal, clock.now()), PageParams(page=page, page_size=50))
    return render(request, "training/approvals.html", {
        "items": items, "total": total, "page": page, "pages": max(1, -(-total // 50)), "error": error,
        "done": request.query_params.get("done"), "span": lambda e: forms.span(e.starts_at, e.ends_at, settings.default_timezone),
        "f": flt, "bulk": bulk, "bulk_max": enrolment.BULK_MAX, "departments": visible_departments(db, principal.scope),
        "programs": list(db.scalars(select(Program).where(Program.active).order_by(Program.code))),
    }, status_code=status_code)


@router.get("/approvals/export.xlsx")
def approvals_export(db: ReadSession, principal: TrainingApprove, settings: AppSettings, clock: AppClock,
                     program: Annotated[str, Query(max_length=32)] = "", department: Annotated[str, Query(max_length=32)] = ""):
    from trainquant.training.enrolment import export

    rows = list(db.scalars(ApprovalFilter(program, department).select(db, principal, clock.now()).limit(50_000)))
    return sheets.attachment(export.approvals_xlsx([enrolment.to_read(r) for r in rows], zone=settings.default_timezone),
                             _("Approvals"), fallback="approvals")


@router.post("/approvals/bulk")
def approve_many(request: Request, db: DbSession, principal: TrainingApprove, settings: AppSettings, clock: AppClock,
                 ids: Annotated[list[str] | None, Form()] = None, every: Annotated[str, Form()] = "",
                 program: Annotated[str, Form(max_length=32)] = "", department: Annotated[str, Form(max_length=32)] = ""):
    """Approve the ticked requests, or (every=1) every one the filter shows; a rejection is one by one
    (it needs its own reason)."""
    from trainquant.params import parse_id

    flt = ApprovalFilter(program, department)
    if every == "1":
        picked = [r.id for r in db.scalars(flt.select(db, principal, clock.now()).limit(enrolment.BULK_MAX + 1))]
    else:
        picked = [n for n in (parse_id(i) for i in ids or []) if n is not None]
    if not picked:
        return _approvals(request, db, principal, settings=settings, clock=clock, flt=flt, error=_("Tick the requests to approve first."),
                          status_code=422)
    try:
        got = enrolment.decide_many(db, principal, picked, "approve", reason=None, now=clock.now(), today=_today(settings, clock))
    except DomainError as err:
        return _approvals(request, db, principal, settings=settings, clock=clock, flt=flt, error=forms.enrolment_refusal(err), status_code=err.status)
    bulk = {"done": got.done, "refused": [(i, forms.enrolment_refusal(err)) for i, err in got.refused]}
    return _approvals(request, db, principal, settings=settings, clock=clock, flt=flt, bulk=bulk)


@router.get("/approvals")
def approvals_page(
    request: Request, db: ReadSession, principal: TrainingApprove, settings: AppSettings, clock: AppClock,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    program: Annotated[str, Query(max_length=32)] = "", department: Annotated[str, Query(max_length=32)] = "",
):
    return _approvals(request, db, principal, settings=settings, clock=clock, page=page, flt=ApprovalFilter(program, department))


def _decide(request: Request, db: Session, principal: Principal, enrolment_id: int, action: str, reason: str, *, settings: Settings, clock: Clock):
    error = None
    try:
        enrolment.decide(db, principal, enrolment_id, action, reason=reason.strip()[:500] or None, now=clock.now(), today=_today(settings, clock))
    except NotFound:
        raise
    except DomainError as err:
        if not _is_htmx(request):
            return _approvals(request, db, principal, settings=settings, clock=clock, error=forms.enrolment_refusal(err), status_code=err.status)
        error = forms.enrolment_refusal(err)
    if not _is_htmx(request):
        return RedirectResponse(f"/approvals?done={action}", status_code=303)
    # The row swaps in place: decided (with its new status), or still open with the reason it was refused;
    # a row outside the caller's departments shows only the refusal, not whose request it is.
    try:
        item = enrolment.get_enrolment(db, enrolment_id, principal.scope)
    except NotFound:
        return render(request, "training/_approval_row.html", {"e": None, "row_error": error})
    span = lambda e: forms.span(e.starts_at, e.ends_at, settings.default_timezone)  # noqa: E731
    return render(request, "training/_approval_row.html", {"e": item, "row_error": error, "span": span})


@router.post("/approvals/{enrolment_id}/approve")
def approve(request: Request, enrolment_id: PathId, db: DbSession, principal: TrainingApprove, settings: AppSettings, clock: AppClock):
    return _decide(request, db, principal, enrolment_id, "approve", "", settings=settings, clock=clock)


@router.post("/approvals/{enrolment_id}/reject")
def reject(
    request: Request, enrolment_id: PathId, db: DbSession, principal: TrainingApprove, settings: AppSettings, clock: AppClock,
    reason: Annotated[str, Form()] = "",
):
    return _decide(request, db, principal, enrolment_id, "reject", reason, settings=settings, clock=clock)
