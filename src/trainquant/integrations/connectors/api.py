"""Connectors over JSON: make, list, rotate, switch off; and the signed webhook a system pushes to."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, read_body_limited, require
from trainquant.integrations.connectors import service
from trainquant.integrations.connectors.models import Connector
from trainquant.schemas import StrictInput

router = APIRouter(prefix="/api/v1/integrations", tags=["integrations"])
Manage = Annotated[Principal, require("integrations:manage")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=40, pattern=r"^[a-z0-9][a-z0-9_.-]*$")]


class ConnectorCreate(StrictInput):
    name: Name = Field(description="its records' source, e.g. crm-main")
    system: Literal["teaching_platform", "crm", "oa"]
    title: Annotated[str, StringConstraints(max_length=120)] | None = None


class ActiveIn(StrictInput):
    active: bool


class ConnectorRead(BaseModel):
    name: str
    system: str
    title: str | None
    active: bool
    created_at: datetime
    rotated_at: datetime | None
    previous_secret_valid_until: datetime | None
    webhook_url: str


class ConnectorWithSecret(ConnectorRead):
    secret: str = Field(description="shown this once; only its encryption is kept")


def _read(c: Connector) -> ConnectorRead:
    return ConnectorRead(name=c.name, system=c.system, title=c.title, active=c.active, created_at=c.created_at, rotated_at=c.rotated_at,
                         previous_secret_valid_until=c.previous_valid_until, webhook_url=f"/api/v1/integrations/webhooks/{c.name}")


@router.post("/connectors", response_model=ConnectorWithSecret, status_code=201, summary="Connect a system: the webhook secret is shown once")
def create(body: ConnectorCreate, db: DbSession, clock: AppClock, settings: AppSettings, _: Manage):
    row, secret = service.create_connector(db, name=body.name, system=body.system, title=body.title, settings=settings, now=clock.now())
    return ConnectorWithSecret(**_read(row).model_dump(), secret=secret)


@router.get("/connectors", response_model=list[ConnectorRead], summary="The connectors (never their secrets)")
def list_connectors(db: ReadSession, _: Manage):
    return [_read(c) for c in db.scalars(select(Connector).order_by(Connector.name))]


@router.post("/connectors/{name}/rotate", response_model=ConnectorWithSecret,
             summary="A new webhook secret (shown once); the previous one still verifies for TQ_WEBHOOK_ROTATION_GRACE_H hours")
def rotate(name: Annotated[str, Path(max_length=40)], db: DbSession, clock: AppClock, settings: AppSettings, _: Manage):
    row, secret = service.rotate_secret(db, name, settings=settings, now=clock.now())
    return ConnectorWithSecret(**_read(row).model_dump(), secret=secret)


@router.post("/connectors/{name}/active", response_model=ConnectorRead, summary="Switch a connector on or off")
def active(name: Annotated[str, Path(max_length=40)], body: ActiveIn, db: DbSession, _: Manage):
    return _read(service.set_active(db, name, body.active))


@router.post(
    "/webhooks/{name}",
    summary="A signed delivery of metric records: X-TQ-Timestamp (unix s) and X-TQ-Signature: sha256=HMAC-SHA256(secret, "
    "'<timestamp>.' + body); taken within 5 minutes of our clock, a replay answered as a repeat",
    responses={401: {"description": "not signed by the connector's secret, or outside the replay window (the code says which)"},
               403: {"description": "the connector is switched off"},
               413: {"description": "the body is larger than the limit"},
               503: {"description": "the database was busy; send the delivery again (it is recognised if it was taken)"}},
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
        "type": "object", "required": ["records"], "properties": {"records": {"type": "array", "items": {"type": "object"}}}}}}}},
)
async def webhook(name: Annotated[str, Path(max_length=40)], request: Request, db: DbSession, clock: AppClock, settings: AppSettings) -> dict:
    body = await read_body_limited(request, settings.events_max_bytes)
    headers = request.headers
    return await run_in_threadpool(
        service.receive_webhook, db, name, body, timestamp=headers.get("x-tq-timestamp"), signature=headers.get("x-tq-signature"),
        delivery_id=headers.get("x-tq-delivery"), settings=settings, now=clock.now(),
    )
