"""A session's pages: scheduling one, its facts and roster with the waiting list in order, and HR's actions on it."""

from __future__ import annotations

import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal
from typing import Annotated
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.auth.permissions import Principal
from trainquant.clock import Clock
from trainquant.config import Settings
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession
from trainquant.errors import DomainError, Invalid
from trainquant.i18n import gettext_ as _
from trainquant.org.models import Employee, EmployeeTag, Site
from trainquant.org.service import list_sites
from trainquant.pagination import PageParams
from trainquant.params import PathId, QueryDate
from trainquant.training import forms, lookups, rules, schemas
from trainquant.training.deps import TrainingManage, TrainingRead
from trainquant.training.enrolment import service as enrolment
from trainquant.training.lookups import local_today
from trainquant.training.models import (
    CHECKIN_METHODS,
    MISSING_CHECKOUT_POLICIES,
)
from trainquant.training.programs.pages import quoted
from trainquant.training.sessions import service as sessions
from trainquant.web.templating import render

router = APIRouter(include_in_schema=False)

ROSTER_SIZE = 500
HR_ACTIONS = ("override_approve", "override_reject", "cancel")
ORDER = {rules.APPROVED: 0, rules.WAITLISTED: 1, rules.REQUESTED: 2, rules.REJECTED: 3, rules.CANCELLED: 4}


# ---------------------------------------------------------------- schedule a session


def _session_form(request: Request, db: Session, program, *, settings: Settings, clock: Clock, form=None, errors=None, status_code=200,
                  slot: dict | None = None):
    start = (clock.now() + timedelta(days=7)).astimezone(ZoneInfo(settings.default_timezone)).replace(hour=14, minute=0, second=0, microsecond=0)
    default = {
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"), "ends_at": (start + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "online": program.kind == "online", "checkin_methods": [] if program.kind == "online" else ["qr", "manual"],
        "min_participation": "80", "missing_checkout_policy": "credit-to-end", "trainer": program.trainer or "",
        **(slot or {}),
    }
    return render(request, "training/session_form.html", {
        "program": program, "form": form or default, "errors": errors or {}, "sites": list_sites(db), "methods": CHECKIN_METHODS,
        "policies": MISSING_CHECKOUT_POLICIES, "timezone": settings.default_timezone,
    }, status_code=status_code)


LOCAL_MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")
SEPARATORS = re.compile(r"[\s,;，；、|]+")  # between employee numbers typed or pasted from a sheet


@router.get("/training/programs/{code}/sessions/new")
def new_session_page(request: Request, code: str, db: ReadSession, _principal: TrainingManage, settings: AppSettings, clock: AppClock,
                     starts: Annotated[str, Query(max_length=16)] = "", ends: Annotated[str, Query(max_length=16)] = "",
                     people: Annotated[str, Query(max_length=20000)] = "", capacity: Annotated[str, Query(max_length=5)] = ""):
    """The form; from the slot finder, with the slot's times (local, YYYY-MM-DDTHH:MM) and its group, who
    are enrolled once the session is created."""
    slot = {k: v for k, v in (("starts_at", starts), ("ends_at", ends)) if LOCAL_MINUTE.match(v)}
    if people:
        slot["people"] = " ".join(n for n in SEPARATORS.split(people) if n)
    if capacity.isdigit():
        slot["capacity"] = capacity
    return _session_form(request, db, lookups.get_program(db, code), settings=settings, clock=clock, slot=slot)


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
    people: Annotated[str, Form(max_length=20000)] = "",
):
    program = lookups.get_program(db, code)
    form = {
        "starts_at": starts_at, "ends_at": ends_at, "online": bool(online), "site_code": site_code, "venue": venue, "trainer": trainer,
        "trainer_employee_no": trainer_employee_no, "capacity": capacity, "checkin_methods": checkin_methods,
        "min_participation": min_participation, "missing_checkout_policy": missing_checkout_policy, "session_code": session_code,
        "people": people,
    }
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
        return _session_form(request, db, program, errors=errors, status_code=422, settings=settings, clock=clock, form=form)
    data = {
        **forms.filled({"code": session_code, "site_code": site_code, "venue": venue_name, "trainer": trainer,
                        "trainer_employee_no": trainer_employee_no, "capacity": capacity, "missing_checkout_policy": missing_checkout_policy}),
        "program_code": program.code, "starts_at": times["starts_at"], "ends_at": times["ends_at"], "online": bool(online),
        "checkin_methods": checkin_methods, "min_participation": float(percent) if percent is not None else None,
    }
    try:
        session = sessions.create_session(db, schemas.SessionCreate.model_validate(data, strict=False), now=clock.now())
    except ValidationError as exc:
        errors = forms.field_errors(exc)
        errors = {("session_code" if k == "code" else k): v for k, v in errors.items()}
        return _session_form(request, db, program, errors=errors, status_code=422, settings=settings, clock=clock, form=form)
    except DomainError as err:
        errors = {"session_code": _("This code is already taken.")} if err.code == "session-code-taken" else forms.refusal_errors(err)
        return _session_form(request, db, program, errors=errors, status_code=err.status, settings=settings, clock=clock, form=form)
    group = [n for n in SEPARATORS.split(people) if n]
    if group:  # the slot finder's group: enrolled now, each refusal kept with its reason on the page
        now = clock.now()
        got = enrolment.hr_enrol_many(db, _principal, session.code, group, reason=None, now=now, today=local_today(now, settings.default_timezone))
        bulk = {"enrolled": got.enrolled, "refused": [(no, forms.enrolment_refusal(err)) for no, err in got.refused]}
        return session_page(request, db, _principal, session.code, settings=settings, clock=clock, form={"bulk_open": True}, bulk=bulk)
    return RedirectResponse(f"/training/sessions/{quoted(session.code)}?done=created", status_code=303)


