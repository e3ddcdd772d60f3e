"""Request and response bodies of the HR core API."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from trainquant.schemas import (
    JsonDate,
    JsonDateTime,
    JsonDecimal,
    JsonTime,
    StrictInput,
)

DepartmentKind = Literal["teaching", "marketing", "admin", "other"]
EmployeeStatus = Literal["active", "probation", "on_leave", "left"]
ExternalSystem = Literal["device_pin", "wecom", "dingtalk", "feishu", "teaching_platform", "crm", "oa"]
GrowthKind = Literal["need", "weakness"]

Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_.\-]+$")]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
LongName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
Tag = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=48, pattern=r"^[^,，;；、\s]+$")]
ExternalValue = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Cost = Annotated[JsonDecimal, Field(ge=0, le=100000, max_digits=10, decimal_places=2)]


class ReadModel(BaseModel):
    model_config = ConfigDict(from_attributes=True)


class DepartmentCreate(StrictInput):
    code: Code
    name: LongName
    name_en: LongName | None = None
    kind: DepartmentKind
    parent_code: Code | None = None


class DepartmentUpdate(StrictInput):
    name: LongName | None = None
    name_en: LongName | None = None
    kind: DepartmentKind | None = None
    parent_code: Code | None = None


class DepartmentRead(ReadModel):
    id: int
    code: str
    name: str
    name_en: str | None
    kind: str
    parent_id: int | None
    employee_count: int = 0


def _check_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Asia/Shanghai") from None
    return value


class VenueCreate(StrictInput):
    name: LongName
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    radius_m: float = Field(default=50, gt=0, le=5000)


class VenueUpdate(StrictInput):
    """A venue's name or geofence, moved or widened (check-ins judged before keep their verdicts)."""

    name: LongName | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    radius_m: float | None = Field(default=None, gt=0, le=5000)


class VenueRead(ReadModel):
    id: int
    site_id: int
    name: str
    latitude: float
    longitude: float
    radius_m: float


class SiteCreate(StrictInput):
    code: Code
    name: LongName
    timezone: str = "Asia/Shanghai"
    address: Annotated[str, StringConstraints(max_length=200)] | None = None
    venues: list[VenueCreate] = Field(default_factory=list, max_length=200)

    _zone = field_validator("timezone")(_check_zone)


class SiteRead(ReadModel):
    id: int
    code: str
    name: str
    timezone: str
    address: str | None
    venues: list[VenueRead] = []


class EmployeeBase(StrictInput):
    name: Name
    department_code: Code
    site_code: Code | None = None
    position: Annotated[str, StringConstraints(max_length=64)] | None = None
    hire_date: JsonDate | None = None
    status: EmployeeStatus = "active"
    hourly_cost: Cost | None = None
    manager_no: Code | None = None
    email: Annotated[str, StringConstraints(max_length=120, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    phone: Annotated[str, StringConstraints(max_length=32, pattern=r"^[0-9+\- ()]+$")] | None = None
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    external_ids: dict[ExternalSystem, ExternalValue] = Field(default_factory=dict)


class EmployeeCreate(EmployeeBase):
    employee_no: Code


class EmployeeUpdate(StrictInput):
    name: Name | None = None
    department_code: Code | None = None
    site_code: Code | None = None
    position: Annotated[str, StringConstraints(max_length=64)] | None = None
    hire_date: JsonDate | None = None
    status: EmployeeStatus | None = None
    hourly_cost: Cost | None = None
    manager_no: Code | None = None
    email: Annotated[str, StringConstraints(max_length=120, pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    phone: Annotated[str, StringConstraints(max_length=32, pattern=r"^[0-9+\- ()]+$")] | None = None
    tags: list[Tag] | None = Field(default=None, max_length=50)
    external_ids: dict[ExternalSystem, ExternalValue] | None = None


class EmployeeRead(BaseModel):
    id: int
    employee_no: str
    name: str
    department_code: str
    department_name: str
    department_kind: str
    site_code: str | None
    position: str | None
    hire_date: date | None
    status: str
    hourly_cost: Decimal | None
    manager_no: str | None
    email: str | None
    phone: str | None
    tags: list[str]
    external_ids: dict[str, str]


class GrowthNoteCreate(StrictInput):
    kind: GrowthKind
    tag: Tag
    source: Annotated[str, StringConstraints(min_length=1, max_length=48)] = "manager"
    noted_on: JsonDate
    note: Annotated[str, StringConstraints(max_length=500)] | None = None


class GrowthNoteRead(ReadModel):
    id: int
    kind: str
    tag: str
    source: str
    noted_on: JsonDate
    note: str | None


class WeeklySlotCreate(StrictInput):
    weekday: int = Field(ge=0, le=6, description="0 = Monday")
    start_time: JsonTime
    end_time: JsonTime
    valid_from: JsonDate
    valid_to: JsonDate | None = None
    course: Annotated[str, StringConstraints(max_length=100)] | None = None
    site_code: Code | None = None

    @model_validator(mode="after")
    def _ordered(self) -> WeeklySlotCreate:
        if self.end_time <= self.start_time:
            raise ValueError("end_time must be after start_time")
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("valid_to must not be before valid_from")
        return self


class WeeklySlotRead(ReadModel):
    id: int
    weekday: int
    start_time: JsonTime
    end_time: JsonTime
    valid_from: date
    valid_to: date | None
    course: str | None


class DatedClassCreate(StrictInput):
    starts_at: JsonDateTime
    ends_at: JsonDateTime
    course: Annotated[str, StringConstraints(max_length=100)] | None = None
    site_code: Code | None = None

    @model_validator(mode="after")
    def _ordered(self) -> DatedClassCreate:
        if self.starts_at.tzinfo is None or self.ends_at.tzinfo is None:
            raise ValueError("starts_at and ends_at need a UTC offset, e.g. 2026-09-01T18:30:00+08:00")
        if self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        return self


class DatedClassRead(ReadModel):
    id: int
    starts_at: datetime
    ends_at: datetime
    course: str | None


class OccurrenceRead(BaseModel):
    starts_at: datetime
    ends_at: datetime
    local_day: date
    local_start: JsonTime
    local_end: JsonTime
    course: str | None
    recurring: bool


class TimetableRead(BaseModel):
    employee_no: str
    timezone: str
    week_start: date
    weekly_hours: float
    slots: list[WeeklySlotRead]
    occurrences: list[OccurrenceRead]
