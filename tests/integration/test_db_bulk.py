"""The driver-level bulk insert: what it writes reads back through the ORM exactly, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
from sqlalchemy import select

from trainquant.attendance.models import CheckinEvent
from trainquant.db import driver_value, insert_rows, reserve_ids

COLUMNS = ("id", "dedup_key", "source", "received_at", "at", "kind", "verdict", "lat", "raw")


def test_rows_written_by_the_driver_read_back_through_the_orm(db):
    table = CheckinEvent.__table__
    dialect = db.get_bind().dialect
    when = driver_value(table.c.at, dialect)
    east8 = timezone(timedelta(hours=8))
    ats = [datetime(2026, 9, 1, 19, 0, 0, 123456, tzinfo=east8) + timedelta(minutes=i) for i in range(3)]
    ids = reserve_ids(db, table, 3)
    assert len(set(ids)) == 3
    raw = {"名字": "张三", "n": 1, "nested": [1, None]}
    insert_rows(db, table, COLUMNS, [
        (id_, f"k{id_}", "api", when(datetime(2026, 9, 1, tzinfo=UTC)), when(at), "in", "accepted", 39.9 if i else None, orjson.dumps(raw).decode())
        for i, (id_, at) in enumerate(zip(ids, ats, strict=True))
    ])
    got = db.execute(select(CheckinEvent.id, CheckinEvent.at, CheckinEvent.raw, CheckinEvent.lat).order_by(CheckinEvent.id)).all()
    assert [g.id for g in got] == ids
    assert [g.at for g in got] == ats  # the same instants, handed back in UTC
    assert all(g.at.tzinfo is not None for g in got)
    assert [g.raw for g in got] == [raw] * 3
    assert [g.lat for g in got] == [None, 39.9, 39.9]
    # The next reservation starts after what was written.
    assert min(reserve_ids(db, table, 2)) > max(ids)
    # Rows written through the ORM compare with the driver's in SQL (same stored format).
    assert db.scalar(select(CheckinEvent.id).where(CheckinEvent.at > ats[0]).order_by(CheckinEvent.id).limit(1)) == ids[1]


def test_reserving_nothing_returns_nothing(db):
    assert reserve_ids(db, CheckinEvent.__table__, 0) == []
