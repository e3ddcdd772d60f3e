"""HR core tables: departments, sites and venues, employees, growth profiles, timetables."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal

from sqlalchemy import (
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainquant.db import Base, Money, UTCDateTime

DEPARTMENT_KINDS = ("teaching", "marketing", "admin", "other")
EMPLOYEE_STATUSES = ("active", "probation", "on_leave", "left")
EXTERNAL_SYSTEMS = ("device_pin", "wecom", "dingtalk", "feishu", "teaching_platform", "crm", "oa")
GROWTH_KINDS = ("need", "weakness")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Department(Base):
    __tablename__ = "departments"
    __table_args__ = (CheckConstraint(_in("kind", DEPARTMENT_KINDS), name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)

    parent: Mapped[Department | None] = relationship(remote_side=[id])


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    address: Mapped[str | None] = mapped_column(String(200))

    venues: Mapped[list[Venue]] = relationship(back_populates="site", order_by="Venue.id")


class Venue(Base):
    __tablename__ = "venues"
    __table_args__ = (
        UniqueConstraint("site_id", "name"),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude"),
        CheckConstraint("radius_m > 0", name="radius"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    latitude: Mapped[float] = mapped_column(Float)
    longitude: Mapped[float] = mapped_column(Float)
    radius_m: Mapped[float] = mapped_column(Float, default=50.0)

    site: Mapped[Site] = relationship(back_populates="venues")


class Employee(Base):
    __tablename__ = "employees"
    __table_args__ = (
        CheckConstraint(_in("status", EMPLOYEE_STATUSES), name="status"),
        CheckConstraint("hourly_cost IS NULL OR hourly_cost >= 0", name="hourly_cost"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    department_id: Mapped[int] = mapped_column(ForeignKey("departments.id", ondelete="RESTRICT"), index=True)
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"), index=True)
    position: Mapped[str | None] = mapped_column(String(64))
    hire_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active", index=True)
    hourly_cost: Mapped[Decimal | None] = mapped_column(Money)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"), index=True)
    email: Mapped[str | None] = mapped_column(String(120))
    phone: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    department: Mapped[Department] = relationship()
    site: Mapped[Site | None] = relationship()
    manager: Mapped[Employee | None] = relationship(remote_side=[id])
    tags: Mapped[list[EmployeeTag]] = relationship(
        cascade="all, delete-orphan", order_by="EmployeeTag.tag", lazy="selectin"
    )
    external_ids: Mapped[list[ExternalId]] = relationship(
        cascade="all, delete-orphan", order_by="ExternalId.system", lazy="selectin"
    )


class EmployeeTag(Base):
    __tablename__ = "employee_tags"

    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(48), primary_key=True, index=True)


class ExternalId(Base):
    """An employee's identity in another system: device PIN, WeCom userid, CRM id ..."""

    __tablename__ = "external_ids"
    __table_args__ = (
        UniqueConstraint("system", "external_id"),
        CheckConstraint(_in("system", EXTERNAL_SYSTEMS), name="system"),
    )

    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), primary_key=True)
    system: Mapped[str] = mapped_column(String(24), primary_key=True)
    external_id: Mapped[str] = mapped_column(String(64))


class GrowthNote(Base):
    """One entry of the growth profile: a need (进阶需求) or a weakness (教学短板), with its source."""

    __tablename__ = "growth_notes"
    __table_args__ = (
        CheckConstraint(_in("kind", GROWTH_KINDS), name="kind"),
        UniqueConstraint("employee_id", "kind", "tag", "source", "noted_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    tag: Mapped[str] = mapped_column(String(48), index=True)
    source: Mapped[str] = mapped_column(String(48))
    noted_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(String(500))


class WeeklySlot(Base):
    """A recurring class in a teacher's timetable, in the site's local time."""

    __tablename__ = "weekly_slots"
    __table_args__ = (
        UniqueConstraint("employee_id", "weekday", "start_time", "valid_from"),
        CheckConstraint("weekday BETWEEN 0 AND 6", name="weekday"),
        CheckConstraint("end_time > start_time", name="order"),
        Index("ix_weekly_slots_employee_weekday", "employee_id", "weekday"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"))
    weekday: Mapped[int] = mapped_column(Integer)  # 0 = Monday, as datetime.weekday()
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date | None] = mapped_column(Date)
    course: Mapped[str | None] = mapped_column(String(100))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))


class DatedClass(Base):
    """A one-off class (make-up lesson, intensive course day), stored in UTC."""

    __tablename__ = "dated_classes"
    __table_args__ = (
        UniqueConstraint("employee_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    course: Mapped[str | None] = mapped_column(String(100))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id", ondelete="SET NULL"))
