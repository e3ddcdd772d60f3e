"""Shared pages: log in and out, one's password, refused log-ins (admins) and the overview."""

from __future__ import annotations

import hmac
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import func, select

from trainquant.auth.login import change_password_throttled, log_in, recent_failures
from trainquant.auth.permissions import Principal
from trainquant.auth.service import MIN_PASSWORD_LENGTH, WrongCurrentPassword, end_sessions
from trainquant.auth.throttle import TooManyAttempts, login_throttle
from trainquant.deps import AppClock, AppSettings, CurrentPrincipal, DbSession, ReadSession, keep_session_after_epoch_change, require, start_session
from trainquant.errors import Forbidden, Invalid, Unauthorized
from trainquant.i18n import gettext_ as _
from trainquant.org.models import Department, Employee, EmployeeTag, Site, WeeklySlot
from trainquant.org.service import scoped
from trainquant.pagination import PageParams
from trainquant.params import PathId
from trainquant.web import codes
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


def _wait_message(seconds: int) -> str:
    if seconds < 120:
        return _("Too many failed log-ins. Try again in %(n)s seconds.") % {"n": seconds}
    return _("Too many failed log-ins. Try again in %(n)s minutes.") % {"n": -(-seconds // 60)}


@router.post("/login")
def login(
    request: Request,
    clock: AppClock,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
):
    expected = request.session.get("csrf")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        raise Forbidden(_("The form expired; reload the page and try again."))
    again = {"username": username, "next": _safe_next(next)}
    try:
        done = log_in(
            request.app.state.sessionmaker, login_throttle(request.app),
            username=username, password=password, address=request.client.host if request.client else None, now=clock.now(),
        )
    except TooManyAttempts as exc:
        response = render(request, "login.html", {"message": _wait_message(exc.retry_after_s), **again}, status_code=429)
        response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    except Unauthorized:
        # The same page, status and timing for an unknown name as for a wrong password (auth/login.py).
        return render(request, "login.html", {"message": _("Wrong username or password."), **again}, status_code=401)
    start_session(request, done.user_id, done.session_epoch)
    return RedirectResponse(_safe_next(next), status_code=303)


@router.post("/logout")
def logout(request: Request, db: DbSession, principal: CurrentPrincipal):
    # Ends every session of this user on the server, not only this browser's cookie: a copy of the
    # cookie taken before stops working too.
    if principal.kind == "user":
        end_sessions(db, principal.id)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


def _logged_in_user(principal) -> None:
    if principal.kind != "user":
        raise Forbidden(_("Only a user who logged in with a password can change it."))


@router.get("/account/password")
def password_page(request: Request, principal: CurrentPrincipal):
    _logged_in_user(principal)
    return render(request, "account_password.html", {"min_length": MIN_PASSWORD_LENGTH})


@router.post("/account/password")
def password_change(
    request: Request,
    clock: AppClock,
    principal: CurrentPrincipal,
    current_password: Annotated[str, Form(max_length=256)] = "",
    new_password: Annotated[str, Form(max_length=256)] = "",
    new_password_again: Annotated[str, Form(max_length=256)] = "",
):
    _logged_in_user(principal)
    error = None
    if len(new_password) < MIN_PASSWORD_LENGTH:
        error = _("The new password needs at least %(n)s characters.") % {"n": MIN_PASSWORD_LENGTH}
    elif new_password != new_password_again:
        error = _("The two new passwords differ.")
    else:
        try:
            epoch = change_password_throttled(
                request.app.state.sessionmaker, login_throttle(request.app), user_id=principal.id, current_password=current_password,
                new_password=new_password, address=request.client.host if request.client else None, now=clock.now(),
            )
        except TooManyAttempts as exc:
            response = render(request, "account_password.html", {"min_length": MIN_PASSWORD_LENGTH, "error": _wait_message(exc.retry_after_s)}, status_code=429)
            response.headers["Retry-After"] = str(exc.retry_after_s)
            return response
        except WrongCurrentPassword:
            error = _("The current password is wrong.")
        except Invalid:  # the only rule the form cannot check itself: the same password again
            error = _("The new password must differ from the current one.")
    if error:
        return render(request, "account_password.html", {"min_length": MIN_PASSWORD_LENGTH, "error": error}, status_code=422)
    keep_session_after_epoch_change(request, epoch)
    return render(request, "account_password.html", {"min_length": MIN_PASSWORD_LENGTH, "changed": True})


FAILURES_PAGE_SIZE = 50


@router.get("/admin/login-failures")
def login_failures_page(request: Request, db: ReadSession, settings: AppSettings, _admin: Annotated[Principal, require("users:admin")], page: Annotated[int, Query(ge=1, le=100_000)] = 1):
    rows, total = recent_failures(db, PageParams(page=page, page_size=FAILURES_PAGE_SIZE))
    zone = ZoneInfo(settings.default_timezone)
    return render(request, "login_failures.html", {
        "rows": [(r, r.at.astimezone(zone)) for r in rows], "total": total, "page": page, "pages": max(1, -(-total // FAILURES_PAGE_SIZE)),
    })


Admin = Annotated[Principal, require("users:admin")]
codes.register({
    "user-exists": lambda p: _("This user name is taken."),
    "user-unknown-employee": lambda p: _("No employee has this employee no."),
    "user-unknown-department": lambda p: _("No department has this code."),
    "manager-needs-department": lambda p: _("A manager needs a department: the people they see."),
    "password-too-short": lambda p: _("The password is too short."),
    "user-self-lockout": lambda p: _("You cannot deactivate yourself or change your own role."),
    "user-last-admin": lambda p: _("The school needs at least one active administrator."),
    "user-needs-employee": lambda p: _("An employee user must be linked to an employee record."),
})


def _api_keys_page(request: Request, db, *, created: tuple | None = None, error: str | None = None, form: dict | None = None,
                   status_code: int = 200):
    from trainquant.auth.models import ApiKey
    from trainquant.auth.permissions import PERMISSIONS

    keys = list(db.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None), ApiKey.id.desc())))
    return render(request, "admin_api_keys.html", {"keys": keys, "permissions": PERMISSIONS, "created": created, "error": error,
                                                   "form": form or {"scopes": []}}, status_code=status_code)


@router.get("/admin/api-keys")
def api_keys_page(request: Request, db: ReadSession, _admin: Admin):
    """API keys (for devices, platforms, the school's own scripts): each shown once when created, revocable."""
    return _api_keys_page(request, db)


@router.post("/admin/api-keys")
def create_api_key_page(request: Request, db: DbSession, clock: AppClock, principal: Admin,
                        name: Annotated[str, Form(max_length=64)] = "", scopes: Annotated[list[str] | None, Form()] = None):
    from trainquant.auth.service import create_api_key

    form = {"name": name, "scopes": scopes or []}
    if not name.strip():
        return _api_keys_page(request, db, error=_("Give the key a name (what uses it)."), form=form, status_code=422)
    if not scopes:
        return _api_keys_page(request, db, error=_("Choose what the key may do."), form=form, status_code=422)
    try:
        row, key = create_api_key(db, name=name.strip(), scopes=scopes, created_by=principal.name, now=clock.now())
    except Invalid:
        return _api_keys_page(request, db, error=_("Choose what the key may do."), form=form, status_code=422)
    return _api_keys_page(request, db, created=(row, key))


@router.post("/admin/api-keys/{key_id}/revoke")
def revoke_api_key_page(key_id: PathId, db: DbSession, clock: AppClock, _admin: Admin):
    from trainquant.auth.service import revoke_api_key

    revoke_api_key(db, key_id, now=clock.now())
    return RedirectResponse("/admin/api-keys", status_code=303)


def _users_page(request: Request, db, *, error: str | None = None, form: dict | None = None, done: str | None = None, status_code: int = 200):
    from trainquant.auth.models import User
    from trainquant.auth.permissions import ROLES

    users = list(db.scalars(select(User).order_by(User.username)))
    people = {e.id: e for e in db.scalars(select(Employee).where(Employee.id.in_([u.employee_id for u in users if u.employee_id])))}
    departments = list(db.scalars(select(Department).order_by(Department.code)))
    return render(request, "admin_users.html", {"users": users, "people": people, "by_id": {d.id: d for d in departments}, "roles": ROLES, "error": error, "form": form or {"role": "employee"},
                                                "done": done, "min_length": MIN_PASSWORD_LENGTH,
                                                "departments": departments},
                  status_code=status_code)


@router.get("/admin/users")
def users_page(request: Request, db: ReadSession, _admin: Admin):
    """Users and their roles: who may log in, as what, over which people."""
    return _users_page(request, db, done=request.query_params.get("done"))


@router.post("/admin/users")
def create_user_page(request: Request, db: DbSession, clock: AppClock, _admin: Admin,
                     username: Annotated[str, Form(max_length=64)] = "", password: Annotated[str, Form(max_length=256)] = "",
                     role: Annotated[str, Form(max_length=16)] = "", employee_no: Annotated[str, Form(max_length=32)] = "",
                     department_code: Annotated[str, Form(max_length=32)] = ""):
    from pydantic import ValidationError

    from trainquant.auth import schemas as auth_schemas
    from trainquant.auth.service import create_user
    from trainquant.errors import DomainError

    form = {"username": username, "role": role, "employee_no": employee_no, "department_code": department_code}
    try:
        body = auth_schemas.UserCreate.model_validate({"username": username, "password": password, "role": role,
                                                       "employee_no": employee_no or None, "department_code": department_code or None})
        create_user(db, now=clock.now(), **body.model_dump())
    except ValidationError:
        return _users_page(request, db, form=form, status_code=422, error=_(
            "A user name of letters, digits and . _ - @; a password of at least %(n)s characters; a role.") % {"n": MIN_PASSWORD_LENGTH})
    except DomainError as err:
        return _users_page(request, db, form=form, status_code=err.status, error=codes.error_text(err))
    return RedirectResponse("/admin/users?done=created", status_code=303)


@router.post("/admin/users/{user_id}")
def update_user_page(request: Request, user_id: PathId, db: DbSession, principal: Admin,
                     role: Annotated[str, Form(max_length=16)] = "", department_code: Annotated[str | None, Form(max_length=32)] = None,
                     active: Annotated[str, Form(max_length=1)] = ""):
    """A user's role and department (one form), or deactivate / reactivate them (a button sending active)."""
    from trainquant.auth.service import update_user
    from trainquant.errors import DomainError

    try:
        update_user(db, user_id, actor_id=principal.id if principal.kind == "user" else None, role=role or None,
                    department_code=department_code, active={"1": True, "0": False}.get(active))
    except DomainError as err:  # the service changes nothing before its checks pass
        return _users_page(request, db, status_code=err.status, error=codes.error_text(err))
    done = "deactivated" if active == "0" else "reactivated" if active == "1" else "changed"
    return RedirectResponse(f"/admin/users?done={done}", status_code=303)


@router.post("/admin/users/{user_id}/signout")
def sign_out_user_page(user_id: PathId, db: DbSession, _admin: Admin):
    end_sessions(db, user_id)
    return RedirectResponse("/admin/users?done=signed-out", status_code=303)


@router.get("/")
def overview(request: Request, db: ReadSession, principal: Annotated[Principal, require("org:read")], clock: AppClock, settings: AppSettings):
    from trainquant.web.home import build

    home = build(db, principal, now=clock.now(), zone=settings.default_timezone, english=request.state.locale == "en")
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
            "home": home,
        },
    )
