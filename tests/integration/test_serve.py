"""``trainquant serve`` as deployed: several worker processes answering on one port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.e2e.live import free_port


def test_serve_with_two_workers_starts_two_processes_and_answers(cli_engine):
    port = free_port()
    env = {**os.environ, "TQ_DATABASE_URL": cli_engine.url.render_as_string(hide_password=False), "TQ_ENV": "test", "TQ_WORKERS": "2"}
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
    finally:
        server.terminate()
        out, _ = server.communicate(timeout=30)
    started = [line for line in out.splitlines() if "Started server process" in line]
    assert len(started) == 2, out  # the two workers, each building the app from the environment
