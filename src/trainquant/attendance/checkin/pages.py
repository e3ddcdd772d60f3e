"""Check-in pages: the room's rotating QR screen and the phone check-in page.

Thin: check-ins go through the same use case as the JSON API (``checkin.service``).
"""

from __future__ import annotations

import math
import uuid
from typing import Annotated
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.attendance.checkin import qr, walkins
from trainquant.attendance.checkin.service import ingest_and_recompute
from trainquant.auth.permissions import Principal
from trainquant.config import Settings
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.errors import DomainError
from trainquant.i18n import gettext_ as _
from trainquant.org.models import Employee
from trainquant.pagination import PageParams
from trainquant.training import forms
from trainquant.training.lookups import get_session
from trainquant.training.models import TrainingSession
from trainquant.web.templating import render

router = APIRouter(include_in_schema=False)

Write = Annotated[Principal, require("attendance:write")]
Manage = Annotated[Principal, require("attendance:manage")]
QR_REFRESH_S = 4  # well inside STEP_SECONDS, so the screen is never a step behind for long
CHECKIN_PATH = "/checkin"


def reason_text(code: str | None) -> str:
    """Plain words for the verdicts people meet at the door; the code itself for the rare ones."""
    texts = {
        "qr-expired": _("The QR code has expired; scan the code on the screen again."),
        "qr-from-the-future": _("The QR code has expired; scan the code on the screen again."),
        "qr-forged": _("This is not a valid check-in QR code."),
        "qr-malformed": _("This is not a valid check-in QR code."),
        "qr-other-session": _("This QR code belongs to another session."),
        "qr-reused": _("You have already used this QR code."),
        "qr-missing": _("Scan the QR code on the room's screen first."),
        "outside-geofence": _("You are not inside the training room's area."),
        "gps-too-inaccurate": _("Your location is too imprecise; move near a window and try again."),
        "geo-missing": _("Your location is needed for this check-in; allow location access and try again."),
        "no-venue": _("This session has no room to check the location against."),
        "method-not-allowed": _("This session does not accept this way of checking in."),
        "session-cancelled": _("This session was cancelled."),
        "outside-session-time": _("This session is not running now."),
        "clock-skew": _("The check-in arrived too late; scan the code again."),
        "in-the-future": _("The time is wrong; check your phone's clock."),
        "not-your-record": _("You can check in only yourself."),
        "unknown-employee": _("Your account is not linked to an employee."),
        "unknown-session": _("No such session."),
        "invalid": _("The check-in could not be read; reload the page and try again."),
        "rejected-cap": _("Too many check-ins were refused for your account this hour; ask HR for help."),
        "duplicate": _("Already recorded."),
    }
    return texts.get(code or "", code or "")


# ------------------------------------------------------------------ the room's QR screen


def checkin_url(request: Request, token: str) -> str:
    return str(request.base_url).rstrip("/") + CHECKIN_PATH + "?" + urlencode({"t": token})


def _qr_context(request: Request, s: TrainingSession, *, settings: Settings, now) -> dict:
    token = qr.issue(settings.secret_key, s.id, now.timestamp())
    url = checkin_url(request, token.encode())
    svg = segno.make(url, error="m").svg_inline(scale=1, border=2, dark="#102a43", omitsize=True, svgclass="qr-svg")
    return {"s": s, "token": token.encode(), "step": token.step, "url": url, "svg": svg, "refresh_s": QR_REFRESH_S,
            "step_s": qr.STEP_SECONDS}


@router.get("/attendance/sessions/{code}/qr")
def qr_screen(request: Request, code: str, db: ReadSession, _p: Manage, settings: AppSettings, clock: AppClock):
    s = get_session(db, code)
    ctx = _qr_context(request, s, settings=settings, now=clock.now())
    ctx["when"] = forms.session_when(s, settings.default_timezone)
    return render(request, "attendance/qr_screen.html", ctx)


@router.get("/attendance/sessions/{code}/qr/current")
def qr_current(request: Request, code: str, db: ReadSession, _p: Manage, settings: AppSettings, clock: AppClock):
    s = get_session(db, code)
    return render(request, "attendance/_qr_current.html", _qr_context(request, s, settings=settings, now=clock.now()))


# ------------------------------------------------------------------ the phone check-in page


def _session_of_token(db: Session, token: str) -> TrainingSession | None:
    session_id = qr.session_id_of(token)  # None for anything but a token's shape, so the page says "not a valid code"
    return db.get(TrainingSession, session_id) if session_id is not None else None


