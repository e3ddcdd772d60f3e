"""Backups while serving, restores, and the nightly backup with its retention.

SQLite: the online backup API (``sqlite3.Connection.backup``) copies the database page by page from a
connection holding one read transaction, so the copy is the snapshot of one moment while the server
goes on writing (WAL: readers and the writer do not wait for each other). PostgreSQL: ``pg_dump`` in
its custom format (a consistent snapshot too), restored with ``pg_restore``. The job queue's own
storage is never part of a backup: what is left to do is in the application's tables
(``attendance_pending``), so a restored database carries its unfinished work with it.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from trainquant.config import Settings
from trainquant.errors import Conflict, Invalid
from trainquant.jobs.queue import libpq_dsn

Progress = Callable[[int, int], None]  # (done, total)
PAGES_PER_STEP = 4096  # 16 MiB at 4 KiB pages between progress reports
SQLITE_MAGIC, PG_MAGIC = b"SQLite format 3\x00", b"PGDMP"
NAME = re.compile(r"^trainquant-(\d{8})-(\d{6})\.(sqlite3|pgdump)$")


class RestoreRefused(Conflict):
    type_slug = "restore-refused"


def _suffix(settings: Settings) -> str:
    return ".sqlite3" if settings.is_sqlite else ".pgdump"


def backup_name(settings: Settings, now: datetime) -> str:
    local = now.astimezone(ZoneInfo(settings.default_timezone))
    return f"trainquant-{local:%Y%m%d-%H%M%S}{_suffix(settings)}"


def backup(settings: Settings, dest: Path, *, progress: Progress | None = None) -> Path:
    """Copy the database to ``dest`` (written beside it first, then renamed: never half a backup)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    partial = dest.with_name(dest.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if settings.is_sqlite:
            _sqlite_backup(_sqlite_file(settings), partial, progress)
        else:
            _pg_dump(settings.database_url, partial, progress)
        os.replace(partial, dest)
    finally:
        partial.unlink(missing_ok=True)
    return dest


def _sqlite_file(settings: Settings) -> Path:
    path = settings.sqlite_path()
    if path is None:
        raise Invalid("an in-memory database has nothing to back up")
    if not path.exists():
        raise Invalid(f"there is no database at {path}")
    return path


def _sqlite_backup(source: Path, dest: Path, progress: Progress | None) -> None:
    src = sqlite3.connect(source, isolation_level=None)
    out = sqlite3.connect(dest)
    try:
        # One read transaction for the whole copy: every step reads the same snapshot, so writes
        # committed meanwhile neither restart the copy nor end up half in it.
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()

        def report(_status: int, remaining: int, total: int) -> None:
            if progress is not None:
                progress(total - remaining, total)

        src.backup(out, pages=PAGES_PER_STEP, progress=report)
        src.execute("COMMIT")
        check = out.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise RuntimeError(f"the backup copy failed its check: {check}")
        out.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        out.close()
        src.close()


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise Invalid(f"{name} is not installed (the PostgreSQL client tools: Debian's postgresql-client)")
    return path


def _pg_tables(dsn: str) -> int:
    import psycopg

    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'huey%'"
        ).fetchone()
        assert row is not None  # count(*) always answers one row
        return row[0]


def _pg_dump(url: str, dest: Path, progress: Progress | None) -> None:
    dsn = libpq_dsn(url)
    total = _pg_tables(dsn)
    cmd = [_pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", "--exclude-table=huey_*",
           "--verbose", f"--file={dest}", dsn]
    _run_counting(cmd, "dumping contents of table", total, progress)


def _run_counting(cmd: list[str], marker: str, total: int, progress: Progress | None) -> None:
    """Run a pg_* tool, counting its verbose lines that contain ``marker`` as progress."""
    done = 0
    tail: list[str] = []
    with subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True) as proc:
        assert proc.stderr is not None
        for line in proc.stderr:
            tail = [*tail, line.rstrip()][-20:]
            if marker in line:
                done += 1
                if progress is not None:
                    progress(min(done, total), total)
    if proc.returncode != 0:
        errors = [t for t in tail if "error" in t.lower()] or tail
        raise RuntimeError(f"{Path(cmd[0]).name} failed ({proc.returncode}): " + " | ".join(errors[-5:]))
    if progress is not None:
        progress(total, total)


