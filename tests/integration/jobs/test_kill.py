"""The fault test: server and worker killed with SIGKILL mid-ingest, restarted, clients retrying.

A bounded run against real processes (``trainquant serve`` without its own consumer, and
``trainquant worker``): every batch carries event ids, so a batch sent again after a lost answer is
answered "duplicate" and never stored twice. At the end: every event stored exactly once, nothing
left pending, and the figures of every (session, person) pair there. On SQLite always; on PostgreSQL
too when ``TQ_TEST_DATABASE_URL`` is set (in a scratch database of its own).
"""

from __future__ import annotations

import contextlib
import os
import random
import signal
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import text

from tests.e2e.live import free_port
from trainquant.config import Settings
from trainquant.db import make_engine, make_sessionmaker, unit_of_work
from trainquant.migrate import upgrade

CLI = str(Path(sys.executable).with_name("trainquant"))
PEOPLE, SESSIONS = 300, 4
BATCHES, PER_BATCH, CLIENTS = 36, 1000, 3
KILLS = 3
DEADLINE_S = 150  # the whole run, kills and restarts included


def _seed(url: str, t0: datetime) -> str:
    from trainquant.attendance.models import Device
    from trainquant.auth.service import create_api_key
    from trainquant.org.models import Department, Employee, Site, Venue
    from trainquant.training.models import Program, TrainingSession

    engine = make_engine(Settings(env="test"), url=url)
    upgrade(engine)
    with unit_of_work(make_sessionmaker(engine)) as db:
        dep, site = Department(code="T", name="教学部", kind="teaching"), Site(code="BJ", name="北京", timezone="Asia/Shanghai")
        db.add_all([dep, site])
        db.flush()
        venue = Venue(site_id=site.id, name="培训室", latitude=39.96, longitude=116.30, radius_m=50)
        db.add(venue)
        db.flush()
        db.add_all([Employee(employee_no=f"E{i:04d}", name=f"员工{i}", department_id=dep.id, status="active", created_at=t0, updated_at=t0) for i in range(PEOPLE)])
        prog = Program(code="P", title="培训", kind="offline", level="foundation", target_kinds=[], tags=[], eligibility={}, planned_hours=2, created_at=t0)
        db.add(prog)
        db.flush()
        db.add_all([TrainingSession(code=f"S{s}", program_id=prog.id, sequence=s + 1, starts_at=t0 + timedelta(hours=3 * s), ends_at=t0 + timedelta(hours=3 * s + 2),
                                    site_id=site.id, venue_id=venue.id, checkin_methods=["face"], created_at=t0) for s in range(SESSIONS)])
        db.add(Device(device_id="ZK-1", kind="zkteco", venue_id=venue.id, site_id=site.id, active=True))
        _, key = create_api_key(db, name="fault", scopes=["attendance:write"], created_by="test", now=t0)
    engine.dispose()
    return key


def _batches(t0: datetime) -> list[list[dict]]:
    rnd = random.Random(9)
    out = []
    for b in range(BATCHES):
        batch = []
        for i in range(PER_BATCH):
            s = rnd.randrange(SESSIONS)
            batch.append({"event_id": f"f{b}-{i}", "employee_no": f"E{rnd.randrange(PEOPLE):04d}", "session": f"S{s}", "kind": rnd.choice(["in", "out"]),
                          "at": (t0 + timedelta(hours=3 * s, minutes=rnd.randrange(120))).isoformat(), "method": "face", "device_id": "ZK-1"})
        out.append(batch)
    return out


class Deployment:
    """``serve`` and ``worker`` as separate process groups, killed whole with SIGKILL."""

    def __init__(self, url: str, folder: Path):
        self.port = free_port()
        self.env = {**os.environ, "TQ_DATABASE_URL": url, "TQ_ENV": "test", "TQ_JOBS_EMBEDDED": "false", "TQ_DRAIN_QUIET_S": "0.1"}
        self.folder, self.procs, self.starts = folder, [], 0

    def start(self) -> None:
        self.starts += 1
        with open(self.folder / f"run{self.starts}.log", "w") as log:  # each process writes through its own copy
            for args in (["serve", "--port", str(self.port)], ["worker", "--workers", "2"]):
                self.procs.append(subprocess.Popen([CLI, *args], env=self.env, cwd=self.folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))

    def kill(self) -> None:
        for p in self.procs:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(30)
        self.procs = []

    def stop(self) -> None:
        for p in self.procs:
            p.send_signal(signal.SIGINT)
        for p in self.procs:
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(30)
        self.procs = []

    def logs(self) -> str:
        return "\n".join(f.read_text()[-2000:] for f in sorted(self.folder.glob("run*.log")))


