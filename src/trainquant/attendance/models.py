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
PROXY_SIGNALS = ("shared-device", "relayed-token", "impossible-travel", "timetable-contradiction", "platform-verdict")
CASE_STATUSES = ("open", "confirmed", "cleared")
WALK_IN_DECISIONS = ("accepted", "dismissed")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class CheckinEvent(Base):
    """One check-in or check-out exactly as received, with the verdict given at that moment.

    Never updated. ``origin`` names who sent it: ``apikey:<id>`` or ``user:<id>`` (the events API and
    the phone page: the API key, or the logged-in user), ``zkteco:<SN>`` (a terminal), ``wecom`` /
    ``dingtalk`` / ``feishu`` / ``sheet`` (the importer: one account per platform), or the bare source
    where the sender is not known (``api``, ``qr-page``; see below).

    ``dedup_key`` is ``<origin>|<event id>`` (ZKTeco's event id: SN + PIN + device time), or
    ``<origin>|h:<sha256 of the record>`` without one: idempotency keys are the sender's own, so two
    clients' "1001" are two events. It is unique among accepted events only: a repeat of an accepted
    event is answered "duplicate" and not stored twice, while a rejected record (unknown PIN, say) can
    be sent again once the cause is fixed.

    ``content_key`` (rejected records only, unique): a hash of origin, reason code and the record
    without the converter's verdict text. A rejected record sent again identically, and rejected for
    the same reason, is answered as a repeat of the stored rejection instead of being stored again.

    Rows stored before origins were recorded (migration 0009): ZKTeco and importer rows have their
    origin from the key itself (SN) or the source, and their keys in this form. Events API and phone
    page rows cannot say which key or user sent them: their origin is the bare source (``api``,
    ``qr-page``), their key stays ``<source>:<event id>`` and is listed in ``LegacyEventKey``.
    """

    __tablename__ = "checkin_events"
    __table_args__ = (
        CheckConstraint(_in("verdict", VERDICTS), name="verdict"),
        # Unique among accepted events only (partial index on both SQLite and PostgreSQL).
        Index(
            "uq_checkin_events_accepted_key", "dedup_key", unique=True,
            sqlite_where=text("verdict = 'accepted'"), postgresql_where=text("verdict = 'accepted'"),
        ),
        # Rejected records only carry a content key, so accepted events pay nothing for this index.
        Index(
            "uq_checkin_events_rejected_content", "content_key", unique=True,
            sqlite_where=text("content_key IS NOT NULL"), postgresql_where=text("content_key IS NOT NULL"),
        ),
        # Recomputation reads a session's punches; proxy detection reads a person's punches around it.
        # Every index is paid for on each ingested event, so there is no other.
        Index("ix_checkin_events_session_employee", "session_id", "employee_id"),
        Index("ix_checkin_events_employee_at", "employee_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedup_key: Mapped[str] = mapped_column(String(255))
    source: Mapped[str] = mapped_column(String(16))
    origin: Mapped[str] = mapped_column(String(96))
    content_key: Mapped[str | None] = mapped_column(String(64))
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


class LegacyEventKey(Base):
    """The keys of accepted events API and phone-page events stored before origins were recorded
    (``<source>:<event id>``), with the person each was about. Filled once by migration 0009, never after.

    Which API key or user sent them was not recorded and cannot be known, so the reading is an
    auditor's: a new event whose id gives such a key is a retry of that event when it is about the same
    person (answered "duplicate", whichever sender retries), and another client's event when it is about
    someone else (judged on its own). No retry is stored twice, and no other person's punch is dropped.
    Kept apart from ``checkin_events`` so that ingestion asks for these keys only where there are any.
    Plain integers, no foreign keys: facts copied once, which a later copy of ``checkin_events`` or
    ``employees`` (SQLite's batch migrations) must not cascade into.
    """

    __tablename__ = "checkin_legacy_keys"

    dedup_key: Mapped[str] = mapped_column(String(160), primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer)  # the checkin_events row
    employee_id: Mapped[int | None] = mapped_column(Integer)  # whom it was about


class RejectionsPerHour(Base):
    """Rejected records per sender (``CheckinEvent.origin``) and UTC hour: how many were stored, and
    how many were refused unstored once the hourly allowance (``TQ_REJECTED_PER_SOURCE_PER_HOUR``) was
    used up. A sender sending junk cannot grow the database without bound; HR/IT see here who tried."""

    __tablename__ = "checkin_rejections_per_hour"

    origin: Mapped[str] = mapped_column(String(96), primary_key=True)
    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    stored: Mapped[int] = mapped_column(Integer, default=0)
    refused: Mapped[int] = mapped_column(Integer, default=0)


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
    detail: Mapped[str] = mapped_column(Text)  # in English, for API readers
    # The figures of the signal (proxy/rules.py), for the review page to say in the reader's language.
    evidence: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class WalkInDecision(Base):
    """HR's decision on a walk-in: the punches of someone not enrolled in the session they were placed in
    (rejected ``walk-in`` events). Accepting enrols the person (approved, with the reason) and stores the
    punches again as accepted events from their original sender, so the same export imported later
    repeats them; dismissing keeps them rejected. One decision per person and session, final."""

    __tablename__ = "walk_in_decisions"
    __table_args__ = (
        CheckConstraint(_in("status", WALK_IN_DECISIONS), name="status"),
        UniqueConstraint("session_id", "employee_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12))
    reason: Mapped[str | None] = mapped_column(String(500))
    event_ids: Mapped[list] = mapped_column(JSON, default=list)  # the walk-in events decided on
    accepted_ids: Mapped[list] = mapped_column(JSON, default=list)  # the accepted events stored for them
    decided_by: Mapped[str] = mapped_column(String(64))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime)
