"""The proxy review queue page (代签到审核): confirm or clear each case with a note, one row at a time."""

from __future__ import annotations

import math
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from trainquant.attendance.checkin.pending import pending_count
from trainquant.attendance.models import CASE_STATUSES, PROXY_SIGNALS, ProxyCase
from trainquant.attendance.proxy import service as review
from trainquant.attendance.proxy import texts
from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.errors import DomainError
from trainquant.pagination import PageParams
from trainquant.params import PathId
from trainquant.web import codes as error_codes
from trainquant.web.templating import env, render

router = APIRouter(include_in_schema=False)
env.globals["proxy_texts"] = texts
Manage = Annotated[Principal, require("attendance:manage")]
PAGE_SIZE = 50


@router.get("/attendance/review")
def review_page(request: Request, db: ReadSession, _: Manage, status: str = "open", signal: str = "", page: int = 1):
    status = status if status in CASE_STATUSES or status == "all" else "open"
    signal = signal if signal in PROXY_SIGNALS else ""
    paging = PageParams(page=max(1, min(page, 100_000)), page_size=PAGE_SIZE)
    rows, total = review.list_cases(db, review.CaseFilter(status=None if status == "all" else status, signal=signal or None), paging)
    return render(request, "attendance/review.html", {
        "cases": rows, "total": total, "page": paging.page, "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "people": review.people_of(db, rows), "codes": review.session_codes(db, rows),
        "status": status, "signal": signal, "statuses": CASE_STATUSES, "signals": PROXY_SIGNALS,
        "pending": pending_count(db),
    })


@router.post("/attendance/review/{case_id}/{decision}")
def decide(request: Request, case_id: PathId, decision: str, db: DbSession, clock: AppClock, settings: AppSettings, principal: Manage,
           note: Annotated[str, Form()] = ""):
    row_error = None
    case: ProxyCase | None
    try:
        case = review.decide(db, case_id, decision, by=principal.name, note=note[:500], now=clock.now(), default_tz=settings.default_timezone)
    except DomainError as exc:
        if not request.headers.get("HX-Request"):
            raise
        row_error, case = error_codes.error_text(exc), db.get(ProxyCase, case_id)
    if not request.headers.get("HX-Request"):
        return RedirectResponse("/attendance/review", status_code=303)
    return render(request, "attendance/_review_row.html", {
        "c": case, "row_error": row_error, "people": review.people_of(db, [case]) if case else {},
        "codes": review.session_codes(db, [case]) if case else {},
    })
