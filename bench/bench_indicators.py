"""Indicator benchmark: every R1.2 default indicator for 50,000 employees over a year of synthetic facts.

    .venv/bin/python bench/bench_indicators.py [--employees 50000] [--seed 7] [--profile] [--db N]

The facts (assessments, study and online hours, business metrics) are generated in memory as if every
source were connected, so every default indicator has data to work on. They are generated and evaluated
chunk by chunk, as the service loads them (2,000 employees at a time), so only one chunk's facts are
alive at once. Timed: the pure engine (``rules.evaluate``) and the step that turns results into the
rows a run stores (with their evidence); generating the facts is not. The aim: the whole evaluation
in under 10 s on a 2-core machine.

``--db N`` also times the full service path for N employees on a fresh SQLite file: facts loaded from
the assessments table (the only source built so far), evaluated and batch-inserted.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib.util
import pstats
import random
import resource
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from trainquant.indicators.evaluation import CHUNK, calendar_at
from trainquant.indicators.metrics import ProgramFacts, programs_in_scope, rule_for
from trainquant.indicators.rules import Fact, Rule, evaluate, first_day_read

AIM_S = 10.0
PERIOD_END = date(2026, 12, 31)
CALENDAR = calendar_at(PERIOD_END)  # the default terms
YEAR_START = date(2026, 1, 1)
NOW = datetime(2027, 1, 2, 2, 0, tzinfo=UTC)
KINDS = ("teaching",) * 6 + ("marketing",) * 2 + ("admin",) * 2  # 60 / 20 / 20, like the case school of R4
VERSIONS = Path(__file__).resolve().parents[1] / "src/trainquant/migrations/versions"
MIGRATION = VERSIONS / "2026-11-28_default_indicators.py"
SECOND = VERSIONS / "2026-12-06_indicator_windows.py"  # the defaults' second versions, and TOEFL's own
# The programs the synthetic hours belong to, for the defaults' counted programs.
PROGRAMS = [ProgramFacts("P-TEACH", ("teaching",), ()), ProgramFacts("P-ADMIN", ("admin",), ())]


def _module(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def default_rules() -> dict[str, list[Rule]]:
    """The seeded defaults as they stand (migration 0003's, with 0027's second versions and TOEFL's
    indicator read from the migrations themselves), every fact kind taken as available."""
    seed, second = _module(MIGRATION, "default_indicators"), _module(SECOND, "indicator_windows")
    kind_of = {code: kind for code, kind, _name, _en in seed.MODULES}
    rows = [(code, module, *second.SECOND[code][2:]) if code in second.SECOND else (code, module, metric, params, agg, window, "days", {}, op, threshold, unit)
            for code, module, _name, _en, metric, params, agg, window, op, threshold, unit in seed.INDICATORS]
    toefl_code, toefl_module, toefl = second.TOEFL
    rows.append((toefl_code, toefl_module, *toefl[2:]))
    out: dict[str, list[Rule]] = {}
    for n, (_code, module, metric, params, agg, window, window_kind, programs, op, threshold, _unit) in enumerate(rows, 1):
        rule = rule_for(indicator_id=n, version_id=n, metric=metric, params=params, aggregation=agg, window_days=window,
                        operator=op, threshold=threshold, available_kinds={"study_hours", "online_hours", "assessment_score",
                        "assessment_passed", "error_rate", "exam_score_change", "business_metric"},
                        window_kind=window_kind, programs=programs_in_scope(programs, PROGRAMS))
        out.setdefault(kind_of[module], []).append(rule)
    return out


def _day(rnd: random.Random) -> date:
    return YEAR_START + timedelta(days=rnd.randrange(365))


def _monthly(rnd: random.Random, emp: int, key: str, start: float, drift: float, ref: str) -> list[Fact]:
    value, out = start, []
    for month in range(1, 13):
        value += rnd.gauss(drift, abs(drift) + 0.01 * start)
        out.append(Fact(emp, "business_metric", key, date(2026, month, 28), round(value, 3), f"{ref}:{emp}:{month}"))
    return out


def employee_facts(rnd: random.Random, emp: int, kind: str) -> list[Fact]:
    f: list[Fact] = []
    add = f.append
    if kind == "teaching":
        for i in range(24):
            add(Fact(emp, "study_hours", "", _day(rnd), rnd.choice((1.0, 1.5, 2.0, 3.0)), f"checkin:{emp}:{i}", "P-TEACH"))
        for i in range(4):
            add(Fact(emp, "assessment_score", "trial_lecture", _day(rnd), round(rnd.uniform(65, 98), 1), f"assessment:t{emp}:{i}"))
            add(Fact(emp, "assessment_score", "communication", _day(rnd), round(rnd.uniform(70, 99), 1), f"assessment:c{emp}:{i}"))
        for i in range(rnd.randrange(0, 3)):
            add(Fact(emp, "exam_score_change", "ielts", _day(rnd), rnd.choice((-0.5, 0.0, 0.5, 0.5, 1.0)), f"assessment:x{emp}:{i}"))
        f += _monthly(rnd, emp, "student_rating", rnd.uniform(3.8, 4.6), 0.02, "tp")
    elif kind == "marketing":
        for i in range(4):
            add(Fact(emp, "assessment_score", "script_simulation", _day(rnd), round(rnd.uniform(70, 100), 1), f"assessment:s{emp}:{i}"))
        for i in range(6):
            add(Fact(emp, "assessment_passed", "case_analysis", _day(rnd), float(rnd.random() < 0.9), f"assessment:a{emp}:{i}"))
        f += _monthly(rnd, emp, "conversion_rate", rnd.uniform(8, 14), 0.6, "crm")
    else:
        for i in range(24):
            add(Fact(emp, "online_hours", "", _day(rnd), rnd.choice((0.5, 1.0, 1.5)), f"xapi:{emp}:{i}", "P-ADMIN"))
        for i in range(12):
            errors = 0 if rnd.random() < 0.7 else rnd.randrange(1, 4)
            add(Fact(emp, "error_rate", "error_rate", _day(rnd), errors / 50, f"assessment:e{emp}:{i}"))
        f += _monthly(rnd, emp, "process_time", rnd.uniform(24, 36), -0.5, "oa")
    return f


def generate(first: int, count: int, rnd: random.Random) -> dict[str, tuple[list[int], list[Fact]]]:
    """Employees ``first`` .. ``first + count - 1`` with a year of facts, by department kind."""
    by_kind: dict[str, tuple[list[int], list[Fact]]] = {k: ([], []) for k in set(KINDS)}
    for emp in range(first, first + count):
        kind = KINDS[emp % len(KINDS)]
        ids, facts = by_kind[kind]
        ids.append(emp)
        facts += employee_facts(rnd, emp, kind)
    return by_kind


def rows_of(results) -> list[dict]:
    """What ``evaluation.run_evaluation`` inserts per result (the evidence as JSON-ready dicts)."""
    return [
        {"run_id": 1, "employee_id": r.employee_id, "indicator_version_id": r.version_id, "period_end": PERIOD_END,
         "status": r.status, "value": r.value, "threshold": r.threshold,
         "facts": [{"key": f.key, "on": f.on.isoformat(), "value": f.value, "ref": f.ref} for f in r.facts]}
        for r in results
    ]


def bench_memory(employees: int, seed: int, profile: bool, chunk: int) -> None:
    """Chunk by chunk, as ``evaluation.run_evaluation`` works: only one chunk's facts are alive at a time."""
    rules = default_rules()
    rnd = random.Random(seed)
    profiler = cProfile.Profile() if profile else None
    generating = engine_s = rows_s = 0.0
    n_facts, statuses, n_rows = 0, Counter(), 0
    for first in range(1, employees + 1, chunk):
        t0 = time.perf_counter()
        data = generate(first, min(chunk, employees + 1 - first), rnd)
        t1 = time.perf_counter()
        if profiler:
            profiler.enable()
        results = []
        for kind, (ids, facts) in data.items():
            results += evaluate(rules[kind], facts, ids, PERIOD_END, CALENDAR)
        t2 = time.perf_counter()
        rows = rows_of(results)
        t3 = time.perf_counter()
        if profiler:
            profiler.disable()
        generating, engine_s, rows_s = generating + t1 - t0, engine_s + t2 - t1, rows_s + t3 - t2
        n_facts += sum(len(f) for _ids, f in data.values())
        statuses.update(r.status for r in results)
        n_rows += len(rows)
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(18)
    total_s = engine_s + rows_s
    print(f"{employees:,} employees, {n_facts:,} facts of one year, in chunks of {chunk:,} (generating them took {generating:.1f} s, not timed)")
    print(f"results: {sum(statuses.values()):,} ({', '.join(f'{k} {v:,}' for k, v in sorted(statuses.items()))}); rows built: {n_rows:,}")
    print(f"engine (rules.evaluate):            {engine_s:6.2f} s  {employees / engine_s:>10,.0f} employees/s")
    print(f"engine + stored rows with evidence: {total_s:6.2f} s  {employees / total_s:>10,.0f} employees/s")
    print(f"aim: under {AIM_S:.0f} s -> {total_s / AIM_S:.2f} of the budget ({AIM_S / total_s:.1f}x headroom)")


