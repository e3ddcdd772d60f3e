"""Attendance pages: a session's live board and a person's attendance history.

Thin: figures come from ``live`` (which calls ``rules.attended``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from sqlalchemy.orm import Session

from trainquant.attendance import live
from trainquant.attendance.checkin.pages import reason_text
from trainquant.auth.permissions import Principal
from trainquant.config import Settings
from trainquant.deps import AppClock, AppSettings, ReadSession, require
from trainquant.errors import NotFound
from trainquant.i18n import gettext_ as _
from trainquant.org.models import Employee
from trainquant.org.service import get_employee
from trainquant.training import forms
from trainquant.training.models import TrainingSession
from trainquant.web.templating import render

router = APIRouter(include_in_schema=False)
Read = Annotated[Principal, require("attendance:read")]
BOARD_REFRESH_S = 10


def local_time(value, s: TrainingSession, settings: Settings, fmt: str = "%H:%M") -> str:
    return value.astimezone(forms.zone_of(s, settings.default_timezone)).strftime(fmt) if value else ""



# ------------------------------------------------------------------ live board


def _board_context(db: Session, principal: Principal, code: str, *, settings: Settings, now) -> dict:
    b = live.board(db, code, principal.scope, now=now, default_tz=settings.default_timezone)
    return {
        "b": b, "s": b.session, "when": forms.session_when(b.session, settings.default_timezone),
        "hm": lambda v: local_time(v, b.session, settings), "hms": lambda v: local_time(v, b.session, settings, "%H:%M:%S"),
        "refresh_s": BOARD_REFRESH_S, "manage": principal.can("attendance:manage"), "reason_text": reason_text,
        "as_of": local_time(now, b.session, settings, "%H:%M:%S"),
    }


@router.get("/attendance/sessions/{code}")
def board_page(request: Request, code: str, db: ReadSession, principal: Read, settings: AppSettings, clock: AppClock):
    return render(request, "attendance/board.html", _board_context(db, principal, code, settings=settings, now=clock.now()))


@router.get("/attendance/sessions/{code}/export.xlsx")
def board_export(code: str, db: ReadSession, principal: Read, settings: AppSettings, clock: AppClock):
    from trainquant import sheets
    from trainquant.attendance.export import board_xlsx

    b = live.board(db, code, principal.scope, now=clock.now(), default_tz=settings.default_timezone)
    return sheets.attachment(board_xlsx(b, zone=settings.default_timezone), f"{_('Attendance board')}-{b.session.code}", fallback="board")


@router.get("/attendance/sessions/{code}/live")
def board_live(request: Request, code: str, db: ReadSession, principal: Read, settings: AppSettings, clock: AppClock):
    return render(request, "attendance/_board_live.html", _board_context(db, principal, code, settings=settings, now=clock.now()))


# ------------------------------------------------------------------ history


def _history_page(request: Request, db: Session, employee: Employee, *, own: bool, settings: Settings, now: datetime):
    rows = live.history(db, employee, now=now)
    held = [r for r in rows if r.held == "ended"]  # a session not held yet (or still running) is no 0%: it is left out
    zone = settings.default_timezone
    chart = {
        "labels": [f"{r.starts_at.astimezone(ZoneInfo(zone)).strftime('%m-%d')} {r.code}" for r in held],
        "values": [round(r.participation * 100, 1) for r in held],
        "target": [round(r.min_participation * 100, 1) for r in held],
        "series": _("Participation"), "target_name": _("Minimum participation"),
    }
    scheduled = sum(r.scheduled_minutes for r in held)
    attended_total = sum(r.attended_minutes for r in held)
    return render(request, "attendance/history.html", {
        "emp": employee, "rows": list(reversed(rows)), "held": len(held), "own": own, "chart": chart, "zone": zone,
        "day": lambda v: v.astimezone(ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M"),
        "overall": attended_total / scheduled if scheduled else None, "attended_total": attended_total, "scheduled_total": scheduled,
    })


@router.get("/attendance/me")
def my_history(request: Request, db: ReadSession, principal: Read, settings: AppSettings, clock: AppClock):
    if principal.employee_id is None:
        raise NotFound(_("Your account is not linked to an employee."))
    employee = db.get(Employee, principal.employee_id)
    if employee is None:
        raise NotFound(_("Your account is not linked to an employee."))
    return _history_page(request, db, employee, own=True, settings=settings, now=clock.now())


@router.get("/attendance/employees/{employee_no}")
def employee_history(request: Request, employee_no: str, db: ReadSession, principal: Read, settings: AppSettings, clock: AppClock):
    employee = get_employee(db, employee_no, principal.scope)
    return _history_page(request, db, employee, own=employee.id == principal.employee_id, settings=settings, now=clock.now())
