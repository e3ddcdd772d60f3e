"""The Statement resource (Communication 2.1): PUT, POST and GET, as ``api.lrs`` hands them over."""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from email.utils import format_datetime
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.responses import Response

from trainquant.auth.permissions import Principal, xapi_allows
from trainquant.db import read_only, unit_of_work
from trainquant.errors import Forbidden, NotFound
from trainquant.learning.lrs import query
from trainquant.learning.lrs.http import BadRequest, LrsRequest, parse_json_400, principal_key
from trainquant.learning.lrs.statements import Writer, store_statements, stored_text
from trainquant.learning.xapi import StatementError
from trainquant.learning.xapi.multipart import Part, build_multipart, media_type, parse_multipart, sha256_hex
from trainquant.learning.xapi.output import accepted_languages

JSON = "application/json"
CONSISTENT_THROUGH = "X-Experience-API-Consistent-Through"


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(value), status_code=status, media_type=JSON, headers=headers)


def _principal(lrs: LrsRequest) -> Principal:
    assert lrs.principal is not None  # api.lrs authenticates before any resource runs
    return lrs.principal


def _authority(app: FastAPI, principal: Principal) -> dict[str, Any]:
    """The Agent the LRS vouches for (Data 2.4.9): the credentials, never what the client wrote."""
    name = f"apikey:{principal.name.removeprefix('apikey:')}" if principal.kind == "apikey" else f"user:{principal.name}"
    return {"objectType": "Agent", "name": principal.name, "account": {"homePage": app.state.settings.home_page(), "name": name}}


def _writer(app: FastAPI, principal: Principal) -> Writer:
    if not xapi_allows(principal.permissions, "statements/write"):
        raise Forbidden("these credentials may not store statements (scope xapi:statements/write)", code="xapi-scope")
    return Writer(
        stored_by=principal_key(principal), authority=_authority(app, principal), home_page=app.state.settings.home_page(),
        own_employee_id=principal.employee_id, session=principal.kind == "user" and not principal.can("xapi:all"),
    )


def _body(lrs: LrsRequest) -> tuple[Any, bytes, dict[str, Part]]:
    """(the JSON, its bytes, the attachment parts by hash) of a statement request."""
    kind = media_type(lrs.content_type)
    if kind == JSON:
        return lrs.json_body(), lrs.body, {}
    if kind != "multipart/mixed":
        raise BadRequest(f"statements are sent as application/json or multipart/mixed, not {kind or 'no Content-Type'}", code="xapi-content-type")
    try:
        parts = parse_multipart(lrs.body, lrs.content_type)
    except StatementError as exc:  # the body's framing, reported where it failed
        raise BadRequest(f"the multipart body cannot be read: {exc}", code="xapi-multipart") from None
    if not parts or parts[0].content_type != JSON:
        raise BadRequest("the first part of a multipart/mixed body holds the statements as application/json", code="xapi-multipart-first")
    attachments: dict[str, Part] = {}
    for index, part in enumerate(parts[1:], start=1):
        declared = part.headers.get("x-experience-api-hash", "").strip().lower()
        if not declared:
            raise BadRequest(f"part {index} has no X-Experience-API-Hash header", code="xapi-attachment-hash")
        if part.headers.get("content-transfer-encoding", "binary").strip().lower() != "binary":
            raise BadRequest(f"part {index}: attachments are sent with Content-Transfer-Encoding: binary", code="xapi-attachment-encoding")
        if sha256_hex(part.body) != declared:
            raise BadRequest(f"part {index}: its content's SHA-256 is not the X-Experience-API-Hash {declared}", code="xapi-attachment-hash")
        attachments[declared] = part
    return parse_json_400(parts[0].body, what="the statements part"), parts[0].body, attachments


def put_statement(app: FastAPI, lrs: LrsRequest, now: datetime) -> Response:
    extra = sorted(set(lrs.params) - {"statementId"})
    if extra:
        raise BadRequest(f"PUT /statements takes only statementId, not {', '.join(extra)}", code="xapi-unknown-parameter")
    statement_id = lrs.params.get("statementId")
    if not statement_id:
        raise BadRequest("PUT /statements needs the statementId parameter", code="xapi-statement-id-missing")
    statement_id = _uuid(statement_id, "statementId")
    writer = _writer(app, _principal(lrs))
    doc, raw, parts = _body(lrs)
    if not isinstance(doc, dict):
        raise BadRequest("PUT /statements takes one statement (a JSON object)", code="xapi-not-one-statement")
    with unit_of_work(app.state.sessionmaker) as db:
        store_statements(db, [doc], writer=writer, json_body=raw, parts=parts, now=now, statement_id=statement_id)
    return Response(status_code=204)


