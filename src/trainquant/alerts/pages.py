"""The alert inbox page (参与度预警): cause, detail, suggestion; acknowledge or resolve in place."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse

from trainquant.alerts import service
from trainquant.alerts.models import ALERT_KINDS, ALERT_STATUSES, Alert
from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.errors import DomainError, Invalid
from trainquant.pagination import PageParams
from trainquant.params import PathId, parse_day
from trainquant.training.lookups import local_today
from trainquant.web.templating import render

router = APIRouter(include_in_schema=False)
Manage = Annotated[Principal, require("attendance:manage")]
PAGE_SIZE = 50


@router.get("/alerts")
def alerts_page(request: Request, db: ReadSession, principal: Manage, clock: AppClock, settings: AppSettings,
                status: str = "open", kind: str = "", page: int = 1, checked: str = ""):
    status = status if status in ALERT_STATUSES or status == "all" else "open"
    kind = kind if kind in ALERT_KINDS else ""
    paging = PageParams(page=max(1, min(page, 100_000)), page_size=PAGE_SIZE)
    rows, total = service.list_alerts(db, service.AlertFilter(status=None if status == "all" else status, kind=kind or None), principal.scope, paging)
    emps, deps, codes = service.labels(db, rows)
    today = local_today(clock.now(), settings.default_timezone)
    return render(request, "attendance/alerts.html", {
        "alerts": rows, "total": total, "page": paging.page, "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "emps": emps, "deps": deps, "codes": codes, "status": status, "kind": kind, "statuses": ALERT_STATUSES, "kinds": ALERT_KINDS,
        "period_from": (today - timedelta(days=30)).isoformat(), "period_to": today.isoformat(), "checked": checked,
    })


@router.post("/alerts/check")
def run_check(db: DbSession, clock: AppClock, settings: AppSettings, _: Manage,
              period_from: Annotated[str, Form()] = "", period_to: Annotated[str, Form()] = ""):
    first, last = parse_day(period_from), parse_day(period_to)
    if first is None or last is None:
        raise Invalid("give the period as two dates")
    got = service.check_period(db, first, last, clock.now(), default_tz=settings.default_timezone)
    return RedirectResponse(f"/alerts?checked={got['low_participation'] + got['department_pattern']}", status_code=303)


@router.post("/alerts/{alert_id}/{action}")
def handle(request: Request, alert_id: PathId, action: str, db: DbSession, clock: AppClock, principal: Manage):
    row_error = None
    alert: Alert | None
    try:
        alert = service.handle(db, alert_id, action, by=principal.name, now=clock.now())
    except DomainError as exc:
        if not request.headers.get("HX-Request"):
            raise
        row_error, alert = exc.message, db.get(Alert, alert_id)
    if not request.headers.get("HX-Request"):
        return RedirectResponse("/alerts", status_code=303)
    emps, deps, codes = service.labels(db, [alert] if alert else [])
    return render(request, "attendance/_alerts_row.html", {"a": alert, "row_error": row_error, "emps": emps, "deps": deps, "codes": codes})