def session_page(
    request: Request, db: Session, principal: Principal, code: str, *, settings: Settings, clock: Clock,
    form: dict | None = None, errors: dict | None = None, status_code: int = 200, bulk: dict | None = None,
):
    s = lookups.get_session(db, code)
    counts = lookups.seat_counts(db, [s.id]).get(s.id, Counter())
    roster, total = enrolment.list_enrolments(db, enrolment.EnrolmentFilter(session=code), principal.scope, PageParams(page=1, page_size=ROSTER_SIZE))
    roster.sort(key=lambda e: (ORDER.get(e.status, 9), e.waitlist_rank or 0, e.employee_no))
    now = clock.now()
    me = db.get(Employee, principal.employee_id) if principal.employee_id is not None else None
    mine = next((e for e in roster if me is not None and e.employee_no == me.employee_no), None)
    return render(request, "training/session.html", {
        "s": s, "counts": counts, "seats": sessions.session_read(s, counts), "roster": roster, "total": total,
        "manage": principal.can("training:manage"), "started": now >= s.starts_at, "ended": now >= s.ends_at,
        # Its attendance board for whoever follows a room (HR, a manager: their people), and the room's QR
        # screen for whoever runs the check-in; an employee follows their own attendance on 我的出勤.
        "board": principal.can("attendance:read") and principal.role != "employee" and s.status != "cancelled",
        "roster_grid": principal.can("assessments:write") and s.status != "cancelled" and now >= s.starts_at,
        "qr_screen": principal.can("attendance:manage") and not s.online and "qr" in (s.checkin_methods or []) and s.status != "cancelled" and now < s.ends_at,
        "can_request": principal.can("training:enrol") and me is not None and (mine is None or mine.status == rules.CANCELLED)
        and s.status == "scheduled" and now < s.starts_at and s.program.active,
        "mine": mine, "form": form or {}, "errors": errors or {}, "done": request.query_params.get("done"),
        "when": forms.session_when(s, settings.default_timezone), "timezone": forms.zone_of(s, settings.default_timezone).key,
        "bulk": bulk, **(_bulk_choices(db, principal) if principal.can("training:manage") else {}),
    }, status_code=status_code)


def _bulk_choices(db: Session, principal: Principal) -> dict:
    """The departments and tags the bulk enrolment form offers."""
    from trainquant.analytics.effect import visible_departments

    tags = sorted(set(db.scalars(select(EmployeeTag.tag).distinct())))
    return {"departments": visible_departments(db, principal.scope), "tags": tags}


