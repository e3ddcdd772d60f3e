"""The driver-level bulk insert: what it writes reads back through the ORM exactly, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from trainquant.attendance.models import CheckinEvent
from trainquant.db import driver_value, insert_rows, reserve_ids, select_in

COLUMNS = ("id", "dedup_key", "source", "origin", "received_at", "at", "kind", "verdict", "lat", "raw")


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
        (id_, f"k{id_}", "api", "api", when(datetime(2026, 9, 1, tzinfo=UTC)), when(at), "in", "accepted", 39.9 if i else None, orjson.dumps(raw).decode())
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


def test_select_in_takes_any_number_of_keys_in_one_statement(db):
    table = CheckinEvent.__table__
    when = driver_value(table.c.at, db.get_bind().dialect)
    ids = reserve_ids(db, table, 3)
    insert_rows(db, table, ("id", "dedup_key", "source", "origin", "received_at", "verdict", "raw"), [
        (id_, f"k{i}", "api", "api", when(datetime(2026, 9, 1, tzinfo=UTC)), "rejected" if i == 2 else "accepted", "{}") for i, id_ in enumerate(ids)
    ])
    keys = [f"k{i}" for i in range(5000)] + ["名字", "it's"]  # far more than a backend's parameter limit, quotes, CJK
    assert sorted(select_in(db, table, "dedup_key", ("dedup_key", "id"), keys)) == [("k0", ids[0]), ("k1", ids[1]), ("k2", ids[2])]
    assert sorted(select_in(db, table, "dedup_key", ("id",), keys, where="verdict = 'accepted'")) == [(ids[0],), (ids[1],)]
    assert select_in(db, table, "id", ("dedup_key",), [ids[1], 10**9]) == [("k1",)]  # integer keys
    assert select_in(db, table, "dedup_key", ("id",), []) == []


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.timezones()))
def test_utc_text_for_sqlite_is_what_sqlalchemy_writes(at):
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    column = CheckinEvent.__table__.c.at
    reference = column.type.dialect_impl(dialect).bind_processor(dialect)  # the TypeDecorator chained with SQLite's DATETIME
    text = driver_value(column, dialect)(at)
    assert isinstance(text, str) and text == reference(at)


def test_a_whole_second_written_by_the_driver_is_found_by_an_orm_comparison(db):
    table = CheckinEvent.__table__
    when = driver_value(table.c.at, db.get_bind().dialect)
    at = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)  # no microseconds: SQLite's driver alone would drop the fraction
    [id_] = reserve_ids(db, table, 1)
    insert_rows(db, table, ("id", "dedup_key", "source", "origin", "received_at", "at", "verdict", "raw"), [(id_, "k", "api", "api", when(at), when(at), "accepted", "{}")])
    assert db.scalar(select(CheckinEvent.id).where(CheckinEvent.at >= at, CheckinEvent.at <= at, CheckinEvent.received_at == at)) == id_


def test_a_writer_waits_for_the_sqlite_write_lock_and_gives_up_after_the_busy_timeout(tmp_path):
    import threading
    import time

    import pytest
    from sqlalchemy.exc import OperationalError

    from trainquant.config import Settings
    from trainquant.db import make_engine

    url = f"sqlite:///{tmp_path / 'lock.db'}"
    engine = make_engine(Settings(env="test", sqlite_busy_timeout_ms=300), url=url)
    with engine.begin() as c:
        c.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    holder = engine.connect()
    holder.begin()
    holder.exec_driver_sql("INSERT INTO t VALUES (1)")
    started, wrote = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def write():
        started.set()
        try:
            with engine.begin() as c:  # waits for the holder, inside the busy timeout
                c.exec_driver_sql("INSERT INTO t VALUES (2)")
        except BaseException as e:  # noqa: BLE001 - reported by the test's thread below
            failures.append(e)
        wrote.set()

    writer = threading.Thread(target=write)
    writer.start()
    assert started.wait(5)
    # While the holder keeps its transaction the writer cannot get through.
    assert not wrote.wait(0.1)
    holder.commit()  # on this thread, so the holder is idle once this returns
    assert wrote.wait(5)
    writer.join()
    assert failures == []

    holder.begin()
    holder.exec_driver_sql("INSERT INTO t VALUES (3)")
    start = time.monotonic()
    with pytest.raises(OperationalError, match="locked"), engine.begin():
        pass
    assert time.monotonic() - start >= 0.3  # the configured timeout, not at once
    holder.rollback()
    with engine.connect() as c:
        assert c.exec_driver_sql("PRAGMA busy_timeout").scalar() == 300  # restored after the wait
        assert [r[0] for r in c.exec_driver_sql("SELECT x FROM t ORDER BY x")] == [1, 2]
    holder.close()
    engine.dispose()
