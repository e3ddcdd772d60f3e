"""What ingestion works on: one row per received record, with its verdict as it forms, and what
verification needs of a session, read as plain columns."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.training.models import TrainingSession


@dataclass(slots=True, frozen=True)
class SessionInfo:
    """What verification needs of a session, read as plain columns (ORM attribute access costs per event)."""

    id: int
    code: str
    status: str
    starts_at: datetime
    ends_at: datetime
    checkin_methods: tuple[str, ...]
    venue_id: int | None


SESSION_COLUMNS = (
    TrainingSession.id, TrainingSession.code, TrainingSession.status, TrainingSession.starts_at, TrainingSession.ends_at,
    TrainingSession.checkin_methods, TrainingSession.venue_id,
)


def session_infos(db: Session, *where: Any) -> list[SessionInfo]:
    return [SessionInfo(i, c, st, a, b, tuple(m or ()), v) for i, c, st, a, b, m, v in db.execute(select(*SESSION_COLUMNS).where(*where))]


@dataclass(slots=True)
class Row:
    index: int
    raw: Any
    origin: str
    event_id: str  # as answered: the client's, else the key's record hash
    key: str = ""
    event: dict[str, Any] | None = None  # ``schemas.validate_event``: EventIn's fields as a dict
    legacy_key: str | None = None  # the key this event would have had before origins were recorded
    legacy_match: tuple[int, int | None] | None = None  # (event id, employee id) of the old event with that key
    content_key: str | None = None  # rejected records: their sender, reason code and content
    first_index: int | None = None  # a repeat within the batch: the row it repeats
    verdict: str = "accepted"
    code: str | None = None
    reason: str | None = None
    employee_id: int | None = None
    session: SessionInfo | None = None
    by_time: bool = False  # the session was found by the punch's time and place, not named by the sender
    distance_m: float | None = None
    qr_step: int | None = None
    lat: float | None = None
    lng: float | None = None
    duplicate_of: int | None = None

    def reject(self, code: str, reason: str) -> None:
        if self.verdict == "accepted":
            self.verdict, self.code, self.reason = "rejected", code, reason


def live_rows(rows: list[Row]) -> list[tuple[Row, dict[str, Any]]]:
    """The rows still accepted, each with its validated event."""
    return [(r, r.event) for r in rows if r.verdict == "accepted" and r.event is not None]
