"""Connectors to the teaching platform, the CRM and the OA system, and the webhook deliveries they sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from trainquant.db import Base, UTCDateTime

SYSTEMS = ("teaching_platform", "crm", "oa")


class Connector(Base):
    """One connection to another system. Its secrets are stored encrypted (Fernet, the instance's
    encryption key), never in the clear, and shown once: when made and when rotated."""

    __tablename__ = "connectors"
    __table_args__ = (CheckConstraint("system IN ('teaching_platform', 'crm', 'oa')", name="system"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(40), unique=True)  # the records' source
    system: Mapped[str] = mapped_column(String(24))  # whose ids the records carry (ExternalId.system)
    title: Mapped[str | None] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    secret_encrypted: Mapped[str] = mapped_column(Text)
    previous_secret_encrypted: Mapped[str | None] = mapped_column(Text)
    previous_valid_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """A signed delivery taken from a connector, by its signature: the same delivery replayed inside
    the window is answered as a repeat with what it was answered the first time."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (UniqueConstraint("connector_id", "signature"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"), index=True)
    signature: Mapped[str] = mapped_column(String(80))
    delivery_id: Mapped[str | None] = mapped_column(String(120))  # the sender's, when it gives one (X-TQ-Delivery)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    records: Mapped[int] = mapped_column(Integer)
    answer: Mapped[dict] = mapped_column(JSON)  # the counts answered
