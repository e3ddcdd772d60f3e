"""Training data going out over JSON: subscriptions (their secret shown once), the delivery log, replay."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy import select

from trainquant.auth.permissions import Principal
from trainquant.deps import AppClock, AppSettings, DbSession, ReadSession, require
from trainquant.integrations.outbox import service
from trainquant.integrations.outbox.models import Delivery, Subscription
from trainquant.pagination import Page, Paging
from trainquant.schemas import StrictInput

router = APIRouter(prefix="/api/v1/integrations", tags=["integrations"])
Manage = Annotated[Principal, require("integrations:manage")]
EventType = Literal["training.completed", "assessment.recorded", "indicator.met"]


class SubscriptionCreate(StrictInput):
    connector: Annotated[str, StringConstraints(min_length=2, max_length=40)]
    url: Annotated[str, StringConstraints(max_length=500, pattern=r"^https?://[^\s]+$")]
    events: list[EventType] = Field(min_length=1, max_length=3)


class ActiveIn(StrictInput):
    active: bool


class SubscriptionRead(BaseModel):
    id: int
    connector: str
    url: str
    events: list[str]
    active: bool
    created_at: datetime


class SubscriptionWithSecret(SubscriptionRead):
    secret: str = Field(description="shown this once: deliveries carry X-TQ-Signature: sha256=HMAC-SHA256(secret, '<X-TQ-Timestamp>.' + body)")


class DeliveryRead(BaseModel):
    delivery_id: str
    event: str
    event_key: str
    subscription: int
    url: str
    status: str
    attempts: int
    next_attempt_at: datetime
    last_status: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime


def _sub(s: Subscription) -> SubscriptionRead:
    return SubscriptionRead(id=s.id, connector=s.connector.name, url=s.url, events=s.events, active=s.active, created_at=s.created_at)


def _delivery(d: Delivery) -> DeliveryRead:
    return DeliveryRead(delivery_id=d.delivery_id, event=d.event.event_type, event_key=d.event.key, subscription=d.subscription_id,
                        url=d.subscription.url, status=d.status, attempts=d.attempts, next_attempt_at=d.next_attempt_at,
                        last_status=d.last_status, last_error=d.last_error, delivered_at=d.delivered_at, created_at=d.created_at)


@router.post("/subscriptions", response_model=SubscriptionWithSecret, status_code=201,
             summary="A system subscribes to training events at its URL; the signing secret is shown once")
def subscribe(body: SubscriptionCreate, db: DbSession, clock: AppClock, settings: AppSettings, _: Manage):
    sub, secret = service.subscribe(db, body.connector, url=body.url, events=list(body.events), settings=settings, now=clock.now())
    return SubscriptionWithSecret(**_sub(sub).model_dump(), secret=secret)


@router.get("/subscriptions", response_model=list[SubscriptionRead], summary="The subscriptions (never their secrets)")
def subscriptions(db: ReadSession, _: Manage):
    return [_sub(s) for s in db.scalars(select(Subscription).order_by(Subscription.id))]


@router.post("/subscriptions/{sub_id}/active", response_model=SubscriptionRead, summary="Pause or resume a subscription")
def set_active(sub_id: Annotated[int, Path(ge=1, le=2**31 - 1)], body: ActiveIn, db: DbSession, _: Manage):
    sub = service.get_subscription(db, sub_id)
    sub.active = body.active
    db.flush()
    return _sub(sub)


@router.get("/deliveries", response_model=Page[DeliveryRead], summary="The delivery log, newest first")
def deliveries(db: ReadSession, page: Paging, _: Manage, status: Annotated[Literal["pending", "delivered", "dead"] | None, Query()] = None,
               subscription: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None):
    rows, total = service.list_deliveries(db, page, status=status, subscription=subscription)
    return Page.of([_delivery(d) for d in rows], total, page)


@router.post("/deliveries/{delivery_id}/replay", response_model=DeliveryRead,
             summary="Send a delivery again with the same delivery id (at the next sweep, within a minute)")
def replay(delivery_id: Annotated[str, Path(max_length=40)], db: DbSession, clock: AppClock, _: Manage):
    return _delivery(service.replay(db, delivery_id, now=clock.now()))
