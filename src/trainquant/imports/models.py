"""What every file import leaves behind: the run with its verdict, and each rejected row with its reason."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from trainquant.db import Base, UTCDateTime


class ImportRun(Base):
    """One import of a file: kept with its verdict so a retry of the same file is recognised."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    filename: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    mode: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))  # applied | partial | rejected
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    created_count: Mapped[int] = mapped_column(Integer, default=0)
    updated_count: Mapped[int] = mapped_column(Integer, default=0)
    unchanged_count: Mapped[int] = mapped_column(Integer, default=0)
    rejected_count: Mapped[int] = mapped_column(Integer, default=0)
    repeat_of_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    rejections: Mapped[list[ImportRejection]] = relationship(
        cascade="all, delete-orphan", order_by="ImportRejection.id", lazy="raise"
    )


class ImportRejection(Base):
    """A row (or cell) an import refused, with the reason and the raw values as received."""

    __tablename__ = "import_rejections"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("import_runs.id", ondelete="CASCADE"), index=True)
    row: Mapped[int] = mapped_column(Integer)
    column: Mapped[str | None] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(48))
    message: Mapped[str] = mapped_column(String(500))  # in English
    # The message's template (the catalogue's msgid) and its values, for the page to say it in its
    # language: {"t": template, "p": {...}}; empty for rejections stored before (the page shows the English).
    params: Mapped[dict] = mapped_column(JSON, default=dict, server_default="{}")
    raw: Mapped[str | None] = mapped_column(Text)
