"""Engine factory, declarative base, column types shared by every domain, and the unit of work."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar, TypeVar, cast
from weakref import WeakKeyDictionary

import orjson
from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    MetaData,
    Table,
    create_engine,
    event,
    text,
)
from sqlalchemy.engine import Connection, CursorResult, Engine, Result
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from trainquant.checkpoint import SAFETY_PAGES
from trainquant.config import Settings
from trainquant.instance import create_private_file, ensure_private_dir

T = TypeVar("T")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    # Every model is mapped to a Table (``__tablename__``), never to a select or a join: SQLAlchemy types
    # ``__table__`` as the looser FromClause for those other mappings.
    __table__: ClassVar[Table]


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, hands back tz-aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a time zone first")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Money(TypeDecorator[Decimal]):
    """Decimal money kept exactly as integer hundredths (fen) on every backend."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | int | str | None, dialect: Any) -> int | None:
        if value is None:
            return None
        cents = Decimal(value) * 100
        if cents != cents.to_integral_value():
            raise ValueError(f"money has more than 2 decimal places: {value}")
        return int(cents)

    def process_result_value(self, value: int | None, dialect: Any) -> Decimal | None:
        return None if value is None else (Decimal(value) / 100).quantize(Decimal("0.01"))


LIKE_ESCAPE = "\\"


def contains_text(column: Any, text: str) -> ColumnElement[bool]:
    """``column`` contains ``text`` literally, ignoring case: ``%`` and ``_`` typed in a search box match
    themselves, not anything (every search built from user input goes through here)."""
    escaped = text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2).replace("%", LIKE_ESCAPE + "%").replace("_", LIKE_ESCAPE + "_")
    return column.ilike(f"%{escaped}%", escape=LIKE_ESCAPE)


def rows_matched(result: Result[*tuple[Any, ...]]) -> int:
    """How many rows an UPDATE or DELETE matched. ``Session.execute`` is typed to return a plain
    ``Result`` for every statement; for these it is a ``CursorResult``, which carries the count."""
    return cast(CursorResult[*tuple[Any, ...]], result).rowcount


def chunks(items: Iterable[T], size: int) -> Iterator[Sequence[T]]:
    """Slices of at most ``size`` items: keeps IN lists and executemany batches under every backend's limits."""
    seq = items if isinstance(items, Sequence) else list(items)
    for i in range(0, len(seq), size):
        yield seq[i : i + size]


def reserve_ids(db: Session, table: Table, n: int) -> list[int]:
    """``n`` primary keys for rows about to be inserted, so a bulk insert knows its ids without RETURNING.

    SQLite: the transaction holds the write lock from its ``BEGIN IMMEDIATE``, so nobody else can take
    the ids after the current maximum. PostgreSQL: drawn from the column's sequence.
    """
    if n <= 0:
        return []
    if db.get_bind().dialect.name == "sqlite":
        top = db.execute(text(f"SELECT coalesce(max(id), 0) FROM {table.name}")).scalar_one()
        return list(range(top + 1, top + n + 1))
    return list(db.execute(
        text("SELECT nextval(pg_get_serial_sequence(:t, 'id')) FROM generate_series(1, :n)"), {"t": table.name, "n": n}
    ).scalars())


def insert_rows(db: Session, table: Table, columns: Sequence[str], rows: Sequence[tuple], *, size: int = 5000) -> None:
    """``executemany`` straight to the driver, for the hot bulk paths (check-in events).

    Values must already be what the driver takes: datetimes through ``driver_value``, JSON as text.
    SQLAlchemy's per-row parameter processing costs more than SQLite's insert itself at 10,000 rows.
    """
    conn = db.connection()
    dialect = conn.dialect
    mark = "?" if dialect.paramstyle == "qmark" else "%s"
    marks = [
        f"CAST({mark} AS JSON)" if dialect.name == "postgresql" and isinstance(table.c[c].type, JSON) else mark for c in columns
    ]
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join(marks)})"
    for chunk in chunks(rows, size):
        conn.exec_driver_sql(sql, list(chunk))


