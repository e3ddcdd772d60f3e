"""The simulated school's business systems for a year: the teaching platform's weekly ratings and
renewals per teacher, the CRM's weekly leads, deals and orders per consultant, the OA system's weekly
operations, minutes and errors per administrator. Pure: no database, no clock.

Each person has a level of their own; every week has the school's season (summer, July-August, and
winter, January-February, are a language school's peaks: more sign-ups, easier deals, fuller
classes); and a person trained in their department's program (classroom interaction, sales-script
simulation, process optimisation) gets a **planted** effect from the week after their training: the
truth kept beside the data (``BusinessTruth``), that the isolated effects must recover. Trained means
what TrainQuant will measure: attended at the session's minimum participation (the check-in
simulation's ground truth), trained on the end of their last such session of the program.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from trainquant.simulate.attendance.stream import CheckinStream
from trainquant.simulate.institution.school import SimulatedSchool
from trainquant.simulate.training.generate import MEASURED_SINCE_DAYS
from trainquant.simulate.training.spec import TrainingYear

TZ = ZoneInfo("Asia/Shanghai")
WEEKS = 52
# The CRM keeps a year and a half: the case's new orders year on year compare the last half-year
# with the same weeks a year before.
CRM_WEEKS = 78
# What the OA system books against an operation: the time at 0.8 CNY a minute, materials and couriers,
# and the rework of an error.
COST_PER_MINUTE, COST_PER_OPERATION, COST_PER_ERROR = 0.8, 80.0, 150.0
MIN_PARTICIPATION = 0.8  # the sessions' default minimum
# The program whose effect each department kind's metrics carry.
PROGRAM_OF = {"teaching": "SIM-CI", "marketing": "SIM-SS", "admin": "SIM-PO"}
# How strongly each month is a peak (1: the height of the summer or winter holidays).
PEAK = {1: 0.6, 2: 1.0, 3: 0.2, 4: 0.0, 5: 0.0, 6: 0.1, 7: 0.8, 8: 1.0, 9: 0.2, 10: 0.0, 11: 0.0, 12: 0.2}


@dataclass(frozen=True)
class Planted:
    """The effect planted on everyone trained, per week after the training."""

    rating: float = 0.52  # points on the 5-point overall rating (interaction: 1.2 times it)
    retention: float = 0.08  # of the students up for renewal
    conversion: float = 0.08  # of the leads
    # Before the school measured its training (``MEASURED_SINCE_DAYS``), its sales training was a
    # lecture; the runs since are scored role-play: those trained before gain less.
    conversion_before_measuring: float = 0.03
    minutes_share: float = -0.19  # of the minutes per operation
    error_rate_share: float = -0.97  # of the error rate


@dataclass(frozen=True)
class Season:
    """What a full peak adds for everyone (the naive before/after change includes it)."""

    rating: float = 0.12
    retention: float = 0.03
    leads_share: float = 0.6  # more leads
    conversion: float = 0.04
    operations_share: float = 0.3  # more operations, a little slower each
    minutes_share: float = 0.04


@dataclass(frozen=True)
class BusinessTruth:
    trained_at: dict[str, datetime]  # employee no -> end of their last attended session of their kind's program (UTC)
    measured_since: datetime  # trained before it: the weaker sales training (``Planted.conversion_before_measuring``)
    kind_of: dict[str, str]
    planted: Planted
    season: Season
    weeks: tuple[datetime, ...]  # each week's Monday 00:00 in Beijing, as UTC (the CRM's; the others hold the last WEEKS)


@dataclass(frozen=True)
class BusinessYear:
    teaching: list[dict]  # the teaching platform's items
    crm: list[dict]
    oa: list[dict]
    truth: BusinessTruth


def _monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def peak(week_start: datetime) -> float:
    """The season over a week: the mean of its days' months' peaks."""
    days = [(week_start + timedelta(days=i)).astimezone(TZ).month for i in range(7)]
    return sum(PEAK[m] for m in days) / 7


def trained_dates(school: SimulatedSchool, year: TrainingYear, stream: CheckinStream) -> dict[str, datetime]:
    kind_of = {e.employee_no: school.truth.employees[e.employee_no].kind for e in school.employees}
    ends = {s.code: (s.program_code, s.ends_at) for s in year.sessions}
    out: dict[str, datetime] = {}
    for (session_code, no), t in stream.truth.items():
        program, ended = ends[session_code]
        if PROGRAM_OF.get(kind_of[no]) != program or t.participation < MIN_PARTICIPATION:
            continue
        if no not in out or ended > out[no]:
            out[no] = ended
    return out


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method is fine for the small means here; a normal approximation past 30.
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _binomial(rng: random.Random, n: int, p: float) -> int:
    p = min(1.0, max(0.0, p))
    return sum(1 for _ in range(n) if rng.random() < p)


def generate_business(school: SimulatedSchool, year: TrainingYear, stream: CheckinStream, *, seed: int | None = None,
                      planted: Planted = Planted(), season: Season = Season()) -> BusinessYear:
    base = f"trainquant-business:{school.seed if seed is None else seed}"
    last = _monday(school.today) - timedelta(days=7)  # the last full week before today
    mondays = [datetime.combine(last - timedelta(weeks=CRM_WEEKS - 1 - i), time.min, TZ) for i in range(CRM_WEEKS)]
    year_from = mondays[CRM_WEEKS - WEEKS]
    trained = trained_dates(school, year, stream)
    measured_since = datetime.combine(school.today - timedelta(days=MEASURED_SINCE_DAYS), time.min, TZ)
    kind_of = {e.employee_no: school.truth.employees[e.employee_no].kind for e in school.employees}
    teaching: list[dict] = []
    crm: list[dict] = []
    oa: list[dict] = []
    stamp = 0
    for e in school.employees:
        ids = dict(e.external_ids)
        kind = kind_of[e.employee_no]
        # A stream of draws per person: one person's training never reshuffles another's noise.
        rng = random.Random(f"{base}:{e.employee_no}")
        level = rng.gauss(0, 1)
        t = trained.get(e.employee_no)
        # The effect from the week after the training's week (the week itself is half before, half after).
        first = None if t is None else datetime.combine(_monday(t.astimezone(TZ).date()) + timedelta(days=7), time.min, TZ)
        for week in mondays:
            start, end = week, week + timedelta(days=7)
            after = first is not None and start >= first
            s = peak(week)
            stamp += 1
            changed = (end + timedelta(hours=3, seconds=stamp % 3600)).isoformat()
            if kind != "marketing" and start < year_from:
                continue
            if kind == "teaching" and "teaching_platform" in ids:
                ratings = rng.randint(8, 20)
                overall = 4.20 + 0.12 * level + season.rating * s + (planted.rating if after else 0) + rng.gauss(0, 0.25) / math.sqrt(ratings)
                interaction = 4.10 + 0.12 * level + season.rating * s + (1.2 * planted.rating if after else 0) + rng.gauss(0, 0.3) / math.sqrt(ratings)
                due = max(1, _poisson(rng, 1.2 + 0.8 * s))  # students whose course ends that week
                retained = _binomial(rng, due, 0.785 + 0.03 * level + season.retention * s + (planted.retention if after else 0))
                teaching.append({"id": f"TPW-{ids['teaching_platform']}-{week.date().isoformat()}", "updated_at": changed,
                                 "teacher": {"id": ids["teaching_platform"]}, "week": {"start": start.isoformat(), "end": end.isoformat()},
                                 "ratings": {"count": ratings, "overall": round(min(5.0, overall), 3), "interaction": round(min(5.0, interaction), 3)},
                                 "renewals": {"due": due, "renewed": retained}})
            elif kind == "marketing" and "crm" in ids:
                leads = _poisson(rng, (22 + 3 * level) * (1 + season.leads_share * s))
                gain = planted.conversion if t is None or t >= measured_since else planted.conversion_before_measuring
                won = _binomial(rng, leads, 0.10 + 0.01 * level + season.conversion * s + (gain if after else 0))
                amount = sum(max(800.0, rng.gauss(6800, 1200)) for _ in range(won))
                crm.append({"id": f"CRMW-{ids['crm']}-{week.date().isoformat()}", "updated_at": changed, "owner": ids["crm"],
                            "period": [start.isoformat(), end.isoformat()], "leads": leads, "deals": won, "amount": f"{amount:.2f}"})
            elif kind == "admin" and "oa" in ids:
                ops = max(1, _poisson(rng, 40 * (1 + season.operations_share * s)))
                per = 30.0 * (1 + 0.05 * level) * (1 + season.minutes_share * s) * (1 + (planted.minutes_share if after else 0))
                minutes = sum(max(1.0, rng.gauss(per, per * 0.25)) for _ in range(ops))
                errors = _binomial(rng, ops, 0.05 * (1 + (planted.error_rate_share if after else 0)))
                cost = COST_PER_MINUTE * minutes + sum(max(0.0, rng.gauss(COST_PER_OPERATION, 20)) for _ in range(ops)) + COST_PER_ERROR * errors
                oa.append({"id": f"OAW-{ids['oa']}-{week.date().isoformat()}", "updated_at": changed, "staff_id": ids["oa"],
                           "from": start.isoformat(), "to": end.isoformat(),
                           "stats": [{"name": "operations", "value": ops}, {"name": "minutes", "value": round(minutes, 1)}, {"name": "errors", "value": errors},
                                     {"name": "cost", "value": round(cost, 2)}]})
    truth = BusinessTruth(trained, measured_since, kind_of, planted, season, tuple(mondays))
    return BusinessYear(teaching, crm, oa, truth)
