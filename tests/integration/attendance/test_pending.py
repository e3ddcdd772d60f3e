"""Figures after answered batches: the pending rows, the drain, and what survives a crash."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from tests.integration.attendance.test_ingest_api import ev
from trainquant.attendance.checkin import pending
from trainquant.attendance.checkin.service import ingest_for_later
from trainquant.attendance.models import (
    AttendanceRecord,
    CheckinEvent,
    PendingRefresh,
    ProxyCase,
)
from trainquant.attendance.proxy import service as review
from trainquant.models import metadata

ATTENDANCE_TABLES = {"checkin_events", "attendance_pending", "attendance_records", "proxy_cases", "devices", "device_commands"}


def records(db) -> int:
    return db.scalar(select(func.count()).select_from(AttendanceRecord))


def drain(factory, settings, clock, **kw) -> int:
    return pending.drain_all(factory, now=clock.now, default_tz=settings.default_timezone, **kw)


def test_an_answered_batch_leaves_one_pending_row_until_drained(db, school, settings, clock, app):
    outcome = ingest_for_later(db, [ev(0, "in"), ev(90, "out")], source="api", principal=None, now=clock.now(), settings=settings)
    db.commit()
    assert outcome.counts == {"accepted": 2, "duplicate": 0, "rejected": 0}
    # As if the process died right after answering: the events are stored, the work is remembered.
    assert pending.pending_count(db) == 1 and records(db) == 0
    row = db.scalar(select(PendingRefresh))
    assert (row.first_event_id, row.last_event_id) == (min(outcome.stored_ids), max(outcome.stored_ids))

    assert app.state.jobs.drain_attendance.call_local() == 1  # the job's own body, as a consumer runs it
    db.expire_all()
    assert pending.pending_count(db) == 0
    rec = db.scalar(select(AttendanceRecord))
    assert rec.attended_seconds == 90 * 60 and rec.events == 2
    assert app.state.jobs.drain_attendance.call_local() == 0  # nothing left: a second drain does nothing


def test_a_batch_with_nothing_accepted_leaves_no_pending_row(db, school, settings, clock):
    ingest_for_later(db, [ev(0, "in", employee_no="NOBODY")], source="api", principal=None, now=clock.now(), settings=settings)
    assert pending.pending_count(db) == 0


def test_several_batches_are_drained_in_one_round(db, school, settings, clock, app):
    for minutes in (0, 30, 60):
        ingest_for_later(db, [ev(minutes, "in" if minutes != 30 else "out")], source="api", principal=None, now=clock.now(), settings=settings)
    db.commit()
    rounds = []
    assert drain(app.state.sessionmaker, settings, clock, on_round=rounds.append) == 3 and rounds == [3]
    db.expire_all()
    assert records(db) == 1


def test_a_drain_waits_while_a_batch_is_being_stored_but_not_forever(db, school, settings, clock, app):
    ingest_for_later(db, [ev(0, "in"), ev(120, "out")], source="api", principal=None, now=clock.now(), settings=settings)
    db.commit()
    done, finished = [], threading.Event()
    with pending.ingesting():
        worker = threading.Thread(target=lambda: (done.append(drain(app.state.sessionmaker, settings, clock, quiet_s=0.05, max_delay_s=30)), finished.set()))
        worker.start()
        assert not finished.wait(0.3)  # waiting for the batch in flight
    assert finished.wait(10)
    assert done == [1]

    # Under steady load it goes ahead after max_delay_s.
    ingest_for_later(db, [ev(10, "in", event_id="again")], source="api", principal=None, now=clock.now(), settings=settings)
    db.commit()
    with pending.ingesting():
        start = time.monotonic()
        assert drain(app.state.sessionmaker, settings, clock, quiet_s=30, max_delay_s=0.2) == 1
        assert 0.2 <= time.monotonic() - start < 10


def test_a_drain_stops_waiting_when_the_consumer_stops_and_leaves_its_rows(db, school, settings, clock, app):
    ingest_for_later(db, [ev(0, "in")], source="api", principal=None, now=clock.now(), settings=settings)
    db.commit()
    stop = threading.Event()
    stop.set()
    with pending.ingesting():
        assert drain(app.state.sessionmaker, settings, clock, quiet_s=30, max_delay_s=60, stop=stop) == 0
    assert pending.pending_count(db) == 1  # for the next start


def test_a_batch_stored_while_another_drain_holds_the_mutex_is_not_left_behind(db, school, settings, clock, app, monkeypatch):
    """Its own drain job finds the mutex taken and returns; the holder looks again after letting go."""
    factory = app.state.sessionmaker
    ingest_for_later(db, [ev(0, "in")], source="api", principal=None, now=clock.now(), settings=settings)
    db.commit()
    real = pending.drain_once
    calls = []

    def once_then_another_batch(factory, **kw):
        n = real(factory, **kw)
        if not calls:
            ingest_for_later(db, [ev(120, "out")], source="api", principal=None, now=clock.now(), settings=settings)
            db.commit()
            assert drain(factory, settings, clock) == 0  # the second batch's job: the mutex is held
        calls.append(n)
        return n

    monkeypatch.setattr(pending, "drain_once", once_then_another_batch)
    assert drain(factory, settings, clock) == 2
    db.expire_all()
    assert pending.pending_count(db) == 0
    assert db.scalar(select(AttendanceRecord)).events == 2


def _after_the_read(monkeypatch, then):
    """Run ``then`` right after ``drain_once``'s read-only transaction closes, before it writes (call
    ``drain_once`` itself: the ``Drainer`` opens read-only sessions of its own while it waits)."""
    real_read_only = pending.read_only

    def read_then(factory):
        reading = real_read_only(factory)

        def make():
            session = reading()
            close = session.close

            def close_then():
                close()
                monkeypatch.setattr(pending, "read_only", real_read_only)  # once
                then()

            session.close = close_then
            return session

        return make

    monkeypatch.setattr(pending, "read_only", read_then)


def test_a_proxy_decision_between_reading_and_writing_is_not_overwritten(db, school, settings, clock, app, monkeypatch):
    """The drain reads in one transaction and writes in another; an HR decision in between wins."""
    ingest_for_later(db, [ev(0, "in"), ev(120, "out")], source="api", principal=None, now=clock.now(), settings=settings)
    db.commit()
    ids = list(db.scalars(select(CheckinEvent.id)))
    db.add(ProxyCase(session_id=school["session"].id, signal="shared-device", fingerprint="test", score=0.9,
                     employee_ids=[school["t1"].id], event_ids=ids, detail="test", status="open", created_at=clock.now()))
    db.commit()
    case_id = db.scalar(select(ProxyCase.id))

    def hr_confirms():  # the drain has read and computed; before it writes, HR confirms the case
        review.decide(db, case_id, "confirm", by="hr", note="colleague signed in for T1", now=clock.now(), default_tz=settings.default_timezone)
        db.commit()

    _after_the_read(monkeypatch, hr_confirms)
    pending.drain_once(app.state.sessionmaker, now=clock.now(), default_tz=settings.default_timezone)
    db.expire_all()
    rec = db.scalar(select(AttendanceRecord))
    assert rec.attended_seconds == 0 and rec.events == 0  # the confirmed proxy punches do not count


def test_the_migration_matches_the_attendance_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    mine = [change for change in diff if any(f"'{table}'" in repr(change) or f"{table}." in repr(change) for table in ATTENDANCE_TABLES)]
    assert mine == [], mine


def test_the_migration_gives_whole_second_event_times_their_fraction(tmp_path):
    from trainquant.db import make_engine
    from trainquant.migrate import upgrade

    engine = make_engine(url=f"sqlite:///{tmp_path}/old.db")
    upgrade(engine, "0005")
    with engine.begin() as conn:  # as the 0005 release's bulk insert wrote them
        conn.exec_driver_sql(
            "INSERT INTO checkin_events (dedup_key, source, received_at, at, verdict, raw) VALUES "
            "('a', 'api', '2026-09-01 06:00:00', '2026-09-01 06:00:00', 'accepted', '{}'), "
            "('b', 'api', '2026-09-01 06:00:00.250000', '2026-09-01 07:00:00.250000', 'accepted', '{}')"
        )
    upgrade(engine)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT at, received_at FROM checkin_events ORDER BY id").all() == [
            ("2026-09-01 06:00:00.000000", "2026-09-01 06:00:00.000000"), ("2026-09-01 07:00:00.250000", "2026-09-01 06:00:00.250000"),
        ]
    engine.dispose()


def test_rows_another_drainer_took_meanwhile_are_not_overwritten_from_an_older_look(db, school, settings, clock, app, monkeypatch):
    """Two worker processes drain the same table: one must not write figures older than the other's."""
    for batch in ([ev(0, "in")], [ev(0, "in", employee_no="T2", event_id="t2-in")]):
        ingest_for_later(db, batch, source="api", principal=None, now=clock.now(), settings=settings)
    db.commit()

    def another_worker_drains_the_first_row_after_a_checkout():
        # T1 checks out (a third pending row); the other worker takes the oldest row only, looking
        # after the check-out, and writes T1's figures with it.
        ingest_for_later(db, [ev(60, "out")], source="api", principal=None, now=clock.now(), settings=settings)
        db.commit()
        monkeypatch.setattr(pending, "ROWS_PER_ROUND", 1)
        assert pending.drain_once(app.state.sessionmaker, now=clock.now(), default_tz=settings.default_timezone) == 1
        monkeypatch.setattr(pending, "ROWS_PER_ROUND", 500)

    _after_the_read(monkeypatch, another_worker_drains_the_first_row_after_a_checkout)
    # This drain read rows 1-2 before the check-out; it may claim only row 2, so it computes again.
    assert pending.drain_once(app.state.sessionmaker, now=clock.now(), default_tz=settings.default_timezone) == 2
    db.expire_all()
    t1 = db.scalar(select(AttendanceRecord).where(AttendanceRecord.employee_id == school["t1"].id))
    assert (t1.events, t1.attended_seconds) == (2, 60 * 60)  # not the one-event figure of the older look
    assert pending.pending_count(db) == 1  # the check-out's own row is still there for the next round