def driver_fetchall(db: Session | Connection, stmt: Any) -> list[tuple]:
    """Every row of ``stmt`` as the driver gives it, plain tuples: no Row objects, no result
    processing (columns whose raw value is wanted are ``type_coerce``'d to ``NullType`` anyway). For
    the bulk reads of millions of rows, where building Rows cost a third of the query itself."""
    conn = db.connection() if isinstance(db, Session) else db
    result = conn.execute(stmt)
    try:
        return list(result.cursor.fetchall())
    finally:
        result.close()


def select_in(db: Session, table: Table, key: str, columns: Sequence[str], keys: Sequence[Any], *, where: str = "") -> list[tuple]:
    """``SELECT columns FROM table WHERE key IN keys [AND where]`` in one statement however many keys,
    straight to the driver (values come back as the driver gives them): SQLite reads the keys from one
    JSON parameter (``json_each``), PostgreSQL from one array (``= ANY``). ``where`` is fixed SQL, never input.
    """
    if not keys:
        return []
    conn = db.connection()
    param: str | list[Any]
    if conn.dialect.name == "sqlite":
        condition, param = f"{key} IN (SELECT value FROM json_each(?))", orjson.dumps(list(keys)).decode()
    else:
        condition, param = f"{key} = ANY(%s)", list(keys)
    sql = f"SELECT {', '.join(columns)} FROM {table.name} WHERE {condition}" + (f" AND {where}" if where else "")
    return [tuple(r) for r in conn.exec_driver_sql(sql, (param,))]


def driver_value(column: Any, dialect: Any) -> Callable[[Any], Any]:
    """The column type's own conversion to what the driver takes (e.g. UTC text on SQLite)."""
    if isinstance(column.type, UTCDateTime) and dialect.name == "sqlite":
        return _sqlite_utc_text  # the text SQLAlchemy writes, at a third of its cost
    # The dialect's own implementation: the generic type's processor would hand SQLite a datetime,
    # which the driver turns into text in another format ("…06:00:00" rather than "…06:00:00.000000").
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    return process if process is not None else (lambda v: v)


