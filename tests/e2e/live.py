"""What every browser test needs: a real uvicorn server on a free port and Debian's Chromium."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps trying hosts this closed network refuses.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]
needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: install Debian's chromium to run the browser tests")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def live_server(database_url: str, now: datetime | None, *, jobs: bool = False) -> Iterator[str]:
    """Serve the app on a migrated, seeded database with a fixed clock (the system's when ``now`` is
    None: a player's statements need time to pass); yields the base URL. ``jobs``: with the embedded
    job consumer (a test about figures following answered batches asks for it)."""
    import uvicorn

    from trainquant.app import create_app
    from trainquant.clock import FixedClock, SystemClock
    from trainquant.config import Settings

    app = create_app(Settings(env="test", database_url=database_url, jobs_embedded=jobs), clock=FixedClock(now) if now is not None else SystemClock())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn-e2e", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            pytest.fail("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
