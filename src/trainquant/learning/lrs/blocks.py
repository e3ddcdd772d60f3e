"""Watch coverage's blocks (``XapiVideoBlock``): written with the statements, merged by compaction,
read back as ``fast.Columns`` without parsing a statement.

Compaction is size-tiered: a block's tier is the order of magnitude of its row count in base
``FANOUT``; once ``FANOUT`` blocks share a tier they become one block of the next. A player's
one-statement requests thus end up in a few large blocks, each record rewritten at most
log_FANOUT(MAX_ROWS) times (about 4). Blocks of ``MAX_ROWS`` rows or more are left as they are.

Invariant: a merge deletes exactly the blocks it read (or the transaction is rolled back), so two
compactions at once never duplicate a record.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
from sqlalchemy import delete, insert, select, text
from sqlalchemy.orm import Session

from trainquant.learning.fast import Columns
from trainquant.learning.models import XapiStatement, XapiVideoBlock
from trainquant.learning.packed import Packed, concat, extract, wall_time

FANOUT = 16
MAX_ROWS = 200_000


class CompactionRace(Exception):
    """Another compaction merged some of the same blocks first; this one is rolled back."""


def _values(packed: Packed, stored_from: datetime, stored_to: datetime) -> dict[str, Any]:
    r = packed.records
    return {
        "first_pk": int(r["pk"].min()), "last_pk": int(r["pk"].max()), "rows": len(packed), "stored_from": stored_from, "stored_to": stored_to,
        "activities": orjson.dumps(packed.activities).decode(), "sessions": orjson.dumps(packed.sessions).decode(), "data": packed.to_bytes(),
    }


def append(db: Session, statements: Sequence[tuple[int, int | None, dict[str, Any], datetime, str]]) -> int:
    """Write the block of (pk, employee id, document, stored, stored_by) just stored; statements that
    count for nobody, or that no player session names, have no record. Returns the records written."""
    rows = [(pk, employee_id, doc, stored.timestamp(), wall_time(stored, stored_by, doc).timestamp())
            for pk, employee_id, doc, stored, stored_by in statements if employee_id is not None]
    packed = extract(rows)
    if not len(packed):
        return 0
    stored = packed.records["stored"]
    db.execute(insert(XapiVideoBlock).values(**_values(packed, datetime.fromtimestamp(float(stored.min()), UTC), datetime.fromtimestamp(float(stored.max()), UTC))))
    return len(packed)


def _packed(activities: str, sessions: str, data: bytes) -> Packed:
    return Packed.from_bytes(orjson.loads(activities), orjson.loads(sessions), data)


def read_columns(db: Session, videos: Sequence[str], *, learners: Sequence[int] | None = None,
                 since: datetime | None = None, until: datetime | None = None) -> Columns:
    """The records about ``videos`` (of ``learners`` when given; stored within [since, until) when
    given), voided statements left out, as ``fast.Columns``."""
    b = XapiVideoBlock
    q = select(b.activities, b.sessions, b.data).order_by(b.id)
    if since is not None:
        q = q.where(b.stored_to >= since)
    if until is not None:
        q = q.where(b.stored_from < until)
    # Written as the partial index's condition, word for word: SQLite uses a partial index only then.
    voided = list(db.scalars(select(XapiStatement.id).where(text("xapi_statements.voided"))))
    blocks = [_packed(*row) for row in db.execute(q)]
    return Columns.from_packed(blocks, videos, learners=learners, exclude=voided,
                               since=since.timestamp() if since is not None else None, until=until.timestamp() if until is not None else None)


def _tier(rows: int) -> int:
    return int(math.log(max(rows, 1), FANOUT) + 1e-9)


def compact(db: Session) -> int:
    """Merge blocks until no tier holds ``FANOUT`` of them. Returns the blocks merged away."""
    merged = 0
    while True:
        tiers: dict[int, list[int]] = {}
        for id_, rows in db.execute(select(XapiVideoBlock.id, XapiVideoBlock.rows).where(XapiVideoBlock.rows < MAX_ROWS).order_by(XapiVideoBlock.id)):
            tiers.setdefault(_tier(rows), []).append(id_)
        full = sorted(t for t, ids in tiers.items() if len(ids) >= FANOUT)
        if not full:
            return merged
        ids = tiers[full[0]][:FANOUT]
        rows_ = db.execute(select(XapiVideoBlock.activities, XapiVideoBlock.sessions, XapiVideoBlock.data, XapiVideoBlock.stored_from,
                                  XapiVideoBlock.stored_to).where(XapiVideoBlock.id.in_(ids)).order_by(XapiVideoBlock.first_pk)).all()
        packed = concat([_packed(a, s, d) for a, s, d, _, _ in rows_])
        if db.execute(delete(XapiVideoBlock).where(XapiVideoBlock.id.in_(ids))).rowcount != len(ids):  # type: ignore[attr-defined]
            raise CompactionRace(f"blocks {ids} were merged by another compaction")
        db.execute(insert(XapiVideoBlock).values(**_values(packed, min(r[3] for r in rows_), max(r[4] for r in rows_))))
        merged += len(ids)
