"""The job queue: where huey keeps it, real consumers working off what a crash left, retries, and one
embedded consumer per machine."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from huey import MemoryHuey, RedisHuey, SqliteHuey

from tests.conftest import NOW
from trainquant.attendance.checkin import pending
from trainquant.attendance.models import AttendanceRecord
from trainquant.config import Settings
from trainquant.db import make_sessionmaker, read_only, unit_of_work
from trainquant.jobs import consumer as consumers
from trainquant.jobs.consumer import EmbeddedConsumer, JobConsumer
from trainquant.jobs.queue import SerialPostgresStorage, make_huey
from trainquant.jobs.tasks import Jobs


def test_the_queue_lives_beside_the_database_unless_told_otherwise(tmp_path):
    sqlite = make_huey(Settings(env="test", database_url=f"sqlite:///{tmp_path}/app.db"))
    assert isinstance(sqlite, SqliteHuey) and sqlite.storage.filename == str(tmp_path / "jobs.db")  # its own file, never the app's
    assert isinstance(make_huey(Settings(env="test", database_url="sqlite:///:memory:")), MemoryHuey)
    pg = make_huey(Settings(env="test", database_url="postgresql+psycopg://u@db.invalid/tq"), immediate=True)  # immediate: no connection
    assert pg.storage_class is SerialPostgresStorage and pg.storage_kwargs["dsn"] == "postgresql://u@db.invalid/tq"
    assert isinstance(make_huey(Settings(env="test", jobs_url="redis://127.0.0.1:6379/15")), RedisHuey)
    with pytest.raises(ValueError):
        make_huey(Settings(env="test", jobs_url="amqp://nope"))


def _left_pending_by_a_crash(factory) -> None:
    from trainquant.attendance.checkin.service import ingest_for_later
    from trainquant.attendance.models import Device
    from trainquant.org.models import Department, Employee, Site
    from trainquant.training.models import Program, TrainingSession

    start = NOW - timedelta(days=1)
    with unit_of_work(factory) as db:
        dep, site = Department(code="T", name="教学部", kind="teaching"), Site(code="BJ", name="北京", timezone="Asia/Shanghai")
        db.add_all([dep, site])
        db.flush()
        db.add(Employee(employee_no="T1", name="李雷", department_id=dep.id, status="active", created_at=NOW, updated_at=NOW))
        prog = Program(code="P", title="培训", kind="offline", level="foundation", target_kinds=[], tags=[], eligibility={}, planned_hours=2, created_at=NOW)
        db.add(prog)
        db.flush()
        db.add(TrainingSession(code="S1", program_id=prog.id, sequence=1, starts_at=start, ends_at=start + timedelta(hours=2), site_id=site.id,
                               checkin_methods=["face"], created_at=NOW))
        db.add(Device(device_id="ZK-1", kind="zkteco", site_id=site.id, active=True))
    with unit_of_work(factory) as db:  # answered; the process (and its queue message) died before the drain
        punches = [{"event_id": f"e{k}", "employee_no": "T1", "session": "S1", "kind": kind, "at": (start + timedelta(minutes=m)).isoformat(),
                    "method": "face", "device_id": "ZK-1"} for k, (kind, m) in enumerate([("in", 0), ("out", 60)])]
        ingest_for_later(db, punches, source="api", principal=None, now=NOW, settings=Settings(env="test"))


def _settle(factory, timeout_s: float = 20) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not pending.has_pending(factory):
            return True
        time.sleep(0.05)
    return False


def _jobs(cli_engine, **settings) -> tuple[Jobs, object]:
    factory = make_sessionmaker(cli_engine)
    s = Settings(env="test", database_url=cli_engine.url.render_as_string(hide_password=False), drain_quiet_s=0, **settings)
    return Jobs(s, lambda: factory, lambda: NOW), factory


def test_a_consumer_starting_works_off_what_a_killed_process_left_pending(cli_engine):
    jobs, factory = _jobs(cli_engine)
    _left_pending_by_a_crash(factory)
    assert jobs.huey.pending_count() == 0  # no message survived: the pending row is the record
    consumer = JobConsumer(jobs, workers=1, periodic=False, embedded=True)  # no sweep: the start's own look
    consumer.start()
    try:
        assert _settle(factory)
    finally:
        consumer.stop(graceful=True)
    with read_only(factory)() as db:
        assert db.query(AttendanceRecord).one().attended_seconds == 3600


def test_a_failed_drain_is_retried_with_backoff(cli_engine, monkeypatch):
    jobs, factory = _jobs(cli_engine)
    _left_pending_by_a_crash(factory)
    real, tries = pending.drain_once, []

    def busy_once(*a, **kw):
        tries.append(time.monotonic())
        if len(tries) == 1:
            raise RuntimeError("database is locked")  # as a busy timeout would
        return real(*a, **kw)

    monkeypatch.setattr(pending, "drain_once", busy_once)
    consumer = JobConsumer(jobs, workers=1, periodic=False, embedded=True)  # no sweep: the retry alone
    consumer.start()
    try:
        assert _settle(factory)
    finally:
        consumer.stop(graceful=True)
    assert len(tries) >= 2 and tries[1] - tries[0] >= 0.9  # the first retry after retry_delay (1 s), then doubling


def test_one_embedded_consumer_per_machine_and_a_standby_takes_over(cli_engine, tmp_path, monkeypatch):
    monkeypatch.setattr(consumers, "STANDBY_S", 0.05)
    lock = tmp_path / "jobs.consumer.lock"
    first, second = (EmbeddedConsumer(_jobs(cli_engine)[0], lock, workers=1) for _ in range(2))
    first.start()
    second.start()
    try:
        assert first.running and not second.running  # `serve --workers 2`: the other process stands by
        first.stop()  # its process went away (a kill -9 lets the flock go the same way)
        deadline = time.monotonic() + 10
        while not second.running and time.monotonic() < deadline:
            time.sleep(0.02)
        assert second.running
    finally:
        first.stop()
        second.stop()


def _redis_up() -> bool:
    try:
        import redis
    except ImportError:
        return False
    try:
        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/15", socket_connect_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False


@pytest.mark.skipif(not _redis_up(), reason="no Redis on 127.0.0.1:6379")
def test_redis_storage_carries_the_drain_to_a_consumer(cli_engine):
    jobs, factory = _jobs(cli_engine, jobs_url="redis://127.0.0.1:6379/15")
    jobs.huey.flush()
    _left_pending_by_a_crash(factory)
    ran = threading.Event()
    jobs.huey.post_execute("noted")(lambda task, value, exc: ran.set())
    consumer = JobConsumer(jobs, workers=1, periodic=False, embedded=True)
    consumer.start()
    try:
        assert ran.wait(20) and _settle(factory)
    finally:
        consumer.stop(graceful=True)
        jobs.huey.flush()


def test_processes_starting_at_once_make_hueys_tables_once(scratch_database):
    """Server workers and the consumer start together: on PostgreSQL each makes huey's tables if
    missing, and CREATE TABLE IF NOT EXISTS alone is not safe against itself."""
    import threading

    from trainquant.jobs.queue import make_huey

    if not scratch_database.startswith("postgres"):
        pytest.skip("SQLite: one file per queue, made under its own lock")
    settings = Settings(env="test", database_url=scratch_database)
    starting = threading.Barrier(8)
    failures: list[BaseException] = []

    def start() -> None:
        starting.wait(10)
        try:
            make_huey(settings).storage.close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=start) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == []
