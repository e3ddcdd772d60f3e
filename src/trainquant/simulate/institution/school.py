"""The case school of the source document (300 staff: 180 teachers, 60 marketing, 60 admin on three
campuses), generated from a seed with its ground truth. Pure: no database, no clock.

Each employee's timetable and growth notes come from their own random stream (seeded by the school's
seed and their employee number), so changing one part of the generator leaves the others' data alone.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, replace
from datetime import date, timedelta

from trainquant.org.rules import DatedClassRecord, EmployeeRecord, WeeklySlotRecord
from trainquant.simulate.institution import names
from trainquant.simulate.institution.growth import (
    WEAKNESSES_BY_KIND,
    WEAKNESSES_BY_LINE,
    GrowthNoteSpec,
    latent_weaknesses,
    notes_for,
)
from trainquant.simulate.institution.structure import (
    DEPARTMENTS,
    FOREIGN_TEACHERS,
    PEAKS,
    PLANS,
    SITE_SHARES,
    SITES,
    DepartmentSpec,
    GroupPlan,
    SiteSpec,
    hourly_cost,
)
from trainquant.simulate.institution.timetable import course_for, make_up_lessons, weekly_blocks
from trainquant.simulate.institution.truth import EmployeeTruth, SchoolTruth

DEFAULT_TODAY = date(2026, 9, 1)
NEW_TEACHER_SHARE = 0.15
NEW_TEACHER_DAYS = 182
PROBATION_DAYS = 90
EMAIL_DOMAIN = "hengyu-edu.example"
# Terms of a Chinese language school: winter holiday, spring, summer holiday, autumn.
TERM_STARTS = ((1, 15), (3, 1), (7, 1), (9, 1))


@dataclass(frozen=True)
class DemoUser:
    username: str
    password: str
    role: str
    employee_no: str | None = None
    department: str | None = None  # code; a manager's scope


@dataclass(frozen=True)
class SimulatedSchool:
    seed: int
    today: date
    departments: tuple[DepartmentSpec, ...]
    sites: tuple[SiteSpec, ...]
    employees: tuple[EmployeeRecord, ...]
    slots: tuple[WeeklySlotRecord, ...]
    classes: tuple[DatedClassRecord, ...]
    growth: tuple[GrowthNoteSpec, ...]
    demo_users: tuple[DemoUser, ...]
    truth: SchoolTruth

    def employees_of_kind(self, kind: str) -> list[EmployeeRecord]:
        return [e for e in self.employees if self.truth.employees[e.employee_no].kind == kind]

    def slots_of(self, employee_no: str) -> list[WeeklySlotRecord]:
        return [s for s in self.slots if s.employee_no == employee_no]


def term_start(today: date) -> date:
    starts = [date(y, m, d) for y in (today.year - 1, today.year) for m, d in TERM_STARTS]
    return max(s for s in starts if s <= today)


def department_of(e: EmployeeRecord) -> str:
    """The employee's department code: every simulated employee has one (a record from a file may not)."""
    assert e.department is not None, e.employee_no
    return e.department


def _clamp(x: float, low: float = 0.0, high: float = 1.0) -> float:
    return min(max(x, low), high)


@dataclass
class _Person:
    record: EmployeeRecord
    truth: EmployeeTruth
    pinyin: str
    line: str | None


