"""FastAPI dependencies shared by every route: the unit of work, the clock and the principal."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from trainquant.auth.models import User
from trainquant.auth.permissions import Principal
from trainquant.auth.service import (
    api_key_principal,
    find_api_key,
    note_api_key_use,
    principal_for_user,
)
from trainquant.clock import Clock
from trainquant.config import Settings
from trainquant.db import read_only, unit_of_work
from trainquant.errors import Forbidden, Invalid, PayloadTooLarge, Unauthorized
from trainquant.jsonbody import MAX_JSON_DEPTH, parse_json

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


def get_db(request: Request) -> Iterator[Session]:
    """One unit of work per request: commit when the route returns, roll back when it raises."""
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def get_db_read(request: Request) -> Iterator[Session]:
    """A read-only session for GET routes and pages: on SQLite it reads a snapshot without taking the
    write lock (and ``PRAGMA query_only`` refuses any write); on PostgreSQL its transactions are READ ONLY."""
    session: Session = read_only(request.app.state.sessionmaker)()
    try:
        yield session
    finally:
        session.close()


async def read_body_limited(request: Request, limit: int, *, what: str = "body", advice: str = "") -> bytes:
    """The request body, refused (413) as soon as it is known to exceed ``limit`` bytes: from the
    declared length before reading anything, or while streaming for a body sent without one."""
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        raise PayloadTooLarge(f"the {what} is {declared} bytes; at most {limit} are accepted{advice}")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise PayloadTooLarge(f"the {what} is over {limit} bytes{advice}")
    return bytes(body)


# Multipart boundaries and the small fields around an uploaded file.
FORM_OVERHEAD = 64 * 1024


async def read_sheet_upload(request: Request, settings: Settings) -> tuple[str, bytes]:
    """(filename, content) of the sheet in a multipart form's field 'file': refused by its declared
    size before the body is read, and cut one byte past ``import_max_bytes`` (the reader refuses that)."""
    declared = request.headers.get("content-length")
    if declared and declared.isascii() and declared.isdigit() and int(declared) > settings.import_max_bytes + FORM_OVERHEAD:
        raise PayloadTooLarge(f"the upload is {int(declared) / 1024 / 1024:.1f} MB; at most {settings.import_max_bytes / 1024 / 1024:.1f} MB")
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise Invalid("send the sheet as multipart/form-data with the field 'file'")
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise Invalid("the form has no file in the field 'file'")
    return upload.filename or "upload.csv", await upload.read(settings.import_max_bytes + 1)


async def read_json_limited(
    request: Request, limit: int, *, advice: str = " — split the batch", max_depth: int = MAX_JSON_DEPTH
) -> Any:
    """The body parsed as JSON (orjson), refused as ``read_body_limited`` does when too large, and with
    a 422 before it is parsed when it nests deeper than ``max_depth``."""
    return parse_json(await read_body_limited(request, limit, advice=advice), max_depth=max_depth)


async def submitted_form(request: Request) -> FormData:
    """The submitted form, read on the event loop, so that a route taking it can be a plain ``def``
    whose database work runs in the threadpool. On SQLite a statement may wait for the write lock,
    and waiting on the event loop stalls the request that holds it (see ``get_principal``)."""
    return await request.form()


SubmittedForm = Annotated[FormData, Depends(submitted_form)]


def get_clock(request: Request) -> Clock:
    return request.app.state.clock


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


# scope="function": the commit happens before the response is sent, so a failed commit is an error
# the client sees rather than a 200 for data that was never stored.
DbSession = Annotated[Session, Depends(get_db, scope="function")]
ReadSession = Annotated[Session, Depends(get_db_read, scope="function")]
AppClock = Annotated[Clock, Depends(get_clock)]
AppSettings = Annotated[Settings, Depends(get_settings_dep)]


async def _check_csrf(request: Request) -> None:
    expected = request.session.get("csrf")
    given = request.headers.get(CSRF_HEADER)
    if given is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not expected or not given or not hmac.compare_digest(expected, given):
        raise Forbidden("missing or wrong CSRF token; reload the page and try again")


def session_user(request: Request, db: Session) -> User | None:
    uid = request.session.get("uid")
    if uid is None:
        return None
    user = db.get(User, uid)
    if user is None or not user.is_active or request.session.get("epoch") != user.session_epoch:
        request.session.clear()
        return None
    return user


def start_session(request: Request, user_id: int, epoch: int) -> None:
    """A fresh session for a user who just logged in: nothing from before carries over (no fixation)."""
    request.session.clear()
    request.session.update({"uid": user_id, "epoch": epoch})


def keep_session_after_epoch_change(request: Request, epoch: int) -> None:
    """Re-issue the cookie of the request that ended the user's other sessions (a password change),
    so that it alone stays valid. A request authenticated by an API key has no session to keep."""
    if request.session.get("uid") is not None:
        request.session["epoch"] = epoch


async def get_principal(request: Request, clock: AppClock) -> Principal:
    # Who is asking is read in a read-only transaction, in the threadpool. On SQLite the request's own
    # transaction takes the write lock at its first statement; taken here, it would be held while the
    # route reads a form or an upload, and every check-in would wait for a slow upload.
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    auth = request.headers.get("authorization")
    principal: Principal | None
    if auth:
        scheme, _, token = auth.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("use 'Authorization: Bearer <API key>'")
        principal = await run_in_threadpool(_api_key_principal, request, token.strip(), clock.now())
    else:
        principal = await run_in_threadpool(_user_principal, request)
        if principal is None:
            raise Unauthorized("log in first, or send an API key as 'Authorization: Bearer <key>'")
        if request.method not in SAFE_METHODS:
            await _check_csrf(request)
    request.state.principal = principal
    return principal


def _user_principal(request: Request) -> Principal | None:
    with read_only(request.app.state.sessionmaker)() as reader:
        user = session_user(request, reader)
        return principal_for_user(reader, user) if user is not None else None


def _api_key_principal(request: Request, key: str, now) -> Principal:
    # Looked up read-only (see ``get_principal``): a client posting batches would otherwise wait for
    # another one's batch just to be recognised. The last use is written at most once a minute, in a
    # transaction of its own: in the request's, the lock would be held until the request ends.
    factory = request.app.state.sessionmaker
    with read_only(factory)() as reader:
        row = find_api_key(reader, key)
        principal, last_used_at = api_key_principal(row), row.last_used_at
    with unit_of_work(factory) as db:
        note_api_key_use(db, principal.id, last_used_at, now=now)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def require(permission: str):
    """A dependency that lets the request through only if the principal holds ``permission``."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.can(permission):
            raise Forbidden(f"this needs the permission {permission!r}")
        return principal

    dependency.__name__ = f"require_{permission.replace(':', '_')}"
    return Depends(dependency)
