"""Alerts to HR: a follow-up for one person, or a pattern in a department, each with its cause."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, Date, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from trainquant.db import Base, UTCDateTime

ALERT_KINDS = ("low-participation", "department-pattern")
ALERT_STATUSES = ("open", "acknowledged", "resolved")


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        CheckConstraint(f"kind IN ({', '.join(repr(k) for k in ALERT_KINDS)})", name="kind"),
        CheckConstraint(f"status IN ({', '.join(repr(k) for k in ALERT_STATUSES)})", name="status"),
        Index("ix_alerts_status_kind", "status", "kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    # What makes it unique, so re-running the checks never raises the same alert twice.
    fingerprint: Mapped[str] = mapped_column(String(160), unique=True)
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True)
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    value: Mapped[float | None] = mapped_column()
    threshold: Mapped[float | None] = mapped_column()
    cause: Mapped[str] = mapped_column(String(40))  # timetable-conflict | late | left-early | no-checkout | absent | weekend-sessions ...
    detail: Mapped[str] = mapped_column(Text)
    suggestion: Mapped[dict] = mapped_column(JSON, default=dict)  # e.g. a better slot from the slot finder
    # A low-participation alert is one per person per month (fingerprint lp:<employee>:<YYYY-MM>); these
    # are its sessions under their minimum, oldest first, each with the figures its sentence is made of
    # (session_id, code, starts_at, attended_s, scheduled_s, participation, threshold, cause, lost: the
    # [cause, seconds] ranked by likely_cause, lost_minutes, and for a timetable conflict
    # next_clashing_sessions / move_to).
    sessions: Mapped[list[dict]] = mapped_column(JSON, default=list, server_default="[]")
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    handled_by: Mapped[str | None] = mapped_column(String(64))
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