class _Builder:
    def __init__(self, seed: int, today: date):
        self.seed, self.today = seed, today
        self.rng = random.Random(f"trainquant-school:{seed}")
        self.taken_names: set[str] = set()
        self.counters: dict[str, int] = {}
        self.heads: dict[str, str] = {}  # department code -> head's employee_no
        self.people: list[_Person] = []

    def stream(self, purpose: str, employee_no: str) -> random.Random:
        return random.Random(f"trainquant-{purpose}:{self.seed}:{employee_no}")

    def next_no(self, prefix: str) -> str:
        self.counters[prefix] = self.counters.get(prefix, 0) + 1
        return f"{prefix}{self.counters[prefix]:04d}"

    def name(self, plan: GroupPlan, foreign: bool) -> tuple[str, str]:
        while True:
            name, pinyin = names.english_name(self.rng) if foreign else names.chinese_name(self.rng, female_share=plan.female_share)
            if name not in self.taken_names:
                self.taken_names.add(name)
                return name, pinyin

    def tenure_days(self, *, head: bool, department_head: bool, new: bool) -> int:
        if department_head:
            return self.rng.randint(6 * 365, 8 * 365)
        if head:
            return self.rng.randint(3 * 365, int(7.5 * 365))
        if new:
            return self.rng.randint(0, NEW_TEACHER_DAYS - 1)
        # Most staff joined in the last few years (growth and turnover); a few have been there eight.
        return NEW_TEACHER_DAYS + int((8 * 365 - NEW_TEACHER_DAYS) * self.rng.random() ** 1.3)

    def build(self) -> None:
        teacher_plans = [p for p in PLANS if p.kind == "teaching"]
        members = sum(p.headcount - 1 for p in teacher_plans)
        new_quota = round(NEW_TEACHER_SHARE * sum(p.headcount for p in teacher_plans))
        new_slots = set(self.rng.sample(range(members), new_quota))
        member_index = 0
        for plan in PLANS:
            parent = next(d.parent_code for d in DEPARTMENTS if d.code == plan.department)
            department_head = parent is not None and next(d for d in DEPARTMENTS if d.code == parent).parent_code is None
            for i in range(plan.headcount):
                head = i == 0
                new = False
                if plan.kind == "teaching" and not head:
                    new = member_index in new_slots
                    member_index += 1
                elif plan.kind != "teaching" and not head:
                    new = self.rng.random() < (0.18 if plan.kind == "marketing" else 0.10)
                foreign = plan.department == "TEACH-NATIVE" and i < FOREIGN_TEACHERS
                above = plan.department if not head else parent  # None: the head of a top-level department
                manager = None if (head and department_head) or above is None else self.heads.get(above)
                self.person(plan, head=head, department_head=department_head and head, new=new, foreign=foreign, manager=manager)

    def person(self, plan: GroupPlan, *, head: bool, department_head: bool, new: bool, foreign: bool, manager: str | None) -> None:
        rng = self.rng
        no = self.next_no(plan.prefix)
        if head:
            self.heads[plan.department] = no
        name, pinyin = self.name(plan, foreign)
        tenure = self.tenure_days(head=head, department_head=department_head, new=new)
        hire = self.today - timedelta(days=tenure)
        years = tenure / 365
        skill = _clamp(0.3 + 0.45 * min(years / 6, 1) + rng.gauss(0, 0.12) + (0.1 if head else 0), 0.05, 0.98)
        position = self.position(plan, head=head, foreign=foreign, years=years, skill=skill)
        status = "probation" if tenure < PROBATION_DAYS else ("on_leave" if not head and rng.random() < 0.03 else "active")
        tags = []
        if plan.kind == "teaching" and new:
            tags.append("new-teacher")
        if foreign:
            tags.append("native-speaker")
        if head:
            tags.append("team-lead")
        record = EmployeeRecord(
            employee_no=no,
            row=len(self.people) + 1,
            name=name,
            department=plan.department,
            site=self.site(head),
            position=position,
            hire_date=hire,
            status=status,
            hourly_cost=hourly_cost(position, _clamp(0.5 * skill + 0.5 * rng.random(), 0, 0.999)),
            manager_no=manager,
            tags=tuple(sorted(tags)),
        )
        truth = self.latent(plan, no, skill=skill, new=new)
        self.people.append(_Person(record, truth, pinyin, plan.line))

    def site(self, head: bool) -> str:
        if head:
            return "BJ-HD"
        return self.rng.choices(tuple(SITE_SHARES), weights=tuple(SITE_SHARES.values()))[0]

    def position(self, plan: GroupPlan, *, head: bool, foreign: bool, years: float, skill: float) -> str:
        if head:
            return plan.head_position
        if foreign:
            return "外教"
        if plan.kind == "teaching":
            if years < 1.5:
                return "初级教师"
            if years < 4:
                return "中级教师" if skill >= 0.4 else "初级教师"
            return "高级教师" if skill >= 0.6 else "中级教师"
        positions, weights = zip(*plan.positions, strict=True)
        if "高级课程顾问" in positions and years < 2:
            return "课程顾问"
        return self.rng.choices(positions, weights=weights)[0]

    def latent(self, plan: GroupPlan, no: str, *, skill: float, new: bool) -> EmployeeTruth:
        rng = self.rng
        kind = plan.kind
        attend = rng.betavariate(*{"teaching": (7.5, 2.5), "marketing": (6.0, 2.5), "admin": (8.0, 2.0)}[kind])
        if new:
            attend = _clamp(attend + 0.08, 0, 0.99)  # new staff want to make a good impression
        extra: dict = {}
        if kind == "teaching":
            extra = {
                "student_rating": round(_clamp(3.66 + 1.25 * skill + rng.gauss(0, 0.12), 3.0, 5.0), 2),
                "retention_rate": round(_clamp(0.675 + 0.24 * skill + rng.gauss(0, 0.03), 0.5, 0.98), 3),
            }
            pool = WEAKNESSES_BY_LINE[plan.line or "ielts"]
        elif kind == "marketing":
            extra = {
                "conversion_rate": round(_clamp(0.05 + 0.10 * skill + rng.gauss(0, 0.01), 0.02, 0.3), 4),
                "monthly_leads": rng.randint(80, 160) if plan.department == "MKT-CH" else rng.randint(30, 60),
            }
            pool = WEAKNESSES_BY_KIND[kind]
        else:
            extra = {
                "process_minutes": round(_clamp(60 - 30 * skill + rng.gauss(0, 4), 15, 90), 1),
                "error_rate": round(_clamp(0.09 - 0.08 * skill + rng.gauss(0, 0.01), 0.0, 0.2), 4),
            }
            pool = WEAKNESSES_BY_KIND[kind]
        return EmployeeTruth(
            employee_no=no,
            kind=kind,
            skill=round(skill, 4),
            attendance_propensity=round(attend, 4),
            early_leave_propensity=round(rng.betavariate(2, 10) if kind == "teaching" else rng.betavariate(1.5, 12), 4),
            proxy_propensity=round(rng.betavariate(1.2, 10) if kind == "marketing" else rng.betavariate(1, 30), 4),
            training_response=round(rng.betavariate(4, 3), 4),
            weaknesses=latent_weaknesses(self.stream("weakness", no), pool, skill),
            **extra,
        )


