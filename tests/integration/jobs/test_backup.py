"""Backups while serving, restores that give back identical reports, and the nightly job's retention."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from typer.testing import CliRunner

from tests.conftest import NOW
from trainquant.app import create_app
from trainquant.cli import common
from trainquant.cli.main import app as cli
from trainquant.config import Settings
from trainquant.db import make_engine, make_sessionmaker, unit_of_work
from trainquant.jobs import backup as backups
from trainquant.jobs.tasks import Jobs
from trainquant.migrate import upgrade

runner = CliRunner()


@pytest.fixture
def cli_database(scratch_database, monkeypatch):
    """The scratch database as the command line sees it (``TQ_DATABASE_URL``)."""
    monkeypatch.setenv("TQ_DATABASE_URL", scratch_database)
    monkeypatch.setenv("TQ_ENV", "test")
    for cached in (common.settings, common.engine):
        cached.cache_clear()
    yield scratch_database
    if common.engine.cache_info().currsize:
        common.engine().dispose()
    for cached in (common.settings, common.engine):
        cached.cache_clear()


def _load_school(url: str) -> str:
    from trainquant.auth.service import create_api_key
    from trainquant.simulate.attendance.generate import generate_checkins
    from trainquant.simulate.attendance.load import load_attendance
    from trainquant.simulate.institution.school import generate
    from trainquant.simulate.load import load_school
    from trainquant.simulate.training.generate import generate_training
    from trainquant.simulate.training.load import load_training

    settings = Settings(env="test")
    engine = make_engine(settings, url=url)
    upgrade(engine)
    school = generate(2026, today=NOW.date())
    year = generate_training(school)
    factory = make_sessionmaker(engine)
    with unit_of_work(factory) as db:
        load_school(db, school, now=NOW)
        load_training(db, school, year, now=NOW)
        _, key = create_api_key(db, name="reports", scopes=["reports:read"], created_by="test", now=NOW)
    with unit_of_work(factory) as db:
        load_attendance(db, year, generate_checkins(school, year), now=NOW, default_tz=settings.default_timezone, secret_key=settings.secret_key)
    engine.dispose()
    return key


def _reports(url: str, key: str) -> bytes:
    """Every department's and program's effect report, as the API gives them."""
    from trainquant.clock import FixedClock
    from trainquant.org.models import Department
    from trainquant.training.models import Program

    engine = make_engine(Settings(env="test"), url=url)
    try:
        with make_sessionmaker(engine)() as db:
            departments = sorted(db.scalars(select(Department.code)))
            programs = sorted(db.scalars(select(Program.code)))
        application = create_app(Settings(env="test", database_url=url), clock=FixedClock(NOW), engine=engine)
        with TestClient(application, headers={"Authorization": f"Bearer {key}"}) as client:
            got = {}
            for kind, codes in (("departments", departments), ("programs", programs)):
                for code in codes:
                    r = client.get(f"/api/v1/reports/{kind}/{code}")
                    assert r.status_code == 200, r.text
                    got[f"{kind}/{code}"] = r.json()
        assert len(got) > 10
        return orjson.dumps(got, option=orjson.OPT_SORT_KEYS)
    finally:
        engine.dispose()


def _change_everything_a_report_shows(url: str) -> None:
    engine = make_engine(Settings(env="test"), url=url)
    with engine.begin() as conn:
        conn.execute(text("DELETE FROM attendance_records WHERE id IN (SELECT id FROM attendance_records ORDER BY id LIMIT 200)"))
        conn.execute(text("DELETE FROM assessments WHERE id IN (SELECT id FROM assessments ORDER BY id LIMIT 50)"))
        conn.execute(text("UPDATE cost_items SET amount = amount * 2"))
    engine.dispose()


def test_a_restored_backup_gives_identical_reports(cli_database, tmp_path):
    key = _load_school(cli_database)
    before = _reports(cli_database, key)
    dest = tmp_path / "backups" / "nightly.bak"

    made = runner.invoke(cli, ["backup", "--to", str(dest)])
    assert made.exit_code == 0, made.output
    assert dest.exists() and "backup written" in made.output

    _change_everything_a_report_shows(cli_database)
    assert _reports(cli_database, key) != before

    refused = runner.invoke(cli, ["restore", str(dest)])
    assert refused.exit_code == 1 and "--force" in refused.output
    assert _reports(cli_database, key) != before  # nothing was overwritten

    restored = runner.invoke(cli, ["restore", str(dest), "--force"])
    assert restored.exit_code == 0, restored.output
    assert _reports(cli_database, key) == before


def test_a_sqlite_backup_taken_while_batches_are_written_is_one_consistent_moment(cli_engine, tmp_path):
    """The online backup goes on while another connection commits: it copies the state of one instant."""
    url = cli_engine.url.render_as_string(hide_password=False)
    path = Path(cli_engine.url.database)
    stop, written, started = threading.Event(), [], threading.Event()

    def writer() -> None:
        con = sqlite3.connect(path, isolation_level=None)
        n = 0
        while not stop.is_set():
            con.execute("BEGIN IMMEDIATE")
            con.executemany("INSERT INTO attendance_pending (first_event_id, last_event_id, created_at) VALUES (?, ?, '2026-09-01 00:00:00.000000')",
                            [(n * 10 + i, n * 10 + i) for i in range(10)])
            con.execute("COMMIT")
            n += 1
            written.append(n)
            started.set()
        con.close()

    with sqlite3.connect(path) as con:  # enough pages that the copy takes several steps
        con.execute("CREATE TABLE ballast (b BLOB)")
        con.executemany("INSERT INTO ballast VALUES (?)", [(b"x" * 4000,) for _ in range(20_000)])
    thread = threading.Thread(target=writer)
    thread.start()
    assert started.wait(10)
    steps = []
    before = len(written)
    try:
        backups.backup(Settings(env="test", database_url=url), tmp_path / "online.sqlite3", progress=lambda done, total: steps.append((done, total)))
        during = len(written) - before
    finally:
        stop.set()
        thread.join(30)
    copy = sqlite3.connect(tmp_path / "online.sqlite3")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = copy.execute("SELECT count(*) FROM attendance_pending").fetchone()[0]
    assert rows % 10 == 0 and rows > 0  # whole transactions only
    assert copy.execute("SELECT count(*) FROM ballast").fetchone()[0] == 20_000
    assert len(steps) > 3 and steps[-1][0] == steps[-1][1]  # progress reported step by step
    assert during > 0  # the writer kept committing meanwhile: the backup held no lock against it


def test_retention_keeps_the_newest_and_the_nightly_job_runs_once_a_day(cli_engine, tmp_path):
    url = cli_engine.url.render_as_string(hide_password=False)
    settings = Settings(env="test", database_url=url, backup_dir=str(tmp_path / "b"), backup_keep=3)
    folder = settings.backups_dir()
    folder.mkdir()
    for day in range(1, 6):
        (folder / f"trainquant-202608{day:02d}-020000.sqlite3").write_bytes(b"old")
    (folder / "notes.txt").write_text("not a backup")
    made = backups.nightly(settings, now=NOW)
    assert made is not None and made.exists()
    assert backups.nightly(settings, now=NOW + timedelta(minutes=1)) is None  # today's exists: a second consumer or a retry
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["notes.txt", "trainquant-20260804-020000.sqlite3", "trainquant-20260805-020000.sqlite3", made.name]


def test_the_nightly_job_is_due_at_the_backup_hour_local_time(cli_engine):
    settings = Settings(env="test", database_url=cli_engine.url.render_as_string(hide_password=False), backup_hour=2)
    jobs = Jobs(settings, lambda: None, lambda: NOW, immediate=True)
    at_2_shanghai = datetime(2026, 9, 1, 18, 0)  # naive UTC, as huey hands it in
    assert jobs._backup_due(at_2_shanghai)
    assert not jobs._backup_due(at_2_shanghai + timedelta(minutes=1))
    assert not Jobs(settings.model_copy(update={"backup_keep": 0}), lambda: None, lambda: NOW, immediate=True)._backup_due(at_2_shanghai)
    assert datetime(2026, 9, 1, 18, 0, tzinfo=UTC).hour == 18


def test_restore_refuses_what_is_not_a_backup(cli_database, tmp_path):
    upgrade(make_engine(Settings(env="test"), url=cli_database))
    bogus = tmp_path / "trainquant-x.txt"
    bogus.write_text("nope")
    got = runner.invoke(cli, ["restore", str(bogus), "--force"])
    assert got.exit_code == 1 and "backup" in got.output
