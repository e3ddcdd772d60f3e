"""A scheduled pull of 1,000,000 metric records from a simulated system into the store.

    .venv/bin/python bench/bench_pull.py [--items 250000] [--page 1000]

The simulated teaching platform (its own process, bearer token, cursor paging, pages of ``--page``
items) serves ``--items`` teacher-weeks of four metrics each (1,000,000 records by default) for 2,000
teachers whose ids TrainQuant knows. ``integrations.pull.service.sync`` pulls them into a fresh
SQLite store, page by page (each page's records and the next position committed together). The peer:
a plain httpx client fetching the same pages and parsing them, storing nothing. Printed: records per
second of both and the ratio (aim >= 0.5), and the records stored (aim: every one, none twice).

A third figure says how far any pull could go here: the store's own write of the same rows, nothing
else (the rows the pull stored, read back as the driver takes them and inserted by ``executemany``
into a copy of the store as seeded (same schema, settings and people), committed as often as the pull commits). A pull
that stores these rows cannot beat it, so ``floor / plain`` is the best ratio this machine allows.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from trainquant.config import Settings
from trainquant.simulate.systems.process import start_process
from trainquant.simulate.systems.server import SystemConfig

TEACHERS = 2000
START = datetime(2025, 12, 1, 16, tzinfo=UTC)


def _items(n: int) -> list[dict]:
    out = []
    for i in range(n):
        week = START + timedelta(weeks=(i // TEACHERS) % 50)
        out.append({"id": f"W{i:07d}", "updated_at": (START + timedelta(seconds=i)).isoformat(), "teacher": {"id": f"TP{i % TEACHERS:05d}"},
                    "week": {"start": week.isoformat(), "end": (week + timedelta(days=7)).isoformat()},
                    "ratings": {"overall": round(4 + (i % 10) / 10, 2), "interaction": round(4 + (i % 7) / 10, 2)},
                    "renewals": {"due": 3 + i % 4, "renewed": 2 + i % 3}})
    return out


def _seed(url: str) -> None:
    from trainquant.db import make_engine, make_sessionmaker, unit_of_work
    from trainquant.integrations.connectors.service import create_connector
    from trainquant.migrate import upgrade
    from trainquant.org.models import Department, Employee, ExternalId

    engine = make_engine(url=url)
    upgrade(engine)
    now = datetime.now(UTC)
    with unit_of_work(make_sessionmaker(engine)) as db:
        dep = Department(code="TEACH", name="教学部", kind="teaching")
        db.add(dep)
        db.flush()
        people = [Employee(employee_no=f"T{i:05d}", name=f"教师{i}", department_id=dep.id, hourly_cost=Decimal(80), status="active",
                           created_at=now, updated_at=now) for i in range(TEACHERS)]
        db.add_all(people)
        db.flush()
        db.add_all([ExternalId(employee_id=p.id, system="teaching_platform", external_id=f"TP{i:05d}") for i, p in enumerate(people)])
        create_connector(db, name="tp", system="teaching_platform", title=None, settings=Settings(database_url=url), now=now)
    engine.dispose()


def _pull_body(url: str, page: int) -> dict:
    return {"config": {"url": f"{url}/api/v1/weeks", "auth": {"style": "bearer"}, "paging": {"style": "cursor", "size": page, "size_param": "limit"},
                       "mapping": {"items": "$.results", "record_id": "$.id", "who": "external_id", "who_path": "$.teacher.id",
                                   "period_start": "$.week.start", "period_end": "$.week.end", "cursor_field": "$.updated_at",
                                   "records": [{"metric": "teaching.rating.overall", "value": "$.ratings.overall"},
                                               {"metric": "teaching.rating.interaction", "value": "$.ratings.interaction"},
                                               {"metric": "teaching.students", "value": "$.renewals.due"},
                                               {"metric": "teaching.students.retained", "value": "$.renewals.renewed"}]}},
            "credentials": {"token": "bench-token"}}


def _plain(url: str, page: int) -> tuple[int, float]:
    started, items, cursor = time.perf_counter(), 0, None
    with httpx.Client(base_url=url, headers={"Authorization": "Bearer bench-token"}, trust_env=False, timeout=60) as client:
        while True:
            body = client.get("/api/v1/weeks", params={"limit": page, **({"cursor": cursor} if cursor else {})}).json()
            items += len(body["results"])
            cursor = body["next_cursor"]
            if not cursor:
                break
    return items, time.perf_counter() - started


COLUMNS = ("source", "source_record_id", "status", "reason_code", "reason", "metric_key", "employee_id", "external_system", "external_id",
           "value", "period_start", "period_end", "received_at", "batch_id", "batch_index", "content_key", "raw")


def _bare_write(stored_db: str, tmp: str, every: int) -> tuple[int, float]:
    """The stored rows written again into a fresh store, straight to the driver; (rows, seconds)."""
    from trainquant.db import make_engine

    con = sqlite3.connect(stored_db)
    rows = con.execute(f"SELECT {', '.join(COLUMNS)} FROM metric_records ORDER BY id").fetchall()
    con.close()
    engine = make_engine(url=f"sqlite:///{tmp}/floor.db")  # the seeded store, copied before the pull
    sql = f"INSERT INTO metric_records ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    started = time.perf_counter()
    for start in range(0, len(rows), every):
        with engine.begin() as conn:
            for at in range(start, min(start + every, len(rows)), 5000):  # the pull's chunk (db.insert_rows)
                conn.exec_driver_sql(sql, rows[at:min(at + 5000, start + every)])
    seconds = time.perf_counter() - started
    engine.dispose()
    return len(rows), seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=250_000)
    parser.add_argument("--page", type=int, default=1000)
    args = parser.parse_args()
    from rich.progress import Progress

    from trainquant.db import make_engine, make_sessionmaker
    from trainquant.integrations.pull import service
    from trainquant.integrations.pull.schemas import PullIn

    items = _items(args.items)
    records = 4 * args.items
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        _seed(url)
        for suffix in ("", "-wal"):
            if Path(f"{tmp}/bench.db{suffix}").exists():
                shutil.copy(f"{tmp}/bench.db{suffix}", f"{tmp}/floor.db{suffix}")
        config = SystemConfig(name="tp", collection="weeks", items=items, token="bench-token", pagination="cursor",
                              page_size=args.page, max_page_size=args.page)
        with start_process(config, Path(tmp)) as system:
            got, plain_s = _plain(system.url, args.page)
            assert got == args.items
            settings = Settings(database_url=url)
            engine = make_engine(settings)
            factory = make_sessionmaker(engine)
            with factory() as db, db.begin():
                service.configure(db, "tp", PullIn.model_validate(_pull_body(system.url, args.page)), settings=settings, now=datetime.now(UTC))
            with Progress() as bar:
                task = bar.add_task("pulling", total=args.items)
                started = time.perf_counter()
                service.sync(factory, "tp", settings=settings, clock=lambda: datetime.now(UTC),
                             on_page=lambda run: bar.update(task, completed=run.items))
                pull_s = time.perf_counter() - started
            engine.dispose()
        con = sqlite3.connect(f"{tmp}/bench.db")
        stored = con.execute("SELECT count(*), count(DISTINCT source_record_id) FROM metric_records WHERE status = 'accepted'").fetchone()
        con.close()
        written, floor_s = _bare_write(f"{tmp}/bench.db", tmp, Settings().pull_commit_records)
        assert written == records
    floor_rate = records / floor_s
    pull_rate, plain_rate = records / pull_s, records / plain_s
    print(f"pull of {args.items:,} items ({records:,} records, pages of {args.page}) from the simulated teaching platform into SQLite:")
    print(f"  TrainQuant's pull:  {pull_s:6.1f} s = {pull_rate:9,.0f} records/s")
    print(f"  plain client, no storing: {plain_s:6.1f} s = {plain_rate:9,.0f} records/s")
    print(f"  the store's own write of the same rows, nothing else: {floor_s:6.1f} s = {floor_rate:9,.0f} records/s")
    print(f"  ratio {pull_rate / plain_rate:.2f} (aim >= 0.5; the write alone allows at most {min(1.0, floor_rate / plain_rate):.2f}, "
          f"the pull reaches {pull_rate / floor_rate:.2f} of it); stored {stored[0]:,} records, {stored[1]:,} distinct (aim {records:,} and {records:,})")
    if stored[0] != records or stored[1] != records:
        sys.exit(1)


if __name__ == "__main__":
    main()
