"""Programs, sessions, enrolments (with their history), assessments and costs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainquant.db import Base, Money, UTCDateTime
from trainquant.org.models import Employee, Site, Venue

PROGRAM_KINDS = ("offline", "online", "blended")
PROGRAM_LEVELS = ("onboarding", "foundation", "advanced", "refresher")
CHECKIN_METHODS = ("face", "fingerprint", "qr", "geo", "card", "manual")
SESSION_STATUSES = ("scheduled", "cancelled", "completed")
MISSING_CHECKOUT_POLICIES = ("credit-to-end", "count-to-last-event")
ENROLMENT_STATUSES = ("requested", "approved", "rejected", "waitlisted", "cancelled")
ENROLMENT_SOURCES = ("self", "hr", "mandatory", "manager")
COST_CATEGORIES = ("trainer_fee", "delivery", "venue", "materials", "licence", "travel", "design", "needs_analysis", "evaluation", "overhead", "other")
SCALE_TYPES = ("score", "pass_fail", "ratio")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Program(Base):
    __tablename__ = "programs"
    __table_args__ = (
        CheckConstraint(_in("kind", PROGRAM_KINDS), name="kind"),
        CheckConstraint(_in("level", PROGRAM_LEVELS), name="level"),
        CheckConstraint("planned_hours >= 0", name="planned_hours"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    title: Mapped[str] = mapped_column(String(120))  # Chinese title as HR writes it
    title_en: Mapped[str | None] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(16), default="foundation")
    target_kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # department kinds it is for
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)  # needs it addresses, e.g. classroom-interaction
    # The business metrics it sets out to move (Phillips' impact objectives, set before it runs): the
    # case table reads a metric's effect from the programs that aim at it, never from whichever shows most.
    aims: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    trainer: Mapped[str | None] = mapped_column(String(64))
    trainer_employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))
    planned_hours: Mapped[float] = mapped_column(Float, default=0)
    # Who may enrol: {"department_kinds": [...], "tags_any": [...], "hired_within_days": n,
    # "hired_at_least_days": n, "prerequisites": [program codes]}; empty = everyone (see rules.Eligibility).
    eligibility: Mapped[dict] = mapped_column(JSON, default=dict)
    requires_approval: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    sessions: Mapped[list[TrainingSession]] = relationship(back_populates="program", order_by="TrainingSession.starts_at")
    trainer_employee: Mapped[Employee | None] = relationship()


class TrainingSession(Base):
    __tablename__ = "training_sessions"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="order"),
        CheckConstraint("capacity IS NULL OR capacity > 0", name="capacity"),
        CheckConstraint("min_participation > 0 AND min_participation <= 1", name="min_participation"),
        CheckConstraint(_in("status", SESSION_STATUSES), name="status"),
        CheckConstraint(_in("missing_checkout_policy", MISSING_CHECKOUT_POLICIES), name="missing_checkout"),
        Index("ix_training_sessions_window", "starts_at", "ends_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="RESTRICT"), index=True)
    sequence: Mapped[int] = mapped_column(Integer, default=1)  # n-th session of a multi-session program
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
    venue_id: Mapped[int | None] = mapped_column(ForeignKey("venues.id", ondelete="SET NULL"))
    online: Mapped[bool] = mapped_column(Boolean, default=False)
    trainer: Mapped[str | None] = mapped_column(String(64))
    trainer_employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"), index=True)
    capacity: Mapped[int | None] = mapped_column(Integer)
    checkin_methods: Mapped[list[str]] = mapped_column(JSON, default=list)
    min_participation: Mapped[float] = mapped_column(Float, default=0.8)
    missing_checkout_policy: Mapped[str] = mapped_column(String(24), default="credit-to-end")
    status: Mapped[str] = mapped_column(String(16), default="scheduled")
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    program: Mapped[Program] = relationship(back_populates="sessions")
    site: Mapped[Site | None] = relationship()
    venue: Mapped[Venue | None] = relationship()
    trainer_employee: Mapped[Employee | None] = relationship()


class MandatoryRule(Base):
    """Enrols automatically whoever matches: e.g. new teachers must attend onboarding within 30 days."""

    __tablename__ = "mandatory_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    # Same vocabulary as Program.eligibility: who must attend.
    condition: Mapped[dict] = mapped_column(JSON, default=dict)
    due_days: Mapped[int] = mapped_column(Integer, default=30)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    program: Mapped[Program] = relationship()


class Enrolment(Base):
    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("session_id", "employee_id"),
        CheckConstraint(_in("status", ENROLMENT_STATUSES), name="status"),
        CheckConstraint(_in("source", ENROLMENT_SOURCES), name="source"),
        Index("ix_enrolments_employee_status", "employee_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16))
    mandatory_rule_id: Mapped[int | None] = mapped_column(ForeignKey("mandatory_rules.id", ondelete="SET NULL"))
    due_date: Mapped[date | None] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(String(500))
    # What HR's enrolment overrode, so that it never looks like an ordinary one: "eligibility-skipped"
    # (the rules said no), "overlap-allowed" (the person is in another session at that time), "late-entry"
    # (entered after the session started: a walk-in, or a training held before the platform).
    exceptions: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    waitlist_position: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    session: Mapped[TrainingSession] = relationship()
    employee: Mapped[Employee] = relationship()
    history: Mapped[list[EnrolmentEvent]] = relationship(order_by="EnrolmentEvent.id", lazy="raise")


class EnrolmentEvent(Base):
    """Every state change of an enrolment: who, when, from what to what, and why. Never edited."""

    __tablename__ = "enrolment_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(ForeignKey("enrolments.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(String(500))
    exceptions: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")  # what this step overrode (Enrolment.exceptions)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class AssessmentKind(Base):
    """An assessment and its scale: trial lecture 0-100, IELTS 0-9 in 0.5 steps, case analysis pass/fail ..."""

    __tablename__ = "assessment_kinds"
    __table_args__ = (CheckConstraint(_in("scale", SCALE_TYPES), name="scale"),)

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    scale: Mapped[str] = mapped_column(String(16))
    min_value: Mapped[float | None] = mapped_column(Float)
    max_value: Mapped[float | None] = mapped_column(Float)
    step: Mapped[float | None] = mapped_column(Float)
    pass_mark: Mapped[float | None] = mapped_column(Float)
    # An error rate passes at or below its mark; every other score at or above it.
    higher_is_better: Mapped[bool] = mapped_column(Boolean, default=True)
    multiple_raters: Mapped[bool] = mapped_column(Boolean, default=False)


class Assessment(Base):
    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_employee_kind_date", "employee_id", "kind_code", "assessed_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    kind_code: Mapped[str] = mapped_column(ForeignKey("assessment_kinds.code", ondelete="RESTRICT"))
    program_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id", ondelete="SET NULL"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("training_sessions.id", ondelete="SET NULL"), index=True)
    assessed_on: Mapped[date] = mapped_column(Date)
    score: Mapped[float | None] = mapped_column(Float)  # the (averaged) score on the kind's scale, or the ratio
    passed: Mapped[bool | None] = mapped_column(Boolean)
    # Raters' individual scores [{"rater": "...", "score": 86}] - a trial lecture is averaged over several.
    ratings: Mapped[list[dict]] = mapped_column(JSON, default=list)
    errors: Mapped[int | None] = mapped_column(Integer)  # practical error rate = errors / operations
    operations: Mapped[int | None] = mapped_column(Integer)
    rater: Mapped[str | None] = mapped_column(String(64))
    evidence: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    employee: Mapped[Employee] = relationship()
    kind: Mapped[AssessmentKind] = relationship()
    program: Mapped[Program | None] = relationship()
    session: Mapped[TrainingSession | None] = relationship()


class CostItem(Base):
    __tablename__ = "cost_items"
    __table_args__ = (
        CheckConstraint(_in("category", COST_CATEGORIES), name="category"),
        CheckConstraint("program_id IS NOT NULL OR session_id IS NOT NULL", name="target"),
        CheckConstraint("amount >= 0", name="amount"),
        CheckConstraint("share > 0 AND share <= 1", name="share"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("training_sessions.id", ondelete="CASCADE"), index=True)
    category: Mapped[str] = mapped_column(String(24))
    amount: Mapped[Decimal] = mapped_column(Money)
    # Of a cost that serves several runs (course design, a licence), the part this program's ROI
    # carries: ROI counts amount x share (Phillips: development prorated over its runs).
    share: Mapped[Decimal] = mapped_column(Numeric(5, 4), default=Decimal(1), server_default="1")
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    incurred_on: Mapped[date | None] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    program: Mapped[Program | None] = relationship()
    session: Mapped[TrainingSession | None] = relationship()
