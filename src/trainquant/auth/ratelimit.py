"""A ``limits`` storage kept in the application's own database, so that every server process counts the
same attempts without another service (SQLite on one machine, PostgreSQL behind several).

Only the fixed-window interface: the login throttle stacks several fixed windows (auth/throttle.py).
Each call is one short transaction of its own, never the request's: on SQLite a request's transaction
holds the single write lock, and a counter written inside it would wait for that very lock.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from limits.storage import Storage
from sqlalchemy import case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from trainquant.auth.models import RateLimitCounter
from trainquant.db import read_only, rows_matched, unit_of_work

# One write in this many also deletes windows that ended: keys of random usernames do not pile up.
PRUNE_ONE_IN = 50


class DatabaseStorage(Storage):
    """``now`` gives epoch seconds: the application's clock, so windows follow the clock tests move."""

    STORAGE_SCHEME = None  # built by the application with its sessionmaker, not from a URI

    def __init__(self, sessions: Callable[[], sessionmaker[Session]], now: Callable[[], float]):
        super().__init__()
        self._sessions = sessions
        self.now = now

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = self.now()
        table = RateLimitCounter.__table__
        with unit_of_work(self._sessions()) as db:
            dialect = db.get_bind().dialect.name
            insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
            live = table.c.expires_at > now
            # One statement, so concurrent increments from several processes never lose a count.
            stmt = (
                insert(table)
                .values(key=key, count=amount, expires_at=now + expiry)
                .on_conflict_do_update(
                    index_elements=[table.c.key],
                    set_={
                        "count": case((live, table.c.count + amount), else_=amount),
                        "expires_at": case((live, table.c.expires_at), else_=now + expiry),
                    },
                )
                .returning(table.c.count)
            )
            count = db.execute(stmt).scalar_one()
            if random.randrange(PRUNE_ONE_IN) == 0:
                db.execute(delete(table).where(table.c.expires_at <= now))
        return count

    def _live(self, key: str) -> tuple[int, float] | None:
        with read_only(self._sessions())() as db:
            row = db.execute(select(RateLimitCounter.count, RateLimitCounter.expires_at).where(RateLimitCounter.key == key)).first()
        if row is None:
            return None
        # Unpacked: ``row.count`` reads as the tuple's count() method to a type checker.
        count, expires_at = row
        if expires_at <= self.now():
            return None
        return count, expires_at

    def get(self, key: str) -> int:
        live = self._live(key)
        return live[0] if live else 0

    def get_expiry(self, key: str) -> float:
        live = self._live(key)
        return live[1] if live else self.now()

    def check(self) -> bool:
        try:
            with read_only(self._sessions())() as db:
                db.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with unit_of_work(self._sessions()) as db:
            return rows_matched(db.execute(delete(RateLimitCounter)))

    def clear(self, key: str) -> None:
        with unit_of_work(self._sessions()) as db:
            db.execute(delete(RateLimitCounter).where(RateLimitCounter.key == key))
