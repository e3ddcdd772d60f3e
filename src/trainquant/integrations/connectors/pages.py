"""The connectors page: IT connects the teaching platform, the CRM and the OA system, sees each
webhook address, rotates a secret (shown once) and switches a connector off."""

from __future__ import annotations

from typing import Annotated

import orjson
from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy import select

from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.errors import DomainError
from trainquant.i18n import gettext_ as _
from trainquant.integrations.connectors import service
from trainquant.integrations.connectors.api import ConnectorCreate
from trainquant.integrations.connectors.models import SYSTEMS, Connector
from trainquant.web.templating import render

router = APIRouter(include_in_schema=False)
Manage = Annotated[Principal, require("integrations:manage")]


def _page(request: Request, db, **extra):
    rows = list(db.scalars(select(Connector).order_by(Connector.name)))
    return render(request, "integrations/connectors.html", {"rows": rows, "systems": SYSTEMS, "secret": None, "secret_for": None,
                                                            "problem": None, **extra}, status_code=422 if extra.get("problem") else 200)


@router.get("/integrations/connectors")
def connectors_page(request: Request, db: ReadSession, _p: Manage):
    return _page(request, db)


@router.post("/integrations/connectors")
def create(request: Request, db: DbSession, clock: AppClock, settings: AppSettings, _p: Manage, name: Annotated[str, Form()] = "",
           system: Annotated[str, Form()] = "", title: Annotated[str, Form()] = ""):
    try:
        body = ConnectorCreate.model_validate({"name": name, "system": system, "title": title or None}, strict=False)
        row, secret = service.create_connector(db, name=body.name, system=body.system, title=body.title, settings=settings, now=clock.now())
    except ValidationError:
        return _page(request, db, problem=_("A name is 2 to 40 lower-case letters, digits, '-', '_' or '.', and the system one of the three."))
    except DomainError as exc:
        db.rollback()
        return _page(request, db, problem=_("A connector with this name exists.") if exc.code == "connector-exists" else _("The connector could not be made."))
    return _page(request, db, secret=secret, secret_for=row.name)


@router.post("/integrations/connectors/{name}/rotate")
def rotate(request: Request, name: str, db: DbSession, clock: AppClock, settings: AppSettings, _p: Manage):
    row, secret = service.rotate_secret(db, name[:40], settings=settings, now=clock.now())
    return _page(request, db, secret=secret, secret_for=row.name)


@router.post("/integrations/connectors/{name}/active")
def switch(request: Request, name: str, db: DbSession, _p: Manage, active: Annotated[str, Form()] = ""):
    service.set_active(db, name[:40], active == "true")
    return RedirectResponse("/integrations/connectors", status_code=303)


def _connector_page(request: Request, db, name: str, *, form: dict | None = None, problems: list[str] | None = None):
    from trainquant.integrations.outbox.models import Delivery, Subscription
    from trainquant.integrations.pull import service as pull
    from trainquant.integrations.pull.models import PullSource
    from trainquant.pagination import PageParams

    row = service.get_connector(db, name[:40])
    source = db.scalar(select(PullSource).where(PullSource.connector_id == row.id))
    runs = pull.list_runs(db, row.name, PageParams(page=1, page_size=20))[0] if source is not None else []
    subs = list(db.scalars(select(Subscription).where(Subscription.connector_id == row.id).order_by(Subscription.id)))
    deliveries = list(db.scalars(select(Delivery).where(Delivery.subscription_id.in_([s.id for s in subs])).order_by(Delivery.id.desc()).limit(20)))
    if form is None:
        form = _form_of(source)
    return render(request, "integrations/connector.html", {"c": row, "source": source, "runs": runs, "subs": subs, "deliveries": deliveries,
                                                           "form": form, "problems": problems or []},
                  status_code=422 if problems else 200)


