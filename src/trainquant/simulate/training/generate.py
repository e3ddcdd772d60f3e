"""The simulated school's training year: programs, sessions, enrolments with their history, assessments and
costs, from a year before the school's ``today`` to about eight weeks after. Pure: no database, no clock.

Scores come from each employee's latent skill in ``school.truth`` (and error counts from their latent error
rate), and the scores generated are kept as ground truth beside the data (``TrainingYear.truth``).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import TypedDict
from zoneinfo import ZoneInfo

from trainquant.simulate.institution.school import SimulatedSchool, department_of
from trainquant.simulate.training.catalogue import ONBOARDING_RULE, PLANS, Plan
from trainquant.simulate.training.spec import (
    AssessmentSpec,
    CostSpec,
    EnrolmentSpec,
    EventSpec,
    SessionSpec,
    TrainingTruth,
    TrainingYear,
)

# The school began to measure its training this many days before today: the case's "before" and "after".
MEASURED_SINCE_DAYS = 182

TZ = ZoneInfo("Asia/Shanghai")
ACTOR = "simulator"
PAST_DAYS = 365
FUTURE_DAYS = 56
ONBOARDING_EVERY_DAYS = 28
RAW_RATERS = ("教学总监", "教研组长", "资深教师")
REJECT_REASONS = ("教学排课冲突，本期无法参加", "已参加过同类培训，名额优先留给其他同事", "部门人手紧张，请报下一期", "岗位与课程方向不匹配")
CANCEL_REASONS = ("个人事假", "临时排课冲突", "身体不适")


# ---------------------------------------------------------------- the generator


def _utc(day: date, at: time) -> datetime:
    return datetime.combine(day, at, tzinfo=TZ).astimezone(UTC)


def _on_weekday(day: date, weekday: int) -> date:
    """The day of ``day``'s week (Monday first) that falls on ``weekday``."""
    return day - timedelta(days=day.weekday()) + timedelta(days=weekday)


def _clip(x: float, low: float, high: float) -> float:
    return min(max(x, low), high)


def _step(x: float, step: float) -> float:
    return round(round(x / step) * step, 2)


class _Ref(TypedDict):
    """Whose assessment, and of which program and session."""

    employee_no: str
    program_code: str
    session_code: str


@dataclass
class _Run:
    plan: Plan
    index: int
    sessions: list[SessionSpec]
    participants: list[str] = field(default_factory=list)
    mandatory: bool = False


