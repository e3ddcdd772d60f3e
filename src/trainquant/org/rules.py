"""Pure HR-core rules: the shape of an employee record and the expansion of timetables."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

EMPLOYEE_FIELDS = (
    "name",
    "department",
    "site",
    "position",
    "hire_date",
    "status",
    "hourly_cost",
    "manager_no",
    "email",
    "phone",
    "tags",
    "external_ids",
)


@dataclass(frozen=True)
class EmployeeRecord:
    """One employee as a source (API, import file, simulator) states it.

    ``present`` names the fields the source actually gave: an import file without a 岗位 column
    must not blank every position, so an update touches only what is present.
    """

    employee_no: str
    row: int = 0
    name: str | None = None
    department: str | None = None  # department code, or its name
    site: str | None = None  # site code, or its name
    position: str | None = None
    hire_date: date | None = None
    status: str = "active"
    hourly_cost: Decimal | None = None
    manager_no: str | None = None
    email: str | None = None
    phone: str | None = None
    tags: tuple[str, ...] = ()
    external_ids: tuple[tuple[str, str], ...] = ()  # (system, id); an empty id removes that system
    present: frozenset[str] = frozenset(EMPLOYEE_FIELDS)


@dataclass(frozen=True)
class WeeklySlotRecord:
    employee_no: str
    weekday: int
    start_time: time
    end_time: time
    valid_from: date
    valid_to: date | None = None
    course: str | None = None
    site: str | None = None
    row: int = 0


@dataclass(frozen=True)
class DatedClassRecord:
    employee_no: str
    day: date
    start_time: time
    end_time: time
    course: str | None = None
    site: str | None = None
    row: int = 0


class Msg(str):
    """A message in English that keeps its template and parameters, so that a page can say it in its
    own language (the template is the catalogue's msgid); everywhere else it is the plain English text."""

    template: str
    params: dict

    @classmethod
    def of(cls, template: str, **params: object) -> Msg:
        message = cls(template % params if params else template)
        message.template, message.params = template, params
        return message


@dataclass(frozen=True)
class RowError:
    """What is wrong, and where: 1-based data row as the user sees it in the file, and the column."""

    row: int
    column: str | None
    code: str
    message: str


@dataclass(frozen=True)
class Slot:
    weekday: int
    start_time: time
    end_time: time
    valid_from: date
    valid_to: date | None = None
    course: str | None = None


@dataclass(frozen=True)
class Occurrence:
    """A class actually taking place, in UTC, with the local times for display."""

    starts_at: datetime
    ends_at: datetime
    local_day: date
    local_start: time
    local_end: time
    course: str | None = None
    recurring: bool = True
    extra: dict = field(default_factory=dict, compare=False, hash=False)


def expand_timetable(
    slots: Iterable[Slot],
    dated: Iterable[tuple[datetime, datetime, str | None]],
    *,
    start: date,
    end: date,
    tz: ZoneInfo,
) -> list[Occurrence]:
    """Every class between ``start`` and ``end`` (inclusive), weekly slots and dated classes together."""
    out: list[Occurrence] = []
    by_weekday: dict[int, list[Slot]] = {}
    for slot in slots:
        by_weekday.setdefault(slot.weekday, []).append(slot)
    day = start
    while day <= end:
        for slot in by_weekday.get(day.weekday(), ()):
            if slot.valid_from > day or (slot.valid_to is not None and slot.valid_to < day):
                continue
            s = datetime.combine(day, slot.start_time, tz)
            e = datetime.combine(day, slot.end_time, tz)
            out.append(
                Occurrence(
                    starts_at=s.astimezone(ZoneInfo("UTC")),
                    ends_at=e.astimezone(ZoneInfo("UTC")),
                    local_day=day,
                    local_start=slot.start_time,
                    local_end=slot.end_time,
                    course=slot.course,
                )
            )
        day += timedelta(days=1)
    for starts_at, ends_at, course in dated:
        local_s, local_e = starts_at.astimezone(tz), ends_at.astimezone(tz)
        if start <= local_s.date() <= end:
            out.append(
                Occurrence(
                    starts_at=starts_at,
                    ends_at=ends_at,
                    local_day=local_s.date(),
                    local_start=local_s.time(),
                    local_end=local_e.time(),
                    course=course,
                    recurring=False,
                )
            )
    out.sort(key=lambda o: (o.starts_at, o.ends_at))
    return out


def weekly_hours(slots: Iterable[Slot], on: date) -> float:
    """Class hours a week of recurring slots in force on ``on``."""
    total = 0.0
    for s in slots:
        if s.valid_from <= on and (s.valid_to is None or s.valid_to >= on):
            delta = datetime.combine(on, s.end_time) - datetime.combine(on, s.start_time)
            total += delta.total_seconds() / 3600
    return total