@router.post("/training/sessions/{code}/enrol-many")
def hr_enrol_many(
    request: Request, code: str, db: DbSession, principal: TrainingManage, settings: AppSettings, clock: AppClock,
    department: Annotated[str, Form(max_length=32)] = "", tag: Annotated[str, Form(max_length=48)] = "",
    employee_nos: Annotated[str, Form(max_length=20000)] = "", reason: Annotated[str, Form(max_length=500)] = "",
):
    """A department's people, a tag's, or a typed list, each enrolled as one HR enrolment would be."""
    now = clock.now()
    listed = [n for n in SEPARATORS.split(employee_nos) if n]
    people = listed + (enrolment.people_of(db, principal.scope, department=department or None, tag=tag or None) if department or tag else [])
    form = {"employee_nos": employee_nos, "bulk_open": True}
    if not people:
        return session_page(request, db, principal, code, errors={"employee_nos": _("Choose a department or a tag, or type employee numbers.")},
                            status_code=422, settings=settings, clock=clock, form=form)
    try:
        got = enrolment.hr_enrol_many(db, principal, code, people, reason=reason.strip() or None, now=now,
                                      today=local_today(now, settings.default_timezone))
    except DomainError as err:
        return session_page(request, db, principal, code, errors={"employee_nos": forms.enrolment_refusal(err)}, status_code=err.status,
                            settings=settings, clock=clock, form=form)
    bulk = {"enrolled": got.enrolled, "refused": [(no, forms.enrolment_refusal(err)) for no, err in got.refused]}
    return session_page(request, db, principal, code, settings=settings, clock=clock, form=form, bulk=bulk)


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
    allow_overlap: Annotated[str, Form()] = "",
):
    form = {"employee_no": employee_no, "reason": reason, "skip_eligibility": bool(skip_eligibility)}
    now = clock.now()
    try:
        body = schemas.HrEnrol.model_validate(
            {"session_code": code, "skip_eligibility": bool(skip_eligibility), "allow_overlap": bool(allow_overlap),
             **forms.filled({"employee_no": employee_no, "reason": reason})}, strict=False
        )
        row = enrolment.hr_enrol(db, principal, body, now=now, today=local_today(now, settings.default_timezone))
    except ValidationError as exc:
        return session_page(request, db, principal, code, errors=forms.field_errors(exc), status_code=422, settings=settings, clock=clock, form=form)
    except DomainError as err:
        errors = forms.refusal_errors(err)
        if err.code == "person-busy":  # asked, not refused: the form comes back with "enrol anyway"
            errors, form = {"employee_no": forms.enrolment_refusal(err)}, {**form, "overlap": True}
        elif err.code == "no-seat-for-late-entry":
            errors = {"employee_no": forms.enrolment_refusal(err)}
        elif err.status == 409:
            errors = {"employee_no": _("Already enrolled in this session, or the session cannot take enrolments.")}
        elif err.code == "session-started":
            errors = {"reason": _("The session has started: a late or past entry needs a reason.")}
        return session_page(request, db, principal, code, errors=errors, status_code=err.status, settings=settings, clock=clock, form=form)
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
    sessions.cancel_session(db, code, reason.strip()[:400], actor=enrolment.actor_for(principal), now=clock.now())
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


# ---------------------------------------------------------------- the training calendar


@router.get("/training/calendar")
def calendar_page(request: Request, db: ReadSession, principal: TrainingRead, settings: AppSettings, clock: AppClock,
                  view: Annotated[str, Query(pattern="^(week|month)$")] = "week", day: QueryDate | None = None,
                  site: Annotated[str, Query(max_length=32)] = ""):
    """The sessions of a week (as a timetable) or a month (as a grid of days), with their clashes."""
    from trainquant.training.sessions import calendar
    from trainquant.web.weekgrid import FIRST_HOUR, LAST_HOUR, week_grid

    today = local_today(clock.now(), settings.default_timezone)
    shown = day or today
    if view == "week":
        first = shown - timedelta(days=shown.weekday())
        last = first + timedelta(days=6)
        prev_day, next_day = first - timedelta(days=7), first + timedelta(days=7)
    else:
        first, last = calendar.month_grid(shown)
        month_start = shown.replace(day=1)
        prev_day = (month_start - timedelta(days=1)).replace(day=1)
        next_day = (month_start + timedelta(days=32)).replace(day=1)
    items = calendar.entries(db, first=first, last=last, zone=settings.default_timezone, site_code=site or None)
    days, outside = week_grid(items, first) if view == "week" else ([], [])
    by_day: dict = {}
    for e in items:
        by_day.setdefault(e.local_day, []).append(e)
    weeks = [[first + timedelta(days=7 * w + d) for d in range(7)] for w in range(((last - first).days + 1) // 7)]
    return render(request, "training/calendar.html", {
        "view": view, "shown": shown, "first": first, "last": last, "today": today, "items": items, "days": days, "outside": outside,
        "hours": list(range(FIRST_HOUR, LAST_HOUR)), "by_day": by_day, "weeks": weeks, "prev_day": prev_day, "next_day": next_day,
        "sites": list_sites(db), "site": site, "zone": settings.default_timezone,
        "clashing": sum(1 for e in items if e.clashes or e.people_clashing),
    })
