"""Shared pages: log in and out, and the overview."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select

from trainquant.auth.permissions import Principal
from trainquant.auth.service import authenticate
from trainquant.deps import AppClock, CurrentPrincipal, DbSession, ReadSession, require
from trainquant.errors import Forbidden, Unauthorized
from trainquant.i18n import gettext_ as _
from trainquant.org.models import Department, Employee, EmployeeTag, Site, WeeklySlot
from trainquant.org.service import scoped
from trainquant.web.templating import render

router = APIRouter(include_in_schema=False)


def _safe_next(target: str | None) -> str:
    # Only local paths: never redirect a freshly logged-in user to another host.
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/"
    return target


@router.get("/login")
def login_page(request: Request, next: str | None = None):
    return render(request, "login.html", {"next": _safe_next(next)})


@router.post("/login")
def login(
    request: Request,
    db: DbSession,
    clock: AppClock,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
):
    expected = request.session.get("csrf")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        raise Forbidden(_("The form expired; reload the page and try again."))
    try:
        user = authenticate(db, username=username.strip(), password=password, now=clock.now())
    except Unauthorized:
        return render(request, "login.html", {"message": _("Wrong username or password."), "username": username, "next": _safe_next(next)}, status_code=401)
    request.session.clear()
    request.session.update({"uid": user.id, "epoch": user.session_epoch})
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, _principal: CurrentPrincipal):
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.get("/")
def overview(request: Request, db: ReadSession, principal: Annotated[Principal, require("org:read")]):
    base = scoped(select(Employee).join(Employee.department).where(Employee.status != "left"), principal.scope).subquery()
    by_kind = dict(
        db.execute(
            select(Department.kind, func.count()).select_from(base).join(Department, Department.id == base.c.department_id).group_by(Department.kind)
        ).all()
    )
    new_teachers = db.scalar(
        select(func.count()).select_from(base).join(EmployeeTag, EmployeeTag.employee_id == base.c.id).where(EmployeeTag.tag == "new-teacher")
    )
    sites = db.scalar(select(func.count(Site.id)))
    # Class hours per weekday across the visible teachers: where training slots are hard to find.
    weekday_hours = [0.0] * 7
    rows = db.execute(
        select(WeeklySlot.weekday, WeeklySlot.start_time, WeeklySlot.end_time).join(base, base.c.id == WeeklySlot.employee_id)
    )
    for weekday, start, end in rows:
        weekday_hours[weekday] += (end.hour * 60 + end.minute - start.hour * 60 - start.minute) / 60
    kinds = ["teaching", "marketing", "admin", "other"]
    return render(
        request,
        "overview.html",
        {
            "total": sum(by_kind.values()),
            "by_kind": [(k, by_kind.get(k, 0)) for k in kinds],
            "new_teachers": new_teachers or 0,
            "sites": sites or 0,
            "weekday_hours": [round(h, 1) for h in weekday_hours],
        },
    )
