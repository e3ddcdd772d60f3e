"""Watch coverage of 1,000,000 video-profile statements, read from the store.

    .venv/bin/python bench/bench_coverage.py [--statements 1000000]

The simulated online year's viewers (every behaviour of ``simulate/learning/generate.py``), repeated
over enough learners and courses to make ``--statements`` statements. Their video blocks are written
into a SQLite database made by the migrations, as the LRS writes them (``lrs/blocks.append``, a
block per request of 500 statements, as the simulated school loads them) and compacted as the minute
sweep compacts them (``lrs/blocks.compact``); both are timed and printed, not counted in the figure.

Timed, the figure: coverage of every (learner, video) from the store, i.e. ``blocks.read_columns``
(the blocks' rows, the voided statements, NumPy records to columns) then ``fast.coverage_all``;
its ratio to the aim (5 s for 1,000,000). Beside it: the NumPy path from the statements' parsed JSON
(``fast.Columns.build``: what the store saves) and the one-at-a-time reference (``video.event_of``,
``video.plays_and_seeks``, ``rules.learner_coverage`` per learner), the mismatches between the store's
figures and the reference over every (learner, video), and the first copy's figures against the
generator's ground truth.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from sqlalchemy import func, select

from trainquant.config import Settings
from trainquant.db import make_engine, make_sessionmaker, unit_of_work
from trainquant.learning.fast import Columns, coverage_all
from trainquant.learning.lrs import blocks
from trainquant.learning.models import XapiVideoBlock
from trainquant.learning.rules import learner_coverage, study_seconds
from trainquant.learning.video import event_of, plays_and_seeks
from trainquant.migrate import upgrade
from trainquant.simulate.institution.school import generate
from trainquant.simulate.learning.generate import LENGTH_S, generate_online_year

AIM_S = 5.0
HOME = "http://bench.example/"


def _year(statements: int):
    """Copies of the simulated year, each under other employee numbers, until there are enough statements."""
    school = generate(2026, today=date(2026, 12, 1))
    years = []
    total, copy = 0, 0
    while total < statements:
        year = generate_online_year(school, home=HOME, seed=copy)
        years.append((copy, year))
        total += len(year.statements)
        copy += 1
    return years


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--statements", type=int, default=1_000_000)
    args = parser.parse_args()
    years = _year(args.statements)
    docs: list[tuple[str, dict, datetime]] = []
    for copy, year in years:
        for s in year.statements:
            learner = f"{copy}:{s['actor']['account']['name']}"
            docs.append((learner, s, datetime.fromisoformat(s["timestamp"].replace("Z", "+00:00"))))
    docs = docs[: args.statements]
    lengths = {v.activity_id: float(LENGTH_S) for c in years[0][1].courses for v in c.videos}
    speeds = {v.activity_id: c.max_speed for c in years[0][1].courses for v in c.videos}
    learners = len({d[0] for d in docs})
    print(f"{len(docs):,} statements of {learners:,} learners ({len(years)} copies of the simulated online year)", flush=True)

    numbers = {name: i for i, name in enumerate(sorted({d[0] for d in docs}))}
    rows = [(numbers[learner], doc, at) for learner, doc, at in docs]  # as the store hands them over: a person's number
    started = time.perf_counter()
    fast_json = coverage_all(Columns.build(rows, list(lengths)), lengths=lengths, max_speeds=speeds)
    json_s = time.perf_counter() - started

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(Settings(env="test"), url=f"sqlite:///{tmp}/bench.db")
        upgrade(engine)
        factory = make_sessionmaker(engine)
        started = time.perf_counter()
        for at in range(0, len(rows), 500):  # a block per request of 500, as the simulated school posts them
            with unit_of_work(factory) as db:
                blocks.append(db, [(pk, learner, doc, when, "apikey:1") for pk, (learner, doc, when) in enumerate(rows[at:at + 500], start=at + 1)])
        append_s = time.perf_counter() - started
        started = time.perf_counter()
        with unit_of_work(factory) as db:
            merged = blocks.compact(db)
            left = db.scalar(select(func.count()).select_from(XapiVideoBlock))
        compact_s = time.perf_counter() - started
        with factory() as db:
            started = time.perf_counter()
            columns = blocks.read_columns(db, list(lengths))
            read_s = time.perf_counter() - started
            fast = coverage_all(columns, lengths=lengths, max_speeds=speeds)
            fast_s = time.perf_counter() - started
        engine.dispose()
    # The store and the parsed JSON must give the same figures, to the bit.
    differ = sum(fast.watched.get(k) != w or fast.complete.get(k) != fast_json.complete[k] for k, w in fast_json.watched.items())
    differ += len(set(fast.watched) ^ set(fast_json.watched))

    started = time.perf_counter()
    by_learner: dict[str, list] = {}
    for order, (learner, doc, at) in enumerate(docs):
        event = event_of(doc, at=at.astimezone(UTC), order=order)
        if event is not None:
            by_learner.setdefault(learner, []).append(event)
    events_s = time.perf_counter() - started
    results = {}
    for learner, events in by_learner.items():
        plays, _ = plays_and_seeks(events)
        coverage = {}
        for max_speed in set(speeds.values()):
            own = {a: lengths[a] for a, s in speeds.items() if s == max_speed}
            coverage |= learner_coverage([p for p in plays if p.video in own], lengths=own, max_speed=max_speed)
        results[learner] = (coverage, study_seconds([p for p in plays if p.speed <= speeds[p.video]], max_speed=max(speeds.values())))
    elapsed = time.perf_counter() - started

    # The figures are the ground truth's (the first copy's learners).
    copy, year = years[0]
    checked = 0
    for (employee_no, code), truth in year.truth.items():
        coverage, _study = results[f"{copy}:{employee_no}"]
        for activity, watched in truth.watched.items():
            assert abs(coverage[activity].watched - watched) < 1e-6, (employee_no, code, activity)
        checked += 1
    mismatches = 0
    for learner, (coverage, _study) in results.items():
        for activity, c in coverage.items():
            key = (numbers[learner], activity)
            if abs(fast.watched.get(key, 0.0) - c.watched) > 1e-5 or fast.complete.get(key, False) != c.complete:
                mismatches += 1
    scaled = fast_s * 1_000_000 / len(docs)
    print(f"store: {len(rows) // 500 + (len(rows) % 500 > 0):,} blocks written in {append_s:.2f} s ({append_s / len(docs) * 1e6:.1f} us a statement), "
          f"compacted into {left} ({merged:,} merged) in {compact_s:.2f} s")
    print(f"reference (one at a time, from parsed JSON): {elapsed:.2f} s (video events {events_s:.2f} s, plays and coverage {elapsed - events_s:.2f} s), "
          f"{len(docs) / elapsed:,.0f} statements/s")
    print(f"NumPy path from parsed JSON: {json_s:.2f} s")
    print(f"NumPy path from the store: {fast_s:.2f} s (read {read_s:.2f} s, coverage {fast_s - read_s:.2f} s), {len(docs) / fast_s:,.0f} statements/s; "
          f"x{elapsed / fast_s:.1f} the reference; per 1,000,000: {scaled:.2f} s, aim {AIM_S:.0f} s -> ratio {AIM_S / scaled:.2f} (>= 1 meets it)")
    print(f"{mismatches} mismatches between the store's figures and the reference over {sum(len(c) for c, _ in results.values()):,} learner-videos; "
          f"{checked} learner-courses equal the ground truth")
    print(f"{differ} (learner, video) figures differ between the store and the parsed JSON")
    return 1 if mismatches or differ else 0


if __name__ == "__main__":
    sys.exit(main())
