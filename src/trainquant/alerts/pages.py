"""The alert inbox page (参与度预警): who, which sessions and why, in the reader's language; filters,
acknowledge or resolve in place or in bulk, and an xlsx of what the filter selects. HR sees every
alert, a manager their departments'."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse
from sqlalchemy.orm import Session

from trainquant import sheets
from trainquant.alerts import export, service, texts
from trainquant.alerts.models import ALERT_KINDS, ALERT_STATUSES, Alert
from trainquant.alerts.rules import CAUSE_PRIORITY
from trainquant.analytics.effect import visible_departments
from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.errors import DomainError, Invalid
from trainquant.i18n import gettext_ as _
from trainquant.pagination import PageParams
from trainquant.params import PathId, parse_day, parse_id
from trainquant.training.lookups import local_today
from trainquant.web import codes as error_codes
from trainquant.web.templating import env, render

router = APIRouter(include_in_schema=False)
env.globals["alert_texts"] = texts
Read = Annotated[Principal, require("alerts:read")]
Handle = Annotated[Principal, require("alerts:handle")]
Manage = Annotated[Principal, require("attendance:manage")]
PAGE_SIZE = 50
PATTERN_CAUSES = ("weekend-sessions", "weekday-sessions", "morning-sessions", "afternoon-sessions", "evening-sessions", "low-overall")


@dataclass(frozen=True)
class Filters:
    """The inbox's filters as the query string gives them; anything unknown falls back to the default."""

    status: str
    kind: str
    cause: str
    department: str

    def service(self, db: Session, principal: Principal) -> service.AlertFilter:
        from trainquant.alerts.api import department_id

        return service.AlertFilter(status=None if self.status == "all" else self.status, kind=self.kind or None,
                                   cause=self.cause or None, department_id=department_id(db, self.department or None, principal))

    def query(self) -> str:
        return urlencode({k: v for k, v in (("status", self.status), ("kind", self.kind), ("cause", self.cause),
                                            ("department", self.department)) if v})


def filters(status: str = "open", kind: str = "", cause: str = "", department: Annotated[str, Query(max_length=32)] = "") -> Filters:
    return Filters(status if status in ALERT_STATUSES or status == "all" else "open", kind if kind in ALERT_KINDS else "",
                   cause if cause in CAUSE_PRIORITY or cause in PATTERN_CAUSES else "", department)


@router.get("/alerts")
def alerts_page(request: Request, db: ReadSession, principal: Read, clock: AppClock, settings: AppSettings,
                status: str = "open", kind: str = "", cause: str = "", department: Annotated[str, Query(max_length=32)] = "",
                page: int = 1, checked: str = "", done: str = "", skipped: str = ""):
    chosen = filters(status, kind, cause, department)
    paging = PageParams(page=max(1, min(page, 100_000)), page_size=PAGE_SIZE)
    rows, total = service.list_alerts(db, chosen.service(db, principal), principal.scope, paging)
    emps, deps, codes = service.labels(db, rows)
    today = local_today(clock.now(), settings.default_timezone)
    return render(request, "attendance/alerts.html", {
        "alerts": rows, "total": total, "page": paging.page, "pages": max(1, math.ceil(total / PAGE_SIZE)),
        "emps": emps, "deps": deps, "codes": codes, "f": chosen, "statuses": ALERT_STATUSES, "kinds": ALERT_KINDS,
        "causes": CAUSE_PRIORITY + PATTERN_CAUSES, "departments": visible_departments(db, principal.scope),
        "period_from": (today - timedelta(days=30)).isoformat(), "period_to": today.isoformat(), "checked": checked,
        "done": parse_id(done) or (0 if done == "0" else None), "skipped": parse_id(skipped) or 0,
        "can_handle": principal.can("alerts:handle"), "can_check": principal.can("attendance:manage"), "bulk_max": service.BULK_MAX,
    })


@router.get("/alerts/export.xlsx")
def alerts_export(db: ReadSession, principal: Read, settings: AppSettings, status: str = "open", kind: str = "", cause: str = "",
                  department: Annotated[str, Query(max_length=32)] = ""):
    chosen = filters(status, kind, cause, department)
    rows = service.all_alerts(db, chosen.service(db, principal), principal.scope)
    data = export.alerts_xlsx(rows, *service.labels(db, rows), zone=settings.default_timezone)
    return sheets.attachment(data, _("Participation alerts"), fallback="alerts")


@router.post("/alerts/check")
def run_check(db: DbSession, clock: AppClock, settings: AppSettings, _: Manage,
              period_from: Annotated[str, Form()] = "", period_to: Annotated[str, Form()] = ""):
    first, last = parse_day(period_from), parse_day(period_to)
    if first is None or last is None:
        raise Invalid("give the period as two dates")
    got = service.check_period(db, first, last, clock.now(), default_tz=settings.default_timezone)
    return RedirectResponse(f"/alerts?checked={got['low_participation'] + got['department_pattern']}", status_code=303)


@router.post("/alerts/bulk")
def bulk(db: DbSession, clock: AppClock, principal: Handle, action: Annotated[str, Form()],
         ids: Annotated[list[str] | None, Form()] = None, every: Annotated[str, Form()] = "",
         status: Annotated[str, Form()] = "open", kind: Annotated[str, Form()] = "", cause: Annotated[str, Form()] = "",
         department: Annotated[str, Form(max_length=32)] = ""):
    """The ticked alerts, or (every=1) every alert the inbox's filter selects."""
    chosen = filters(status, kind, cause, department)
    if every == "1":
        got = service.handle_many(db, action, flt=chosen.service(db, principal), by=principal.name, now=clock.now(), scope=principal.scope)
    else:
        picked = [n for n in (parse_id(i) for i in ids or []) if n is not None]
        if not picked:
            raise Invalid("tick the alerts to handle first", code="alert-bulk-none")
        got = service.handle_many(db, action, ids=picked, by=principal.name, now=clock.now(), scope=principal.scope)
    back = chosen.query()
    return RedirectResponse(f"/alerts?{back}{'&' if back else ''}done={len(got.done)}&skipped={len(got.skipped)}", status_code=303)


@router.post("/alerts/{alert_id}/{action}")
def handle(request: Request, alert_id: PathId, action: str, db: DbSession, clock: AppClock, principal: Handle):
    row_error = None
    alert: Alert | None
    try:
        alert = service.handle(db, alert_id, action, by=principal.name, now=clock.now(), scope=principal.scope)
    except DomainError as exc:
        if not request.headers.get("HX-Request"):
            raise
        row_error, alert = error_codes.error_text(exc), db.get(Alert, alert_id)
        if alert is not None and not service.in_scope(alert, principal.scope):
            alert = None
    if not request.headers.get("HX-Request"):
        return RedirectResponse("/alerts", status_code=303)
    emps, deps, codes = service.labels(db, [alert] if alert else [])
    return render(request, "attendance/_alerts_row.html", {"a": alert, "row_error": row_error, "emps": emps, "deps": deps, "codes": codes,
                                                           "can_handle": True})
