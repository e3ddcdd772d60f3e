"""Indicator modules, versioned indicator definitions and stored evaluations."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainquant.db import Base, UTCDateTime

OPERATORS = (">=", ">", "<=", "<", "=")
AGGREGATIONS = ("sum", "avg", "max", "min", "last", "count", "change")
RESULT_STATUSES = ("met", "not_met", "no_data")
WINDOWS = ("days", "term", "year", "since_training")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class IndicatorModule(Base):
    """A group of indicators for one department kind, e.g. teachers' 教学技能提升, with its weight."""

    __tablename__ = "indicator_modules"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    department_kind: Mapped[str] = mapped_column(String(16), index=True)
    name: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Indicator(Base):
    """The stable identity of an indicator; its definition lives in versions."""

    __tablename__ = "indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(48), unique=True)
    module_id: Mapped[int] = mapped_column(ForeignKey("indicator_modules.id", ondelete="RESTRICT"), index=True)
    current_version: Mapped[int] = mapped_column(Integer, default=1)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_by: Mapped[str | None] = mapped_column(String(64))
    retire_note: Mapped[str | None] = mapped_column(String(300))

    module: Mapped[IndicatorModule] = relationship(lazy="joined")
    versions: Mapped[list[IndicatorVersion]] = relationship(order_by="IndicatorVersion.version", lazy="selectin")


class IndicatorVersion(Base):
    """One definition of an indicator. Never edited: a change is a new version."""

    __tablename__ = "indicator_versions"
    __table_args__ = (
        UniqueConstraint("indicator_id", "version"),
        CheckConstraint(_in("operator", OPERATORS), name="operator"),
        CheckConstraint(_in("aggregation", AGGREGATIONS), name="aggregation"),
        CheckConstraint("window_days > 0", name="window"),
        CheckConstraint(_in("window_kind", WINDOWS), name="window_kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(80))
    name_en: Mapped[str] = mapped_column(String(80))
    metric: Mapped[str] = mapped_column(String(48))
    params: Mapped[dict] = mapped_column(JSON, default=dict)  # e.g. {"assessment_kind": "trial_lecture"}
    aggregation: Mapped[str] = mapped_column(String(16))
    window_days: Mapped[int] = mapped_column(Integer)
    # What the window means (rules.WINDOWS): the last ``window_days`` days, the term, the calendar year,
    # or the ``window_days`` days from the person's latest training of the counted programs.
    window_kind: Mapped[str] = mapped_column(String(16), default="days", server_default="days")
    # The programs whose trainings and hours count: {"target_kinds": [...], "codes": [...], "tags_any": [...]},
    # each condition narrowing; empty: every program.
    programs: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    operator: Mapped[str] = mapped_column(String(2))
    threshold: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(16))
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    note: Mapped[str | None] = mapped_column(String(300))
    # The first period end this version applies to; None: from the start. Evaluating a past period end
    # uses the version in effect then, so re-running last quarter gives last quarter's rules.
    effective_from: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Evaluation(Base):
    """An indicator evaluated for one employee and period, with the exact version and facts it used."""

    __tablename__ = "evaluations"
    __table_args__ = (
        CheckConstraint(_in("status", RESULT_STATUSES), name="status"),
        Index("ix_evaluations_employee_period", "employee_id", "period_end"),
        UniqueConstraint("run_id", "employee_id", "indicator_version_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("evaluation_runs.id", ondelete="CASCADE"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    indicator_version_id: Mapped[int] = mapped_column(ForeignKey("indicator_versions.id", ondelete="RESTRICT"), index=True)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8))
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float] = mapped_column(Float)
    facts: Mapped[list] = mapped_column(JSON, default=list)
    reason: Mapped[str | None] = mapped_column(String(24))  # why there is no data (rules.REASONS)
    # The days the value was taken from (a window since a training is each person's own); None when
    # there was no window to read (no source, no training).
    window_start: Mapped[date | None] = mapped_column(Date)
    window_end: Mapped[date | None] = mapped_column(Date)


class EvaluationRun(Base):
    """One evaluation of a population at a period end; stored results are never recomputed in place."""

    __tablename__ = "evaluation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    period_end: Mapped[date] = mapped_column(Date, index=True)
    department_kind: Mapped[str | None] = mapped_column(String(16))
    population: Mapped[str | None] = mapped_column(String(80))  # "all", "kind:teaching", "department:T-BJ", "employee:T001"
    employees: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