class _Builder:
    def __init__(self, school: SimulatedSchool, seed: int):
        self.school, self.seed, self.today = school, seed, school.today
        self.first_day = self.today - timedelta(days=PAST_DAYS)
        self.last_day = self.today + timedelta(days=FUTURE_DAYS)
        # Every decision is dated before today began (local time), so it is in the past whenever it is loaded.
        self.cutoff = _utc(self.today, time(0))
        self.kind_of = {d.code: d.kind for d in school.departments}
        self.sites = {s.code: s for s in school.sites}
        self.booked: dict[tuple[str, str], list[tuple[datetime, datetime]]] = {}  # room -> its sessions' slots
        self.sessions: list[SessionSpec] = []
        self.enrolments: list[EnrolmentSpec] = []
        self.assessments: list[AssessmentSpec] = []
        self.costs: list[CostSpec] = []
        self.scores: dict[str, dict[str, list[float]]] = {}
        self.assessed: set[tuple[str, str, date]] = set()
        # The demo's employee and manager logins: a year of trainings to look at, not the luck of the draw.
        self.demo_people = {u.employee_no for u in school.demo_users if u.role in ("employee", "manager") and u.employee_no}
        self.demo_busy: dict[str, list[tuple[datetime, datetime]]] = {no: [] for no in self.demo_people}

    def rng(self, *parts) -> random.Random:
        return random.Random(":".join(["trainquant-training", str(self.seed), *map(str, parts)]))

    # -- runs and sessions

    def run_dates(self, plan: Plan) -> list[date]:
        days: Sequence[int]
        if plan.program.code == "SIM-ONB":
            days = range(-PAST_DAYS + 7, FUTURE_DAYS - 7 * plan.sessions + 1, ONBOARDING_EVERY_DAYS)
        else:
            days = plan.run_offsets
        rng = self.rng("dates", plan.program.code)
        return [self.today + timedelta(days=d + rng.randint(0, 6)) for d in days]

    def make_run(self, plan: Plan, index: int, first: date) -> _Run:
        rng = self.rng("run", plan.program.code, index)
        weekday = plan.weekdays[index % len(plan.weekdays)]
        start = plan.start if weekday < 5 or plan.start.hour < 12 else time(10)
        week = _on_weekday(first, weekday)
        starts_at = [_utc(week + timedelta(days=7 * (seq - 1)), start) for seq in range(1, plan.sessions + 1)]
        slots = [(starts, starts + timedelta(hours=plan.hours)) for starts in starts_at]
        site: str | None = None
        venue: str | None = None
        if plan.venue_use is not None:
            site = rng.choices(("BJ-HD", "BJ-CY", "SH-XH"), weights=(0.5, 0.3, 0.2))[0]
            venue = rng.choice([v.name for v in self.sites[site].venues if v.use == plan.venue_use])
            site, venue = self._free_room(site, venue, plan.venue_use, slots)
        capacity = rng.randrange(20, 41, 5)
        sessions = []
        for seq, (starts, ends) in enumerate(slots, start=1):
            sessions.append(SessionSpec(
                code=f"{plan.program.code}-R{index + 1:02d}-S{seq}", program_code=plan.program.code, sequence=seq,
                starts_at=starts, ends_at=ends, site=site, venue=venue, online=plan.venue_use is None,
                trainer=plan.program.trainer, capacity=capacity, checkin_methods=plan.checkin,
                status="completed" if ends <= self.cutoff else "scheduled",
            ))
        return _Run(plan, index, sessions)

    def _free_room(self, site: str, venue: str, use: str, slots: list[tuple[datetime, datetime]]) -> tuple[str, str]:
        """The room drawn when it is free at every slot of the run, else the first free one of that use
        (its site first, then the others): a school never books one room twice at once, and the
        platform refuses it (409 venue-busy). The room is then booked for the run's slots."""
        candidates = [(site, venue)] + [(site, v.name) for v in self.sites[site].venues if v.use == use and v.name != venue]
        candidates += [(code, v.name) for code in ("BJ-HD", "BJ-CY", "SH-XH") if code != site for v in self.sites[code].venues if v.use == use]
        for room in candidates:
            taken = self.booked.setdefault(room, [])
            if all(not (a < e and s < b) for a, b in slots for s, e in taken):
                taken.extend(slots)
                return room
        raise ValueError(f"no {use} room is free for a run at {slots[0][0]:%Y-%m-%d %H:%M}")

    def pool(self, plan: Plan) -> list[str]:
        kinds = set(plan.program.target_kinds)
        return [
            e.employee_no for e in self.school.employees
            if self.kind_of[department_of(e)] in kinds and e.status != "on_leave"
            and (plan.departments is None or e.department in plan.departments)
        ]

    # -- enrolments

    def enrol(self, run: _Run, no: str, rng: random.Random) -> str:
        starts = run.sessions[0].starts_at
        future = starts > self.cutoff
        events: tuple[EventSpec, ...]
        if run.mandatory:
            hire = next(e.hire_date for e in self.school.employees if e.employee_no == no)
            assert hire is not None, no  # onboarding_assignment() puts only those with a hire date in a mandatory run
            at = min(max(_utc(hire, time(9)), starts - timedelta(days=20)), self.cutoff - timedelta(hours=1))
            due = max(hire, self.first_day) + timedelta(days=ONBOARDING_RULE.due_days)
            events = (EventSpec(None, "approved", at, f"必修规则：{ONBOARDING_RULE.name}"),)
            self.add_enrolments(run, no, "approved", "mandatory", events, due=due, rule=ONBOARDING_RULE.code)
            return "approved"
        requested = starts - timedelta(days=rng.randint(7, 30), hours=rng.randint(0, 8))
        if requested >= self.cutoff:
            requested = self.cutoff - timedelta(days=rng.randint(1, 14), hours=rng.randint(1, 8))
        decided = min(requested + timedelta(hours=rng.randint(4, 72)), self.cutoff - timedelta(minutes=30))
        source = "self" if rng.random() < 0.7 else "manager"
        u = rng.random()
        if no in self.demo_people and u > 0.885:
            u = 0.5  # the demo logins' requests are approved: their history is what the demo shows
        asked = EventSpec(None, "requested", requested)
        if future and u < 0.35:
            status, events, reason = "requested", (asked,), None
        elif u > 0.92:
            reason = rng.choice(REJECT_REASONS)
            status, events = "rejected", (asked, EventSpec("requested", "rejected", decided, reason))
        elif u > 0.885:
            reason = rng.choice(CANCEL_REASONS)
            cancelled = min(decided + timedelta(days=rng.randint(1, 5)), starts - timedelta(hours=2), self.cutoff - timedelta(minutes=10))
            cancelled = max(cancelled, decided + timedelta(minutes=5))
            status = "cancelled"
            events = (asked, EventSpec("requested", "approved", decided), EventSpec("approved", "cancelled", cancelled, reason))
        else:
            status, events, reason = "approved", (asked, EventSpec("requested", "approved", decided)), None
        self.add_enrolments(run, no, status, source, events, reason=reason)
        return status

    def add_enrolments(self, run: _Run, no: str, status: str, source: str, events: tuple[EventSpec, ...], *,
                       reason: str | None = None, due: date | None = None, rule: str | None = None) -> None:
        for s in run.sessions:  # a multi-session program: one enrolment per session, decided together
            self.enrolments.append(EnrolmentSpec(s.code, no, status, source, events[0].at, events, reason, due, rule))

    # -- assessments

    def record(self, a: AssessmentSpec) -> None:
        day = a.assessed_on
        while (a.employee_no, a.kind, day) in self.assessed:
            day += timedelta(days=1)
        if day > self.today:
            return
        if day != a.assessed_on:
            a = AssessmentSpec(**{**a.__dict__, "assessed_on": day})
        self.assessed.add((a.employee_no, a.kind, day))
        self.assessments.append(a)
        value = 1.0 if a.passed else 0.0 if a.kind == "case_analysis" else a.value
        assert value is not None, a  # every generated result has a score, ratings, a verdict or an error count
        self.scores.setdefault(a.employee_no, {}).setdefault(a.kind, []).append(value)

    def assess(self, run: _Run, no: str) -> None:
        plan, truth = run.plan, self.school.truth.employees[no]
        rng = self.rng("assess", plan.program.code, run.index, no)
        first, last = run.sessions[0], run.sessions[-1]
        first_day, last_day = first.starts_at.astimezone(TZ).date(), last.starts_at.astimezone(TZ).date()
        skill, response = truth.skill, truth.training_response
        ref: _Ref = {"employee_no": no, "program_code": plan.program.code, "session_code": last.code}
        kind = plan.assessment
        if kind == "trial_lecture":
            mean = 77 + 16 * skill
            raters = RAW_RATERS[: rng.choice((2, 3))]
            ratings = tuple((r, _step(_clip(rng.gauss(mean, 6), 0, 100), 0.5)) for r in raters)
            self.record(AssessmentSpec(kind=kind, assessed_on=last_day + timedelta(days=rng.randint(2, 7)), ratings=ratings,
                                       rater="、".join(raters), **ref))
        elif kind == "online_test":
            score = float(round(_clip(rng.gauss(68 + 22 * skill, 8), 0, 100)))
            self.record(AssessmentSpec(kind=kind, assessed_on=last_day, score=score, rater="在线测试系统", **ref))
        elif kind == "script_simulation":
            score = _step(_clip(rng.gauss(78 + 15 * skill, 7), 0, 100), 0.1)
            self.record(AssessmentSpec(kind=kind, assessed_on=last_day, score=score, rater=plan.program.trainer, **ref))
        elif kind == "communication":
            score = _step(_clip(rng.gauss(80 + 15 * skill, 6), 0, 100), 0.1)
            self.record(AssessmentSpec(kind=kind, assessed_on=last_day + timedelta(days=rng.randint(1, 5)), score=score,
                                       rater=plan.program.trainer, **ref))
        elif kind == "case_analysis":
            passed = rng.random() < _clip(0.70 + 0.28 * skill, 0, 0.99)
            self.record(AssessmentSpec(kind=kind, assessed_on=last_day, passed=passed, rater=plan.program.trainer, **ref))
        elif kind == "ielts" and rng.random() < 0.6:
            before = _clip(_step(6.0 + 1.6 * skill + rng.gauss(0, 0.3), 0.5), 5.5, 8.5)
            after = _clip(before + (0.5 if rng.random() < 0.3 + 0.5 * response else 0.0), 5.5, 9.0)
            before_ref: _Ref = {**ref, "session_code": first.code}
            self.record(AssessmentSpec(kind=kind, assessed_on=first_day - timedelta(days=rng.randint(3, 10)), score=before,
                                       rater="模考", **before_ref))
            self.record(AssessmentSpec(kind=kind, assessed_on=last_day + timedelta(days=rng.randint(14, 35)), score=after,
                                       rater="模考", **ref))
        elif kind == "error_rate":
            p_before = _clip((truth.error_rate or 0.04) * 0.9, 0.0, 0.09)
            p_after = p_before * (1 - 0.8 * response)
            for on, p, session in ((first_day - timedelta(days=rng.randint(2, 6)), p_before, first.code),
                                   (last_day + timedelta(days=rng.randint(10, 20)), p_after, last.code)):
                operations = rng.randint(40, 60)
                errors = sum(rng.random() < p for _ in range(operations))
                session_ref: _Ref = {**ref, "session_code": session}
                self.record(AssessmentSpec(kind=kind, assessed_on=on, errors=errors, operations=operations, rater="抽检",
                                           **session_ref))

    # -- costs

    def charge(self, run: _Run, approved: int) -> None:
        rng = self.rng("cost", run.plan.program.code, run.index)
        code = run.plan.program.code
        for s in run.sessions:
            if s.status != "completed":
                continue
            day = s.starts_at.astimezone(TZ).date()
            fee = Decimal(rng.randrange(run.plan.fee[0], run.plan.fee[1] + 1, 50))
            self.costs.append(CostSpec(code, s.code, "trainer_fee", fee.quantize(Decimal("0.01")), day, f"第{s.sequence}次课讲师费"))
            if not s.online:
                venue = Decimal(rng.randrange(200, 801, 50))
                self.costs.append(CostSpec(code, s.code, "venue", venue.quantize(Decimal("0.01")), day, f"{s.venue}场地与设备"))
            extra = run.plan.measured_extra
            if extra is not None and day >= self.today - timedelta(days=MEASURED_SINCE_DAYS):
                amount = Decimal(rng.randrange(extra[1], extra[2] + 1, 100)).quantize(Decimal("0.01"))
                self.costs.append(CostSpec(code, s.code, extra[0], amount, day, extra[3]))
        if run.sessions[0].status == "completed" and approved:
            per_head = Decimal(rng.randrange(20, 81, 5))
            first = run.sessions[0]
            day = first.starts_at.astimezone(TZ).date()
            self.costs.append(CostSpec(code, first.code, "materials", (per_head * approved).quantize(Decimal("0.01")),
                                       day, f"教材讲义 {approved}人 × {per_head}元"))
            if code != "SIM-ONB":
                # The rest of Phillips' fully loaded cost: the needs analysis and the evaluation of each run,
                # its coordination, overhead, and the course's design, which serves every run of the year.
                runs = len(run.plan.run_offsets)
                for category, low, high, note in (("needs_analysis", 1000, 2500, "需求调研"), ("evaluation", 1000, 2000, "效果评估"),
                                                  ("delivery", 300, 800, "组织协调"), ("overhead", 500, 1200, "管理费用分摊")):
                    amount = Decimal(rng.randrange(low, high + 1, 100)).quantize(Decimal("0.01"))
                    self.costs.append(CostSpec(code, first.code, category, amount, day, note))
                design = Decimal(self.rng("design", code).randrange(8_000, 15_001, 500)).quantize(Decimal("0.01"))
                self.costs.append(CostSpec(code, first.code, "design", design, day, f"课程研发（{runs}期分摊）",
                                           (Decimal(1) / runs).quantize(Decimal("0.0001"))))

    # -- the year

    def onboarding_assignment(self, runs: list[_Run]) -> None:
        """Every teacher hired in the window joins the first onboarding run that starts after they arrive."""
        for e in self.school.employees:
            if self.kind_of[department_of(e)] != "teaching" or e.hire_date is None or e.hire_date < self.first_day:
                continue
            arrive = _utc(e.hire_date, time(9))
            run = next((r for r in runs if r.sessions[0].starts_at >= arrive), None)
            if run is not None:
                run.participants.append(e.employee_no)

    def add_demo_people(self, run: _Run, pool: list[str], chosen: list[str]) -> None:
        """The demo logins join every run they may attend that overlaps none of theirs (the draw may
        have picked them already), so their pages show a year of trainings, attendance and scores."""
        slots = [(s.starts_at, s.ends_at) for s in run.sessions]
        for no in sorted(self.demo_people & set(pool)):
            busy = self.demo_busy[no]
            if any(a < e and s < b for a, b in slots for s, e in busy):
                if no in chosen:
                    chosen.remove(no)  # a person is in one session at a time
                continue
            busy.extend(slots)
            if no not in chosen:
                chosen.append(no)

    def build(self) -> None:
        for plan in PLANS:
            runs = [self.make_run(plan, i, d) for i, d in enumerate(self.run_dates(plan))]
            if plan.program.code == "SIM-ONB":
                for r in runs:
                    r.mandatory = True
                self.onboarding_assignment(runs)
                runs = [r for r in runs if r.participants]
            else:
                pool = self.pool(plan)
                tag = plan.program.tags[0]
                for r in runs:
                    rng = self.rng("pick", plan.program.code, r.index)
                    size = min(len(pool), round(r.sessions[0].capacity * rng.uniform(0.6, 0.95)))
                    # Those who really have the weakness the program addresses sign up more often.
                    weights = [3.0 if tag in self.school.truth.employees[no].weaknesses else 1.0 for no in pool]
                    chosen: list[str] = []
                    while len(chosen) < size:
                        no = rng.choices(pool, weights=weights)[0]
                        if no not in chosen:
                            chosen.append(no)
                    self.add_demo_people(r, pool, chosen)
                    r.participants = sorted(chosen)
            for r in runs:
                self.sessions += r.sessions
                rng = self.rng("enrol", plan.program.code, r.index)
                approved = [no for no in r.participants if self.enrol(r, no, rng) == "approved"]
                self.charge(r, len(approved))
                if plan.assessment and r.sessions[-1].ends_at <= self.cutoff:
                    for no in approved:
                        self.assess(r, no)

    def year(self) -> TrainingYear:
        self.build()
        skills = {no: self.school.truth.employees[no].skill for no in self.scores}
        return TrainingYear(
            seed=self.seed, today=self.today, first_day=self.first_day, last_day=self.last_day,
            programs=tuple(p.program for p in PLANS), rules=(ONBOARDING_RULE,), sessions=tuple(self.sessions),
            enrolments=tuple(self.enrolments), assessments=tuple(self.assessments), costs=tuple(self.costs),
            truth=TrainingTruth({no: {k: tuple(v) for k, v in kinds.items()} for no, kinds in self.scores.items()}, skills),
        )


def generate_training(school: SimulatedSchool, seed: int | None = None) -> TrainingYear:
    """The school's training year (deterministic per seed; the school's seed by default)."""
    return _Builder(school, school.seed if seed is None else seed).year()
