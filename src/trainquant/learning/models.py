"""The LRS's tables: statements as received, what the GET filters match on, attachments, activities'
canonical definitions and the documents of the State, Activity Profile and Agent Profile resources.

Statements are facts: appended, never edited, except the ``voided`` mark a voiding statement sets
(Data 2.3.2: a voided statement stays stored and retrievable through ``voidedStatementId``).
"""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from trainquant.db import Base, UTCDateTime


def _present(column: str) -> dict[str, Any]:
    """A partial index's condition: the rows where ``column`` is set."""
    return {"sqlite_where": text(f"{column} IS NOT NULL"), "postgresql_where": text(f"{column} IS NOT NULL")}


class XapiDelivery(Base):
    """One request that stored statements: its JSON exactly as received (the first part of a
    multipart body), so a statement can always be read back byte for byte as it arrived."""

    __tablename__ = "xapi_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stored_by: Mapped[str] = mapped_column(String(40))
    # zlib (RFC 1950) of the body when ``compressed``: a batch of statements is JSON repeating the same
    # keys and IRIs, a ninth of its size compressed, and it is written twice (WAL, then the table).
    body: Mapped[bytes] = mapped_column(LargeBinary)
    compressed: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    @property
    def raw(self) -> bytes:
        """The request's JSON, byte for byte as it arrived."""
        return zlib.decompress(self.body) if self.compressed else self.body


class XapiStatement(Base):
    __tablename__ = "xapi_statements"
    __table_args__ = (
        # Keyset pages in storage order, per filter (Communication 2.1.3: newest first unless ascending).
        Index("ix_xapi_statements_verb", "verb_id", "id"),
        Index("ix_xapi_statements_actor", "actor_key", "id"),
        # Most statements have no object agent, target, registration or bound employee: their indexes hold only
        # the rows that have one (an equality filter implies IS NOT NULL, so both databases use them).
        Index("ix_xapi_statements_object_agent", "object_agent_key", "id", **_present("object_agent_key")),
        Index("ix_xapi_statements_activity", "activity_id", "id"),
        Index("ix_xapi_statements_registration", "registration", "id", **_present("registration")),
        Index("ix_xapi_statements_target", "target_id", **_present("target_id")),
        Index("ix_xapi_statements_stored", "stored", "id"),
        Index("ix_xapi_statements_employee", "employee_id", "id", **_present("employee_id")),
        Index("ix_xapi_statements_stored_by", "stored_by", "id"),
        # The few voided statements, which watch coverage leaves out of its blocks (lrs/blocks.py).
        Index("ix_xapi_statements_voided", "id", sqlite_where=text("voided"), postgresql_where=text("voided")),
    )

    # The storage order: ``more`` pages and ``ascending`` follow it; ``stored`` never runs against it.
    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[str] = mapped_column(String(36), unique=True)  # lower case
    stored: Mapped[datetime] = mapped_column(UTCDateTime)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("xapi_deliveries.id", ondelete="RESTRICT"))
    # The statement as GET returns it: as received, plus what the LRS assigns (id, stored, authority,
    # version, timestamp).
    document: Mapped[str] = mapped_column(Text)
    actor_key: Mapped[str | None] = mapped_column(Text)
    verb_id: Mapped[str] = mapped_column(Text)
    activity_id: Mapped[str | None] = mapped_column(Text)
    object_agent_key: Mapped[str | None] = mapped_column(Text)
    target_id: Mapped[str | None] = mapped_column(String(36))
    registration: Mapped[str | None] = mapped_column(String(36))
    voiding: Mapped[bool] = mapped_column(Boolean, default=False)
    voided: Mapped[bool] = mapped_column(Boolean, default=False)
    # Who stored it ("apikey:3", "user:7"): statements/read/mine reads these only.
    stored_by: Mapped[str] = mapped_column(String(40))
    # The employee the statement counts for. From an employee's own player: that employee, whatever
    # the actor says (a forged actor is refused before this). From a client key: the employee the
    # actor identifies (account on this school's home page, or e-mail), else none.
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"))


class XapiVideoBlock(Base):
    """What watch coverage reads of stored statements (``learning.packed``: a record per statement of
    an employee about an activity in a player session), written with them and merged by compaction
    (``lrs/blocks.py``) so that a year of statements is a few blocks, never a million JSON documents.

    Invariant: every statement with an employee, an Activity object and a session id is in exactly one
    block; a block's records are in storage order. Voided statements stay in; readers leave them out."""

    __tablename__ = "xapi_video_blocks"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_pk: Mapped[int] = mapped_column(Integer)  # the statements' row ids it holds, first and last
    last_pk: Mapped[int] = mapped_column(Integer)
    stored_from: Mapped[datetime] = mapped_column(UTCDateTime)  # their earliest and latest ``stored``
    stored_to: Mapped[datetime] = mapped_column(UTCDateTime)
    rows: Mapped[int] = mapped_column(Integer)
    activities: Mapped[str] = mapped_column(Text)  # JSON array: the records' activity index -> id
    sessions: Mapped[str] = mapped_column(Text)  # JSON array: the records' session index -> id
    data: Mapped[bytes] = mapped_column(LargeBinary)  # packed.DTYPE records


