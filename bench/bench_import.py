"""Import benchmark: N employees from an xlsx into a fresh SQLite database, through the real service.

    .venv/bin/python bench/bench_import.py [--rows 50000] [--repeat 3] [--profile]

Prints rows/second for a first import (every row created) and a re-import of the same file (every row
unchanged), peak Python memory (tracemalloc, measured on a separate run because tracing slows Python
down) and the process's peak RSS, and the ratio to the target of 5,000 rows/s.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import random
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from openpyxl import Workbook

from trainquant.config import Settings
from trainquant.db import make_engine, make_sessionmaker, unit_of_work
from trainquant.imports.service import run_import
from trainquant.migrate import upgrade
from trainquant.org.models import Department, Site

TARGET_ROWS_PER_S = 5_000
NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
DEPARTMENTS = [("T-EN", "英语教学部", "teaching"), ("T-ZH", "语文教学部", "teaching"), ("T-MA", "数学教学部", "teaching"),
               ("MKT", "市场部", "marketing"), ("ADM", "行政部", "admin")]
HEADER = ["工号", "姓名", "部门", "岗位", "入职日期", "状态", "时薪", "上级工号", "校区", "邮箱", "手机", "标签", "考勤机编号", "企业微信ID"]
SURNAMES, GIVEN = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗", "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂"
STATUSES = ["在职"] * 8 + ["试用", "休假"]
TAGS = ["新教师", "雅思", "托福", "少儿", "口语", "写作", "骨干"]


def make_xlsx(rows: int, seed: int = 7) -> bytes:
    rnd = random.Random(seed)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("员工")
    ws.append(HEADER)
    start = date(2015, 1, 1)
    for i in range(rows):
        no = f"E{i + 1:06d}"
        manager = f"E{(i // 20) * 20 + 1:06d}" if i % 20 else None  # every 20th is a manager of the next 19
        ws.append([
            no, rnd.choice(SURNAMES) + rnd.choice(GIVEN) + rnd.choice(GIVEN), rnd.choice(DEPARTMENTS)[0], rnd.choice(["教师", "主讲教师", "助教", "顾问"]),
            datetime.combine(start + timedelta(days=rnd.randrange(4000)), datetime.min.time()), rnd.choice(STATUSES),
            round(rnd.uniform(40, 300), 2), manager, rnd.choice(["BJ", "SH"]), f"{no.lower()}@school.example", f"138{i:08d}",
            "、".join(rnd.sample(TAGS, rnd.randrange(0, 3))), str(10000 + i), f"wx_{no.lower()}",
        ])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def fresh_database(folder: Path, name: str):
    settings = Settings(env="test", database_url=f"sqlite:///{folder / name}", import_max_rows=1_000_000, import_max_bytes=200 * 1024 * 1024)
    engine = make_engine(settings)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with unit_of_work(sessions) as db:
        db.add_all(Department(code=c, name=n, kind=k) for c, n, k in DEPARTMENTS)
        db.add_all([Site(code="BJ", name="北京校区"), Site(code="SH", name="上海校区", timezone="Asia/Shanghai")])
    return settings, engine, sessions


def timed_import(sessions, settings, content: bytes, label: str) -> tuple[float, object]:
    started = time.perf_counter()
    with unit_of_work(sessions) as db:
        run = run_import(db, kind="employees", filename="bench.xlsx", content=content, mode="all-or-nothing", actor="bench", now=NOW, settings=settings)
    seconds = time.perf_counter() - started
    rate = run.total_rows / seconds
    print(f"{label:<28} {run.total_rows:>7} rows in {seconds:6.2f} s = {rate:8.0f} rows/s "
          f"({rate / TARGET_ROWS_PER_S:.2f}x target) status={run.status} created={run.created_count} "
          f"updated={run.updated_count} unchanged={run.unchanged_count} rejected={run.rejected_count}")
    return rate, run


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=1, help="import into N fresh databases and report the best and the median")
    parser.add_argument("--profile", action="store_true", help="print the top of a cProfile of the first import")
    args = parser.parse_args()

    t0 = time.perf_counter()
    content = make_xlsx(args.rows)
    print(f"generated {args.rows} employees as xlsx ({len(content) / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")
    firsts, agains = [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for attempt in range(max(1, args.repeat)):
            settings, engine, sessions = fresh_database(folder, f"run{attempt}.db")
            profiler = cProfile.Profile() if args.profile and attempt == 0 else None
            if profiler:
                profiler.enable()
            first, run = timed_import(sessions, settings, content, "first import (create)")
            if profiler:
                profiler.disable()
                pstats.Stats(profiler).sort_stats("cumulative").print_stats(30)
            if run.status != "applied":
                print("the benchmark file was not applied cleanly", file=sys.stderr)
                return 1
            again, _ = timed_import(sessions, settings, content, "re-import (unchanged)")
            engine.dispose()
            firsts.append(first)
            agains.append(again)

        settings, engine, sessions = fresh_database(folder, "traced.db")
        tracemalloc.start()
        with unit_of_work(sessions) as db:
            run_import(db, kind="employees", filename="bench.xlsx", content=content, mode="all-or-nothing", actor="bench", now=NOW, settings=settings)
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        engine.dispose()
    first, again = max(firsts), max(agains)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"peak Python memory (tracemalloc, first import): {peak / 1e6:.0f} MB; peak RSS of the process: {rss:.0f} MB")
    if len(firsts) > 1:
        print(f"median of {len(firsts)}: first import {statistics.median(firsts):.0f} rows/s, re-import {statistics.median(agains):.0f} rows/s")
    print(f"best: first import {first:.0f} rows/s = {first / TARGET_ROWS_PER_S:.2f}x the target of {TARGET_ROWS_PER_S} rows/s; "
          f"re-import {again:.0f} rows/s = {again / TARGET_ROWS_PER_S:.2f}x")
    return 0 if min(first, again) >= TARGET_ROWS_PER_S else 2


if __name__ == "__main__":
    sys.exit(main())