def test_rows_another_drainer_did_all_of_are_left_alone(db, school, settings, clock, app, monkeypatch):
    ingest_for_later(db, [ev(0, "in"), ev(60, "out")], source="api", principal=None, now=clock.now(), settings=settings)
    db.commit()
    _after_the_read(monkeypatch, lambda: pending.drain_once(app.state.sessionmaker, now=clock.now(), default_tz=settings.default_timezone))
    assert pending.drain_once(app.state.sessionmaker, now=clock.now(), default_tz=settings.default_timezone) == 1
    db.expire_all()
    assert pending.pending_count(db) == 0 and records(db) == 1


def test_a_drain_waits_while_another_worker_process_stores_batches(cli_engine, clock, settings, monkeypatch):
    """Worker processes share no memory: batches another one stores show as new pending rows."""
    from trainquant.db import make_sessionmaker, unit_of_work

    factory = make_sessionmaker(cli_engine)
    started = []
    real = pending.drain_once
    monkeypatch.setattr(pending, "drain_once", lambda *a, **kw: started.append(time.monotonic()) or real(*a, **kw))
    last_batch, storing = [], threading.Event()

    def other_worker():
        for i in range(8):
            with unit_of_work(factory) as db:
                pending.mark(db, [i + 1], now=clock.now())
            last_batch[:] = [time.monotonic()]
            storing.set()
            time.sleep(0.05)

    worker = threading.Thread(target=other_worker)
    worker.start()
    assert storing.wait(10)  # the other worker is storing when the drain begins to wait
    drain(factory, settings, clock, quiet_s=0.15, max_delay_s=30)
    worker.join()
    assert started and started[0] >= last_batch[0] + 0.1  # not before the other worker's batches stopped


HOLD_AND_WAIT = """
import sys, time
from sqlalchemy.orm import sessionmaker
from trainquant.attendance.checkin.pending import drain_mutex
from trainquant.config import Settings
from trainquant.db import make_engine
engine = make_engine(Settings(env="test"), url=sys.argv[1])
with drain_mutex(sessionmaker(bind=engine)) as held:
    print("held" if held else "busy", flush=True)
    time.sleep(120)
"""


def test_a_drain_killed_with_its_process_holds_nothing(engine):
    """kill -9 of a draining process: the next drain (``attendance refresh``, another worker) goes at once."""
    from trainquant.db import make_sessionmaker

    factory = make_sessionmaker(engine)
    url = engine.url.render_as_string(hide_password=False)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_AND_WAIT, url], stdout=subprocess.PIPE, text=True, env={**os.environ})
    try:
        assert holder.stdout.readline().strip() == "held"
        with pending.drain_mutex(factory) as held:
            assert not held  # another process drains
    finally:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(30)
    with pending.drain_mutex(factory, wait_s=10) as held:
        assert held
