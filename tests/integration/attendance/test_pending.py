"""Figures after answered batches: the pending rows, the drainer, and what survives a crash."""

from __future__ import annotations

import threading
import time

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, select

from tests.integration.attendance.test_ingest_api import ev, school  # noqa: F401 (school is a fixture)
from trainquant.attendance.checkin import pending
from trainquant.attendance.checkin.pending import Drainer
from trainquant.attendance.checkin.service import ingest_for_later
from trainquant.attendance.models import (
    AttendanceRecord,
    CheckinEvent,
    PendingRefresh,
    ProxyCase,
)
from trainquant.attendance.proxy import service as review
from trainquant.models import metadata

ATTENDANCE_TABLES = {"checkin_events", "attendance_pending", "attendance_drain_lease", "attendance_records", "proxy_cases", "devices", "device_commands"}


def records(db) -> int:
    return db.scalar(select(func.count()).select_from(AttendanceRecord))


def test_an_answered_batch_leaves_one_pending_row_until_drained(db, school, settings, clock, app):
    outcome = ingest_for_later(db, [ev(0, "in"), ev(90, "out")], source="api", principal=None, now=clock.now(), settings=settings)
    db.commit()
    assert outcome.counts == {"accepted": 2, "duplicate": 0, "rejected": 0}
    # As if the process died right after answering: the events are stored, the work is remembered.
    assert pending.pending_count(db) == 1 and records(db) == 0
    row = db.scalar(select(PendingRefresh))
    assert (row.first_event_id, row.last_event_id) == (min(outcome.stored_ids), max(outcome.stored_ids))

    assert app.state.drainer.drain() == 1
    db.expire_all()
    assert pending.pending_count(db) == 0
    rec = db.scalar(select(AttendanceRecord))
    assert rec.attended_seconds == 90 * 60 and rec.events == 2
    assert app.state.drainer.drain() == 0  # nothing left: a second drain does nothing


def test_a_batch_with_nothing_accepted_leaves_no_pending_row(db, school, settings, clock):
    ingest_for_later(db, [ev(0, "in", employee_no="NOBODY")], source="api", principal=None, now=clock.now(), settings=settings)
    assert pending.pending_count(db) == 0


def test_several_batches_are_drained_in_one_round(db, school, settings, clock, app):
    for minutes in (0, 30, 60):
        ingest_for_later(db, [ev(minutes, "in" if minutes != 30 else "out")], source="api", principal=None, now=clock.now(), settings=settings)
    db.commit()
    drainer = app.state.drainer
    assert drainer.drain() == 3 and drainer.rounds == 1
    db.expire_all()
    assert records(db) == 1


def test_a_drain_waits_while_a_batch_is_being_stored_but_not_forever(db, school, settings, clock, app):
    ingest_for_later(db, [ev(0, "in"), ev(120, "out")], source="api", principal=None, now=clock.now(), settings=settings)
    db.commit()
    drainer = Drainer(lambda: app.state.sessionmaker, clock.now, settings.default_timezone, quiet_s=0.05, max_delay_s=30)
    done = []
    with drainer.ingesting():
        worker = threading.Thread(target=lambda: done.append(drainer.drain()))
        worker.start()
        time.sleep(0.3)
        assert done == [] and worker.is_alive()  # waiting for the batch in flight
    worker.join(10)
    assert done == [1]

    # Under steady load it goes ahead after max_delay_s.
    ingest_for_later(db, [ev(10, "in", event_id="again")], source="api", principal=None, now=clock.now(), settings=settings)
    db.commit()
    impatient = Drainer(lambda: app.state.sessionmaker, clock.now, settings.default_timezone, quiet_s=30, max_delay_s=0.2)
    with impatient.ingesting():
        start = time.monotonic()
        assert impatient.drain() == 1
        assert 0.2 <= time.monotonic() - start < 10