class XapiStatementLink(Base):
    """related_activities / related_agents: every activity and agent a statement mentions."""

    __tablename__ = "xapi_statement_links"
    # One B-tree: the primary key is the lookup (kind, value) in storage order; on SQLite the table is
    # that key itself (WITHOUT ROWID), not a rowid table beside two indexes. Statements are never
    # deleted, so nothing looks links up by statement_pk alone.
    __table_args__ = (
        CheckConstraint("kind IN ('activity', 'agent')", name="kind"),
        {"sqlite_with_rowid": False},
    )

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    value: Mapped[str] = mapped_column(Text, primary_key=True)
    statement_pk: Mapped[int] = mapped_column(ForeignKey("xapi_statements.id", ondelete="CASCADE"), primary_key=True)


class XapiAttachment(Base):
    """Attachment content, once per SHA-256 (two statements attaching one file share it)."""

    __tablename__ = "xapi_attachments"

    sha2: Mapped[str] = mapped_column(String(128), primary_key=True)
    content_type: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class XapiActivity(Base):
    """The LRS's canonical definition of an activity (the Activities resource, format=canonical)."""

    __tablename__ = "xapi_activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[str] = mapped_column(Text, unique=True)
    definition: Mapped[str] = mapped_column(Text)  # JSON
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class XapiDocument(Base):
    """A document of the State, Activity Profile or Agent Profile resource. Absent parts are '' so the
    unique key holds (NULLs never collide)."""

    __tablename__ = "xapi_documents"
    __table_args__ = (
        CheckConstraint("kind IN ('state', 'activity_profile', 'agent_profile')", name="kind"),
        UniqueConstraint("kind", "activity_id", "agent_key", "registration", "doc_id", name="uq_xapi_documents_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    activity_id: Mapped[str] = mapped_column(Text, default="")
    agent_key: Mapped[str] = mapped_column(Text, default="")
    registration: Mapped[str] = mapped_column(String(36), default="")
    doc_id: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(String(255))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(64))  # SHA-1 of the content, hex (Communication 3.1)
    updated: Mapped[datetime] = mapped_column(UTCDateTime)
    # The employee whose state it is (from an employee's own player), for the resume position.
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employees.id", ondelete="SET NULL"), index=True)
    size: Mapped[int] = mapped_column(Integer)


class CourseVideo(Base):
    """A video of an online program: our own media (uploaded by HR) or a third party's activity that
    HR mapped (``media_file`` empty). Its length is the media's own, never a player's claim; a video
    counts as complete only when its coverage says so (learning/rules.py)."""

    __tablename__ = "course_videos"
    __table_args__ = (
        CheckConstraint("length_s > 0", name="length"),
        CheckConstraint("max_speed > 0", name="max_speed"),
        UniqueConstraint("program_id", "position", name="uq_course_videos_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(120))
    activity_id: Mapped[str] = mapped_column(Text, unique=True)  # the xAPI object id of its statements
    length_s: Mapped[float] = mapped_column(Float)
    max_speed: Mapped[float] = mapped_column(Float, default=2.0)
    # The player refuses to seek past what the learner has watched (what a course says, per video).
    no_skipping: Mapped[bool] = mapped_column(Boolean, default=True)
    media_file: Mapped[str | None] = mapped_column(String(255))  # under the instance folder's media/
    media_type: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OnlineCourse(Base):
    """What completes an online program beyond its videos: optionally a quiz, an assessment kind whose
    own pass mark decides (HR records it, or an external quiz's statements on ``quiz_activity_id``
    become assessments of that kind)."""

    __tablename__ = "online_courses"

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), primary_key=True)
    quiz_kind: Mapped[str | None] = mapped_column(ForeignKey("assessment_kinds.code", ondelete="RESTRICT"))
    quiz_activity_id: Mapped[str | None] = mapped_column(Text, unique=True)


class OnlineCompletion(Base):
    """The training record of an online program completed: every video watched through (and the quiz
    passed, when there is one). Written once, when the rule is first seen met."""

    __tablename__ = "online_completions"
    __table_args__ = (UniqueConstraint("program_id", "employee_id", name="uq_online_completions_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id", ondelete="CASCADE"), index=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employees.id", ondelete="CASCADE"), index=True)
    # The end of the last counted play: the evidence's own time, not when the sweep noticed.
    completed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    watched_seconds: Mapped[float] = mapped_column(Float)
    study_seconds: Mapped[float] = mapped_column(Float)
    quiz_score: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
