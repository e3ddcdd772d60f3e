"""The document resources (Communication 2.2-2.7): State, Activity Profile and Agent Profile.

A document is kept as sent, with its Content-Type and an ETag (the SHA-1 of its content). PUT replaces,
POST merges two JSON objects key by key (anything else posted onto JSON, or JSON onto anything else, is
a 400), DELETE removes. Concurrency (Communication 3.1): If-Match / If-None-Match are honoured on every
write; a profile PUT onto an existing document with neither header is a 409 (lost updates are refused).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from trainquant.errors import NotFound
from trainquant.learning.lrs.http import BadRequest, PreconditionFailed, StatementConflict, parse_json_400
from trainquant.learning.models import XapiDocument
from trainquant.learning.xapi.multipart import media_type


@dataclass(frozen=True)
class DocumentKey:
    kind: str  # state | activity_profile | agent_profile
    activity_id: str = ""
    agent_key: str = ""
    registration: str = ""

    def where(self) -> list[Any]:
        return [XapiDocument.kind == self.kind, XapiDocument.activity_id == self.activity_id,
                XapiDocument.agent_key == self.agent_key, XapiDocument.registration == self.registration]


@dataclass(frozen=True)
class Stored:
    content: bytes
    content_type: str
    etag: str
    updated: datetime


def etag_of(content: bytes) -> str:
    return hashlib.sha1(content).hexdigest()


def _find(db: Session, key: DocumentKey, doc_id: str) -> XapiDocument | None:
    return db.scalar(select(XapiDocument).where(*key.where(), XapiDocument.doc_id == doc_id))


def _tags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/").strip('"') for tag in header.split(",") if tag.strip()]


def check_preconditions(current: XapiDocument | None, headers: Mapping[str, str]) -> None:
    if_match, if_none_match = headers.get("if-match"), headers.get("if-none-match")
    if if_match is not None:
        tags = _tags(if_match)
        if current is None or ("*" not in tags and current.etag not in tags):
            raise PreconditionFailed("If-Match does not match the document's current ETag", code="xapi-etag-mismatch")
    if if_none_match is not None:
        tags = _tags(if_none_match)
        if current is not None and ("*" in tags or current.etag in tags):
            raise PreconditionFailed("If-None-Match: the document exists (with that ETag)", code="xapi-etag-exists")


def _is_json(content_type: str) -> bool:
    return media_type(content_type) == "application/json"


def write(
    db: Session,
    key: DocumentKey,
    doc_id: str,
    *,
    content: bytes,
    content_type: str,
    headers: Mapping[str, str],
    merge: bool,
    now: datetime,
    employee_id: int | None = None,
    require_precondition: bool = False,
) -> str:
    """PUT (``merge`` False) or POST (True) one document. Returns its new ETag."""
    current = _find(db, key, doc_id)
    check_preconditions(current, headers)
    if require_precondition and not merge and "if-match" not in headers and "if-none-match" not in headers:
        # Communication 3.1: onto an existing document a 409 (a lost update refused); onto none a 400,
        # as ADL's suite reads XAPI-00273 (a profile PUT names the version it replaces, or '*' for none).
        if current is not None:
            raise StatementConflict("the document exists: send If-Match with its ETag to change it", code="xapi-precondition-required")
        raise BadRequest("send If-None-Match: * to create a profile document (or If-Match with the ETag of the one you replace)",
                         code="xapi-precondition-required")
    content_type = content_type or "application/octet-stream"
    if merge:
        if not _is_json(content_type):
            raise BadRequest("POST merges JSON documents: send application/json (PUT replaces any other kind)", code="xapi-merge-not-json")
        incoming = parse_json_400(content, what="the document")
        if not isinstance(incoming, dict):
            raise BadRequest("POST merges JSON objects; this document is not one", code="xapi-merge-not-object")
        if current is not None:
            if not _is_json(current.content_type):
                raise BadRequest("the stored document is not JSON, so nothing can be merged into it (PUT replaces it)", code="xapi-merge-not-json")
            try:
                existing = orjson.loads(current.content)
            except orjson.JSONDecodeError:
                existing = None
            if not isinstance(existing, dict):
                raise BadRequest("the stored document is not a JSON object, so nothing can be merged into it", code="xapi-merge-not-object")
            content = orjson.dumps({**existing, **incoming})
    elif _is_json(content_type):
        parse_json_400(content, what="the document")  # a document sent as JSON must be JSON
    etag = etag_of(content)
    if current is None:
        db.add(XapiDocument(kind=key.kind, activity_id=key.activity_id, agent_key=key.agent_key, registration=key.registration,
                            doc_id=doc_id, content_type=content_type, content=content, etag=etag, updated=now,
                            employee_id=employee_id, size=len(content)))
    else:
        current.content, current.content_type, current.etag, current.updated, current.size = content, content_type, etag, now, len(content)
    db.flush()
    return etag


def read(db: Session, key: DocumentKey, doc_id: str) -> Stored:
    current = _find(db, key, doc_id)
    if current is None:
        raise NotFound(f"no document {doc_id!r} here", code="xapi-no-document")
    return Stored(current.content, current.content_type, current.etag, current.updated)


def ids(db: Session, key: DocumentKey, *, since: datetime | None) -> list[str]:
    stmt = select(XapiDocument.doc_id).where(*key.where()).order_by(XapiDocument.doc_id)
    if since is not None:
        stmt = stmt.where(XapiDocument.updated > since)
    return list(db.scalars(stmt))


def remove(db: Session, key: DocumentKey, doc_id: str | None, *, headers: Mapping[str, str]) -> None:
    """DELETE one document (preconditions honoured), or with no id every document under ``key``."""
    if doc_id is None:
        db.execute(delete(XapiDocument).where(*key.where()))
        return
    current = _find(db, key, doc_id)
    check_preconditions(current, headers)
    if current is not None:
        db.delete(current)
        db.flush()


def latest_update(db: Session, key: DocumentKey) -> datetime | None:
    return db.scalar(select(XapiDocument.updated).where(*key.where()).order_by(XapiDocument.updated.desc()).limit(1))