def _checkin_context(request: Request, db: Session, principal: Principal, *, t: str, code: str, settings: Settings, now) -> dict:
    s = _session_of_token(db, t) if t else (db.scalar(select(TrainingSession).where(TrainingSession.code == code)) if code else None)
    me = db.get(Employee, principal.employee_id) if principal.employee_id is not None else None
    problem = None
    if s is None:
        problem = reason_text("qr-malformed") if t else _("Scan the QR code on the room's screen first.")
    elif t:
        _step, code_ = qr.verify(settings.secret_key, t, session_id=s.id, epoch_seconds=now.timestamp())
        if code_ in ("qr-forged", "qr-malformed", "qr-other-session"):
            problem, s = reason_text(code_), None
        elif code_:
            problem = reason_text(code_)
    elif "geo" not in (s.checkin_methods or []):
        problem = _("Scan the QR code on the room's screen first.")
    if me is None:
        problem = reason_text("unknown-employee")
    methods = (s.checkin_methods or []) if s else []
    return {
        "s": s, "me": me, "t": t, "code": code, "problem": problem, "event_id": str(uuid.uuid4()),
        "geo_allowed": "geo" in methods, "server_now": now.isoformat(),
        "when": forms.session_when(s, settings.default_timezone) if s else "",
        "messages": {
            "accepted_in": _("Checked in. Welcome!"), "accepted_out": _("Checked out. Thank you!"),
            "duplicate": _("Already recorded."), "rejected": _("Not accepted:"), "locating": _("Finding your location…"),
            "sending": _("Sending…"), "failed": _("The check-in could not be sent; check the network and try again."),
            "reasons": {c: reason_text(c) for c in (
                "qr-expired", "qr-from-the-future", "qr-forged", "qr-malformed", "qr-other-session", "qr-reused", "qr-missing",
                "outside-geofence", "gps-too-inaccurate", "geo-missing", "no-venue", "method-not-allowed", "session-cancelled",
                "outside-session-time", "clock-skew", "in-the-future", "not-your-record", "unknown-employee", "invalid", "rejected-cap")},
        },
    }


@router.get(CHECKIN_PATH)
def checkin_page(request: Request, db: ReadSession, principal: Write, settings: AppSettings, clock: AppClock, t: str = "", s: str = ""):
    return render(request, "attendance/checkin.html", _checkin_context(request, db, principal, t=t[:200], code=s[:40], settings=settings, now=clock.now()))


@router.post(CHECKIN_PATH)
def checkin_fallback(
    request: Request,
    db: DbSession,
    principal: Write,
    settings: AppSettings,
    clock: AppClock,
    t: Annotated[str, Form(max_length=200)] = "",
    s: Annotated[str, Form(max_length=40)] = "",
    kind: Annotated[str, Form(pattern="^(in|out)$")] = "in",
    event_id: Annotated[str, Form(max_length=120)] = "",
):
    """The same check-in without JavaScript (and so without a location): a QR check-in by form."""
    now = clock.now()
    ctx = _checkin_context(request, db, principal, t=t, code=s, settings=settings, now=now)
    session, me = ctx["s"], ctx["me"]
    if session is None or me is None:
        return render(request, "attendance/checkin.html", ctx, status_code=422)
    event = {"event_id": event_id or str(uuid.uuid4()), "employee_no": me.employee_no, "session": session.code, "kind": kind,
             "at": now.isoformat(), "method": "qr", "qr_token": t or None}
    result = ingest_and_recompute(db, [event], source="qr-page", principal=principal, now=now, settings=settings)
    verdict = result.results[0]
    # A repeat of a stored rejection is still a refusal, with that rejection's reason.
    status = "rejected" if verdict.status == "duplicate" and verdict.reason_code != "duplicate" else verdict.status
    ctx.update({"problem": None, "verdict": status, "verdict_kind": kind, "verdict_text": reason_text(verdict.reason_code) if status == "rejected" else ""})
    return render(request, "attendance/checkin.html", ctx)


WALK_IN_PAGE_SIZE = 50


def _local_time(settings: Settings):
    zone = ZoneInfo(settings.default_timezone)
    return lambda at, fmt="%Y-%m-%d %H:%M": at.astimezone(zone).strftime(fmt)


@router.get("/attendance/walk-ins")
def walk_ins_page(request: Request, db: ReadSession, _p: Manage, settings: AppSettings, status: str = "open", page: int = 1):
    status = status if status in ("open", "accepted", "dismissed", "all") else "open"
    paging = PageParams(page=max(1, min(page, 100_000)), page_size=WALK_IN_PAGE_SIZE)
    rows, total = walkins.list_walk_ins(db, paging, status=None if status == "all" else status)
    return render(request, "attendance/walk_ins.html", {
        "rows": rows, "total": total, "page": paging.page, "pages": max(1, math.ceil(total / WALK_IN_PAGE_SIZE)), "status": status,
        "local": _local_time(settings),
    })


@router.post("/attendance/walk-ins/{session_code}/{employee_no}/{decision}")
def walk_in_decide(request: Request, session_code: str, employee_no: str, decision: str, db: DbSession, clock: AppClock,
                   settings: AppSettings, principal: Manage, reason: Annotated[str, Form()] = ""):
    row_error, row = None, None
    try:
        row = walkins.decide(db, session_code[:40], employee_no[:40], decision, reason=reason[:500], principal=principal,
                             now=clock.now(), settings=settings)
    except DomainError as exc:
        if not request.headers.get("HX-Request"):
            raise
        row_error = {"walk-in-needs-reason": _("Accepting a walk-in needs a reason: who let them in, and why."),
                     "walk-in-decided": _("This walk-in was already decided.")}.get(exc.code, _("No such walk-in."))
        row = walkins.find(db, session_code[:40], employee_no[:40])
    if not request.headers.get("HX-Request"):
        return RedirectResponse("/attendance/walk-ins", status_code=303)
    return render(request, "attendance/_walk_in_row.html", {"w": row, "row_error": row_error, "local": _local_time(settings)})
