"""A session's page: its facts, the roster with the waiting list in order, and HR's actions on it."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from trainquant.auth.permissions import Principal
from trainquant.clock import Clock
from trainquant.config import Settings
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.errors import DomainError, Invalid
from trainquant.i18n import gettext_ as _
from trainquant.org.models import Employee
from trainquant.pagination import PageParams
from trainquant.params import PathId
from trainquant.training import enrolment, forms, lookups, rules, schemas, service
from trainquant.training.lookups import local_today
from trainquant.web.templating import render

router = APIRouter(include_in_schema=False)

TrainingRead = Annotated[Principal, require("training:read")]
TrainingManage = Annotated[Principal, require("training:manage")]
ROSTER_SIZE = 500
HR_ACTIONS = ("override_approve", "override_reject", "cancel")
ORDER = {rules.APPROVED: 0, rules.WAITLISTED: 1, rules.REQUESTED: 2, rules.REJECTED: 3, rules.CANCELLED: 4}


def session_page(
    request: Request, db: Session, principal: Principal, code: str, *, settings: Settings, clock: Clock,
    form: dict | None = None, errors: dict | None = None, status_code: int = 200,
):
    s = lookups.get_session(db, code)
    counts = lookups.seat_counts(db, [s.id]).get(s.id, {})
    roster, total = enrolment.list_enrolments(db, enrolment.EnrolmentFilter(session=code), principal.scope, PageParams(page=1, page_size=ROSTER_SIZE))
    roster.sort(key=lambda e: (ORDER.get(e.status, 9), e.waitlist_rank or 0, e.employee_no))
    now = clock.now()
    me = db.get(Employee, principal.employee_id) if principal.employee_id is not None else None
    mine = next((e for e in roster if me is not None and e.employee_no == me.employee_no), None)
    return render(request, "training/session.html", {
        "s": s, "counts": counts, "seats": service.session_read(s, counts), "roster": roster, "total": total,
        "manage": principal.can("training:manage"), "started": now >= s.starts_at, "ended": now >= s.ends_at,
        "can_request": principal.can("training:enrol") and me is not None and (mine is None or mine.status == rules.CANCELLED)
        and s.status == "scheduled" and now < s.starts_at and s.program.active,
        "mine": mine, "form": form or {}, "errors": errors or {}, "done": request.query_params.get("done"),
        "when": forms.session_when(s, settings.default_timezone), "timezone": forms.zone_of(s, settings.default_timezone).key,
    }, status_code=status_code)


@router.get("/training/sessions/{code}")
def session_view(request: Request, code: str, db: ReadSession, principal: TrainingRead, settings: AppSettings, clock: AppClock):
    return session_page(request, db, principal, code, settings=settings, clock=clock)


@router.post("/training/sessions/{code}/enrol")
def hr_enrol(
    request: Request,
    code: str,
    db: DbSession,
    principal: TrainingManage,
    settings: AppSettings,
    clock: AppClock,
    employee_no: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    skip_eligibility: Annotated[str, Form()] = "",
):
    form = {"employee_no": employee_no, "reason": reason, "skip_eligibility": bool(skip_eligibility)}
    page = {"settings": settings, "clock": clock, "form": form}
    now = clock.now()
    try:
        body = schemas.HrEnrol.model_validate(
            {"session_code": code, "skip_eligibility": bool(skip_eligibility), **forms.filled({"employee_no": employee_no, "reason": reason})}, strict=False
        )
        row = enrolment.hr_enrol(db, principal, body, now=now, today=local_today(now, settings.default_timezone))
    except ValidationError as exc:
        return session_page(request, db, principal, code, errors=forms.field_errors(exc), status_code=422, **page)
    except DomainError as err:
        errors = forms.refusal_errors(err)
        if err.status == 409:
            errors = {"employee_no": _("Already enrolled in this session, or the session cannot take enrolments.")}
        elif err.code == "session-started":
            errors = {"employee_no": _("The session has already started.")}
        return session_page(request, db, principal, code, errors=errors, status_code=err.status, **page)
    return RedirectResponse(f"/training/sessions/{quote(code, safe='')}?done={row.status}#roster", status_code=303)


@router.post("/training/sessions/{code}/cancel")
def cancel_session(
    request: Request,
    code: str,
    db: DbSession,
    principal: TrainingManage,
    settings: AppSettings,
    clock: AppClock,
    reason: Annotated[str, Form()] = "",
):
    if not reason.strip():
        return session_page(request, db, principal, code, settings=settings, clock=clock, form={"cancel_open": True},
                            errors={"cancel_reason": _("This field is required.")}, status_code=422)
    service.cancel_session(db, code, reason.strip()[:400], actor=enrolment.actor_for(principal), now=clock.now())
    return RedirectResponse(f"/training/sessions/{quote(code, safe='')}?done=cancelled", status_code=303)


@router.post("/training/enrolments/{enrolment_id}/action")
def hr_action(
    request: Request,
    enrolment_id: PathId,
    db: DbSession,
    principal: TrainingManage,
    settings: AppSettings,
    clock: AppClock,
    action: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
):
    row = enrolment.get_row(db, enrolment_id)
    code = row.session.code
    if action not in HR_ACTIONS:
        raise Invalid(_("Choose one of the options."))
    now = clock.now()
    try:
        enrolment.decide(db, principal, enrolment_id, action, reason=reason.strip() or None, now=now, today=local_today(now, settings.default_timezone))
    except DomainError as err:
        message = forms.enrolment_refusal(err)
        return session_page(request, db, principal, code, settings=settings, clock=clock, errors={f"row-{enrolment_id}": message}, status_code=err.status)
    return RedirectResponse(f"/training/sessions/{quote(code, safe='')}?done=changed#roster", status_code=303)