def _external_ids(rng: random.Random, people: list[_Person]) -> list[EmployeeRecord]:
    n = len(people)
    dingtalk = rng.sample(range(10**14, 10**15), n)
    platform = iter(rng.sample(range(100000, 999999), n))
    crm = iter(rng.sample(range(10000, 99999), n))
    oa = rng.sample(range(10000, 99999), n)
    feishu_seen: set[str] = set()
    local_seen: dict[str, int] = {}
    phones: set[str] = set()
    out = []
    for i, p in enumerate(people):
        base = p.pinyin
        local_seen[base] = local_seen.get(base, 0) + 1
        local = base if local_seen[base] == 1 else f"{base}{local_seen[base]}"
        while True:
            feishu = "".join(rng.choices(string.ascii_lowercase + string.digits, k=8))
            if feishu not in feishu_seen:
                feishu_seen.add(feishu)
                break
        while True:
            phone = "1" + rng.choice("35789") + "".join(rng.choices(string.digits, k=9))
            if phone not in phones:
                phones.add(phone)
                break
        ext = [
            ("device_pin", str(10001 + i)),
            ("dingtalk", str(dingtalk[i])),
            ("feishu", feishu),
            ("oa", f"OA{oa[i]}"),
            ("wecom", "".join(part.capitalize() for part in local.split("."))),
        ]
        if p.truth.kind == "teaching":
            ext.append(("teaching_platform", f"TP{next(platform)}"))
        if p.truth.kind == "marketing":
            ext.append(("crm", f"CRM-{next(crm)}"))
        out.append(replace(p.record, email=f"{local}@{EMAIL_DOMAIN}", phone=phone, external_ids=tuple(sorted(ext))))
    return out