def restore(settings: Settings, source: Path, *, force: bool = False, progress: Progress | None = None) -> None:
    """Replace the database with the backup ``source``. Refuses to overwrite a database that holds
    data unless ``force``; the server and workers must be stopped first."""
    if not source.is_file():
        raise Invalid(f"no backup at {source}")
    with source.open("rb") as fh:
        magic = fh.read(16)
    if settings.is_sqlite:
        if magic != SQLITE_MAGIC:
            raise Invalid(f"{source.name} is not a SQLite backup (as `trainquant backup` writes for a SQLite database)")
        _sqlite_restore(settings, source, force=force, progress=progress)
    else:
        if not magic.startswith(PG_MAGIC):
            raise Invalid(f"{source.name} is not a PostgreSQL backup (pg_dump's custom format, as `trainquant backup` writes)")
        dsn = libpq_dsn(settings.database_url)
        if _pg_tables(dsn) and not force:
            raise RestoreRefused("the database already holds data; restore with --force to replace it")
        cmd = [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
               "--exit-on-error", "--verbose", f"--dbname={dsn}", str(source)]
        _run_counting(cmd, "processing data for table", _dump_tables(source), progress)


def _dump_tables(source: Path) -> int:
    listing = subprocess.run([_pg_tool("pg_restore"), "--list", str(source)], capture_output=True, text=True, check=True).stdout
    return sum(1 for line in listing.splitlines() if " TABLE DATA " in line)


def _sqlite_holds_data(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return bool(con.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0])
    finally:
        con.close()


def _server_running(settings: Settings) -> bool:
    """A server on this machine holds the job consumer's lock (jobs/consumer.py)."""
    import fcntl

    lock = settings.instance_folder() / "jobs.consumer.lock"
    if not lock.exists():
        return False
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # closing lets go of a lock taken just now
    return False


def _sqlite_restore(settings: Settings, source: Path, *, force: bool, progress: Progress | None) -> None:
    target = settings.sqlite_path()
    if target is None:
        raise Invalid("restore needs a database file (TQ_DATABASE_URL=sqlite:///path)")
    if _server_running(settings):
        raise RestoreRefused("a server is running on this database; stop it (and any worker) before restoring")
    if _sqlite_holds_data(target) and not force:
        raise RestoreRefused(f"{target} already holds data; restore with --force to replace it")
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    try:
        check = src.execute("PRAGMA quick_check").fetchone()[0]
        if check != "ok":
            raise Invalid(f"{source.name} is damaged: {check}")
        target.parent.mkdir(parents=True, exist_ok=True)
        out = sqlite3.connect(target, isolation_level=None)
        try:
            # Through SQLite, page by page: the WAL file beside the target is taken care of.
            out.execute("PRAGMA journal_mode=WAL")

            def report(_status: int, remaining: int, total: int) -> None:
                if progress is not None:
                    progress(total - remaining, total)

            src.backup(out, pages=PAGES_PER_STEP, progress=report)
            out.execute("PRAGMA journal_mode=WAL")
        finally:
            out.close()
    finally:
        src.close()


def backups(folder: Path) -> list[Path]:
    """The backups in ``folder``, oldest first."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and NAME.match(p.name))


def prune(folder: Path, keep: int) -> list[Path]:
    """Delete all but the newest ``keep`` backups; returns the deleted ones."""
    old = backups(folder)[:-keep] if keep > 0 else []
    for p in old:
        p.unlink(missing_ok=True)
    return old


def nightly(settings: Settings, *, now: datetime) -> Path | None:
    """The periodic job: today's backup unless one exists (two consumers, a retry), then the retention."""
    folder = settings.backups_dir()
    name = backup_name(settings, now)
    day = name.split("-")[1]
    if any((m := NAME.match(p.name)) is not None and m.group(1) == day for p in backups(folder)):
        return None
    made = backup(settings, folder / name)
    prune(folder, settings.backup_keep)
    return made
