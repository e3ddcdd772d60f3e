"""The slot finder page (排课助手): a group, a length and dates in; ranked slots and a cover plan out."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from sqlalchemy import select

from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, AppSettings, ReadSession, require
from trainquant.errors import DomainError
from trainquant.i18n import gettext_ as _
from trainquant.org.models import DEPARTMENT_KINDS
from trainquant.params import parse_day
from trainquant.training.lookups import local_today
from trainquant.training.models import Program
from trainquant.training.scheduling import rules as sr
from trainquant.training.scheduling import service as scheduling
from trainquant.web.templating import render

router = APIRouter(include_in_schema=False)
Manage = Annotated[Principal, require("training:manage")]


ERROR_TEXTS: dict[str, Callable[[dict], str]] = {
    "group-missing": lambda p: _("choose a program or a department kind"),
    "unknown-program": lambda p: _("unknown program"),
    "group-too-large": lambda p: _("the group has %(people)s people; at most %(limit)s can be planned at once") % p,
    "range-reversed": lambda p: _("the date range ends before it starts"),
    "range-too-long": lambda p: _("at most %(limit)s days at once") % p,
    "length-out-of-range": lambda p: _("the length must be between 15 minutes and 12 hours"),
    "day-reversed": lambda p: _("the day must end after it starts"),
    "no-slot-fits": lambda p: _("no slot fits: widen the day or the date range, or shorten the session"),
    "min-group-over-capacity": lambda p: _("the smallest group cannot be larger than the seats of a session"),
}


def error_text(err: DomainError) -> str:
    """Why the search was refused, in the page's language (by the service's stable code)."""
    text = ERROR_TEXTS.get(err.code)
    return text(err.extra) if text else err.message


def _day(value: str) -> date:
    day = parse_day(value)
    if day is None:
        raise ValueError(value)  # shown as the dates error
    return day


def _int(value: str, default: int, lo: int, hi: int) -> int:
    try:
        return max(lo, min(hi, int(value)))
    except (TypeError, ValueError):
        return default


@router.get("/scheduling")
def slots_page(request: Request, db: ReadSession, clock: AppClock, settings: AppSettings, _: Manage,
               program: str = "", department_kind: str = "", length: str = "120", date_from: str = "", date_to: str = "",
               capacity: str = "30", peaks: str = "1", min_group: str = "5"):
    today = local_today(clock.now(), settings.default_timezone)
    kind = department_kind if department_kind in DEPARTMENT_KINDS else ""
    length_minutes, seats, use_peaks = _int(length, 120, 15, 720), _int(capacity, 30, 1, 1000), peaks == "1"
    smallest = min(seats, _int(min_group, 5, 1, 1000))
    first = date_from or (today + timedelta(days=1)).isoformat()
    last = date_to or (today + timedelta(days=7)).isoformat()
    form = {
        "program": program, "department_kind": kind, "length": length_minutes, "capacity": seats, "peaks": use_peaks, "min_group": smallest,
        "date_from": first, "date_to": last,
    }
    ctx: dict[str, Any] = {"form": form, "kinds": DEPARTMENT_KINDS, "programs": list(db.scalars(select(Program).where(Program.active).order_by(Program.code))),
           "slots": [], "plan": None, "error": None, "searched": bool(program or kind)}
    if ctx["searched"]:
        try:
            group = scheduling.Group(program=program or None, department_kinds=(kind,) if kind else ())
            found = scheduling.find_slots(
                db, group, first=_day(first), last=_day(last), length_minutes=length_minutes,
                default_tz=settings.default_timezone, peaks=sr.DEFAULT_PEAKS if use_peaks else (), limit=20,
            )
            ctx["slots"] = [scheduling.slot_dict(o, found) for o in found.ranked]
            ctx["plan"] = scheduling.plan_dict(sr.cover(found.options, capacity=seats, min_group=smallest), found)
            ctx["group_size"] = len(found.people)
        except DomainError as exc:
            ctx["error"] = error_text(exc)
        except ValueError:
            ctx["error"] = "dates"
    return render(request, "attendance/slots.html", ctx)
