"""Whole-day platform exports of the 300-person simulated school, each imported in one request.

    .venv/bin/python bench/bench_platform_day.py [--seed 2026] [--repeat 3]

``trainquant serve`` (one worker, SQLite) gets each platform's whole day (WeCom, DingTalk, Feishu:
about 950 records each) on ``POST /api/v1/attendance/imports/{platform}``: seconds per request and
records per second, and the mismatches of the stored figures against the simulation's ground truth
(aim: 0). The peer: the same punches as the import stored them (already converted and placed, with
their session codes) posted to the plain events API answered after recomputing (``?wait=true``) into
the same starting database; the ratio says what conversion, the verdict policy and placement cost
on top of ingestion (every record the import stored is posted: the placed ones are accepted there,
the set-aside ones rejected). Each figure is the median of ``--repeat`` runs on fresh databases.
"""

from __future__ import annotations

import argparse
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_attendance import _free_port, _serve
from trainquant.simulate.attendance.platform_day import PlatformDay, platform_days
from trainquant.simulate.institution.school import generate


def _seed(url: str, seed: int) -> tuple[tuple[PlatformDay, ...], str]:
    from trainquant.auth.service import create_api_key
    from trainquant.db import make_engine, make_sessionmaker, unit_of_work
    from trainquant.migrate import upgrade
    from trainquant.simulate.attendance.load_platform_day import PlatformDayLoad, write_sessions
    from trainquant.simulate.load import load_school

    now = datetime.now(UTC)
    school = generate(seed, today=now.date())
    days = platform_days(school)
    engine = make_engine(url=url)
    upgrade(engine)
    with unit_of_work(make_sessionmaker(engine)) as db:
        load_school(db, school, now=now)
        write_sessions(db, days, now=now, out=PlatformDayLoad())
        _, key = create_api_key(db, name="bench", scopes=["attendance:write", "attendance:manage"], created_by="bench", now=now)
    engine.dispose()
    return days, key


def _mismatches(db_file: str, days: tuple[PlatformDay, ...]) -> int:
    con = sqlite3.connect(db_file)
    got = {(code, no): seconds for code, no, seconds in con.execute(
        "SELECT s.code, e.employee_no, r.attended_seconds FROM attendance_records r "
        "JOIN training_sessions s ON s.id = r.session_id JOIN employees e ON e.id = r.employee_id WHERE s.code LIKE 'SIM-PD-%'")}
    con.close()
    want = {(t.session_code, t.employee_no): t.attended_seconds for d in days for t in d.truth}
    wrong = [(k, got.get(k), want.get(k)) for k in sorted(set(got) | set(want)) if got.get(k) != want.get(k)]
    for k, g, w in wrong[:10]:
        print(f"  mismatch {k}: stored {g}, true {w}")
    return len(wrong)


def run_once(seed: int) -> tuple[dict[str, float], dict[str, float], int, int]:
    """(seconds per platform import, seconds per peer batch, records per day, mismatches)."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        days, key = _seed(url, seed)
        shutil.copyfile(f"{tmp}/bench.db", f"{tmp}/peer.db")
        imports: dict[str, float] = {}
        port = _free_port()
        server = _serve(tmp, url, port, 1)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}, timeout=600) as c:
                for d in days:
                    body = orjson.dumps(d.payload)
                    start = time.perf_counter()
                    r = c.post(f"/api/v1/attendance/imports/{d.platform}", content=body, headers={"content-type": "application/json"})
                    imports[d.platform] = time.perf_counter() - start
                    r.raise_for_status()
        finally:
            server.terminate()
            server.wait(30)
        wrong = _mismatches(f"{tmp}/bench.db", days)
        con = sqlite3.connect(f"{tmp}/bench.db")
        stored = {source: [orjson.loads(raw) for (raw,) in con.execute(
            "SELECT raw FROM checkin_events WHERE source = ? ORDER BY id", (source,))] for source in imports}
        con.close()
        peer: dict[str, float] = {}
        port = _free_port()
        server = _serve(tmp, f"sqlite:///{tmp}/peer.db", port, 1)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}, timeout=600) as c:
                for source, events in stored.items():
                    body = orjson.dumps({"events": events})
                    start = time.perf_counter()
                    r = c.post("/api/v1/attendance/events", content=body, params={"wait": "true"}, headers={"content-type": "application/json"})
                    peer[source] = time.perf_counter() - start
                    r.raise_for_status()
        finally:
            server.terminate()
            server.wait(30)
        return imports, peer, round(statistics.fmean(d.records for d in days)), wrong


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    runs = [run_once(args.seed) for _ in range(args.repeat)]
    records = runs[0][2]
    print(f"whole-day platform exports, {records} records a day on average, one request each (median of {args.repeat} runs)")
    print(f"{'platform':<10}{'import s':>10}{'records/s':>12}{'peer s':>10}{'ratio':>8}")
    for platform in ("wecom", "dingtalk", "feishu"):
        imp = statistics.median(r[0][platform] for r in runs)
        peer = statistics.median(r[1][platform] for r in runs)
        print(f"{platform:<10}{imp:>10.2f}{records / imp:>12,.0f}{peer:>10.2f}{imp / peer:>8.2f}")
    mismatches = max(r[3] for r in runs)
    print(f"mismatches against the ground truth: {mismatches} (aim 0)")
    if mismatches:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
