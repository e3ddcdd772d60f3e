"""What HR decides from the effect reports: an employee's way of working marked as their department's
template (R3.3, 设为模板), with the figures it was marked on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainquant.db import Base, UTCDateTime
from trainquant.org.models import Department, Employee
from trainquant.training.models import Program


class DepartmentTemplate(Base):
    """One department's template for one business metric: whose way of working, after which training,
    and their figures when it was marked. A new mark for the same department and metric retires the
    current one (the history stays)."""

    __tablename__ = "department_templates"
    __table_args__ = (
        # At most one current template per department and metric.
        Index("uq_department_templates_current", "department_id", "metric_key", unique=True,
              sqlite_where=text("active"), postgresql_where=text("active")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="CASCADE"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    metric_key: Mapped[str] = mapped_column(String(64))
    program_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id", ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text)  # the way of working, as HR describes it for the department
    before: Mapped[float | None] = mapped_column(Float)  # their value before the training (naive window)
    after: Mapped[float | None] = mapped_column(Float)
    effect: Mapped[float | None] = mapped_column(Float)  # their own isolated effect when marked
    band: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    marked_by: Mapped[str] = mapped_column(String(64))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime)
    retired_by: Mapped[str | None] = mapped_column(String(64))
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    department: Mapped[Department] = relationship()
    employee: Mapped[Employee] = relationship()
    program: Mapped[Program | None] = relationship()
