"""The institution-wide effect and ROI report for 50,000 employees with a year of weekly metrics.

    .venv/bin/python bench/bench_effect_report.py [--employees 50000] [--weeks 52]

A fresh SQLite database holds ``--employees`` consultants (one department kind), each with ``--weeks``
weekly order amounts and deal counts from the CRM (2 x 50,000 x 52 = 5.2 million metric records),
and one program whose 20 sessions trained 40% of them at staggered dates (attendance records at 92%
participation, cost items). Timed: the program's report as the pages compute it, the isolated effect
on the order amount (did2s and its pre-trend test over the whole comparison pool) and the ROI built
from it (``roi.service.program_roi``: the fully loaded cost and every monetised effect). Its peer: the
same naive before/after figure computed the way a per-employee loop would, one query per trained
person. Printed: both times, their ratio, and the two naive figures side by side (they must agree).
Aim: the report under 15 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

WEEK0 = datetime(2025, 12, 7, 16, tzinfo=UTC)  # Monday 2025-12-08 00:00 in Beijing
SESSIONS = 20
TRAINED_SHARE = 0.4
LIFT = 500.0  # CNY of orders a week per trained consultant


def _seed(url: str, employees: int, weeks: int) -> datetime:
    from rich.progress import Progress
    from sqlalchemy import insert

    from trainquant.attendance.models import AttendanceRecord
    from trainquant.db import make_engine
    from trainquant.integrations.metrics.models import MetricRecord
    from trainquant.migrate import upgrade
    from trainquant.org.models import Department, Employee
    from trainquant.training.models import CostItem, Enrolment, Program, TrainingSession

    engine = make_engine(url=url)
    upgrade(engine)
    now = WEEK0 + timedelta(weeks=weeks)
    rng = random.Random(7)
    with engine.begin() as con:
        con.execute(insert(Department), [{"code": "MKT", "name": "市场部", "kind": "marketing"}])
        dep_id = con.exec_driver_sql("SELECT id FROM departments").scalar_one()
        con.execute(insert(Employee), [{"employee_no": f"M{i:06d}", "name": f"顾问{i}", "department_id": dep_id, "hourly_cost": Decimal(60),
                                        "status": "active", "created_at": now, "updated_at": now} for i in range(employees)])
        ids = [r[0] for r in con.exec_driver_sql("SELECT id FROM employees ORDER BY id")]
        con.execute(insert(Program), [{"code": "SALES", "title": "话术训练", "kind": "offline", "level": "foundation", "target_kinds": ["marketing"],
                                       "tags": [], "aims": ["crm.order_amount"], "planned_hours": 2, "eligibility": {}, "requires_approval": False,
                                       "active": True, "created_at": now}])
        program_id = con.exec_driver_sql("SELECT id FROM programs").scalar_one()
        starts = [WEEK0 + timedelta(weeks=8 + k * max(1, (weeks - 16) // SESSIONS), days=2, hours=1) for k in range(SESSIONS)]
        con.execute(insert(TrainingSession), [{"program_id": program_id, "code": f"SALES-{k + 1}", "sequence": k + 1, "starts_at": at,
                                               "ends_at": at + timedelta(hours=2), "status": "scheduled", "min_participation": 0.8,
                                               "capacity": employees, "checkin_methods": ["qr"], "created_at": now, "updated_at": now}
                                              for k, at in enumerate(starts)])
        sessions = [r[0] for r in con.exec_driver_sql("SELECT id FROM training_sessions ORDER BY sequence")]
        trained_week: dict[int, int] = {}
        enrol, attend = [], []
        for eid in ids:
            if rng.random() < TRAINED_SHARE:
                k = rng.randrange(SESSIONS)
                trained_week[eid] = (starts[k] - WEEK0).days // 7
                enrol.append({"session_id": sessions[k], "employee_id": eid, "status": "approved", "source": "hr", "created_at": now, "updated_at": now})
                attend.append({"session_id": sessions[k], "employee_id": eid, "attended_seconds": 6624, "scheduled_seconds": 7200,
                               "participation": 0.92, "late_seconds": 0, "early_leave_seconds": 576, "away": [], "flags": [], "events": 2,
                               "computed_at": now})
        con.execute(insert(Enrolment), enrol)
        con.execute(insert(AttendanceRecord), attend)
        con.execute(insert(CostItem), [{"program_id": program_id, "session_id": s, "category": "trainer_fee", "amount": Decimal(3000), "share": Decimal(1),
                                        "currency": "CNY", "created_by": "bench", "created_at": now} for s in sessions])
        total = 2 * weeks * len(ids)
        with Progress() as bar:
            task = bar.add_task("metric records", total=total)
            rows: list[dict] = []
            for n, eid in enumerate(ids):
                level = rng.gauss(3000, 300)
                tw = trained_week.get(eid)
                for w in range(weeks):
                    start = WEEK0 + timedelta(weeks=w)
                    season = 800.0 if 26 <= w <= 34 else 0.0
                    lift = LIFT if tw is not None and w > tw else 0.0
                    amount = max(0.0, level + season + lift + rng.gauss(0, 150))
                    for key, value in (("crm.order_amount", round(amount, 2)), ("crm.conversions", round(amount / 6800, 3))):
                        rows.append({"source": "crm", "source_record_id": f"{key}-{n}-{w}", "status": "accepted", "metric_key": key, "employee_id": eid,
                                     "value": Decimal(repr(value)), "period_start": start, "period_end": start + timedelta(days=7), "received_at": now,
                                     "batch_id": "bench", "batch_index": 0, "content_key": f"{key}-{n}-{w}", "raw": {}})
                if len(rows) >= 100_000:
                    con.execute(insert(MetricRecord), rows)
                    bar.update(task, advance=len(rows))
                    rows = []
            if rows:
                con.execute(insert(MetricRecord), rows)
                bar.update(task, advance=len(rows))
    engine.dispose()
    return now


def _per_employee(url: str, now: datetime) -> tuple[float, float, float]:
    """The same effect, its cells loaded the way a per-employee loop would: one query per person."""
    from sqlalchemy import select

    from trainquant.analytics.impact import estimate, rules
    from trainquant.analytics.impact.service import candidates, design_for, trained_dates
    from trainquant.db import make_engine, make_sessionmaker
    from trainquant.integrations.metrics.models import MetricRecord
    from trainquant.training.models import Program

    design = design_for("Asia/Shanghai")
    engine = make_engine(url=url)
    cells = []
    with make_sessionmaker(engine)() as db:
        program_id = db.scalar(select(Program.id).where(Program.code == "SALES"))
        trained = trained_dates(db, program_id, now)
        people = candidates(db, trained)
        first, last = min(trained.values()), max(trained.values())
        lo = rules.period_start(rules.period_of(first, design) - design.pre, design)
        hi = rules.period_start(rules.period_of(last, design) + design.post + 1, design)
        for eid in people:
            q = select(MetricRecord.period_start, MetricRecord.value).where(
                MetricRecord.metric_key == "crm.order_amount", MetricRecord.employee_id == eid, MetricRecord.status == "accepted",
                MetricRecord.period_start >= lo, MetricRecord.period_start < hi)
            cells += [rules.Cell(eid, rules.period_of(start, design), float(value), 1.0) for start, value in db.execute(q)]
    engine.dispose()
    s = rules.sample(cells, people, design)
    e = estimate.did2s(s)
    n = rules.naive(s, design)
    assert e is not None and n is not None
    return e.effect, n.before, n.after


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--employees", type=int, default=50_000)
    parser.add_argument("--weeks", type=int, default=52)
    args = parser.parse_args()
    from trainquant.analytics.impact import service as impact
    from trainquant.analytics.roi import service as roi
    from trainquant.db import make_engine, make_sessionmaker

    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        started = time.perf_counter()
        now = _seed(url, args.employees, args.weeks)
        print(f"seeded {args.employees:,} employees x {args.weeks} weeks x 2 metrics in {time.perf_counter() - started:.0f} s")
        design = impact.design_for("Asia/Shanghai")
        engine = make_engine(url=url)
        with make_sessionmaker(engine)() as db:
            started = time.perf_counter()
            # As the pages do: through the cache of effects, which the ROI then reads.
            effect = impact.cached_effect(db, "SALES", "crm.order_amount", design=design, now=now, version=impact.facts_version(db))
            effect_s = time.perf_counter() - started
            started = time.perf_counter()
            rep = roi.program_roi(db, "SALES", design=design, factors=roi.factors_from({}), now=now)
            roi_s = time.perf_counter() - started
        engine.dispose()
        started = time.perf_counter()
        loop_effect, loop_before, loop_after = _per_employee(url, now)
        loop_s = time.perf_counter() - started
    e, n = effect.estimate, effect.naive
    assert e is not None and n is not None
    report_s = effect_s + roi_s
    rows = len(effect.sample.rows)
    print(f"effect and ROI report, {args.employees:,} employees, {2 * args.employees * args.weeks:,} metric records (SQLite):")
    print(f"  isolated effect on orders: {effect_s:6.1f} s ({rows:,} panel cells; {effect.sample.trained:,} trained, "
          f"{effect.sample.comparison:,} compared): {e.effect:,.0f} CNY/week [{e.low:,.0f}, {e.high:,.0f}] (planted {LIFT:,.0f}), {effect.finding.status}")
    print(f"  ROI (costs, every monetised effect): {roi_s:6.1f} s: conservative {rep.roi.conservative.bcr} : 1")
    print(f"  the report: {report_s:6.1f} s (aim < 15 s)")
    print(f"  the same effect, cells loaded by a per-employee loop (one query each): {loop_s:6.1f} s; "
          f"ratio loop / report {loop_s / effect_s:.2f} (the effect alone)")
    print(f"  isolated effect: report {e.effect:,.4f}, loop {loop_effect:,.4f}; naive before -> after: report {n.before:,.2f} -> {n.after:,.2f}, "
          f"loop {loop_before:,.2f} -> {loop_after:,.2f}")
    if abs(e.effect - loop_effect) > 1e-6 * abs(e.effect) or abs(n.before - loop_before) > 0.01 or abs(n.after - loop_after) > 0.01:
        sys.exit("the report's figures differ from the per-employee loop's")


if __name__ == "__main__":
    main()
