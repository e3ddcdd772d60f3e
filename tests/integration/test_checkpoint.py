"""The web server's WAL checkpoints (checkpoint.py): its connections leave them to the thread up to
SAFETY_PAGES, the thread copies the WAL into the database, and a stop checkpoints what was left."""

from __future__ import annotations

import os
import sqlite3

from sqlalchemy import text

from trainquant.checkpoint import SAFETY_PAGES, Checkpointer
from trainquant.config import Settings
from trainquant.db import make_engine, sqlite_file


def _write(engine, rows: int) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)"))
        conn.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "x" * 2000} for _ in range(rows)])


def test_only_an_engine_with_a_checkpointer_defers_its_checkpoints(tmp_path):
    url = f"sqlite:///{tmp_path}/a.db"
    assert sqlite_file(url) == f"{tmp_path}/a.db" and sqlite_file("sqlite://") is None and sqlite_file("postgresql://h/db") is None
    for background, pages in ((False, 1000), (True, SAFETY_PAGES)):
        engine = make_engine(Settings(env="test"), url=url, background_checkpoint=background)
        with engine.connect() as conn:
            assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar_one() == pages
        engine.dispose()


def test_the_thread_copies_the_wal_into_the_database(tmp_path):
    path = f"{tmp_path}/b.db"
    engine = make_engine(Settings(env="test"), url=f"sqlite:///{path}", background_checkpoint=True)
    _write(engine, 3000)  # about 1,500 pages: past the default 1,000, below SAFETY_PAGES
    assert os.path.getsize(path) < 100_000  # the writer copied nothing into the database: it is all in the WAL
    probe = sqlite3.connect(path)
    busy, wal, done = Checkpointer(path).run_once(probe)
    assert (busy, done) == (0, wal) and wal > 1000
    assert os.path.getsize(path) > 3000 * 2000  # now the database holds the rows
    probe.close()
    engine.dispose()


def test_stopping_checkpoints_what_the_last_requests_wrote(tmp_path):
    path = f"{tmp_path}/c.db"
    engine = make_engine(Settings(env="test"), url=f"sqlite:///{path}", background_checkpoint=True)
    checkpointer = Checkpointer(path, interval_s=3600).start()  # no pass before stop(): only the final one
    _write(engine, 500)
    checkpointer.stop()
    assert checkpointer.checkpoints == 1
    probe = sqlite3.connect(path)
    _, wal, done = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert wal == done  # nothing left uncopied
    assert probe.execute("SELECT count(*) FROM t").fetchone()[0] == 500
    probe.close()
    engine.dispose()