def _sqlite_utc_text(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column; attach a time zone first")
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


CACHE_KIB = 64 * 1024


def _sqlite_pragmas(busy_timeout_ms: int, autocheckpoint_pages: int | None = None):
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy drive BEGIN itself so SAVEPOINTs work (pysqlite's own handling breaks them).
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        # 64 MiB of page cache per connection (the default is 2 MiB): a 10,000-event batch touches
        # index pages all over checkin_events, and reading them back costs more than inserting.
        cur.execute(f"PRAGMA cache_size={-CACHE_KIB}")
        if autocheckpoint_pages is not None:  # a checkpoint.Checkpointer runs beside this engine
            cur.execute(f"PRAGMA wal_autocheckpoint={int(autocheckpoint_pages)}")
        cur.close()

    return on_connect


READ_ONLY = "tq_read_only"


def _sqlite_begin(busy_timeout_ms: int) -> Callable[[Any], None]:
    # IMMEDIATE takes the write lock at the start: a deferred transaction that read first and then
    # writes after another writer committed fails at once with SQLITE_BUSY, which no busy timeout
    # can help. A read-only session (``read_only``) begins deferred: it reads a snapshot and never
    # blocks a writer.
    #
    # The wait for the write lock is ours, not SQLite's busy handler: that one sleeps 25, 50, then
    # 100 ms at a time, so a waiter wakes long after the lock is free. Here a waiter retries every
    # 0.5-2 ms, and the busy timeout still bounds the wait.
    timeout_s = busy_timeout_ms / 1000

    def begin(conn: Any) -> None:
        raw = conn.connection.dbapi_connection
        if conn.get_execution_options().get(READ_ONLY):
            # A read-only session cannot write by mistake: it would otherwise upgrade to the write lock.
            raw.execute("PRAGMA query_only=1")
            raw.execute("BEGIN")
            return
        raw.execute("PRAGMA query_only=0")
        raw.execute("PRAGMA busy_timeout=0")
        try:
            deadline, pause = time.monotonic() + timeout_s, 0.0005
            while time.monotonic() < deadline:
                try:
                    raw.execute("BEGIN IMMEDIATE")  # the driver's own error is cheap; SQLAlchemy's wrapping is not
                    return
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) and "busy" not in str(exc):
                        break
                time.sleep(pause)
                pause = min(pause * 2, 0.002)
            conn.exec_driver_sql("BEGIN IMMEDIATE")  # the last try: succeeds, or raises SQLAlchemy's OperationalError
        finally:
            raw.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")

    return begin


def sqlite_file(url: str) -> str | None:
    """The database file of a SQLite URL (None for another database or an in-memory one)."""
    if not url.startswith("sqlite"):
        return None
    path = (url.split("///", 1)[1] if "///" in url else "").split("?", 1)[0]
    return path if path and path != ":memory:" else None


def make_engine(settings: Settings | None = None, *, url: str | None = None, background_checkpoint: bool = False, **kwargs: Any) -> Engine:
    """``background_checkpoint``: a ``checkpoint.Checkpointer`` runs beside the engine (SQLite), so its
    connections leave WAL checkpoints to it up to ``checkpoint.SAFETY_PAGES``."""
    settings = settings or Settings()
    url = url or settings.database_url
    if url.startswith("sqlite"):
        path = sqlite_file(url)
        if path:
            # The database holds password hashes and personal data: only the service account reads it.
            ensure_private_dir(Path(path).parent)
            create_private_file(Path(path))
        kwargs.setdefault("connect_args", {"check_same_thread": False})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas(settings.sqlite_busy_timeout_ms, SAFETY_PAGES if background_checkpoint and path else None))
        event.listen(engine, "begin", _sqlite_begin(settings.sqlite_busy_timeout_ms))
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_sessionmaker(bind: Any, **kwargs: Any) -> sessionmaker[Session]:
    return sessionmaker(bind=bind, expire_on_commit=False, **kwargs)


def read_only(factory: sessionmaker[Session]) -> sessionmaker[Session]:
    """The same sessions for reads (GET routes, background recomputation): on SQLite they do not take
    the write lock and refuse writes (``PRAGMA query_only``); on PostgreSQL they are READ ONLY.

    A factory bound to one connection (the tests' rolled-back transaction) gives sessions on that
    connection; on SQLite they still refuse writes, so a GET route that writes fails in the tests.
    """
    reader = _READERS.get(factory)  # made once per factory: requests and drains ask for it all the time
    if reader is not None:
        return reader
    bind = factory.kw.get("bind")
    if isinstance(bind, Engine):
        options: dict[str, Any] = {READ_ONLY: True}
        if bind.dialect.name == "postgresql":
            options["postgresql_readonly"] = True
        reader = sessionmaker(**{**factory.kw, "bind": bind.execution_options(**options)})
    elif isinstance(bind, Connection) and bind.dialect.name == "sqlite":
        reader = sessionmaker(**factory.kw)
        event.listen(reader, "after_begin", _refuse_writes_on_shared_connection)
        event.listen(reader, "after_transaction_end", _allow_writes_again)
    else:
        return factory
    _READERS[factory] = reader
    return reader


def _refuse_writes_on_shared_connection(session: Session, _transaction: Any, connection: Connection) -> None:
    if "read_only_connection" not in session.info:
        connection.exec_driver_sql("PRAGMA query_only=1")
        session.info["read_only_connection"] = connection


def _allow_writes_again(session: Session, transaction: Any) -> None:
    if transaction.parent is None and (connection := session.info.pop("read_only_connection", None)) is not None:
        connection.exec_driver_sql("PRAGMA query_only=0")


_READERS: WeakKeyDictionary[sessionmaker[Session], sessionmaker[Session]] = WeakKeyDictionary()


@contextmanager
def unit_of_work(factory: sessionmaker[Session]) -> Iterator[Session]:
    """Commit on success, roll back on any error: the CLI's and the simulator's transaction boundary."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
