"""A connector's scheduled pull from its system's REST API, and the log of its runs."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainquant.db import Base, UTCDateTime
from trainquant.integrations.connectors.models import Connector

RUN_STATUSES = ("running", "succeeded", "failed")


class PullSource(Base):
    """What to pull and how (``config``: URL, auth style, paging, mapping; no secret in it), the
    credentials encrypted at rest, and where the last complete run got to (``cursor``: the latest
    change time seen, sent as the next run's ``since``). ``lease_until``: a run holds the source
    until then and renews it with every page, so two runs of one source never overlap and a run
    whose process died is taken over once its lease has run out."""

    __tablename__ = "pull_sources"
    __table_args__ = (CheckConstraint("schedule_minutes IS NULL OR schedule_minutes >= 5", name="schedule"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    connector_id: Mapped[int] = mapped_column(ForeignKey("connectors.id", ondelete="CASCADE"), unique=True)
    config: Mapped[dict] = mapped_column(JSON)
    credentials_encrypted: Mapped[str] = mapped_column(Text)
    schedule_minutes: Mapped[int | None] = mapped_column(Integer)  # None: on demand only
    cursor: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    connector: Mapped[Connector] = relationship()


class SyncRun(Base):
    """One run of a pull, page by page: each page's records and the position of the next page are
    committed together, so a run that dies resumes from its ``position`` with nothing lost (the page
    not committed is fetched again) and nothing doubled (records are idempotent per source)."""

    __tablename__ = "sync_runs"
    __table_args__ = (CheckConstraint("status IN ('running', 'succeeded', 'failed')", name="status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("pull_sources.id", ondelete="CASCADE"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat_at: Mapped[datetime] = mapped_column(UTCDateTime)
    since: Mapped[str | None] = mapped_column(String(64))  # the cursor this run asked from
    position: Mapped[dict | None] = mapped_column(JSON)  # the next page to fetch; None once the last is stored
    cursor_max: Mapped[str | None] = mapped_column(String(64))  # the latest change time among the items stored
    attempts: Mapped[int] = mapped_column(Integer, default=1)  # 1 + the times it was resumed
    pages: Mapped[int] = mapped_column(Integer, default=0)
    items: Mapped[int] = mapped_column(Integer, default=0)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    unmapped: Mapped[int] = mapped_column(Integer, default=0)
    duplicate: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    retries: Mapped[int] = mapped_column(Integer, default=0)  # requests tried again (429, 5xx, timeouts)
    error_code: Mapped[str | None] = mapped_column(String(40))
    error: Mapped[str | None] = mapped_column(String(500))
