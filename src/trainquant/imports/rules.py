"""Pure import rules: which column is which, what a cell means, and the record a row becomes.

Cells arrive as openpyxl gives them (str, int, float, bool, datetime, date, time, timedelta) or as CSV
text; every parser accepts both. A row yields a record or every error it has, never just the first.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from functools import cached_property
from zoneinfo import ZoneInfo

from trainquant.org.rules import (
    DatedClassRecord,
    EmployeeRecord,
    Msg,
    RowError,
    WeeklySlotRecord,
)

KINDS = ("employees", "timetables")
EXT = "ext:"  # field names of external-id columns: "ext:wecom" ...

_EMPLOYEE_NO = ("工号", "员工编号", "员工号", "职工号", "employee_no", "employee number", "staff no")
_SITE = ("校区", "所属校区", "site", "site_code", "campus")

# The first alias of each field is the template's header.
COLUMNS: dict[str, dict[str, tuple[str, ...]]] = {
    "employees": {
        "employee_no": _EMPLOYEE_NO,
        "name": ("姓名", "员工姓名", "name"),
        "department": ("部门", "所属部门", "部门编码", "部门名称", "department", "department_code", "dept"),
        "position": ("岗位", "职位", "职务", "position", "job title"),
        "hire_date": ("入职日期", "入职时间", "hire_date", "hired on"),
        "status": ("状态", "在职状态", "员工状态", "status"),
        "hourly_cost": ("时薪", "小时成本", "hourly_cost"),
        "manager_no": ("上级工号", "直属上级工号", "主管工号", "manager_no", "manager"),
        "site": _SITE,
        "email": ("邮箱", "电子邮箱", "电子邮件", "email"),
        "phone": ("手机", "手机号", "手机号码", "电话", "联系电话", "phone", "mobile"),
        "tags": ("标签", "tags", "tag"),
        EXT + "device_pin": ("考勤机编号", "考勤号", "设备PIN", "考勤PIN", "device_pin", "pin"),
        EXT + "wecom": ("企业微信ID", "企业微信", "企业微信账号", "wecom", "wecom_id"),
        EXT + "dingtalk": ("钉钉ID", "钉钉", "钉钉账号", "dingtalk", "dingtalk_id"),
        EXT + "feishu": ("飞书ID", "飞书", "feishu", "feishu_id", "lark"),
        EXT + "teaching_platform": ("教学平台ID", "教学平台账号", "teaching_platform", "teaching_platform_id"),
        EXT + "crm": ("CRM编号", "CRM ID", "crm"),
        EXT + "oa": ("OA编号", "OA ID", "oa"),
    },
    "timetables": {
        "employee_no": _EMPLOYEE_NO,
        "weekday": ("星期", "星期几", "周几", "weekday", "day of week"),
        "start_time": ("开始时间", "上课时间", "start_time", "start"),
        "end_time": ("结束时间", "下课时间", "end_time", "end"),
        "course": ("课程", "课程名称", "course"),
        "site": _SITE,
        "valid_from": ("生效日期", "起始日期", "valid_from"),
        "valid_to": ("失效日期", "截止日期", "valid_to"),
        "date": ("日期", "上课日期", "date"),
    },
}
REQUIRED = {"employees": ("employee_no",), "timetables": ("employee_no", "start_time", "end_time")}

STATUSES = {
    "在职": "active", "正式": "active", "active": "active",
    "试用": "probation", "试用期": "probation", "probation": "probation",
    "休假": "on_leave", "请假": "on_leave", "停薪留职": "on_leave", "on_leave": "on_leave", "on leave": "on_leave",
    "离职": "left", "已离职": "left", "left": "left",
}
_DAY_NAMES = (("一", "mon", "monday"), ("二", "tue", "tuesday", "tues"), ("三", "wed", "wednesday"),
              ("四", "thu", "thursday", "thur", "thurs"), ("五", "fri", "friday"), ("六", "sat", "saturday"),
              ("日", "sun", "sunday", "天"))
WEEKDAYS: dict[str, int] = {str(i + 1): i for i in range(7)}
for _i, _names in enumerate(_DAY_NAMES):
    for _n in _names:
        WEEKDAYS[_n] = _i
        if len(_n) == 1:
            WEEKDAYS.update({"周" + _n: _i, "星期" + _n: _i, "礼拜" + _n: _i})

EXCEL_ERRORS = frozenset({"#DIV/0!", "#N/A", "#NAME?", "#NULL!", "#NUM!", "#REF!", "#VALUE!", "#SPILL!", "#CALC!", "#GETTING_DATA"})
CODE_RE = re.compile(r"^[A-Za-z0-9_.\-]+$")  # as the API's Code
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+$")
PHONE_RE = re.compile(r"^[0-9+\- ()]+$")
TAG_SPLIT = re.compile(r"[,，;；、|]")
_DATE_RE = re.compile(r"^(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:[ T]00:00(?::00(?:\.0+)?)?)?$")
_DATE_CN = re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$")
_DATE_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TIME_RE = re.compile(r"^(上午|下午|晚上)?(\d{1,2})[:：](\d{2})(?:[:：](\d{2}))?\s*([ap]\.?m\.?)?$", re.IGNORECASE)
_MONEY_JUNK = re.compile(r"[¥\s]|元$")
_THOUSANDS = re.compile(r"^\d{1,3}(,\d{3})+(\.\d+)?$")
EXCEL_EPOCH = date(1899, 12, 30)
MIN_YEAR, MAX_YEAR = 1950, 2100  # a hire date or class outside these is a typo
MAX_TAGS = 50
LENGTHS = {"employee_no": 32, "manager_no": 32, "name": 64, "position": 64, "department": 100, "site": 100,
           "email": 120, "phone": 32, "tag": 48, "external_id": 64, "course": 100}


class CellError(ValueError):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code, self.message = code, message


# ---------------------------------------------------------------- headers


def normalise_header(text: object) -> str:
    """Case, width, spaces, '_', '-', '*' and a trailing '(unit)' do not matter: 时薪（元）* == 时薪."""
    s = unicodedata.normalize("NFKC", "" if text is None else str(text)).casefold()
    s = re.sub(r"\([^()]*\)$", "", re.sub(r"[\s_\-*:]", "", s))
    return s


_ALIASES = {
    kind: {normalise_header(alias): field for field, aliases in cols.items() for alias in aliases}
    for kind, cols in COLUMNS.items()
}


def template_headers(kind: str, *, english: bool = False) -> list[str]:
    """The template's headers (each field's first alias), or its English ones (its first ASCII alias):
    a file may use either."""
    if english:
        return [next(a for a in aliases if a.isascii()) for aliases in COLUMNS[kind].values()]
    return [aliases[0] for aliases in COLUMNS[kind].values()]


@dataclass(frozen=True)
class ColumnMap:
    kind: str
    fields: tuple[str | None, ...]  # per column; None for a column with a blank header
    headers: tuple[str, ...]  # as written in the file

    @property
    def present(self) -> frozenset[str]:
        return frozenset(f for f in self.fields if f)

    @cached_property
    def record_present(self) -> frozenset[str]:
        """The EmployeeRecord fields the file gives (its external-id columns as one "external_ids")."""
        fields = {f for f in self.fields if f and not f.startswith(EXT)} - {"employee_no"}
        return frozenset(fields | ({"external_ids"} if self.external else set()))

    @cached_property
    def plan(self) -> tuple[tuple[int, str | None, Callable[[object], object] | None, str], ...]:
        """Per column: its index, field, parser and header, worked out once per file rather than per cell."""
        return tuple((i, f, PARSERS[f] if f else None, h) for i, (f, h) in enumerate(zip(self.fields, self.headers, strict=True)))

    @cached_property
    def external(self) -> tuple[str, ...]:
        return tuple(sorted(f for f in self.fields if f and f.startswith(EXT)))

    def header_of(self, field: str | None) -> str | None:
        if field is None:
            return None
        for f, h in zip(self.fields, self.headers, strict=True):
            if f == field:
                return h
        return field


def map_columns(kind: str, header: Sequence[object], *, row: int = 1) -> tuple[ColumnMap, list[RowError]]:
    aliases, errors = _ALIASES[kind], []
    fields: list[str | None] = []
    headers: list[str] = []
    seen: dict[str, str] = {}
    for cell in header:
        text = cell_text(cell) or ""
        headers.append(text)
        if not text:
            fields.append(None)
            continue
        field = aliases.get(normalise_header(text))
        if field is None:
            errors.append(RowError(row, text, "unknown-column", Msg.of("unknown column %(column)s", column=repr(text))))
        elif field in seen:
            errors.append(RowError(row, text, "duplicate-column", Msg.of("column %(column)s repeats %(first)s", column=repr(text), first=repr(seen[field]))))
            field = None
        else:
            seen[field] = text
        fields.append(field)
    missing = [f for f in REQUIRED[kind] if f not in seen]
    if kind == "timetables":
        if "weekday" not in seen and "date" not in seen:
            missing.append("weekday")
        if "weekday" in seen and "valid_from" not in seen:
            missing.append("valid_from")
    if missing:
        names = ", ".join(f"{COLUMNS[kind][f][0]} ({f})" for f in missing)
        errors.append(RowError(row, None, "missing-column", Msg.of("missing required column(s): %(names)s", names=names)))
    return ColumnMap(kind, tuple(fields), tuple(headers)), errors


# ---------------------------------------------------------------- cells


def cell_text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


DATETIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y.%m.%d %H:%M")
CLOCK_FORMATS = ("%H:%M:%S", "%H:%M")


def local_datetime(value: object, zone: ZoneInfo, day: date | None = None, *, formats: Sequence[str] = DATETIME_FORMATS) -> datetime | None:
    """A cell as an aware UTC time, or None: a datetime, ISO text or text in one of ``formats``, or a
    clock time (cell or text) on ``day``. A time without an offset is local to ``zone``."""
    local: datetime | None = None
    if isinstance(value, datetime):
        local = value
    elif isinstance(value, time) and day is not None:
        local = datetime.combine(day, value)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            local = datetime.fromisoformat(text)
        except ValueError:
            for fmt in formats:
                try:
                    local = datetime.strptime(text, fmt)
                    break
                except ValueError:
                    continue
            else:
                for fmt in CLOCK_FORMATS:
                    try:
                        clock = datetime.strptime(text, fmt).time()
                    except ValueError:
                        continue
                    local = datetime.combine(day, clock) if day is not None else None
                    break
    if local is None:
        return None
    if local.tzinfo is None:
        local = local.replace(tzinfo=zone)
    try:
        return local.astimezone(UTC)
    except OverflowError:  # 0001-01-01 00:00 east of UTC, or 9999-12-31 west of it: no time a check-in has
        return None


def parse_text(value: object, max_len: int, *, required: bool = False) -> str | None:
    text = cell_text(value)
    if text is None:
        if required:
            raise CellError("required", Msg.of("a value is required"))
        return None
    if len(text) > max_len:
        raise CellError("too-long", Msg.of("%(n)s characters, at most %(max)s allowed", n=len(text), max=max_len))
    return text


def parse_code(value: object, *, required: bool = False) -> str | None:
    if isinstance(value, float) and not value.is_integer():
        raise CellError("invalid-code", Msg.of("%(value)s is not a valid number (letters, digits, '_', '.', '-')", value=repr(value)))
    text = parse_text(value, 32, required=required)
    if text is not None and not CODE_RE.match(text):
        raise CellError("invalid-code", Msg.of("%(value)s may contain only letters, digits, '_', '.' and '-'", value=repr(text)))
    return text


def _checked_date(y: int, m: int, d: int, raw: object) -> date:
    if not MIN_YEAR <= y <= MAX_YEAR:
        raise CellError("invalid-date", Msg.of("%(value)s: year %(year)s is out of range %(low)s-%(high)s", value=repr(raw), year=y, low=MIN_YEAR, high=MAX_YEAR))
    try:
        return date(y, m, d)
    except ValueError:
        raise CellError("invalid-date", Msg.of("%(value)s is not a real date", value=repr(raw))) from None


def parse_date(value: object) -> date | None:
    """datetime/date cells, Excel serial numbers, 2023-09-01, 2023/9/1, 2023.9.1, 2023年9月1日, 20230901."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return _checked_date(value.year, value.month, value.day, value)
    if isinstance(value, date):
        return _checked_date(value.year, value.month, value.day, value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if isinstance(value, int) and 19000101 <= value <= 21001231:
            return _checked_date(value // 10000, value // 100 % 100, value % 100, value)
        if not 0 < value < 2958466:  # Excel's own range of serial numbers
            raise CellError("invalid-date", Msg.of("%(value)s is not a date", value=repr(value)))
        day = EXCEL_EPOCH + timedelta(days=int(value))
        return _checked_date(day.year, day.month, day.day, value)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    for pattern, groups in ((_DATE_RE, (1, 3, 4)), (_DATE_CN, (1, 2, 3)), (_DATE_COMPACT, (1, 2, 3))):
        m = pattern.match(text)
        if m:
            y, mo, d = (int(m[g]) for g in groups)
            return _checked_date(y, mo, d, text)
    raise CellError("invalid-date", Msg.of("%(value)s is not a date; write it as 2026-09-01", value=repr(text)))


def parse_time(value: object) -> time | None:
    """time cells, Excel day fractions, 09:00, 9:00, 18:30:00, 下午2:30, 2:30 PM."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.time().replace(microsecond=0)
    if isinstance(value, time):
        return value.replace(microsecond=0, tzinfo=None)
    if isinstance(value, timedelta):
        value = value.total_seconds() / 86400
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if not 0 <= value < 1:  # also refuses NaN
            raise CellError("invalid-time", Msg.of("%(value)s is not a time of day; write it as 09:00", value=repr(value)))
        seconds = round(value * 86400)
        if seconds >= 86400:
            raise CellError("invalid-time", Msg.of("%(value)s is not a time of day; write it as 09:00", value=repr(value)))
        return time(seconds // 3600, seconds // 60 % 60, seconds % 60)
    text = unicodedata.normalize("NFKC", str(value)).strip()
    if not text:
        return None
    m = _TIME_RE.match(text)
    if not m:
        raise CellError("invalid-time", Msg.of("%(value)s is not a time; write it as 09:00 or 18:30", value=repr(text)))
    hour, minute, second = int(m[2]), int(m[3]), int(m[4] or 0)
    half = (m[5] or "").replace(".", "").lower() or {"上午": "am", "下午": "pm", "晚上": "pm"}.get(m[1] or "", "")
    if half and not 1 <= hour <= 12:
        raise CellError("invalid-time", Msg.of("%(value)s: hour %(hour)s does not fit AM/PM", value=repr(text), hour=hour))
    if half == "pm" and hour < 12:
        hour += 12
    elif half == "am" and hour == 12:
        hour = 0
    if hour > 23 or minute > 59 or second > 59:
        raise CellError("invalid-time", Msg.of("%(value)s is not a time of day", value=repr(text)))
    return time(hour, minute, second)


def parse_money(value: object) -> Decimal | None:
    """Non-negative, at most 2 decimals, at most 100000 (as the API); '¥1,200.50元' is fine."""
    if value is None or value == "":
        return None
    if isinstance(value, (bool, datetime, date, time, timedelta)):
        raise CellError("invalid-money", Msg.of("%(value)s is not an amount", value=repr(value)))
    text = _MONEY_JUNK.sub("", unicodedata.normalize("NFKC", str(value)))  # str(float) is its shortest repr
    if _THOUSANDS.match(text):
        text = text.replace(",", "")
    if not text:
        return None
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise CellError("invalid-money", Msg.of("%(value)s is not an amount", value=repr(value))) from None
    if not amount.is_finite():
        raise CellError("invalid-money", Msg.of("%(value)s is not an amount", value=repr(value)))
    if amount < 0:
        raise CellError("invalid-money", Msg.of("%(value)s is negative", value=text))
    if amount > 100000:
        raise CellError("invalid-money", Msg.of("%(value)s is more than 100000", value=text))
    if amount != amount.quantize(Decimal("0.01")):
        raise CellError("invalid-money", Msg.of("%(value)s has more than 2 decimal places", value=text))
    return amount.quantize(Decimal("0.01"))


def parse_status(value: object) -> str | None:
    text = cell_text(value)
    if text is None:
        return None
    status = STATUSES.get(unicodedata.normalize("NFKC", text).casefold())
    if status is None:
        raise CellError("invalid-status", Msg.of("unknown status %(value)s; use 在职, 试用, 休假 or 离职", value=repr(text)))
    return status


def parse_weekday(value: object) -> int | None:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = cell_text(value)
    if text is None:
        return None
    day = WEEKDAYS.get(unicodedata.normalize("NFKC", text).casefold().rstrip("."))
    if day is None:
        raise CellError("invalid-weekday", Msg.of("%(value)s is not a weekday; use 1-7 (1 = Monday) or 周一..周日", value=repr(text)))
    return day


def parse_tags(value: object) -> tuple[str, ...]:
    text = cell_text(value)
    if text is None:
        return ()
    tags = list(dict.fromkeys(t.strip() for t in TAG_SPLIT.split(text) if t.strip()))
    for tag in tags:
        if len(tag) > LENGTHS["tag"]:
            raise CellError("too-long", Msg.of("tag %(tag)s... is longer than %(max)s characters", tag=repr(tag[:20]), max=LENGTHS["tag"]))
        if re.search(r"\s", tag):
            raise CellError("invalid-tag", Msg.of("tag %(tag)s contains a space; separate tags with , ; 、 or |", tag=repr(tag)))
    if len(tags) > MAX_TAGS:
        raise CellError("too-many-tags", Msg.of("%(n)s tags, at most %(max)s allowed", n=len(tags), max=MAX_TAGS))
    return tuple(tags)


def _pattern(regex: re.Pattern[str], max_len: int, what: str) -> Callable[[object], str | None]:
    def parse(value: object) -> str | None:
        text = parse_text(value, max_len)
        if text is not None and not regex.match(text):
            raise CellError(f"invalid-{what}", Msg.of("%(value)s is not a valid " + what, value=repr(text)))
        return text

    return parse


def _text_of(max_len: int, *, required: bool = False) -> Callable[[object], str | None]:
    return lambda value: parse_text(value, max_len, required=required)


PARSERS: dict[str, Callable[[object], object]] = {
    "employee_no": lambda v: parse_code(v, required=True),
    "name": _text_of(LENGTHS["name"], required=True),
    "department": _text_of(LENGTHS["department"]),
    "position": _text_of(LENGTHS["position"]),
    "hire_date": parse_date,
    "status": parse_status,
    "hourly_cost": parse_money,
    "manager_no": parse_code,
    "site": _text_of(LENGTHS["site"]),
    "email": _pattern(EMAIL_RE, LENGTHS["email"], "email"),
    "phone": _pattern(PHONE_RE, LENGTHS["phone"], "phone"),
    "tags": parse_tags,
    "weekday": parse_weekday,
    "start_time": parse_time,
    "end_time": parse_time,
    "course": _text_of(LENGTHS["course"]),
    "valid_from": parse_date,
    "valid_to": parse_date,
    "date": parse_date,
}
for _system in ("device_pin", "wecom", "dingtalk", "feishu", "teaching_platform", "crm", "oa"):
    PARSERS[EXT + _system] = _text_of(LENGTHS["external_id"])


# ---------------------------------------------------------------- rows


def _parse_cells(columns: ColumnMap, cells: Sequence[object], row: int) -> tuple[dict[str, object], list[RowError]]:
    values: dict[str, object] = {}
    errors: list[RowError] = []
    width = len(cells)
    for i, field, parse, header in columns.plan:
        value = cells[i] if i < width else None
        if field is None or parse is None:  # a blank header: no field, so no parser
            if cell_text(value) is not None:
                errors.append(RowError(row, None, "value-without-header", Msg.of("column %(n)s has a value but no header", n=i + 1)))
            continue
        if type(value) is str and "#" in value and value.strip() in EXCEL_ERRORS:
            errors.append(RowError(row, header, "formula-error", Msg.of("the cell shows the Excel error %(error)s", error=value.strip())))
            continue
        try:
            values[field] = parse(value)
        except CellError as exc:
            errors.append(RowError(row, header, exc.code, exc.message))
    for i in range(len(columns.fields), width):
        if cell_text(cells[i]) is not None:
            errors.append(RowError(row, None, "value-without-header", Msg.of("column %(n)s has a value but no header", n=i + 1)))
    return values, errors


_RECORD_FIELDS = frozenset(PARSERS) & frozenset(EmployeeRecord.__dataclass_fields__)


def employee_record(columns: ColumnMap, cells: Sequence[object], row: int) -> EmployeeRecord | list[RowError]:
    values, errors = _parse_cells(columns, cells, row)
    if errors or not values.get("employee_no"):
        return errors
    present = columns.record_present
    if values.get("status") is None and "status" in present:
        present = present - {"status"}  # a blank status keeps the current one (new employees start active)
    external = tuple((f[len(EXT) :], values[f] or "") for f in columns.external)
    simple = {k: v for k, v in values.items() if k in _RECORD_FIELDS}
    simple["status"] = simple.get("status") or "active"
    simple["tags"] = simple.get("tags") or ()
    return EmployeeRecord(row=row, external_ids=external, present=present, **simple)  # type: ignore[arg-type]


def timetable_record(columns: ColumnMap, cells: Sequence[object], row: int) -> WeeklySlotRecord | DatedClassRecord | list[RowError]:
    values, errors = _parse_cells(columns, cells, row)
    header = columns.header_of
    for field in ("start_time", "end_time"):
        if field in values and values[field] is None:
            errors.append(RowError(row, header(field), "required", Msg.of("a time is required")))
    start, end = values.get("start_time"), values.get("end_time")
    if start is not None and end is not None and end <= start:  # type: ignore[operator]
        errors.append(RowError(row, header("end_time"), "time-order", Msg.of("ends at %(end)s but starts at %(start)s", end=str(end), start=str(start))))
    weekday, day = values.get("weekday"), values.get("date")
    bad = {e.column for e in errors}
    if weekday is not None and day is not None:
        errors.append(RowError(row, header("date"), "weekday-and-date", Msg.of("give either a weekday (weekly class) or a date (one-off class), not both")))
    elif weekday is None and day is None and header("weekday") not in bad and header("date") not in bad:
        errors.append(RowError(row, header("weekday"), "required", Msg.of("give a weekday (weekly class) or a date (one-off class)")))
    elif weekday is not None:
        valid_from, valid_to = values.get("valid_from"), values.get("valid_to")
        if valid_from is None and header("valid_from") not in bad:
            errors.append(RowError(row, header("valid_from"), "required", Msg.of("a weekly class needs the date it starts to apply")))
        if valid_from is not None and valid_to is not None and valid_to < valid_from:  # type: ignore[operator]
            errors.append(RowError(row, header("valid_to"), "date-order", Msg.of("ends on %(end)s before it starts on %(start)s", end=str(valid_to), start=str(valid_from))))
    if errors:
        return errors
    common = {"course": values.get("course"), "site": values.get("site"), "row": row}
    if weekday is not None:
        return WeeklySlotRecord(values["employee_no"], weekday, start, end, values["valid_from"], values.get("valid_to"), **common)  # type: ignore[arg-type]
    return DatedClassRecord(values["employee_no"], day, start, end, **common)  # type: ignore[arg-type]


def raw_values(columns: ColumnMap, cells: Sequence[object]) -> dict[str, str | None]:
    """The row as received, keyed by header, for the rejection report."""
    out: dict[str, str | None] = {}
    for i, value in enumerate(cells):
        key = columns.headers[i] if i < len(columns.headers) and columns.headers[i] else f"#{i + 1}"
        text = cell_text(value)
        if text is not None or i < len(columns.headers):
            out[key] = text
    return out
