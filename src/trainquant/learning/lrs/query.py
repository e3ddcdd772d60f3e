"""Reading statements (Communication 2.1.3): one by id (voided ones only as voidedStatementId), or
pages of those matching the filters, newest first unless ``ascending``, with a ``more`` link.

Filters match as the spec says: agent (the actor or object; with related_agents anywhere), verb,
activity (the object; with related_activities anywhere), registration, since (exclusive), until
(inclusive). A statement that targets a matching statement (a StatementRef, a voiding statement) is
returned too, however deep the chain; voided statements never are.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from trainquant.learning.lrs.http import BadRequest
from trainquant.learning.models import XapiActivity, XapiAttachment, XapiStatement, XapiStatementLink
from trainquant.learning.xapi.facts import agent_key
from trainquant.learning.xapi.formats import StatementError
from trainquant.learning.xapi.output import FORMATS, formatted
from trainquant.learning.xapi.validate import validate_actor

DEFAULT_LIMIT = 100
MAX_LIMIT = 500
FILTERS = ("agent", "verb", "activity", "registration", "related_activities", "related_agents", "since", "until", "limit", "ascending")
COMMON = ("format", "attachments")
CURSOR = "cursor"
_TRUE_FALSE = {"true": True, "false": False}


@dataclass(frozen=True)
class Query:
    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since: datetime | None = None
    until: datetime | None = None
    limit: int = DEFAULT_LIMIT
    ascending: bool = False
    format: str = "exact"
    attachments: bool = False
    after_pk: int | None = None  # the cursor of a ``more`` page
    upto_pk: int | None = None  # the newest statement when the first page was read: later pages stay that snapshot


def flag(params: Mapping[str, str], name: str) -> bool:
    value = params.get(name, "false").lower()
    if value not in _TRUE_FALSE:
        raise BadRequest(f"{name} is true or false, not {params[name]!r}", code="xapi-bad-parameter", parameter=name)
    return _TRUE_FALSE[value]


def timestamp_param(params: Mapping[str, str], name: str) -> datetime | None:
    raw = params.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw.strip().replace("z", "Z"))
    except ValueError:
        raise BadRequest(f"{name} is an ISO 8601 timestamp, not {raw!r}", code="xapi-bad-parameter", parameter=name) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)  # Data 4.5: a timestamp without a zone is read as UTC
    return value.astimezone(UTC)


def agent_param(raw: str, name: str = "agent") -> dict[str, Any]:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest(f"{name} is an Agent or Group as JSON, not {raw[:80]!r}", code="xapi-bad-parameter", parameter=name) from None
    try:
        validate_actor(value, f"${name}")
    except StatementError as exc:
        raise BadRequest(f"{name}: {exc.message} at {exc.path}", code="xapi-bad-parameter", parameter=name) from None
    return value


def format_param(params: Mapping[str, str]) -> str:
    value = params.get("format", "exact")
    if value not in FORMATS:
        raise BadRequest(f"format is one of {', '.join(FORMATS)}, not {value!r}", code="xapi-bad-parameter", parameter="format")
    return value


def _cursor(raw: str) -> tuple[int, int]:
    try:
        after, upto = orjson.loads(base64.urlsafe_b64decode(raw.encode()))
        return int(after), int(upto)
    except (binascii.Error, ValueError, TypeError, orjson.JSONDecodeError):
        raise BadRequest("the cursor of this more link is damaged; start again from the first page", code="xapi-bad-cursor") from None


def parse_query(params: Mapping[str, str]) -> Query:
    unknown = sorted(set(params) - set(FILTERS) - set(COMMON) - {CURSOR})
    if unknown:
        raise BadRequest(f"unknown parameter(s) {', '.join(unknown)}", code="xapi-unknown-parameter")
    agent = agent_key(agent_param(params["agent"])) if "agent" in params else None
    try:
        limit = int(params.get("limit", DEFAULT_LIMIT))
    except ValueError:
        raise BadRequest(f"limit is a whole number, not {params['limit']!r}", code="xapi-bad-parameter", parameter="limit") from None
    if limit < 0:
        raise BadRequest("limit is 0 (as many as the LRS pages) or more", code="xapi-bad-parameter", parameter="limit")
    registration = params.get("registration")
    if registration is not None:
        try:
            registration = str(uuid.UUID(registration))
        except ValueError:
            raise BadRequest(f"registration is a UUID, not {registration!r}", code="xapi-bad-parameter", parameter="registration") from None
    after_pk = upto_pk = None
    if CURSOR in params:
        after_pk, upto_pk = _cursor(params[CURSOR])
    return Query(
        agent=agent, verb=params.get("verb"), activity=params.get("activity"), registration=registration,
        related_activities=flag(params, "related_activities"), related_agents=flag(params, "related_agents"),
        since=timestamp_param(params, "since"), until=timestamp_param(params, "until"),
        limit=MAX_LIMIT if limit == 0 else min(limit, MAX_LIMIT), ascending=flag(params, "ascending"),
        format=format_param(params), attachments=flag(params, "attachments"), after_pk=after_pk, upto_pk=upto_pk,
    )


def _linked(kind: str, value: str) -> Any:
    return exists().where(XapiStatementLink.statement_pk == XapiStatement.id, XapiStatementLink.kind == kind, XapiStatementLink.value == value)


def _matching(query: Query) -> Select[int, str] | None:
    """The statements the filters match (voided ones included: a statement targeting one is returned)."""
    conditions = []
    if query.agent is not None:
        conditions.append(_linked("agent", query.agent) if query.related_agents
                          else or_(XapiStatement.actor_key == query.agent, XapiStatement.object_agent_key == query.agent))
    if query.verb is not None:
        conditions.append(XapiStatement.verb_id == query.verb)
    if query.activity is not None:
        conditions.append(_linked("activity", query.activity) if query.related_activities else XapiStatement.activity_id == query.activity)
    if query.registration is not None:
        conditions.append(XapiStatement.registration == query.registration)
    if not conditions:
        return None
    return select(XapiStatement.id.label("pk"), XapiStatement.statement_id.label("sid")).where(and_(*conditions))


def find_page(db: Session, query: Query, *, mine: str | None = None) -> tuple[list[tuple[int, str]], bool, int]:
    """(pk, document) of one page, whether more follow, and the snapshot's newest pk."""
    upto = query.upto_pk if query.upto_pk is not None else (db.scalar(select(XapiStatement.id).order_by(XapiStatement.id.desc()).limit(1)) or 0)
    stmt = select(XapiStatement.id, XapiStatement.document).where(XapiStatement.voided.is_(False), XapiStatement.id <= upto)
    base = _matching(query)
    if base is not None:
        matched = base.cte("matched", recursive=True)
        earlier = matched.alias("earlier")
        # UNION, not UNION ALL: a chain of references that loops back ends instead of recursing forever.
        matched = matched.union(select(XapiStatement.id, XapiStatement.statement_id).join(earlier, XapiStatement.target_id == earlier.c.sid))
        stmt = stmt.where(XapiStatement.id.in_(select(matched.c.pk)))
    if mine is not None:
        stmt = stmt.where(XapiStatement.stored_by == mine)
    if query.since is not None:
        stmt = stmt.where(XapiStatement.stored > query.since)
    if query.until is not None:
        stmt = stmt.where(XapiStatement.stored <= query.until)
    if query.after_pk is not None:
        stmt = stmt.where(XapiStatement.id > query.after_pk if query.ascending else XapiStatement.id < query.after_pk)
    stmt = stmt.order_by(XapiStatement.id.asc() if query.ascending else XapiStatement.id.desc()).limit(query.limit + 1)
    rows = [(pk, document) for pk, document in db.execute(stmt)]
    return rows[: query.limit], len(rows) > query.limit, upto


