"""Logging in with a password: throttled, every refusal recorded, and the same answer for an unknown
name as for a wrong password.

Each step is a short transaction of its own, and the argon2 verification holds none that writes: on
SQLite a writing transaction holds the database's one write lock, and check-ins would wait behind a login.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from trainquant.auth.models import LoginFailure, User
from trainquant.auth.service import WrongCurrentPassword, change_password, check_credentials, note_login
from trainquant.auth.throttle import LoginThrottle, TooManyAttempts
from trainquant.db import read_only, rows_matched, unit_of_work
from trainquant.errors import Unauthorized
from trainquant.pagination import PageParams

USERNAME_STORED = 64
ADDRESS_STORED = 64


@dataclass(frozen=True)
class LoggedIn:
    user_id: int
    session_epoch: int


def log_in(
    factory: sessionmaker[Session], throttle: LoginThrottle, *, username: str, password: str, address: str | None, now: datetime
) -> LoggedIn:
    """Raises TooManyAttempts while a window is exhausted, Unauthorized for any wrong credentials."""
    username = username.strip()
    wait = throttle.retry_after(username, address)
    if wait is not None:
        _record(factory, username=username, address=address, reason="throttled", now=now)
        raise TooManyAttempts(wait)
    with read_only(factory)() as reader:
        check = check_credentials(reader, username=username, password=password)
    if not check.ok:
        throttle.failed(username, address)
        _record(factory, username=username, address=address, reason=check.reason or "wrong-password", now=now, user_id=check.user_id)
        raise Unauthorized("wrong username or password")
    assert check.user_id is not None  # a passed check names the user it matched
    with unit_of_work(factory) as db:
        user = note_login(db, check.user_id, password=password, now=now)
        return LoggedIn(user.id, user.session_epoch)


def change_password_throttled(
    factory: sessionmaker[Session], throttle: LoginThrottle, *, user_id: int, current_password: str, new_password: str,
    address: str | None, now: datetime,
) -> int:
    """A password change whose wrong current passwords count against the account like failed log-ins
    (whoever holds a stolen cookie must not guess the password to keep the account). Returns the new epoch."""
    with read_only(factory)() as reader:
        username = reader.scalar(select(User.username).where(User.id == user_id))
    if username is None:
        raise Unauthorized("log in first")
    wait = throttle.retry_after(username, address)
    if wait is not None:
        _record(factory, username=username, address=address, reason="throttled", now=now, user_id=user_id)
        raise TooManyAttempts(wait)
    try:
        with unit_of_work(factory) as db:
            return change_password(db, user_id, current_password=current_password, new_password=new_password)
    except WrongCurrentPassword:
        # Counted once the change's transaction is over: on SQLite it held the write lock.
        throttle.failed(username, address)
        _record(factory, username=username, address=address, reason="wrong-password", now=now, user_id=user_id)
        raise


def _record(factory: sessionmaker[Session], *, username: str, address: str | None, reason: str, now: datetime, user_id: int | None = None) -> None:
    with unit_of_work(factory) as db:
        if user_id is None and reason == "throttled":
            user_id = db.scalar(select(User.id).where(User.username == username))
        db.add(LoginFailure(
            at=now, username=username[:USERNAME_STORED], user_id=user_id, known_user=user_id is not None,
            client_address=(address or "")[:ADDRESS_STORED] or None, reason=reason,
        ))


def recent_failures(db: Session, page: PageParams, *, username: str | None = None) -> tuple[list[LoginFailure], int]:
    """Newest first; ``username`` narrows to the names typed exactly so."""
    where = [LoginFailure.username == username] if username else []
    total = db.scalar(select(func.count()).select_from(LoginFailure).where(*where)) or 0
    rows = db.scalars(
        select(LoginFailure).where(*where).order_by(LoginFailure.at.desc(), LoginFailure.id.desc()).offset(page.offset).limit(page.page_size)
    )
    return list(rows), total


def prune_failures(factory: sessionmaker[Session], *, before: datetime) -> int:
    """Delete the refused log-ins recorded before ``before``; how many went."""
    with unit_of_work(factory) as db:
        return rows_matched(db.execute(delete(LoginFailure).where(LoginFailure.at < before))) or 0