def test_a_kick_during_a_drain_is_not_lost(db, school, settings, clock, app, monkeypatch):
    """A batch stored while the drainer works is picked up by that drainer before it stops."""
    drainer = app.state.drainer
    ingest_for_later(db, [ev(0, "in")], source="api", principal=None, now=clock.now(), settings=settings)
    db.commit()
    real = pending.drain_once
    calls = []

    def once_then_another_batch(factory, **kw):
        n = real(factory, **kw)
        if not calls:
            # Another request stores a batch and kicks while this drain is running: its kick returns
            # at once (the lock is held), so this drain must take the batch.
            ingest_for_later(db, [ev(120, "out")], source="api", principal=None, now=clock.now(), settings=settings)
            db.commit()
            assert drainer.drain() == 0
        calls.append(n)
        return n

    monkeypatch.setattr(pending, "drain_once", once_then_another_batch)
    assert drainer.drain() == 2
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
    drainer = Drainer(lambda: factory, clock.now, settings.default_timezone, quiet_s=0.15, max_delay_s=30)
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
    drainer.drain()
    worker.join()
    assert started and started[0] >= last_batch[0] + 0.1  # not before the other worker's batches stopped


def test_one_drainer_at_a_time_across_processes(db, school, settings, clock, app, monkeypatch):
    """While another process holds the drain lease, a drainer leaves its batches to it."""
    ingest_for_later(db, [ev(0, "in"), ev(60, "out")], source="api", principal=None, now=clock.now(), settings=settings)
    db.commit()
    factory = app.state.sessionmaker
    assert pending.take_lease(factory, "other-worker", now=clock.now())
    computed = []
    real = pending.drain_once
    monkeypatch.setattr(pending, "drain_once", lambda *a, **kw: computed.append(1) or real(*a, **kw))
    drainer = Drainer(lambda: factory, clock.now, settings.default_timezone, quiet_s=0)
    assert drainer.drain() == 0 and computed == [] and pending.pending_count(db) == 1

    # The holder died: once its lease has run out, the next drain takes over.
    clock.advance(seconds=pending.LEASE.total_seconds() + 1)
    assert drainer.drain() == 1 and pending.pending_count(db) == 0
    db.expire_all()
    assert records(db) == 1
    assert pending.take_lease(factory, "other-worker", now=clock.now())  # let go after the drain


def test_a_batch_stored_while_the_holder_lets_go_is_not_left_behind(db, school, settings, clock, app, monkeypatch):
    ingest_for_later(db, [ev(0, "in")], source="api", principal=None, now=clock.now(), settings=settings)
    db.commit()
    real_release = pending.release_lease
    calls = []

    def another_process_stores_a_batch_then_let_go(factory, holder):
        if not calls:  # the other process's drainer found the lease held and left its row to this one
            ingest_for_later(db, [ev(120, "out")], source="api", principal=None, now=clock.now(), settings=settings)
            db.commit()
        calls.append(holder)
        real_release(factory, holder)

    monkeypatch.setattr(pending, "release_lease", another_process_stores_a_batch_then_let_go)
    drainer = Drainer(lambda: app.state.sessionmaker, clock.now, settings.default_timezone, quiet_s=0)
    assert drainer.drain() == 2 and len(calls) == 2
    db.expire_all()
    assert pending.pending_count(db) == 0 and db.scalar(select(AttendanceRecord)).events == 2


def test_the_lease_is_renewed_while_a_long_round_runs(cli_engine, clock, settings, monkeypatch):
    from trainquant.db import make_sessionmaker, unit_of_work

    factory = make_sessionmaker(cli_engine)
    with unit_of_work(factory) as db:
        pending.mark(db, [1, 2], now=clock.now())
    real = pending.drain_once
    others = []

    def long_round(*a, **kw):
        if not others:
            clock.advance(seconds=pending.LEASE.total_seconds() + 60)  # this round outlasts the lease taken at its start
            time.sleep(0.3)  # meanwhile the renewer runs
            others.append(pending.take_lease(factory, "other-worker", now=clock.now()))
        return real(*a, **kw)

    monkeypatch.setattr(pending, "drain_once", long_round)
    drainer = Drainer(lambda: factory, clock.now, settings.default_timezone, quiet_s=0)
    drainer.renew_s = 0.05
    assert drainer.drain() == 1
    assert others == [False]  # still held: another worker could not take over mid-round
    assert pending.take_lease(factory, "other-worker", now=clock.now())  # let go at the end
