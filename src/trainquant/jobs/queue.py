"""The huey instance and its storage, chosen from the settings (``TQ_JOBS_URL``)."""

from __future__ import annotations

from pathlib import Path

from huey import Huey, MemoryHuey, RedisHuey, SqliteHuey
from huey.storage import PostgresStorage

from trainquant.config import Settings

NAME = "trainquant"
# Any constant both sides agree on: the advisory lock that serialises the making of huey's tables.
SCHEMA_LOCK = 0x7471_6875_6579  # "tqhuey"


class SerialPostgresStorage(PostgresStorage):
    """huey's PostgreSQL storage, its tables made one process at a time.

    ``CREATE TABLE IF NOT EXISTS`` is not safe against itself in PostgreSQL: two processes starting
    at once (server workers, the job consumer) both pass the check, and the second fails on the
    catalogue's unique index (``pg_type_typname_nsp_index``), so a server process died at start. The
    statements run in one transaction that first takes an advisory lock, so the second waits and then
    finds the tables there."""

    def initialize_schema(self) -> None:
        with self.db(commit=True, close=True) as curs:
            curs.execute("select pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            for sql in self.ddl:
                curs.execute(sql)


def jobs_url(settings: Settings) -> str:
    """Where the queue lives: ``TQ_JOBS_URL``, else beside the database — a SQLite file of its own in the
    instance folder for a SQLite database (never the app's file: the queue's writes must not take the
    app's write lock), huey's own tables (``huey_*``) for a PostgreSQL one."""
    if settings.jobs_url:
        return settings.jobs_url
    if settings.is_sqlite:
        return f"sqlite:///{settings.instance_folder() / 'jobs.db'}" if settings.sqlite_path() is not None else "memory://"
    return settings.database_url


def libpq_dsn(url: str) -> str:
    """A SQLAlchemy URL (``postgresql+psycopg://…``) as libpq takes it."""
    scheme, sep, rest = url.partition("://")
    return f"postgresql://{rest}" if sep and scheme.startswith("postgres") else url


def make_huey(settings: Settings, *, immediate: bool = False) -> Huey:
    """``immediate``: tasks run at once in the caller's thread (tests, and nothing else)."""
    url = jobs_url(settings)
    common = {"results": False, "immediate": immediate}
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(NAME, url=url, **common)
    if url.startswith("postgres"):
        return Huey(NAME, storage_class=SerialPostgresStorage, dsn=libpq_dsn(url), **common)
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        if not immediate:
            path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(NAME, filename=str(path), **common)
    if url == "memory://":
        return MemoryHuey(NAME, **common)
    raise ValueError(f"TQ_JOBS_URL must be redis://…, postgresql://…, sqlite:///path or memory:// (got {url!r})")