def bench_database(employees: int, seed: int) -> None:
    from sqlalchemy import insert

    from trainquant.config import Settings
    from trainquant.db import make_engine, make_sessionmaker, unit_of_work
    from trainquant.indicators.evaluation import run_evaluation
    from trainquant.migrate import upgrade
    from trainquant.org.models import Department, Employee
    from trainquant.training.models import Assessment

    rnd = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(Settings(env="test"), url=f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        factory = make_sessionmaker(engine)
        t0 = time.perf_counter()
        with unit_of_work(factory) as db:
            deps = {k: Department(code=k.upper(), name=k, kind=k) for k in set(KINDS)}
            db.add_all(deps.values())
            db.flush()
            db.execute(insert(Employee), [
                {"id": i, "employee_no": f"E{i:06d}", "name": f"员工{i}", "department_id": deps[KINDS[i % len(KINDS)]].id,
                 "status": "active", "created_at": NOW, "updated_at": NOW} for i in range(1, employees + 1)
            ])
            rows = []
            for i in range(1, employees + 1):
                kind = KINDS[i % len(KINDS)]
                specs = {"teaching": [("trial_lecture", 4), ("communication", 4), ("ielts", 2)],
                         "marketing": [("script_simulation", 4), ("case_analysis", 6)], "admin": [("error_rate", 12)]}[kind]
                for code, n in specs:
                    for _ in range(n):
                        row = {"employee_id": i, "kind_code": code, "assessed_on": _day(rnd), "ratings": [], "created_by": "bench", "created_at": NOW,
                               "score": None, "passed": None, "errors": None, "operations": None}
                        if code == "case_analysis":
                            row["passed"] = rnd.random() < 0.9
                        elif code == "error_rate":
                            row["errors"], row["operations"] = (0 if rnd.random() < 0.7 else 1), 50
                        else:
                            row["score"] = rnd.choice((6.0, 6.5, 7.0, 7.5)) if code == "ielts" else round(rnd.uniform(65, 99), 1)
                        rows.append(row)
            db.execute(insert(Assessment), rows)
        print(f"\n--db: {employees:,} employees, {len(rows):,} assessments loaded into SQLite in {time.perf_counter() - t0:.1f} s (not timed)")
        t0 = time.perf_counter()
        with unit_of_work(factory) as db:
            summary = run_evaluation(db, period_end=PERIOD_END, actor="bench", now=NOW, tz=ZoneInfo("Asia/Shanghai"))
        took = time.perf_counter() - t0
        print(f"service (load facts, evaluate, insert {summary.evaluations:,} rows, commit): {took:.2f} s  {employees / took:,.0f} employees/s")
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--employees", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--chunk", type=int, default=CHUNK, help="employees per chunk (the service's own by default)")
    parser.add_argument("--db", type=int, default=0, metavar="N", help="also time the service path on SQLite for N employees")
    args = parser.parse_args()
    earliest = min(first_day_read(r, PERIOD_END, CALENDAR) for rules in default_rules().values() for r in rules)
    print(f"Python {sys.version.split()[0]}; period end {PERIOD_END}, the default rules read facts from {earliest}")
    bench_memory(args.employees, args.seed, args.profile, args.chunk)
    if args.db:
        bench_database(args.db, args.seed)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
