"""The consumer: huey's, run as threads inside ``serve`` (the embedded default) or as ``trainquant worker``.

Inside ``serve`` one consumer runs per machine: the server process that takes ``jobs.consumer.lock``
in the instance folder (``flock``: the operating system lets go of it when the process dies, kill -9
included) runs it; the others look again every few seconds and take over from a dead holder.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from huey.consumer import Consumer

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
