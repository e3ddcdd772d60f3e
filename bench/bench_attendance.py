"""Attendance benchmarks.

    .venv/bin/python bench/bench_attendance.py [--events 200000] [--workers 2] [--clients 4] [--people 50000] [--sessions-per-person 40]

1. Ingestion through the HTTP API into SQLite: ``trainquant serve`` in its own processes (``--workers``,
   one per core), ``--clients`` posting batches of 10,000 over loopback at the same time, in
   events/second, and the ratio to a plain ``executemany`` of the same rows into the same table
   (aim: >= 50,000 events/s and a ratio >= 0.3), and how long after the last batch was stored the
   figures, proxy cases and alerts were all settled (no batch left pending; aim <= 5 s). Then once
   with one worker and one client, and once answered only after the figures are recomputed
   (``?wait=true``; aim: no slower than 10x the answered-once-stored path).
2. Recomputing attendance for N people x a year of sessions (about 4 punches each, ~5 million
   events): the NumPy batch (``attendance/batch.py``) against the one-person-at-a-time loop over the
   reference rules, timed on a sample and extrapolated (aim: < 10 s).
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from trainquant.attendance.batch import attended_batch
from trainquant.attendance.rules import COUNT_TO_LAST_EVENT, CREDIT_TO_END, Punch, Window, attended
from trainquant.db import CACHE_KIB

# A year ago: the server runs on the system clock and refuses punches from the future.
T0 = datetime.now(UTC).replace(hour=6, minute=0, second=0, microsecond=0) - timedelta(days=366)


# ---------------------------------------------------------------- 1. ingestion


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _seed(db_url: str, people: int, sessions: int) -> None:
    from trainquant.attendance.models import Device
    from trainquant.auth.service import create_api_key
    from trainquant.db import make_engine, make_sessionmaker, unit_of_work
    from trainquant.migrate import upgrade
    from trainquant.org.models import Department, Employee, Site, Venue
    from trainquant.training.models import Program, TrainingSession

    engine = make_engine(url=db_url)
    upgrade(engine)
    with unit_of_work(make_sessionmaker(engine)) as db:
        dep = Department(code="T", name="教学部", kind="teaching")
        site = Site(code="BJ", name="北京", timezone="Asia/Shanghai")
        db.add_all([dep, site])
        db.flush()
        venue = Venue(site_id=site.id, name="培训室", latitude=39.96, longitude=116.30, radius_m=50)
        db.add(venue)
        db.flush()
        db.execute(
            Employee.__table__.insert(),
            [{"employee_no": f"E{i:06d}", "name": f"员工{i}", "department_id": dep.id, "status": "active", "created_at": T0, "updated_at": T0} for i in range(people)],
        )
        prog = Program(code="P", title="培训", kind="offline", level="foundation", target_kinds=[], tags=[], eligibility={}, planned_hours=2, created_at=T0)
        db.add(prog)
        db.flush()
        for s in range(sessions):
            db.add(TrainingSession(code=f"S{s:04d}", program_id=prog.id, sequence=s + 1, starts_at=T0 + timedelta(days=s), ends_at=T0 + timedelta(days=s, hours=2),
                                   site_id=site.id, venue_id=venue.id, checkin_methods=["face"], created_at=T0))
        db.add(Device(device_id="ZK-1", kind="zkteco", venue_id=venue.id, site_id=site.id, active=True))
        _, key = create_api_key(db, name="bench", scopes=["attendance:write"], created_by="bench", now=T0)
    Path(db_url.removeprefix("sqlite:///") + ".key").write_text(key)
    engine.dispose()


def _events(n: int, people: int, sessions: int) -> list[dict]:
    rnd = random.Random(1)
    out = []
    for i in range(n):
        s = rnd.randrange(sessions)
        kind = "in" if i % 2 == 0 else "out"
        at = T0 + timedelta(days=s, minutes=rnd.randrange(0, 120))
        out.append({"event_id": f"b{i}", "employee_no": f"E{rnd.randrange(people):06d}", "session": f"S{s:04d}", "kind": kind,
                    "at": at.isoformat(), "method": "face", "device_id": "ZK-1"})
    return out


def _serve(tmp: str, url: str, port: int, workers: int) -> subprocess.Popen:
    """``trainquant serve`` as a deployment runs it: its own processes, the system clock."""
    # The embedded default: `serve` runs the job consumer in a process of its own beside its workers.
    env = {**os.environ, "TQ_DATABASE_URL": url, "TQ_ENV": "test", "TQ_WORKERS": str(workers), "TQ_JOBS_EMBEDDED": "true"}
    cli = Path(sys.executable).with_name("trainquant")
    with open(f"{tmp}/server.log", "w") as server_log:  # the server writes through its own copy of the descriptor
        server = subprocess.Popen([str(cli), "serve", "--port", str(port)], env=env, cwd=tmp, stdout=subprocess.DEVNULL, stderr=server_log)
    for _ in range(600):
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code < 500:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.kill()
    raise SystemExit(f"the server did not start: {Path(tmp, 'server.log').read_text()}")


def bench_ingestion(n_events: int, people: int = 20_000, sessions: int = 200, wait: bool = False, workers: int = 2, clients: int = 4) -> float:
    """Returns events/s."""
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        _seed(url, people, sessions)
        shutil.copyfile(f"{tmp}/bench.db", f"{tmp}/baseline.db")  # the same starting table for the baseline
        key = Path(f"{tmp}/bench.db.key").read_text()
        events = _events(n_events, people, sessions)
        port = _free_port()
        server = _serve(tmp, url, port, workers)
        bodies = [orjson.dumps({"events": events[i : i + 10_000]}) for i in range(0, len(events), 10_000)]
        todo = queue.SimpleQueue()
        for body in bodies:
            todo.put(body)
        accepted, stored_at = [], []

        def client() -> None:
            # A connection per batch, as independent terminals and platform syncs post: a kept-alive
            # connection stays with the worker that accepted it, and four of them can land on one.
            headers = {"Authorization": f"Bearer {key}", "content-type": "application/json", "connection": "close"}
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=600) as c:
                while True:
                    try:
                        body = todo.get_nowait()
                    except queue.Empty:
                        return
                    r = c.post("/api/v1/attendance/events", content=body, params={"wait": "true"} if wait else None)
                    r.raise_for_status()
                    accepted.append(orjson.loads(r.content)["accepted"])
                    stored_at.append(time.perf_counter())  # answered once stored

        try:
            start = time.perf_counter()
            threads = [threading.Thread(target=client) for _ in range(clients)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            api_s = time.perf_counter() - start
            # Answered batches leave their figures to the drain job: time until none is pending (figures,
            # proxy cases and alerts are written in the transaction that deletes a batch's pending row).
            probe = sqlite3.connect(f"{tmp}/bench.db")
            while probe.execute("SELECT count(*) FROM attendance_pending").fetchone()[0]:
                time.sleep(0.02)
            settled_s = time.perf_counter() - start
            after_last_s = time.perf_counter() - max(stored_at)
            records = probe.execute("SELECT count(*) FROM attendance_records").fetchone()[0]
            probe.close()
        finally:
            server.terminate()
            server.wait(30)
        if len(accepted) != len(bodies) or not sum(accepted):
            log = Path(tmp, "server.log").read_text()[-3000:]
            raise SystemExit(f"{len(accepted)} of {len(bodies)} batches answered, {sum(accepted)} events accepted; the server said:\n{log}")
        accepted = sum(accepted)

        # Baselines: the same rows, already converted, into the same table in the same starting state:
        # one executemany for everything, and one per 10,000-row batch with a commit each (what a
        # request must do: it answers only once its batch is stored). The connection is set up as the
        # app's (WAL, synchronous=NORMAL, foreign keys, page cache).
        con = sqlite3.connect(f"{tmp}/baseline.db", isolation_level=None)
        con.execute("PRAGMA journal_mode=WAL")
        con.execute("PRAGMA synchronous=NORMAL")
        con.execute("PRAGMA foreign_keys=ON")
        con.execute(f"PRAGMA cache_size={-CACHE_KIB}")
        cols = [r[1] for r in con.execute("PRAGMA table_info(checkin_events)") if r[1] != "id"]
        stored = sqlite3.connect(f"{tmp}/bench.db")
        rows = stored.execute(f"SELECT {', '.join(cols)} FROM checkin_events ORDER BY id").fetchall()  # exactly what the API stored
        stored.close()
        insert = f"INSERT INTO checkin_events ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        start = time.perf_counter()
        for i in range(0, len(rows), 10_000):
            con.execute("BEGIN IMMEDIATE")
            con.executemany(insert, rows[i : i + 10_000])
            con.execute("COMMIT")
        batched_s = time.perf_counter() - start
        con.execute("DELETE FROM checkin_events")
        start = time.perf_counter()
        con.execute("BEGIN IMMEDIATE")
        con.executemany(insert, rows)
        con.execute("COMMIT")
        base_s = time.perf_counter() - start
        con.close()
    api_rate, base_rate, batched_rate = n_events / api_s, n_events / base_s, n_events / batched_s
    mode = "answered after recomputing (?wait=true)" if wait else "answered after storing; figures recomputed right after"
    print(f"ingestion over HTTP, {workers} server worker(s), {clients} client(s) posting 10,000-event batches, {mode}:")
    print(f"  {n_events:,} events ({accepted:,} accepted) in {api_s:.2f} s = {api_rate:,.0f} events/s (aim 50,000: x{api_rate / 50_000:.2f})")
    if not wait:
        print(f"  figures, proxy cases and alerts for all of them ({records:,} attendance records) settled {after_last_s:.2f} s after the "
              f"last batch was stored (aim <= 5 s: x{5 / max(after_last_s, 1e-3):.2f}), {settled_s:.2f} s after the first was sent")
    print(f"  plain executemany of the same rows, per 10,000 with a commit each: {batched_rate:,.0f} events/s; "
          f"ratio API/executemany = {api_rate / batched_rate:.2f} (aim >= 0.3)")
    print(f"  (all rows in one executemany and one commit, which no request can do: {base_rate:,.0f} events/s; ratio {api_rate / base_rate:.2f})")
    return api_rate


# ---------------------------------------------------------------- 2. recomputation


def synthetic_year(people: int, per_person: int, seed: int = 3):
    rnd = np.random.default_rng(seed)
    groups = people * per_person
    ws = (np.int64(int(T0.timestamp())) + np.arange(groups, dtype=np.int64) % 365 * 86400)
    we = ws + 7200
    credit = rnd.random(groups) < 0.9
    # Mostly in/out pairs; some leave and come back; some forget to check out.
    n_punch = rnd.choice([2, 4, 1, 3], size=groups, p=[0.6, 0.3, 0.05, 0.05])
    g = np.repeat(np.arange(groups, dtype=np.int64), n_punch)
    offset = rnd.integers(-600, 7800, size=len(g))
    at = np.repeat(ws, n_punch) + offset
    pos = np.arange(len(g)) - np.repeat(np.cumsum(n_punch) - n_punch, n_punch)
    is_out = (pos % 2) == 1
    tb = np.arange(len(g), dtype=np.int64)
    return g, at, is_out, tb, ws, we, credit


def bench_recompute(people: int, per_person: int) -> None:
    g, at, is_out, tb, ws, we, credit = synthetic_year(people, per_person)
    start = time.perf_counter()
    res = attended_batch(g, at, is_out, tb, ws, we, credit)
    batch_s = time.perf_counter() - start

    # The one-person-at-a-time loop over the reference rules, on a sample of groups, extrapolated.
    sample = np.arange(0, len(ws), max(1, len(ws) // 20_000))
    bounds = np.searchsorted(g, np.arange(len(ws) + 1))
    start = time.perf_counter()
    mismatches = 0
    for gid in sample:
        lo, hi = bounds[gid], bounds[gid + 1]
        punches = [Punch(datetime.fromtimestamp(int(at[k]), UTC), "out" if is_out[k] else "in", f"{tb[k]:012d}") for k in range(lo, hi)]
        w = Window(datetime.fromtimestamp(int(ws[gid]), UTC), datetime.fromtimestamp(int(we[gid]), UTC), CREDIT_TO_END if credit[gid] else COUNT_TO_LAST_EVENT)
        ref = attended(punches, w)
        mismatches += ref.attended_seconds != res.attended[gid]
    loop_s = (time.perf_counter() - start) * len(ws) / len(sample)
    print(f"recompute: {people:,} people x {per_person} sessions = {len(ws):,} attendances from {len(g):,} events")
    print(f"  batch (NumPy): {batch_s:.2f} s (aim < 10 s: x{10 / batch_s:.1f} headroom)")
    print(f"  one-at-a-time loop (reference rules, extrapolated from {len(sample):,}): {loop_s:.1f} s; speed-up x{loop_s / batch_s:.1f}")
    print(f"  sample mismatches batch vs reference: {mismatches}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--workers", type=int, default=2, help="server processes (TQ_WORKERS); one per core")
    ap.add_argument("--clients", type=int, default=4, help="clients posting batches at the same time")
    ap.add_argument("--people", type=int, default=50_000)
    ap.add_argument("--sessions-per-person", type=int, default=40)
    ap.add_argument("--skip-ingestion", action="store_true")
    a = ap.parse_args()
    if not a.skip_ingestion:
        stored = bench_ingestion(a.events, workers=a.workers, clients=a.clients)
        if (a.workers, a.clients) != (1, 1):
            bench_ingestion(a.events, workers=1, clients=1)  # one process, one client at a time
        waited = bench_ingestion(a.events, wait=True, workers=a.workers, clients=a.clients)
        print(f"?wait=true against answered once stored: {waited:,.0f} / {stored:,.0f} events/s = 1/{stored / waited:.1f} (aim: no slower than 1/10)")
    bench_recompute(a.people, a.sessions_per_person)


if __name__ == "__main__":
    main()