def more_link(prefix: str, params: Mapping[str, str], last_pk: int, upto: int) -> str:
    cursor = base64.urlsafe_b64encode(orjson.dumps([last_pk, upto])).decode()
    kept = {name: value for name, value in params.items() if name != CURSOR}
    return f"{prefix}/statements?{urlencode({**kept, CURSOR: cursor})}"


def definitions_of(db: Session, documents: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """The LRS's canonical definitions of the activities these statements mention (format=canonical)."""
    ids: set[str] = set()
    for doc in documents:
        for obj in _activities(doc):
            ids.add(obj["id"])
    if not ids:
        return {}
    return {activity_id: orjson.loads(definition) for activity_id, definition in
            db.execute(select(XapiActivity.activity_id, XapiActivity.definition).where(XapiActivity.activity_id.in_(sorted(ids))))}


def _activities(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    out: list[Mapping[str, Any]] = []
    obj = doc["object"]
    if obj.get("objectType", "Activity") == "Activity":
        out.append(obj)
    elif obj.get("objectType") == "SubStatement":
        out += _activities(obj)
    context = doc.get("context")
    if isinstance(context, Mapping) and isinstance(context.get("contextActivities"), Mapping):
        for value in context["contextActivities"].values():
            out += value if isinstance(value, list) else [value]
    return out


def render(db: Session, documents: list[dict[str, Any]], fmt: str, languages: Sequence[str]) -> list[dict[str, Any]]:
    definitions = definitions_of(db, documents) if fmt == "canonical" else {}
    return [formatted(doc, fmt, definitions=definitions, languages=languages) for doc in documents]


def attachments_of(db: Session, documents: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, bytes]]:
    wanted = sorted({a["sha2"].lower() for doc in documents for a in doc.get("attachments") or ()})
    if not wanted:
        return []
    rows = db.execute(select(XapiAttachment.sha2, XapiAttachment.content_type, XapiAttachment.content).where(XapiAttachment.sha2.in_(wanted)))
    return [(sha2, content_type, content) for sha2, content_type, content in rows]


def one(db: Session, statement_id: str, *, voided: bool, mine: str | None = None) -> dict[str, Any] | None:
    """The statement ``statement_id``: a voided one only when asked as voidedStatementId, and never the other way."""
    stmt = select(XapiStatement.document).where(XapiStatement.statement_id == statement_id.lower(), XapiStatement.voided.is_(voided))
    if mine is not None:
        stmt = stmt.where(XapiStatement.stored_by == mine)
    document = db.scalar(stmt)
    return orjson.loads(document) if document is not None else None

