"""Jinja2 environment shared by every page: gettext, the principal, CSRF token and navigation."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from trainquant.i18n import LOCALES, current_locale, gettext_, ngettext_
from trainquant.imports import texts as import_texts
from trainquant.org.tags import tag_name
from trainquant.web import codes

TEMPLATE_DIR = Path(__file__).parent / "templates"

env = Environment(
    loader=FileSystemLoader(TEMPLATE_DIR),
    autoescape=select_autoescape(["html", "xml"]),
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)
env.install_gettext_callables(gettext_, ngettext_, newstyle=True)  # type: ignore[attr-defined]


def shown(obj: Any, attr: str = "title") -> str:
    """A row's name as the page's language reads it: ``<attr>_en`` on English pages where one is kept,
    else ``<attr>`` (a program's title, a department's name)."""
    if current_locale.get() == "en":
        english = getattr(obj, f"{attr}_en", None)
        if english:
            return english
    return getattr(obj, attr)


env.filters["shown"] = shown


def pick(text: str, english: str | None) -> str:
    """``english`` on English pages where there is one, else ``text``: for values read out of schemas."""
    return english if english and current_locale.get() == "en" else text


env.globals["pick"] = pick
env.globals["error_text"] = codes.error_text
env.globals["tag_name"] = tag_name
env.globals["import_label"] = import_texts.label

# Menus of (path, label, permission): labels are translated at render time. A menu shows the items its
# user may open; a menu left with one item is that link itself, one left with none is not shown.
# Items under /my/ and /attendance/me are a person's own: only for a user linked to an employee.
NAV_GROUPS: list[tuple[str, list[tuple[str, str, str | None]]]] = [
    ("Workbench", [
        ("/", "Overview", None),
        ("/my/trainings", "My trainings", "training:enrol"),
        ("/my/learning", "My online courses", "xapi:statements/write"),
        ("/attendance/me", "My attendance", "attendance:read"),
        ("/approvals", "Approvals", "training:approve"),
    ]),
    ("People & org", [
        ("/departments", "Departments", "org:read"),
        ("/employees", "Employees", "org:read"),
        ("/imports", "Import", "import:write"),
    ]),
    ("Training", [
        ("/training", "Training programs", "training:read"),
        ("/training/calendar", "Training calendar", "training:read"),
        ("/scheduling", "Slot finder", "training:manage"),
    ]),
    ("Attendance & alerts", [
        ("/attendance/review", "Proxy review", "attendance:manage"),
        ("/alerts", "Alerts", "alerts:read"),
    ]),
    ("Analytics", [
        ("/indicators", "Indicators", "indicators:read"),
        ("/reports", "Reports", "reports:read"),
    ]),
    ("Settings", [
        ("/settings/campuses", "Campuses and venues", "org:write"),
        ("/settings/devices", "Check-in devices", "attendance:manage"),
        ("/admin/users", "Users and roles", "users:admin"),
        ("/admin/api-keys", "API keys", "users:admin"),
        ("/admin/login-failures", "Failed logins", "users:admin"),
    ]),
]
OWN = ("/my/", "/attendance/me")


@dataclass(frozen=True)
class NavItem:
    path: str
    label: str
    active: bool


@dataclass(frozen=True)
class NavGroup:
    label: str
    items: list[NavItem]

    @property
    def active(self) -> bool:
        return any(item.active for item in self.items)


def _here(path: str, current: str) -> bool:
    return current == path or (path != "/" and current.startswith(path))


def nav_for(principal: Any, current: str) -> list[NavGroup]:
    """The menus ``principal`` sees on the page at ``current``, empty groups left out."""
    if principal is None:
        return []
    # The page belongs to the longest item path it starts with: /training/calendar is the calendar's,
    # not also the programs' (/training).
    here = max((path for _, items in NAV_GROUPS for path, _, _ in items if _here(path, current)), key=len, default=None)
    out = []
    for group, items in NAV_GROUPS:
        shown = [NavItem(path, label, path == here) for path, label, perm in items
                 if (perm is None or principal.can(perm)) and (not path.startswith(OWN) or principal.employee_id is not None)]
        if shown:
            out.append(NavGroup(group, shown))
    return out


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


def query_with(request: Request, **changes: Any) -> str:
    """The current query string with some parameters replaced (None removes one): for paging links."""
    params = dict(request.query_params)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = str(value)
    return "?" + urlencode(params) if params else "?"


def _localtime(zone: str):
    tz = ZoneInfo(zone)

    def localtime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """A stored (UTC) moment as the site's clock reads it."""
        return "" if value is None else value.astimezone(tz).strftime(fmt)

    return localtime


def render(request: Request, template: str, context: dict[str, Any] | None = None, *, status_code: int = 200) -> HTMLResponse:
    principal = getattr(request.state, "principal", None)
    settings = getattr(request.app.state, "settings", None)
    ctx = {
        "request": request,
        "principal": principal,
        "locale": getattr(request.state, "locale", "zh_CN"),
        "locales": LOCALES,
        "csrf_token": csrf_token(request),
        "nav": nav_for(principal, request.url.path),
        "query_with": lambda **kw: query_with(request, **kw),
        "localtime": _localtime(settings.default_timezone if settings is not None else "Asia/Shanghai"),
        "zone": settings.default_timezone if settings is not None else "Asia/Shanghai",  # the school's, for texts that name times
        **(context or {}),
    }
    html = env.get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code)
