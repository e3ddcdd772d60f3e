"""The consumer: huey's, with thread workers, run beside ``serve`` (the embedded default) or as ``trainquant worker``.

The embedded default runs one consumer per machine, in a process of its own that ``serve`` starts
(``start_beside_server``): never in a server process, whose pages would share a GIL with the drain,
and at the bulk priority (``TQ_BULK_NICE``), so that reads get the cores first. The process that takes
``jobs.consumer.lock`` in the instance folder (``flock``: the operating system lets go of it when the
process dies, kill -9 included) runs it; another looks again every few seconds and takes over from a
dead holder. It ends with its server: on a signal, or within a second of the server's death.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

from huey.consumer import Consumer

from trainquant.config import Settings
from trainquant.jobs.tasks import Jobs

log = logging.getLogger(__name__)
# SQLite storage is polled (Redis and PostgreSQL block on the queue): an idle worker looks every
# 50 ms at first, backing off to every 250 ms, so a drain starts within a quarter of a second.
POLL = {"initial_delay": 0.05, "backoff": 1.3, "max_delay": 0.25}
STANDBY_S = 3.0


class JobConsumer(Consumer):
    """huey's consumer with thread workers; on start it enqueues whatever a killed process left pending."""

    def __init__(self, jobs: Jobs, *, workers: int, periodic: bool = True, embedded: bool = False):
        super().__init__(jobs.huey, workers=workers, periodic=periodic, worker_type="thread", shutdown_timeout=30, **POLL)
        self.jobs, self.embedded = jobs, embedded

    def start(self) -> None:
        super().start()
        self.jobs.kick_if_pending()

    def _set_signal_handlers(self) -> None:
        if not self.embedded:  # inside `serve`, uvicorn owns the signals and stops the consumer itself
            super()._set_signal_handlers()

    def stop(self, graceful: bool = False) -> None:
        self.jobs.stopping.set()
        super().stop(graceful=graceful)


class EmbeddedConsumer:
    """The consumer inside a server process, if this process holds the machine's consumer lock."""

    def __init__(self, jobs: Jobs, lock_path: Path, *, workers: int):
        self.jobs, self.lock_path, self.workers = jobs, lock_path, workers
        self.consumer: JobConsumer | None = None
        self._fd: int | None = None
        self._stop = threading.Event()
        self._standby: threading.Thread | None = None
        self._guard = threading.Lock()

    @property
    def running(self) -> bool:
        return self.consumer is not None

    def _try_lock(self) -> bool:
        import fcntl

        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd
        return True

    def _run(self) -> None:
        with self._guard:
            if self._stop.is_set() or self.consumer is not None:
                return
            self.consumer = JobConsumer(self.jobs, workers=self.workers, embedded=True)
            self.consumer.start()
            log.info("job consumer running in process %s (%s worker threads)", os.getpid(), self.workers)

    def start(self) -> None:
        if self._try_lock():
            self._run()
            return

        def standby() -> None:
            while not self._stop.wait(STANDBY_S):
                if self._try_lock():
                    self._run()
                    return

        self._standby = threading.Thread(target=standby, name="jobs-standby", daemon=True)
        self._standby.start()

    def stop(self) -> None:
        self._stop.set()
        self.jobs.stopping.set()
        if self._standby is not None:
            self._standby.join(STANDBY_S + 1)
        with self._guard:
            if self.consumer is not None:
                self.consumer.stop(graceful=True)
                self.consumer = None
        if self._fd is not None:
            os.close(self._fd)  # lets go of the flock
            self._fd = None
        close_storage(self.jobs)


def close_storage(jobs: Jobs) -> None:
    close = getattr(jobs.huey.storage, "close", None)
    if close is not None:
        try:
            close()
        except Exception:  # closing on the way out
            log.debug("closing the job storage failed", exc_info=True)


def start_beside_server(settings: Settings) -> subprocess.Popen:
    """The embedded consumer's process, started by ``serve`` before it serves (``run_beside``)."""
    cmd = [sys.executable, "-m", "trainquant.cli.main", "worker", "--beside", str(os.getpid())]
    return subprocess.Popen(cmd, env={**os.environ, "TQ_JOBS_EMBEDDED": "true"})


def stop_beside_server(process: subprocess.Popen, *, timeout_s: float = 60) -> None:
    """Asks the consumer to finish its running jobs (SIGTERM), and kills it past ``timeout_s``."""
    if process.poll() is None:
        process.terminate()
    try:
        process.wait(timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_beside(jobs: Jobs, lock_path: Path, *, workers: int, server_pid: int, nice: int) -> None:
    """The consumer process beside a server: lower priority, the machine's lock, ends with the server."""
    if nice > 0:
        os.nice(nice)
    done = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: done.set())
    consumer = EmbeddedConsumer(jobs, lock_path, workers=workers)
    consumer.start()
    try:
        # Polled: a process learns of its parent's death only by asking (the parent was kill -9'd
        # when it is no longer the parent).
        while not done.wait(1.0):
            if os.getppid() != server_pid:
                log.warning("the server (process %s) is gone; the job consumer stops", server_pid)
                break
    finally:
        consumer.stop()
