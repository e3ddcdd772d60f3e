"""The LRS's HTTP edge (xAPI 1.0.3 Communication 1-4): one request read the same way whether it came as
itself or in the Alternate Request Syntax, the version header, who is asking, and xAPI's errors.

xAPI answers bad input with 400 (never 422) and every answer, errors included, carries
``X-Experience-API-Version``; the error body is problem+json with a stable code, as elsewhere.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import Request
from starlette.concurrency import run_in_threadpool

from trainquant.auth.permissions import Principal
from trainquant.auth.service import api_key_principal, find_api_key, note_api_key_use, principal_for_user
from trainquant.db import read_only, unit_of_work
from trainquant.deps import CSRF_HEADER, session_user
from trainquant.errors import DomainError, Forbidden, PayloadTooLarge, Unauthorized
from trainquant.jsonbody import json_depth

VERSION = "1.0.3"
VERSION_HEADER = "X-Experience-API-Version"
# Communication 3.3: a request's version is "1.0" or "1.0.x".
_ACCEPTED_VERSION = re.compile(r"1\.0(?:\.[0-9]+)?")
# Attachments included; the JSON of the statements alone is held to MAX_JSON (a 10 MB statement is refused).
MAX_BODY = 32 * 1024 * 1024
MAX_JSON = 8 * 1024 * 1024
MAX_DEPTH = 64
# Communication 1.3: the form fields of the Alternate Request Syntax that stand for headers.
_FORM_HEADERS = ("authorization", "x-experience-api-version", "content-type", "content-length", "if-match", "if-none-match")
_METHODS = ("GET", "HEAD", "PUT", "POST", "DELETE")


class BadRequest(DomainError):
    status = 400
    title = "Bad request"
    type_slug = "xapi-bad-request"


class NoResource(DomainError):
    status = 404
    title = "Not found"
    type_slug = "xapi-no-resource"


class MethodNotAllowed(DomainError):
    status = 405
    title = "Method not allowed"
    type_slug = "xapi-method-not-allowed"


class StatementConflict(DomainError):
    status = 409
    title = "Conflict"
    type_slug = "xapi-conflict"


class PreconditionFailed(DomainError):
    status = 412
    title = "Precondition failed"
    type_slug = "xapi-precondition-failed"


class ForgedActor(Forbidden):
    title = "Not your statement"
    type_slug = "xapi-forged-actor"


@dataclass
class LrsRequest:
    """A request as the resources read it: method, parameters and headers after the Alternate Request
    Syntax is undone. Parameters are single-valued (xAPI defines no repeated parameter)."""

    method: str
    resource: str
    params: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: bytes
    alternate: bool = False
    principal: Principal | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "")

    def json_body(self) -> Any:
        return parse_json_400(self.body)


def parse_json_400(body: bytes, *, what: str = "the body") -> Any:
    if len(body) > MAX_JSON:
        raise PayloadTooLarge(f"{what} is {len(body)} bytes of JSON; at most {MAX_JSON} are accepted (split the batch)")
    depth = json_depth(body)
    if depth > MAX_DEPTH:
        raise BadRequest(f"{what} nests {depth} levels deep; at most {MAX_DEPTH} are accepted", code="xapi-too-deep")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadRequest(f"{what} is not valid JSON: {exc}", code="xapi-not-json") from None


def _single(pairs: list[tuple[str, str]], where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, value in pairs:
        if name in out:
            raise BadRequest(f"the {where} parameter {name!r} is given twice", code="xapi-repeated-parameter")
        out[name] = value
    return out


async def read_request(request: Request, resource: str, body: bytes) -> LrsRequest:
    """The request as its resource reads it; the Alternate Request Syntax (a POST with ``method`` in the
    query and everything else in a form) is undone here (Communication 1.3)."""
    query = _single(parse_qsl(request.url.query, keep_blank_values=True), "query")
    headers = {name.lower(): value for name, value in request.headers.items()}
    if "method" not in query:
        return LrsRequest(request.method, resource, query, headers, body)
    if request.method != "POST":
        raise BadRequest("the Alternate Request Syntax is a POST; this was a " + request.method, code="xapi-alternate-not-post")
    method = query.pop("method").upper()
    if method not in _METHODS:
        raise BadRequest(f"method={method!r} is not one of {', '.join(_METHODS)}", code="xapi-alternate-method")
    if query:
        raise BadRequest(
            f"the Alternate Request Syntax carries only 'method' in the query; {', '.join(sorted(query))} must be form fields",
            code="xapi-alternate-extra",
        )
    if not headers.get("content-type", "").lower().startswith("application/x-www-form-urlencoded"):
        raise BadRequest("the Alternate Request Syntax sends a form (application/x-www-form-urlencoded)", code="xapi-alternate-form")
    try:
        form = _single(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=bool(body)), "form")
    except (UnicodeDecodeError, ValueError):
        raise BadRequest("the form of the Alternate Request Syntax is not url-encoded UTF-8", code="xapi-alternate-form") from None
    form_headers = {name.lower(): value for name, value in form.items() if name.lower() in _FORM_HEADERS}
    params = {name: value for name, value in form.items() if name.lower() not in _FORM_HEADERS and name != "content"}
    content = form.get("content")
    if method in ("PUT", "POST") and content is None:
        raise BadRequest("the Alternate Request Syntax puts the body in the form field 'content'", code="xapi-alternate-content")
    merged = {name: value for name, value in headers.items() if name not in ("content-type", "content-length")}
    merged.update(form_headers)
    if content is not None and "content-type" not in merged:
        merged["content-type"] = "application/json"
    return LrsRequest(method, resource, params, merged, (content or "").encode(), alternate=True)


def check_version(lrs: LrsRequest) -> None:
    version = lrs.headers.get(VERSION_HEADER.lower())
    if version is None:
        raise BadRequest(f"the header {VERSION_HEADER} is missing (send {VERSION})", code="xapi-version-missing")
    if not _ACCEPTED_VERSION.fullmatch(version.strip()):
        raise BadRequest(f"{VERSION_HEADER}: {version!r} is not 1.0 or 1.0.x; this LRS speaks {VERSION}", code="xapi-version-unsupported")


def _basic_key(token: str) -> str:
    """The API key of an HTTP Basic credential: the key itself as the password (any user name), or
    its public part ``tq_<prefix>`` as the user name and the secret as the password."""
    try:
        user, _, password = base64.b64decode(token, validate=True).decode("utf-8").partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("the Basic credentials are not base64 of 'user:password'") from None
    if password.startswith("tq_"):
        return password
    return f"{user}_{password}"


def _key_principal(factory: Any, key: str, now: Any) -> Principal:
    with read_only(factory)() as reader:
        row = find_api_key(reader, key)
        principal, last_used_at = api_key_principal(row), row.last_used_at
    with unit_of_work(factory) as db:
        note_api_key_use(db, principal.id, last_used_at, now=now)
    return principal


def _session_principal(request: Request) -> Principal | None:
    with read_only(request.app.state.sessionmaker)() as reader:
        user = session_user(request, reader)
        return principal_for_user(reader, user) if user is not None else None


async def authenticate(request: Request, lrs: LrsRequest, now: Any) -> Principal:
    """An API key (HTTP Basic, as xAPI clients send it, or Bearer), else the logged-in user's session;
    a session's writes carry the CSRF token as every page's do."""
    auth = lrs.headers.get("authorization")
    if auth:
        scheme, _, token = auth.strip().partition(" ")
        if scheme.lower() == "basic" and token.strip():
            key = _basic_key(token.strip())
        elif scheme.lower() == "bearer" and token.strip():
            key = token.strip()
        else:
            raise Unauthorized("use HTTP Basic with an API key (or 'Authorization: Bearer <key>')")
        return await run_in_threadpool(_key_principal, request.app.state.sessionmaker, key, now)
    principal = await run_in_threadpool(_session_principal, request)
    if principal is None:
        raise Unauthorized("send an API key with HTTP Basic, or log in")
    if lrs.method not in ("GET", "HEAD"):
        expected, given = request.session.get("csrf"), lrs.headers.get(CSRF_HEADER.lower())
        if not expected or not given or not hmac.compare_digest(expected, given):
            raise Forbidden("missing or wrong CSRF token; reload the page and try again")
    return principal


def principal_key(principal: Principal) -> str:
    return f"{'apikey' if principal.kind == 'apikey' else 'user'}:{principal.id}"
