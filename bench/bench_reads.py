"""Read latency under ingestion: pages and GET routes while two clients post 10,000-event batches.

    .venv/bin/python bench/bench_reads.py [--workers 2] [--rounds 40] [--loaders 2]

The simulated school (300 staff, a year of training and check-ins) in SQLite, served by
``trainquant serve`` in its own processes as deployed (the job consumer in a process beside the server's). Each page and GET
route is asked ``--rounds`` times, in turn, first with nothing else going on, then while
``--loaders`` client processes post 10,000-event batches as fast as they are answered (their figures
recomputed by the drain job meanwhile). Prints p50 and p95 per route, loaded against unloaded
(aim: loaded p95 <= 2x unloaded, and < 150 ms).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_attendance import _free_port, _serve

BATCH = 10_000
TEMPLATES = 4
TOKEN = "BATCHNO#"  # eight characters, replaced by each batch's eight-digit number
BENCH_SESSIONS = 60
PAGES = ["/employees", "/training", "/reports", "/alerts", "/attendance/review", "/indicators/results"]


def _seed(url: str) -> dict:
    """The simulated school, plus a program of past sessions at one venue for the posted batches."""
    from sqlalchemy import select

    from trainquant.attendance.models import Device
    from trainquant.auth.service import create_api_key
    from trainquant.config import Settings
    from trainquant.db import make_engine, make_sessionmaker, unit_of_work
    from trainquant.migrate import upgrade
    from trainquant.org.models import Department, Employee, Venue
    from trainquant.simulate.attendance.generate import generate_checkins
    from trainquant.simulate.attendance.load import load_attendance
    from trainquant.simulate.institution.school import generate
    from trainquant.simulate.load import load_school
    from trainquant.simulate.training.generate import generate_training
    from trainquant.simulate.training.load import load_training
    from trainquant.training.models import Program, TrainingSession

    now = datetime.now(UTC)
    settings = Settings(env="test")
    engine = make_engine(settings, url=url)
    upgrade(engine)
    school = generate(2026, today=now.date())
    year = generate_training(school)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as db:
        load_school(db, school, now=now)
        load_training(db, school, year, now=now)
    with unit_of_work(factory) as db:
        load_attendance(db, year, generate_checkins(school, year), now=now, default_tz=settings.default_timezone, secret_key=settings.secret_key)
    with unit_of_work(factory) as db:
        venue = db.scalars(select(Venue).order_by(Venue.id)).first()
        people = list(db.scalars(select(Employee.employee_no).order_by(Employee.id)))
        t0 = now.replace(hour=1, minute=0, second=0, microsecond=0) - timedelta(days=BENCH_SESSIONS + 1)
        prog = Program(code="BENCH", title="压测培训", kind="offline", level="foundation", target_kinds=[], tags=[], eligibility={},
                       planned_hours=2, created_at=t0)
        db.add(prog)
        db.flush()
        db.add_all([TrainingSession(code=f"BENCH-{s:03d}", program_id=prog.id, sequence=s + 1, starts_at=t0 + timedelta(days=s),
                                    ends_at=t0 + timedelta(days=s, hours=2), site_id=venue.site_id, venue_id=venue.id, checkin_methods=["face"],
                                    created_at=t0) for s in range(BENCH_SESSIONS)])
        db.add(Device(device_id="ZK-BENCH", kind="zkteco", venue_id=venue.id, site_id=venue.site_id, active=True))
        _, writer = create_api_key(db, name="bench-writer", scopes=["attendance:write"], created_by="bench", now=now)
        _, reader = create_api_key(db, name="bench-reader", scopes=["org:read", "attendance:read", "attendance:manage", "reports:read"],
                                   created_by="bench", now=now)
        department = db.scalars(select(Department.code).order_by(Department.id)).first()
        session_code = db.scalars(select(TrainingSession.code).where(TrainingSession.code != "BENCH-000").order_by(TrainingSession.id)).first()
    engine.dispose()
    admin = next(u for u in school.demo_users if u.role == "admin")
    return {"writer": writer, "reader": reader, "people": people, "t0": t0.isoformat(), "admin": (admin.username, admin.password),
            "department": department, "session": session_code}


def _loader(base: str, key: str, people: list[str], t0: str, n: int, ready, stop, posted) -> None:
    """One client posting 10,000-event batches as fast as they are answered, until ``stop``.

    The batches stand for terminals and platform syncs on other machines: they are built before the
    load starts (a few random templates, each batch's event ids made new by replacing a fixed-width
    token), so the load generator spends this machine's cores on sending, not on building dicts.
    """
    rnd = random.Random(n)
    start = datetime.fromisoformat(t0)
    templates = []
    for _ in range(TEMPLATES):
        events = []
        for i in range(BATCH):
            s = rnd.randrange(BENCH_SESSIONS)
            events.append({"event_id": f"L{n}-{TOKEN}-{i}", "employee_no": rnd.choice(people), "session": f"BENCH-{s:03d}",
                           "kind": "in" if i % 2 == 0 else "out", "at": (start + timedelta(days=s, minutes=rnd.randrange(120))).isoformat(),
                           "method": "face", "device_id": "ZK-BENCH"})
        templates.append(orjson.dumps({"events": events}))
    headers = {"Authorization": f"Bearer {key}", "content-type": "application/json", "connection": "close"}
    ready.release()
    b = 0
    with httpx.Client(base_url=base, headers=headers, timeout=120) as c:
        while not stop.is_set():
            body = templates[b % TEMPLATES].replace(TOKEN.encode(), f"{b:08d}".encode())
            r = c.post("/api/v1/attendance/events", content=body)
            r.raise_for_status()
            b += 1
            with posted.get_lock():
                posted.value += BATCH


def _login(client: httpx.Client, username: str, password: str) -> None:
    page = client.get("/login")
    token = page.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    r = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    if r.status_code not in (200, 303):
        raise SystemExit(f"could not log in: {r.status_code}")


def _measure(base: str, seeded: dict, rounds: int) -> dict[str, list[float]]:
    """Every route once per round, in turn, so loaded and unloaded rounds see the same mix."""
    api = ["/api/v1/employees?page_size=50", "/api/v1/attendance/events?page_size=50",
           f"/api/v1/reports/departments/{seeded['department']}", f"/api/v1/attendance/sessions/{seeded['session']}", "/api/v1/attendance/review"]
    times: dict[str, list[float]] = {route: [] for route in PAGES + api}
    with httpx.Client(base_url=base, timeout=60, follow_redirects=False) as pages, \
            httpx.Client(base_url=base, timeout=60, headers={"Authorization": f"Bearer {seeded['reader']}"}) as client:
        _login(pages, *seeded["admin"])
        for round_ in range(rounds + 3):
            for route in times:
                who = pages if route in PAGES else client
                start = time.perf_counter()
                r = who.get(route)
                took = time.perf_counter() - start
                if r.status_code != 200:
                    raise SystemExit(f"GET {route}: {r.status_code} {r.text[:300]}")
                if round_ >= 3:  # the first rounds warm caches
                    times[route].append(took)
    return times


def _p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] if len(values) > 1 else values[0]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workers", type=int, default=2, help="server processes (TQ_WORKERS)")
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--loaders", type=int, default=2, help="client processes posting 10,000-event batches")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{tmp}/bench.db"
        seeded = _seed(url)
        port = _free_port()
        server = _serve(tmp, url, port, a.workers)
        base = f"http://127.0.0.1:{port}"
        try:
            unloaded = _measure(base, seeded, a.rounds)
            ctx = mp.get_context("spawn")
            stop, posted, ready = ctx.Event(), ctx.Value("q", 0), ctx.Semaphore(0)
            loaders = [ctx.Process(target=_loader, args=(base, seeded["writer"], seeded["people"], seeded["t0"], n, ready, stop, posted))
                       for n in range(a.loaders)]
            for p in loaders:
                p.start()
            for _ in loaders:
                ready.acquire()
            while posted.value < BATCH:  # the load is on: the first batch has been answered
                time.sleep(0.05)
            start = time.perf_counter()
            loaded = _measure(base, seeded, a.rounds)
            under_load_s = time.perf_counter() - start
            stop.set()
            for p in loaders:
                p.join(180)
            rate = posted.value / (time.perf_counter() - start)
        finally:
            server.terminate()
            server.wait(120)  # the consumer finishes its running drain first
    print(f"read latency, {a.workers} server worker(s); loaded: {a.loaders} clients posting 10,000-event batches "
          f"({rate:,.0f} events/s over the {under_load_s:.0f} s of loaded reads), {a.rounds} requests per route each way")
    print(f"  {'route':<44} {'p50 ms':>8} {'p95 ms':>8}  {'loaded p50':>10} {'loaded p95':>10}  {'p95 ratio':>9}")
    worst_ratio, worst_p95 = 0.0, 0.0
    for route in unloaded:
        u50, u95 = _p(unloaded[route], 50) * 1000, _p(unloaded[route], 95) * 1000
        l50, l95 = _p(loaded[route], 50) * 1000, _p(loaded[route], 95) * 1000
        worst_ratio, worst_p95 = max(worst_ratio, l95 / u95), max(worst_p95, l95)
        print(f"  {route:<44} {u50:8.1f} {u95:8.1f}  {l50:10.1f} {l95:10.1f}  {l95 / u95:8.2f}x")
    every_u = [t for ts in unloaded.values() for t in ts]
    every_l = [t for ts in loaded.values() for t in ts]
    print(f"  {'all routes':<44} {_p(every_u, 50) * 1000:8.1f} {_p(every_u, 95) * 1000:8.1f}  {_p(every_l, 50) * 1000:10.1f} "
          f"{_p(every_l, 95) * 1000:10.1f}  {_p(every_l, 95) / _p(every_u, 95):8.2f}x")
    print(f"  worst route: loaded p95 {worst_p95:.0f} ms (aim < 150 ms: x{150 / worst_p95:.2f}), "
          f"{worst_ratio:.2f}x its unloaded p95 (aim <= 2x)")


if __name__ == "__main__":
    main()
