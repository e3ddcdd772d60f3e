"""WAL checkpoints of the embedded SQLite database off the request path.

In WAL mode a commit appends pages to the ``-wal`` file; a *checkpoint* copies them into the database
and syncs it. By default the committing connection runs one whenever the WAL passes 1,000 pages, so
every few batches one request pays for copying everything written since. The web server instead runs
them from a thread of its own (``PRAGMA wal_checkpoint(PASSIVE)``, which never waits for readers or
writers and releases the GIL while it copies), and its connections checkpoint themselves only past
``SAFETY_PAGES``: if the thread stopped, or fell behind, the WAL would still be bounded.

Durability is unchanged: a transaction is durable once its commit is in the WAL (synchronous=NORMAL
in WAL mode), checkpointed or not.
"""

from __future__ import annotations

import logging
import sqlite3
import threading

log = logging.getLogger(__name__)

SAFETY_PAGES = 10_000  # 40 MB of 4 KiB pages: the writers' own checkpoint, rarely reached
INTERVAL_S = 0.5


class Checkpointer:
    """A daemon thread checkpointing ``path`` every ``interval_s`` until :meth:`stop`."""

    def __init__(self, path: str, *, interval_s: float = INTERVAL_S) -> None:
        self.path = path
        self.interval_s = interval_s
        self.checkpoints = 0  # passes that completed (for tests and the log)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)

    def start(self) -> Checkpointer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def run_once(self, conn: sqlite3.Connection) -> tuple[int, int, int]:
        """(busy, WAL pages, pages checkpointed), as ``PRAGMA wal_checkpoint`` reports them."""
        busy, pages, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        self.checkpoints += 1
        return busy, pages, done

    def _run(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        try:
            while not self._stop.wait(self.interval_s):
                try:
                    self.run_once(conn)
                except sqlite3.Error as exc:  # a locked or busy database: the next pass tries again
                    log.warning("WAL checkpoint of %s failed: %s", self.path, exc)
            self.run_once(conn)  # what the last requests wrote, before the server exits
        finally:
            conn.close()
