"""The tasks, registered on one huey instance per app or worker: the same names everywhere, so a
message enqueued by a server process runs in whichever consumer takes it.

Every task is idempotent: it works from what the application database says is left to do, never
from what the message carries, so running one twice, or after a crash, or not at all (a message
lost with a killed worker: the sweep and the consumer's start enqueue it again) is harmless.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from huey import crontab
from sqlalchemy.orm import Session, sessionmaker

from trainquant import bulk
from trainquant.attendance.checkin import pending
from trainquant.config import Settings
from trainquant.db import unit_of_work
from trainquant.jobs.queue import make_huey

log = logging.getLogger(__name__)
# A failed drain (the database busy for longer than the busy timeout, a connection lost) is retried
# after 1, 2, 4 … 64 s; its rows stay pending meanwhile, and the sweep picks them up after that.
DRAIN_RETRIES, DRAIN_RETRY_DELAY_S, BACKOFF = 7, 1.0, 2.0


class Jobs:
    """The app's background tasks on its huey instance (``make_huey``)."""

    def __init__(self, settings: Settings, sessions: Callable[[], sessionmaker[Session]], now: Callable[[], datetime], *, immediate: bool = False):
        self.settings, self._sessions, self._now = settings, sessions, now
        self.immediate = immediate
        self.stopping = threading.Event()  # set on shutdown: a drain waiting for quiet gives up (its rows stay pending)
        self.huey = make_huey(settings, immediate=immediate)
        task, periodic = self.huey.task, self.huey.periodic_task
        self.drain_attendance = task(retries=DRAIN_RETRIES, retry_delay=DRAIN_RETRY_DELAY_S, retry_backoff=BACKOFF, name="attendance_drain")(self._drain)
        self.sweep = periodic(crontab(), name="attendance_sweep")(self._drain)  # every minute
        self.nightly_backup = periodic(self._backup_due, retries=3, retry_delay=60, retry_backoff=BACKOFF, name="nightly_backup")(self._backup)
        self.housekeeping = periodic(crontab(minute="30", hour="3"), name="housekeeping")(self._housekeeping)
        # A pull is not retried by the queue: its run log is the record, and a failed run resumes from
        # its position at the next start (the schedule's, or HR's).
        self.connector_sync = task(name="connector_sync")(self._sync)
        self.pull_schedule = periodic(crontab(), name="pull_schedule")(self._pulls_due)  # every minute
        self.outbox_sweep = periodic(crontab(), name="outbox_sweep")(self._outbox)  # every minute

    # ------------------------------------------------------------ attendance

    def _bulk(self) -> None:
        # A consumer's worker threads do nothing but jobs; immediate tasks run in the caller's thread.
        if not self.immediate:
            bulk.lower_this_thread(self.settings.bulk_nice)

    def _drain(self) -> int:
        self._bulk()
        quiet = 0.0 if self.immediate else self.settings.drain_quiet_s
        return pending.drain_all(
            self._sessions(), now=self._now, default_tz=self.settings.default_timezone,
            quiet_s=quiet, max_delay_s=self.settings.drain_max_delay_s, stop=self.stopping,
        )

    def after_batch(self) -> None:
        """Ask for the figures of a batch just stored (its pending row is committed). Never raises: a
        queue that is down costs a delay, and the sweep catches up once it is back."""
        try:
            self.drain_attendance()
        except Exception:  # the pending row is the record of the work, not this message
            log.warning("could not enqueue the attendance drain; the sweep will take the batch", exc_info=True)

    def kick_if_pending(self) -> None:
        """On a consumer's start: whatever a killed process left pending is enqueued again."""
        try:
            if pending.has_pending(self._sessions()):
                self.drain_attendance()
        except Exception:
            log.warning("could not look for pending attendance batches", exc_info=True)

    # ------------------------------------------------------------ pulls from the business systems

    def _sync(self, name: str) -> int | None:
        from trainquant.integrations.pull import service

        self._bulk()
        try:
            return service.sync(self._sessions(), name, settings=self.settings, clock=self._now, stop=self.stopping)
        except service.SyncRunning:
            return None  # the run under way does the work

    def _pulls_due(self) -> int:
        from trainquant.db import read_only
        from trainquant.integrations.pull import service

        with read_only(self._sessions())() as db:
            names = service.due(db, self._now())
        for name in names:
            self.connector_sync(name)
        return len(names)

    def _outbox(self) -> dict[str, int]:
        """Watch coverage's blocks compacted, completions collected from the settled figures, then every
        due delivery posted."""
        from trainquant.integrations.outbox import service
        from trainquant.learning import completion as online
        from trainquant.learning.lrs import blocks

        self._bulk()
        factory = self._sessions()
        try:
            with unit_of_work(factory) as db:  # a transaction of its own: a lost race rolls back only this
                blocks.compact(db)
        except blocks.CompactionRace:
            log.info("video blocks merged by another worker meanwhile; the next sweep compacts again")
        with unit_of_work(factory) as db:
            # Online programs completed (and external quiz results) become training records first.
            online.sweep(db, now=self._now(), tz=ZoneInfo(self.settings.default_timezone))
            service.collect_completions(db, now=self._now())
        return service.deliver_due(factory, settings=self.settings, clock=self._now)

    # ------------------------------------------------------------ housekeeping

    def _housekeeping(self) -> int:
        """Once a night (03:30 UTC): records kept for a while only, such as refused log-ins, are deleted."""
        from trainquant.auth.login import prune_failures

        return prune_failures(self._sessions(), before=self._now() - timedelta(days=self.settings.login_failures_keep_days))

    # ------------------------------------------------------------ backups

    def _backup_due(self, at: datetime) -> bool:
        if self.settings.backup_keep <= 0:
            return False
        local = at.replace(tzinfo=UTC).astimezone(ZoneInfo(self.settings.default_timezone))  # huey hands in naive UTC
        return local.hour == self.settings.backup_hour and local.minute == 0

    def _backup(self) -> str | None:
        from trainquant.jobs import backup

        self._bulk()
        made = backup.nightly(self.settings, now=self._now())
        return str(made) if made else None
