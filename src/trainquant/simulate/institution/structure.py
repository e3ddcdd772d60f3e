"""The fixed shape of the case school: departments, campuses with their venues, and the staffing plan
(who works where, in which positions, at what hourly cost)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time
from decimal import Decimal


@dataclass(frozen=True)
class DepartmentSpec:
    code: str
    name: str
    name_en: str
    kind: str
    parent_code: str | None = None


@dataclass(frozen=True)
class VenueSpec:
    name: str
    latitude: float
    longitude: float
    radius_m: float
    use: str  # classroom | training_room | meeting_room


@dataclass(frozen=True)
class SiteSpec:
    code: str
    name: str
    timezone: str
    address: str
    venues: tuple[VenueSpec, ...]


ROOT = "HQ"
TEACHING, MARKETING, ADMIN = "TEACH", "MKT", "ADM"

DEPARTMENTS: tuple[DepartmentSpec, ...] = (
    DepartmentSpec(ROOT, "总部", "Headquarters", "other"),
    DepartmentSpec(TEACHING, "教学部", "Teaching", "teaching", ROOT),
    DepartmentSpec("TEACH-IELTS", "雅思组", "IELTS team", "teaching", TEACHING),
    DepartmentSpec("TEACH-TOEFL", "托福组", "TOEFL team", "teaching", TEACHING),
    DepartmentSpec("TEACH-KIDS", "少儿英语组", "Kids English team", "teaching", TEACHING),
    DepartmentSpec("TEACH-NATIVE", "外教组", "Foreign teachers team", "teaching", TEACHING),
    DepartmentSpec(MARKETING, "市场部", "Marketing", "marketing", ROOT),
    DepartmentSpec("MKT-CC", "课程顾问组", "Course consultants", "marketing", MARKETING),
    DepartmentSpec("MKT-CH", "渠道推广组", "Channel promotion", "marketing", MARKETING),
    DepartmentSpec(ADMIN, "行政部", "Administration", "admin", ROOT),
    DepartmentSpec("ADM-FD", "前台接待", "Front desk", "admin", ADMIN),
    DepartmentSpec("ADM-ACA", "教务", "Academic affairs", "admin", ADMIN),
    DepartmentSpec("ADM-FH", "财务人事", "Finance and HR", "admin", ADMIN),
)


def _venues(lat: float, lon: float, rooms: tuple[tuple[str, str, float, float, float], ...]) -> tuple[VenueSpec, ...]:
    # Offsets in metres north/east of the building's reference point; 1e-5 degrees is about 1.1 m.
    return tuple(
        VenueSpec(name, round(lat + north / 111_000, 6), round(lon + east / 95_000, 6), radius, use)
        for name, use, north, east, radius in rooms
    )


SITES: tuple[SiteSpec, ...] = (
    SiteSpec(
        "BJ-HD", "北京海淀校区", "Asia/Shanghai", "北京市海淀区中关村大街27号",
        _venues(39.983412, 116.316245, (
            ("101教室", "classroom", 0, 0, 30), ("102教室", "classroom", 8, 12, 30),
            ("201教室", "classroom", 2, -10, 35), ("培训室A", "training_room", -15, 20, 50),
            ("培训室B", "training_room", -18, 34, 50), ("大会议室", "meeting_room", 25, 5, 80),
        )),
    ),
    SiteSpec(
        "BJ-CY", "北京朝阳校区", "Asia/Shanghai", "北京市朝阳区建国门外大街1号",
        _venues(39.908723, 116.460515, (
            ("A01教室", "classroom", 0, 0, 30), ("A02教室", "classroom", 10, 6, 30),
            ("培训室", "training_room", -12, 15, 60), ("会议室", "meeting_room", 20, -8, 45),
        )),
    ),
    SiteSpec(
        "SH-XH", "上海徐汇校区", "Asia/Shanghai", "上海市徐汇区漕溪北路18号",
        _venues(31.195118, 121.437406, (
            ("301教室", "classroom", 0, 0, 30), ("培训室", "training_room", 14, 10, 55),
            ("会议室", "meeting_room", -10, 18, 40),
        )),
    ),
)
SITE_SHARES = {"BJ-HD": 0.45, "BJ-CY": 0.30, "SH-XH": 0.25}


@dataclass(frozen=True)
class GroupPlan:
    """One department's staff: a head first, then members drawn from ``positions``."""

    department: str
    kind: str
    prefix: str
    headcount: int
    head_position: str
    positions: tuple[tuple[str, float], ...] = ()
    line: str | None = None  # the teaching line that shapes a timetable: ielts | toefl | kids | native
    female_share: float = 0.5


