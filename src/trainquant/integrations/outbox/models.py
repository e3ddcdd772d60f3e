"""Training data going out (R3): what other systems subscribed to, the events written in the same
transaction as the change they report, and each event's delivery to each subscriber."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainquant.db import Base, UTCDateTime
from trainquant.integrations.connectors.models import Connector

EVENT_TYPES = ("training.completed", "assessment.recorded", "indicator.met")
DELIVERY_STATUSES = ("pending", "delivered", "dead")


class Subscription(Base):
    """A connector's system asks for some event types at its URL; deliveries are signed with the
    subscription's own secret (encrypted at rest, shown once)."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(500))
    events: Mapped[list] = mapped_column(JSON)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    connector: Mapped[Connector] = relationship()


class OutboxEvent(Base):
    """One fact that happened, once: ``key`` names it (the same completion seen again is the same
    event), ``payload`` is what subscribers receive."""

    __tablename__ = "outbox_events"
    __table_args__ = (CheckConstraint("event_type IN ('training.completed', 'assessment.recorded', 'indicator.met')", name="event_type"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_type: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(160), unique=True)
    payload: Mapped[dict] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Delivery(Base):
    """An event on its way to one subscription. ``delivery_id`` is stable across retries and replays,
    so the receiver deduplicates on it (at-least-once). ``pending`` until a 2xx; after the last
    attempt ``dead`` (kept, and replayable by hand). ``lease_until``: a sender holds it while posting."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "subscription_id"),
        CheckConstraint("status IN ('pending', 'delivered', 'dead')", name="status"),
        Index("ix_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[str] = mapped_column(String(40), unique=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id", ondelete="CASCADE"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status: Mapped[int | None] = mapped_column(Integer)  # the receiver's HTTP status
    last_error: Mapped[str | None] = mapped_column(String(300))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    event: Mapped[OutboxEvent] = relationship()
    subscription: Mapped[Subscription] = relationship()
