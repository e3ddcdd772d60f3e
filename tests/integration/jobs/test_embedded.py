"""``trainquant serve --workers 2`` runs one job consumer, in a process of its own beside the two server
processes: what a crash left pending is worked off at start, an answered batch's figures follow, and
the consumer ends with the server."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from tests.conftest import NOW
from tests.e2e.live import free_port
from tests.integration.jobs.test_queue import _left_pending_by_a_crash, _settle
from trainquant.auth.service import create_api_key
from trainquant.db import make_sessionmaker, read_only, unit_of_work


def test_serve_runs_one_consumer_that_drains_left_and_new_batches(cli_engine, tmp_path):
    factory = make_sessionmaker(cli_engine)
    _left_pending_by_a_crash(factory)
    with unit_of_work(factory) as db:
        _, key = create_api_key(db, name="device", scopes=["attendance:write"], created_by="test", now=NOW)
    port = free_port()
    env = {**os.environ, "TQ_DATABASE_URL": cli_engine.url.render_as_string(hide_password=False), "TQ_ENV": "test", "TQ_WORKERS": "2",
           "TQ_DRAIN_QUIET_S": "0.05"}
    server = subprocess.Popen([str(Path(sys.executable).with_name("trainquant")), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and server.poll() is None, "the server did not start"
            time.sleep(0.2)
        assert _settle(factory)  # the consumer's start took what the "crash" left
        start = NOW - timedelta(days=1)
        r = httpx.post(f"http://127.0.0.1:{port}/api/v1/attendance/events", headers={"Authorization": f"Bearer {key}"}, timeout=30,
                       json={"events": [{"event_id": "late-out", "employee_no": "T1", "session": "S1", "kind": "out",
                                         "at": (start + timedelta(minutes=90)).isoformat(), "method": "face", "device_id": "ZK-1"}]})
        assert r.status_code == 200 and r.json()["accepted"] == 1, r.text
        assert _settle(factory)
        with read_only(factory)() as db:
            from trainquant.attendance.models import AttendanceRecord

            assert db.query(AttendanceRecord).one().events == 3
        holder = int((tmp_path / "jobs.consumer.lock").read_text())
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=60)
    workers = [int(line.split("[")[1].split("]")[0]) for line in out.splitlines() if "Started server process" in line]
    assert len(workers) == 2 and holder not in workers and holder != server.pid, out  # a process of its own
    assert out.count("job consumer running") == 1, out
    with pytest.raises(ProcessLookupError):  # it ended with the server
        os.kill(holder, 0)


def test_the_consumer_ends_when_its_server_is_killed(cli_engine):
    env = {**os.environ, "TQ_DATABASE_URL": cli_engine.url.render_as_string(hide_password=False), "TQ_ENV": "test", "TQ_WORKERS": "1"}
    server = subprocess.Popen([str(Path(sys.executable).with_name("trainquant")), "serve", "--port", str(free_port())], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = threading.Timer(60, server.kill)  # ends the output, and the reading below, if no consumer starts
    deadline.start()
    holder = None
    try:
        assert server.stdout is not None
        for line in server.stdout:
            if "job consumer running in process" in line:
                holder = int(line.split("in process ", 1)[1].split()[0])
                break
        assert holder is not None and holder != server.pid, "no consumer started beside the server"
        gone = os.pidfd_open(holder)  # readable once that process has ended
    finally:
        deadline.cancel()
        server.kill()  # SIGKILL to the server alone: no chance to stop its consumer
        server.communicate()
    try:
        ended, _, _ = select.select([gone], [], [], 30)
        assert ended, "the consumer outlived its server"
    finally:
        os.close(gone)