def test_kill_9_mid_ingest_loses_nothing_and_duplicates_nothing(scratch_database, tmp_path):
    database = scratch_database
    t0 = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=1)
    key = _seed(database, t0)
    batches = _batches(t0)
    deployment = Deployment(database, tmp_path)
    deadline = time.monotonic() + DEADLINE_S
    todo = list(range(len(batches)))
    lock, answered, counts = threading.Lock(), [], {"accepted": 0, "duplicate": 0, "rejected": 0}
    failures: list[str] = []
    retried = []

    def client() -> None:
        headers = {"Authorization": f"Bearer {key}", "connection": "close"}
        with httpx.Client(base_url=f"http://127.0.0.1:{deployment.port}", headers=headers, timeout=30) as c:
            while time.monotonic() < deadline:
                with lock:
                    if not todo:
                        return
                    b = todo.pop(0)
                while time.monotonic() < deadline:  # the same batch until it is answered
                    try:
                        r = c.post("/api/v1/attendance/events", json={"events": batches[b]})
                    except httpx.TransportError:
                        retried.append(b)
                        time.sleep(0.1)  # the server is down: back off, then send the same batch again
                        continue
                    if r.status_code >= 500:
                        time.sleep(0.1)
                        continue
                    if r.status_code != 200:
                        failures.append(f"batch {b}: {r.status_code} {r.text[:200]}")
                        return
                    with lock:
                        answered.append(b)
                        for k in counts:
                            counts[k] += r.json()[k]
                    break

    deployment.start()
    try:
        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        for t in threads:
            t.start()
        rnd = random.Random(3)
        for k in range(KILLS):  # kill both mid-ingest: after some batches were answered, while others are in flight
            target = (k + 1) * len(batches) // (KILLS + 2) + rnd.randrange(3)
            while len(answered) < target and time.monotonic() < deadline and any(t.is_alive() for t in threads):
                time.sleep(0.02)
            deployment.kill()
            deployment.start()
        for t in threads:
            t.join(max(1, deadline - time.monotonic()))
        assert not failures, failures
        assert sorted(answered) == list(range(len(batches))), f"{len(answered)} of {len(batches)} batches answered\n{deployment.logs()}"
        # The worker's start and its sweep take whatever the kills left pending.
        engine = make_engine(Settings(env="test"), url=database)
        try:
            while True:
                with engine.connect() as conn:
                    left = conn.scalar(text("SELECT count(*) FROM attendance_pending"))
                if left == 0 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            with engine.connect() as conn:
                stored, distinct = conn.execute(text("SELECT count(*), count(DISTINCT dedup_key) FROM checkin_events WHERE verdict = 'accepted'")).one()
                pairs = conn.scalar(text("SELECT count(*) FROM (SELECT DISTINCT session_id, employee_id FROM checkin_events WHERE verdict = 'accepted') p"))
                records = conn.scalar(text("SELECT count(*) FROM attendance_records"))
                events_counted = conn.scalar(text("SELECT sum(events) FROM attendance_records"))
        finally:
            engine.dispose()
    finally:
        deployment.kill()
    total = BATCHES * PER_BATCH
    assert left == 0, f"{left} batches still pending\n{deployment.logs()}"
    assert (stored, distinct) == (total, total)  # 0 lost, 0 duplicated
    assert counts["rejected"] == 0 and counts["accepted"] + counts["duplicate"] >= total  # a batch answered twice says "duplicate"
    assert (records, events_counted) == (pairs, total)  # every pair's figures, every event counted once
    assert deployment.starts == KILLS + 1 and retried  # the kills did catch batches in flight