def _form_of(source) -> dict:
    """The pull form filled from the stored configuration (credentials are never shown)."""
    if source is None:
        return {"auth_style": "bearer", "paging_style": "cursor", "size": 500, "size_param": "limit", "mapping": "", "schedule_minutes": 60}
    cfg = source.config
    return {"url": cfg["url"], "auth_style": cfg["auth"]["style"], "token_url": cfg["auth"].get("token_url") or "",
            "api_key_header": cfg["auth"].get("api_key_header") or "X-Api-Key", "paging_style": cfg["paging"]["style"],
            "size": cfg["paging"]["size"], "size_param": cfg["paging"].get("size_param", "per_page"),
            "mapping": orjson.dumps(cfg["mapping"], option=orjson.OPT_INDENT_2).decode(), "schedule_minutes": source.schedule_minutes or ""}


CREDENTIAL_FIELDS = ("token", "username", "password", "api_key", "client_id", "client_secret")


@router.get("/integrations/connectors/{name}")
def connector_page(request: Request, name: str, db: ReadSession, _p: Manage):
    """One connector: what it pulls (and a form to change it) and its run log, who it sends training
    data to and the delivery log."""
    return _connector_page(request, db, name)


@router.post("/integrations/connectors/{name}/pull")
async def configure_pull(request: Request, name: str, db: DbSession, clock: AppClock, settings: AppSettings, _p: Manage):
    """The pull form: the address, sign-in, paging, schedule and the field mapping as JSON. Credentials
    left blank keep the stored ones."""
    from trainquant.integrations.pull import service as pull
    from trainquant.integrations.pull.models import PullSource
    from trainquant.integrations.pull.schemas import PullIn

    raw = await request.form()
    form = {k: str(v) for k, v in raw.items() if k != "csrf_token" and k not in CREDENTIAL_FIELDS}
    row = service.get_connector(db, name[:40])
    credentials = {k: str(raw.get(k) or "") for k in CREDENTIAL_FIELDS if raw.get(k)}
    source = db.scalar(select(PullSource).where(PullSource.connector_id == row.id))
    if not credentials and source is not None:
        credentials = pull.stored_credentials(source, settings)
    try:
        mapping = orjson.loads(form.get("mapping") or "null")
    except orjson.JSONDecodeError as exc:
        return _connector_page(request, db, name, form=form, problems=[_("The mapping is not JSON: %(error)s") % {"error": str(exc)}])
    auth = {"style": form.get("auth_style", "")}
    if form.get("token_url"):
        auth["token_url"] = form["token_url"]
    if form.get("auth_style") == "api_key" and form.get("api_key_header"):
        auth["api_key_header"] = form["api_key_header"]
    body = {"config": {"url": form.get("url", ""), "auth": auth,
                       "paging": {"style": form.get("paging_style", ""), "size": form.get("size") or 100, "size_param": form.get("size_param") or "per_page"},
                       "mapping": mapping},
            "credentials": credentials, "schedule_minutes": form.get("schedule_minutes") or None}
    try:
        pull.configure(db, row.name, PullIn.model_validate(body, strict=False), settings=settings, now=clock.now())
    except ValidationError as exc:
        from trainquant.training.forms import error_text

        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {error_text(e)}" for e in exc.errors()]
        return _connector_page(request, db, name, form=form, problems=problems)
    return RedirectResponse(f"/integrations/connectors/{row.name}", status_code=303)


@router.post("/integrations/connectors/{name}/sync")
def sync_now(request: Request, name: str, db: DbSession, _p: Manage):
    from trainquant.integrations.pull import service as pull

    pull.get_source(db, name[:40])
    request.app.state.jobs.connector_sync(name[:40])
    return RedirectResponse(f"/integrations/connectors/{name[:40]}", status_code=303)


@router.post("/integrations/deliveries/{delivery_id}/replay")
def replay(request: Request, delivery_id: str, db: DbSession, clock: AppClock, _p: Manage):
    from trainquant.integrations.outbox import service as outbox

    d = outbox.replay(db, delivery_id[:40], now=clock.now())
    return RedirectResponse(f"/integrations/connectors/{d.subscription.connector.name}", status_code=303)