def _timetables(b: _Builder, term: date) -> tuple[list[WeeklySlotRecord], list[DatedClassRecord], dict[str, float]]:
    slots: list[WeeklySlotRecord] = []
    classes: list[DatedClassRecord] = []
    hours: dict[str, float] = {}
    for p in b.people:
        if p.truth.kind != "teaching":
            continue
        rec, rng = p.record, b.stream("timetable", p.record.employee_no)
        if "team-lead" in rec.tags:
            target = rng.uniform(15, 17)  # leads spend time on lesson research and observation
        elif "new-teacher" in rec.tags:
            target = rng.uniform(15, 19)
        else:
            target = rng.triangular(15, 25, 21)
        line = p.line or "ielts"
        blocks = weekly_blocks(rng, line, target)
        valid_from = max(term, rec.hire_date or term)
        for blk in blocks:
            slots.append(WeeklySlotRecord(rec.employee_no, blk.weekday, blk.start, blk.end, valid_from,
                                          course=course_for(rng, line, blk), site=rec.site, row=len(slots) + 1))
        hours[rec.employee_no] = sum(blk.hours for blk in blocks)
        if rng.random() < 0.3:
            for day, start, end in make_up_lessons(rng, blocks, today=b.today, not_before=valid_from, count=rng.randint(1, 2)):
                course = "补课：" + course_for(rng, line, blocks[0])
                classes.append(DatedClassRecord(rec.employee_no, day, start, end, course=course, site=rec.site, row=len(classes) + 1))
    return slots, classes, hours


def _growth(b: _Builder) -> list[GrowthNoteSpec]:
    notes: list[GrowthNoteSpec] = []
    for p in b.people:
        rng = b.stream("growth", p.record.employee_no)
        if p.truth.kind != "teaching" and rng.random() > 0.3:
            continue
        notes += notes_for(rng, p.record.employee_no, p.truth.weaknesses, skill=p.truth.skill,
                           since=p.record.hire_date or b.today, today=b.today, ambitious=p.truth.kind == "teaching")
    return notes


def _demo_users(people: list[EmployeeRecord], growth: list[GrowthNoteSpec]) -> tuple[DemoUser, ...]:
    noted = {g.employee_no for g in growth}

    def first(*preferences) -> EmployeeRecord:
        # The most fitting person, falling back when a seed happens to leave no one of that kind.
        for wanted in preferences:
            for e in people:
                if wanted(e):
                    return e
        return people[0]

    hr = first(
        lambda e: e.position == "人事专员" and e.status == "active",
        lambda e: e.position == "人事专员",
        lambda e: e.department.startswith("ADM") and e.status == "active",
    )
    teacher = first(
        lambda e: e.department == "TEACH-IELTS" and "team-lead" not in e.tags and e.status == "active" and e.employee_no in noted,
        lambda e: e.department == "TEACH-IELTS" and "team-lead" not in e.tags and e.status == "active",
        lambda e: e.department.startswith("TEACH-") and e.status == "active",
    )
    return (
        DemoUser("admin", "admin-demo-2026", "admin"),
        DemoUser("hr", "hr-demo-2026", "hr", employee_no=hr.employee_no),
        DemoUser("manager", "manager-demo-2026", "manager", employee_no=people[0].employee_no, department="TEACH"),
        DemoUser("employee", "employee-demo-2026", "employee", employee_no=teacher.employee_no),
    )


def generate(seed: int = 2026, today: date = DEFAULT_TODAY) -> SimulatedSchool:
    b = _Builder(seed, today)
    b.build()
    term = term_start(today)
    slots, classes, hours = _timetables(b, term)
    employees = _external_ids(random.Random(f"trainquant-ids:{seed}"), b.people)
    truth_by_no = {
        p.truth.employee_no: replace(p.truth, weekly_class_hours=hours.get(p.truth.employee_no, 0.0))
        for p in b.people
    }
    growth = _growth(b)
    return SimulatedSchool(
        seed=seed,
        today=today,
        departments=DEPARTMENTS,
        sites=SITES,
        employees=tuple(employees),
        slots=tuple(slots),
        classes=tuple(classes),
        growth=tuple(growth),
        demo_users=_demo_users(employees, growth),
        truth=SchoolTruth(seed=seed, today=today, term_start=term, employees=truth_by_no, peaks=PEAKS),
    )