PLANS: tuple[GroupPlan, ...] = (
    GroupPlan(TEACHING, "teaching", "T", 1, "教学总监", line="ielts", female_share=0.6),
    GroupPlan("TEACH-IELTS", "teaching", "T", 54, "教研组长", line="ielts", female_share=0.7),
    GroupPlan("TEACH-TOEFL", "teaching", "T", 35, "教研组长", line="toefl", female_share=0.6),
    GroupPlan("TEACH-KIDS", "teaching", "T", 70, "教研组长", line="kids", female_share=0.85),
    GroupPlan("TEACH-NATIVE", "teaching", "T", 20, "外教主管", line="native", female_share=0.5),
    GroupPlan(MARKETING, "marketing", "M", 1, "市场总监"),
    GroupPlan("MKT-CC", "marketing", "M", 39, "课程顾问组长",
              (("课程顾问", 0.7), ("高级课程顾问", 0.3)), female_share=0.65),
    GroupPlan("MKT-CH", "marketing", "M", 20, "渠道主管", (("市场专员", 0.6), ("渠道专员", 0.4)), female_share=0.45),
    GroupPlan(ADMIN, "admin", "A", 1, "行政主管", female_share=0.7),
    GroupPlan("ADM-FD", "admin", "A", 18, "前台主管", (("前台", 1.0),), female_share=0.85),
    GroupPlan("ADM-ACA", "admin", "A", 25, "教务主管", (("教务专员", 0.7), ("排课专员", 0.3)), female_share=0.75),
    GroupPlan("ADM-FH", "admin", "A", 16, "财务人事主管",
              (("会计", 0.3), ("出纳", 0.3), ("人事专员", 0.4)), female_share=0.75),
)
FOREIGN_TEACHERS = 13  # of the 外教组's 20 (its head included); the rest are Chinese teachers of spoken English

# Hourly cost ranges in CNY (fully loaded salary cost per working hour), by position.
HOURLY_COST: dict[str, tuple[int, int]] = {
    "初级教师": (60, 80), "中级教师": (80, 110), "高级教师": (110, 150), "教研组长": (130, 165),
    "外教": (140, 175), "外教主管": (165, 180), "教学总监": (170, 180),
    "课程顾问": (50, 65), "高级课程顾问": (62, 78), "市场专员": (45, 60), "渠道专员": (45, 58),
    "课程顾问组长": (72, 85), "渠道主管": (70, 84), "市场总监": (85, 90),
    "前台": (35, 42), "前台主管": (45, 55), "教务专员": (42, 55), "排课专员": (42, 52), "教务主管": (55, 65),
    "会计": (50, 62), "出纳": (42, 52), "人事专员": (45, 58), "财务人事主管": (60, 68), "行政主管": (62, 70),
}


def hourly_cost(position: str, u: float) -> Decimal:
    """A cost inside the position's range, to the half yuan (``u`` in [0, 1) places it)."""
    low, high = HOURLY_COST[position]
    halves = round((low + (high - low) * u) * 2)
    return (Decimal(halves) / 2).quantize(Decimal("0.01"))


# Weekly periods when a department is busiest: what a training scheduler must avoid (ground truth).
@dataclass(frozen=True)
class PeakPeriod:
    department: str
    weekdays: tuple[int, ...]
    start: time
    end: time
    label: str


PEAKS: tuple[PeakPeriod, ...] = (
    PeakPeriod(TEACHING, (0, 1, 2, 3, 4), time(18, 0), time(21, 0), "工作日晚间授课高峰"),
    PeakPeriod(TEACHING, (5, 6), time(8, 30), time(20, 30), "周末授课高峰"),
    PeakPeriod("TEACH-KIDS", (0, 1, 2, 3, 4), time(16, 30), time(20, 30), "少儿课后班"),
    PeakPeriod(MARKETING, (5, 6), time(9, 30), time(18, 0), "周末到访咨询与试听高峰"),
    PeakPeriod("MKT-CH", (5, 6), time(10, 0), time(17, 0), "周末商场与校园地推"),
    PeakPeriod("ADM-FD", (5, 6), time(8, 0), time(20, 30), "周末接待高峰"),
    PeakPeriod("ADM-ACA", (0,), time(9, 0), time(12, 0), "周一排课调课"),
)
