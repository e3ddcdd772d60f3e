"""Business metric records from the teaching platform, the CRM and the OA system: append-only, as received."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, Integer, Numeric, String, text
from sqlalchemy.orm import Mapped, mapped_column

from trainquant.db import Base, UTCDateTime

STATUSES = ("accepted", "unmapped", "rejected")


class MetricRecord(Base):
    """One record exactly as a system sent it, with the verdict given then. Never updated.

    ``status``: ``accepted`` (its person known), ``unmapped`` (an id in that system nobody is mapped to
    yet: kept aside, and counted for the person once HR maps the id, through ``ExternalId`` at read
    time, so the row itself never changes), ``rejected`` (with ``reason_code``).
    Idempotency: (``source``, ``source_record_id``) is unique among kept records; the same record sent
    again is answered as a repeat, another record under a kept id is rejected. A rejected record sent
    again identically is a repeat of its rejection (``content_key``).
    """

    __tablename__ = "metric_records"
    __table_args__ = (
        CheckConstraint("status IN ('accepted', 'unmapped', 'rejected')", name="status"),
        Index("uq_metric_records_source_record", "source", "source_record_id", unique=True,
              sqlite_where=text("status != 'rejected'"), postgresql_where=text("status != 'rejected'")),
        Index("uq_metric_records_rejected_content", "content_key", unique=True,
              sqlite_where=text("status = 'rejected'"), postgresql_where=text("status = 'rejected'")),
        Index("ix_metric_records_metric_employee_start", "metric_key", "employee_id", "period_start"),
        # Only unmapped records are ever looked up by external id (migration 0020 says why).
        Index("ix_metric_records_unmapped_external", "external_system", "external_id",
              sqlite_where=text("status = 'unmapped'"), postgresql_where=text("status = 'unmapped'")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(40))  # the sending system: teaching_platform, crm, oa, or a connector's name
    source_record_id: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(10))
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(300))
    metric_key: Mapped[str | None] = mapped_column(String(64))
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    external_system: Mapped[str | None] = mapped_column(String(40))
    external_id: Mapped[str | None] = mapped_column(String(80))
    value: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    period_start: Mapped[datetime | None] = mapped_column(UTCDateTime)
    period_end: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    batch_id: Mapped[str] = mapped_column(String(40))
    batch_index: Mapped[int] = mapped_column(Integer)
    content_key: Mapped[str] = mapped_column(String(64))  # sha256 of the source and the record as sent
    raw: Mapped[dict] = mapped_column(JSON)