def post_statements(app: FastAPI, lrs: LrsRequest, now: datetime) -> Response:
    if lrs.params:
        raise BadRequest(f"POST /statements takes no parameters, not {', '.join(sorted(lrs.params))}", code="xapi-unknown-parameter")
    writer = _writer(app, _principal(lrs))
    doc, raw, parts = _body(lrs)
    docs = doc if isinstance(doc, list) else [doc]
    with unit_of_work(app.state.sessionmaker) as db:
        ids = store_statements(db, docs, writer=writer, json_body=raw, parts=parts, now=now)
    return json_response(ids)


def _uuid(value: str, name: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise BadRequest(f"{name} is a UUID, not {value!r}", code="xapi-bad-parameter", parameter=name) from None


def _reader(principal: Principal) -> str | None:
    """None: may read every statement; else the only ``stored_by`` these credentials may read."""
    if xapi_allows(principal.permissions, "statements/read"):
        return None
    if xapi_allows(principal.permissions, "statements/read/mine"):
        return principal_key(principal)
    raise Forbidden("these credentials may not read statements (scope xapi:statements/read)", code="xapi-scope")


def _result(app: FastAPI, payload: Any, documents: list[dict[str, Any]], attachments: bool, headers: dict[str, str]) -> Response:
    body = orjson.dumps(payload)
    if not attachments:
        return Response(body, media_type=JSON, headers=headers)
    with read_only(app.state.sessionmaker)() as db:
        files = query.attachments_of(db, documents)
    multipart, content_type = build_multipart(body, files, boundary=secrets.token_hex(16))
    return Response(multipart, headers={**headers, "content-type": content_type})


def get_statements(app: FastAPI, lrs: LrsRequest, now: datetime) -> Response:
    mine = _reader(_principal(lrs))
    params = lrs.params
    languages = accepted_languages(lrs.headers.get("accept-language"))
    # Consistent-Through: every statement stored before the read began is in what it reads (one writer
    # at a time, statements.store_statements).
    headers = {CONSISTENT_THROUGH: stored_text(now)}
    single = [name for name in ("statementId", "voidedStatementId") if name in params]
    if single:
        if len(single) == 2:
            raise BadRequest("give statementId or voidedStatementId, not both", code="xapi-bad-parameter")
        extra = sorted(set(params) - {single[0], "format", "attachments"})
        if extra:
            raise BadRequest(f"{single[0]} goes only with format and attachments, not {', '.join(extra)}", code="xapi-bad-parameter")
        fmt, with_files = query.format_param(params), query.flag(params, "attachments")
        sid = _uuid(params[single[0]], single[0])
        with read_only(app.state.sessionmaker)() as db:
            document = query.one(db, sid, voided=single[0] == "voidedStatementId", mine=mine)
            if document is None:
                raise NotFound(f"no statement {sid}" + (" (a voided statement is read with voidedStatementId)" if single[0] == "statementId" else " among voided statements"),
                               code="xapi-no-statement")
            shown = query.render(db, [document], fmt, languages)[0]
        headers["Last-Modified"] = _http_date(document["stored"])
        return _result(app, shown, [document], with_files, headers)
    q = query.parse_query(params)
    with read_only(app.state.sessionmaker)() as db:
        rows, more, upto = query.find_page(db, q, mine=mine)
        documents = [orjson.loads(document) for _, document in rows]
        rendered = query.render(db, documents, q.format, languages)
    payload = {"statements": rendered, "more": query.more_link(lrs.extra["prefix"], params, rows[-1][0], upto) if more else ""}
    return _result(app, payload, documents, q.attachments, headers)


def _http_date(stored: str) -> str:
    return format_datetime(datetime.fromisoformat(stored.replace("Z", "+00:00")), usegmt=True)
