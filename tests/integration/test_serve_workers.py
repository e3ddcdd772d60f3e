"""``trainquant serve --workers 2`` comes up whole on a busy machine.

uvicorn's supervisor kills a worker process that has not answered its health check in time, and
starts another. A worker answers only after its interpreter has started and imported the CLI; with
both cores busy that took longer than uvicorn's 5 s default, so every new worker was killed before it
served and the other one carried the whole load (seen under the read-latency benchmark's load).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx

from tests.e2e.live import free_port

CLI = str(Path(sys.executable).with_name("trainquant"))
DEADLINE_S = 120


def _hog() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def test_both_workers_start_while_the_cores_are_busy(tmp_path):
    hogs = [_hog() for _ in range(3)]  # more busy processes than this machine (and CI's) has cores
    port = free_port()
    env = {**os.environ, "TQ_DATABASE_URL": f"sqlite:///{tmp_path}/tq.db", "TQ_ENV": "test", "TQ_WORKERS": "2", "TQ_JOBS_EMBEDDED": "false"}
    subprocess.run([CLI, "init"], env=env, cwd=tmp_path, check=True, capture_output=True)
    server = subprocess.Popen([CLI, "serve", "--port", str(port)], env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, start_new_session=True)
    # Past the deadline the server is stopped, which ends its output and the reading below.
    deadline = threading.Timer(DEADLINE_S, os.killpg, (server.pid, signal.SIGTERM))
    deadline.start()
    lines: list[str] = []
    try:
        assert server.stdout is not None
        for line in server.stdout:
            lines.append(line)
            if sum("Application startup complete" in seen for seen in lines) == 2:
                break
        text = "".join(lines)
        assert text.count("Application startup complete") == 2, text
        assert "died" not in text, text
        assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=10).status_code == 200
    finally:
        deadline.cancel()
        for h in hogs:
            h.kill()
            h.wait()
        os.killpg(server.pid, signal.SIGTERM)
        server.communicate(timeout=60)
