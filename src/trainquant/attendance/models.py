"""Check-in events (append-only, kept with their verdict), devices, derived attendance and proxy cases."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from trainquant.db import Base, UTCDateTime

EVENT_KINDS = ("in", "out")
METHODS = ("face", "fingerprint", "qr", "geo", "card", "manual")
VERDICTS = ("accepted", "rejected")
SOURCES = ("api", "zkteco", "wecom", "dingtalk", "feishu", "sheet", "qr-page", "manual")
PROXY_SIGNALS = ("shared-device", "relayed-token", "impossible-travel", "timetable-contradiction")
CASE_STATUSES = ("open", "confirmed", "cleared")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CheckinEvent(Base):
    """One check-in or check-out exactly as received, with the verdict given at that moment.

    Never updated. ``dedup_key`` is the client's event id, or a key derived from the source
    (ZKTeco: SN + PIN + device time). It is unique among accepted events only: a record that was
    rejected (unknown PIN, say) can be sent again once the cause is fixed; a repeat of an accepted
    one is answered "duplicate" and not stored twice.
    """

    __tablename__ = "checkin_events"
    __table_args__ = (
        CheckConstraint(_in("verdict", VERDICTS), name="verdict"),
        # Unique among accepted events only (partial index on both SQLite and PostgreSQL).
        Index(
            "uq_checkin_events_accepted_key", "dedup_key", unique=True,
            sqlite_where=text("verdict = 'accepted'"), postgresql_where=text("verdict = 'accepted'"),
        ),
        # Recomputation reads a session's punches; proxy detection reads a person's punches around it.
        # Every index is paid for on each ingested event, so there is no other.
        Index("ix_checkin_events_session_employee", "session_id", "employee_id"),
        Index("ix_checkin_events_employee_at", "employee_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(160))
    source: Mapped[str] = mapped_column(String(16))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    batch_id: Mapped[str | None] = mapped_column(String(40))  # the request or file it came in
    batch_index: Mapped[int | None] = mapped_column(Integer)  # its position there
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    employee_ref: Mapped[str | None] = mapped_column(String(80))  # as sent: employee_no, PIN, userid ...
    session_id: Mapped[int | None] = mapped_column(ForeignKey("training_sessions.id", ondelete="SET NULL"))
    kind: Mapped[str | None] = mapped_column(String(8))
    at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    method: Mapped[str | None] = mapped_column(String(16))
    device_id: Mapped[str | None] = mapped_column(String(80))
    lat: Mapped[float | None] = mapped_column(Float)
    lng: Mapped[float | None] = mapped_column(Float)
    accuracy_m: Mapped[float | None] = mapped_column(Float)
    distance_m: Mapped[float | None] = mapped_column(Float)  # to the venue, after GCJ-02 -> WGS-84 if needed
    qr_step: Mapped[int | None] = mapped_column(Integer)
    verdict: Mapped[str] = mapped_column(String(10))
    reason_code: Mapped[str | None] = mapped_column(String(40))
    reason: Mapped[str | None] = mapped_column(String(300))
    raw: Mapped[dict] = mapped_column(JSON)


class PendingRefresh(Base):
    """Events stored but not yet turned into figures, proxy cases and alerts: one row per batch.

    Written in the batch's own transaction, so it is visible exactly when the events are; deleted
    by the drain (``attendance/checkin/pending.py``) in the transaction that finishes the work. A crash
    in between leaves the row, and the next drain does the (idempotent) work again.
    """

    __tablename__ = "attendance_pending"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_event_id: Mapped[int] = mapped_column(Integer)
    last_event_id: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Device(Base):
    """A known check-in device: a ZKTeco terminal (by serial number), a room screen, a phone allow-list entry."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[str] = mapped_column(String(80), unique=True)  # ZKTeco serial number, or any id
    kind: Mapped[str] = mapped_column(String(16), default="zkteco")
    name: Mapped[str | None] = mapped_column(String(80))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id", ondelete="SET NULL"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attlog_stamp: Mapped[str | None] = mapped_column(String(32))
    operlog_stamp: Mapped[str | None] = mapped_column(String(32))
    info: Mapped[dict] = mapped_column(JSON, default=dict)


class DeviceCommand(Base):
    """A command queued for a terminal, handed out on its next ``getrequest`` poll."""

    __tablename__ = "device_commands"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_pk: Mapped[int] = mapped_column(ForeignKey("devices.id", ondelete="CASCADE"), index=True)
    command: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), default="queued")  # queued | sent | done | failed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    return_code: Mapped[str | None] = mapped_column(String(16))


class AttendanceRecord(Base):
    """Derived: one person's figures for one session, recomputed from events whenever they change."""

    __tablename__ = "attendance_records"
    __table_args__ = (UniqueConstraint("session_id", "employee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    attended_seconds: Mapped[int] = mapped_column(Integer)
    scheduled_seconds: Mapped[int] = mapped_column(Integer)
    participation: Mapped[float] = mapped_column(Float)
    late_seconds: Mapped[int] = mapped_column(Integer)
    early_leave_seconds: Mapped[int] = mapped_column(Integer)
    away: Mapped[list] = mapped_column(JSON, default=list)  # [[start iso, end iso], ...]
    flags: Mapped[list] = mapped_column(JSON, default=list)
    events: Mapped[int] = mapped_column(Integer, default=0)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ProxyCase(Base):
    """A suspected proxy sign-in (代签到) waiting for HR: scored signals, never an automatic rejection."""

    __tablename__ = "proxy_cases"
    __table_args__ = (
        CheckConstraint(_in("signal", PROXY_SIGNALS), name="signal"),
        CheckConstraint(_in("status", CASE_STATUSES), name="status"),
        UniqueConstraint("signal", "fingerprint"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True)
    signal: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(160))  # what makes the case unique: no duplicate cases
    score: Mapped[float] = mapped_column(Float)
    employee_ids: Mapped[list] = mapped_column(JSON)  # people whose punches look proxied
    event_ids: Mapped[list] = mapped_column(JSON)
    detail: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
