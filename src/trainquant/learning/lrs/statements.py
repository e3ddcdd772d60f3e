"""Storing statements (Communication 2.1.1-2.1.2): validated whole or refused whole, a repeated id
answered as a repeat, another statement under a stored id refused (409), voiding applied, attachments
and signatures checked, each statement bound to the employee it counts for.

Invariant: a request stores all of its statements or none (one transaction), and nothing stored is
ever rewritten except the ``voided`` mark.
"""

from __future__ import annotations

import uuid
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import func, insert, select, text, update
from sqlalchemy.orm import Session

from trainquant.db import chunks, driver_value, insert_rows, reserve_ids
from trainquant.learning.lrs import blocks
from trainquant.learning.lrs.http import BadRequest, ForgedActor, StatementConflict
from trainquant.learning.lrs.signature import SIGNATURE_USAGE, check_signature
from trainquant.learning.models import (
    XapiActivity,
    XapiAttachment,
    XapiDelivery,
    XapiStatement,
    XapiStatementLink,
)
from trainquant.learning.xapi import StatementError, statement_key, validate_statement
from trainquant.learning.xapi.facts import mbox_key, merge_definition, statement_facts, with_context_arrays
from trainquant.learning.xapi.multipart import Part
from trainquant.org.models import Employee

# Communication 2.1.2: a statement without a version is stored as 1.0.0.
DEFAULT_VERSION = "1.0.0"


@dataclass(frozen=True)
class Writer:
    """Who stores the statements. ``own_employee_id`` is set for an employee's own player (a logged-in
    session): every statement must be about that employee."""

    stored_by: str
    authority: dict[str, Any]
    home_page: str
    own_employee_id: int | None = None
    session: bool = False


STATEMENT_COLUMNS = ["id", "statement_id", "stored", "delivery_id", "document", "actor_key", "verb_id", "activity_id", "object_agent_key",
                     "target_id", "registration", "voiding", "voided", "stored_by", "employee_id"]


def stored_text(when: datetime) -> str:
    return when.isoformat(timespec="microseconds").replace("+00:00", "Z")


def _validated(docs: Sequence[Any], statement_id: str | None) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, doc in enumerate(docs):
        where = "$" if statement_id is not None else f"$[{index}]"
        try:
            validate_statement(doc)
        except StatementError as exc:
            inner = exc.path.removeprefix("$")
            path = where + (inner if not inner or inner.startswith((".", "[")) else "." + inner)
            raise BadRequest(f"{path}: {exc.message}", code="xapi-invalid-statement", path=path) from None
        assert isinstance(doc, dict)
        if statement_id is not None:
            if "id" in doc and doc["id"].lower() != statement_id:
                raise BadRequest(f"the statement's id {doc['id']} is not the statementId {statement_id}", code="xapi-id-mismatch")
            doc = {"id": statement_id, **{k: v for k, v in doc.items() if k != "id"}}
        elif "id" not in doc:
            doc = {"id": str(uuid.uuid4()), **doc}
        sid = doc["id"].lower()
        if sid in seen:
            raise BadRequest(f"{where}.id: the id {sid} is given twice in one batch", code="xapi-duplicate-id")
        seen.add(sid)
        out.append(doc)
    return out


def _identifies(actor: Mapping[str, Any], employee: Employee, home_page: str) -> bool:
    account = actor.get("account")
    if isinstance(account, Mapping):
        return account.get("homePage") == home_page and account.get("name") == employee.employee_no
    if isinstance(actor.get("mbox"), str) and employee.email:
        return mbox_key(actor["mbox"]).lower() == mbox_key(f"mailto:{employee.email}").lower()
    return False


def _bind(db: Session, docs: list[dict[str, Any]], writer: Writer) -> list[int | None]:
    """The employee each statement counts for (see ``XapiStatement.employee_id``)."""
    if writer.session:
        employee = db.get(Employee, writer.own_employee_id) if writer.own_employee_id is not None else None
        if employee is None:
            raise ForgedActor("only a user linked to an employee record can store statements from a session", code="xapi-no-employee")
        for index, doc in enumerate(docs):
            if doc["actor"].get("objectType") == "Group" or not _identifies(doc["actor"], employee, writer.home_page):
                raise ForgedActor(
                    f"$[{index}].actor: a statement from your own player must name you "
                    f"(account {{homePage: {writer.home_page}, name: {employee.employee_no}}})",
                    code="xapi-forged-actor",
                )
        return [employee.id] * len(docs)
    accounts = {doc["actor"]["account"]["name"] for doc in docs
                if isinstance(doc["actor"].get("account"), Mapping) and doc["actor"]["account"].get("homePage") == writer.home_page}
    mboxes = {mbox_key(doc["actor"]["mbox"]).lower() for doc in docs if isinstance(doc["actor"].get("mbox"), str)}
    by_account = dict(db.execute(select(Employee.employee_no, Employee.id).where(Employee.employee_no.in_(accounts))).all()) if accounts else {}
    by_mbox: dict[str, int] = {}
    if mboxes:
        emails = [m.removeprefix("mbox:mailto:") for m in mboxes]
        for email, employee_id in db.execute(select(func.lower(Employee.email), Employee.id).where(func.lower(Employee.email).in_(emails))):
            by_mbox[mbox_key(f"mailto:{email}").lower()] = employee_id
    bound: list[int | None] = []
    for doc in docs:
        actor = doc["actor"]
        if actor.get("objectType") == "Group":
            bound.append(None)
        elif isinstance(actor.get("account"), Mapping):
            bound.append(by_account.get(actor["account"].get("name")) if actor["account"].get("homePage") == writer.home_page else None)
        elif isinstance(actor.get("mbox"), str):
            bound.append(by_mbox.get(mbox_key(actor["mbox"]).lower()))
        else:
            bound.append(None)
    return bound


def _check_attachments(docs: list[dict[str, Any]], parts: Mapping[str, Part]) -> dict[str, Part]:
    """Communication 1.5.2: every attachment without a fileUrl arrives as a part with its hash, and
    every part belongs to an attachment. Signatures are checked here too (Data 2.6)."""
    needed: set[str] = set()
    for index, doc in enumerate(docs):
        for number, attachment in enumerate(doc.get("attachments") or ()):
            sha2 = attachment["sha2"].lower()
            if sha2 not in parts:
                if "fileUrl" in attachment and attachment.get("usageType") != SIGNATURE_USAGE:
                    continue
                raise BadRequest(f"$[{index}].attachments[{number}]: no part with X-Experience-API-Hash {sha2} was sent",
                                 code="xapi-attachment-missing")
            needed.add(sha2)
            if attachment.get("usageType") == SIGNATURE_USAGE:
                if attachment.get("contentType") != "application/octet-stream":
                    raise BadRequest(f"$[{index}].attachments[{number}]: a signature's contentType is application/octet-stream",
                                     code="xapi-signature-content-type")
                check_signature(parts[sha2].body, doc, where=f"$[{index}].attachments[{number}]")
    extra = sorted(set(parts) - needed)
    if extra:
        raise BadRequest(f"the parts with hashes {', '.join(extra)} belong to no attachment of the statements", code="xapi-attachment-extra")
    return {sha2: parts[sha2] for sha2 in needed}


def _take_write_order(db: Session) -> datetime | None:
    """Statements get ``stored`` in the order they commit: on PostgreSQL one writer at a time (a
    transaction-scoped advisory lock); SQLite has one writer anyway. The latest ``stored`` so far keeps
    ``stored`` from running backwards if the clock steps back."""
    if db.get_bind().dialect.name == "postgresql":
        db.execute(text("SELECT pg_advisory_xact_lock(hashtext('xapi_statements'))"))
    return db.scalar(select(func.max(XapiStatement.stored)))


def store_statements(
    db: Session,
    docs: Sequence[Any],
    *,
    writer: Writer,
    json_body: bytes,
    parts: Mapping[str, Part],
    now: datetime,
    statement_id: str | None = None,
) -> list[str]:
    """Store ``docs`` (a PUT's one statement when ``statement_id`` is given). Returns their ids in order."""
    checked = _validated(docs, statement_id)
    attachments = _check_attachments(checked, parts)
    ids = [doc["id"].lower() for doc in checked]
    bound = _bind(db, checked, writer)
    # The delivery row first: on SQLite its insert takes the write lock before anything is compared.
    delivery_id = db.execute(insert(XapiDelivery).values(received_at=now, stored_by=writer.stored_by, body=zlib.compress(json_body, 1), compressed=True)
                             .returning(XapiDelivery.id)).scalar_one()
    latest = _take_write_order(db)
    stored_at = max(now, latest) if latest is not None else now
    # A repeated id is rare: only then are the two statements' canonical forms compared (the stored
    # document has the same canonical form as the statement it was made from: the key ignores what
    # the LRS added, and reads context activities as arrays).
    existing: dict[str, str] = {}
    for chunk in chunks(ids, 500):
        existing.update(db.execute(select(XapiStatement.statement_id, XapiStatement.document).where(XapiStatement.statement_id.in_(chunk))).all())
    for sid, doc in zip(ids, checked, strict=True):
        if sid in existing and statement_key(orjson.loads(existing[sid]), validated=True) != statement_key(doc, validated=True):
            raise StatementConflict(f"a different statement is already stored with the id {sid}", code="xapi-id-taken")
    new = [(doc, emp) for doc, emp in zip(checked, bound, strict=True) if doc["id"].lower() not in existing]
    if not new:
        return ids
    stored = stored_text(stored_at)
    # A statement voided before it arrived (its voiding statement came first) is stored voided.
    already_voided = set(db.scalars(select(XapiStatement.target_id).where(
        XapiStatement.voiding.is_(True), XapiStatement.target_id.in_([doc["id"].lower() for doc, _ in new]))))
    # Straight to the driver with ids reserved: the ORM's insert-many with RETURNING cost more than
    # validating the statements (bench/bench_lrs.py, profiled).
    table = XapiStatement.__table__
    pks = reserve_ids(db, table, len(new))
    stored_value = driver_value(table.c.stored, db.get_bind().dialect)(stored_at)  # one moment for the whole request
    rows: list[tuple[Any, ...]] = []
    links: list[list[tuple[str, str]]] = []
    definitions: dict[str, dict[str, Any]] = {}
    targets: list[str | None] = []
    voiding: dict[str, bool] = {}
    video: list[tuple[int, int | None, dict[str, Any], datetime, str]] = []  # watch coverage's block (lrs/blocks.py)
    for pk, (doc, employee_id) in zip(pks, new, strict=True):
        sid = doc["id"].lower()
        document = {**with_context_arrays(doc), "id": sid, "authority": writer.authority, "stored": stored,
                    "version": doc.get("version", DEFAULT_VERSION), "timestamp": doc.get("timestamp", stored)}
        facts = statement_facts(document)
        if employee_id is not None and facts.activity_id is not None:
            video.append((pk, employee_id, document, stored_at, writer.stored_by))
        rows.append((pk, sid, stored_value, delivery_id, orjson.dumps(document).decode(), facts.actor_key, facts.verb_id, facts.activity_id,
                     facts.object_agent_key, facts.target_id, facts.registration, facts.voiding, sid in already_voided and not facts.voiding,
                     writer.stored_by, employee_id))
        links.append([("activity", a) for a in sorted(facts.activities)] + [("agent", a) for a in sorted(facts.agents)])
        for activity_id, definition in facts.definitions:
            known = definitions.get(activity_id)
            if known != definition:  # a player repeats one definition in each statement: merging it again changes nothing
                definitions[activity_id] = merge_definition(known, definition)
        voiding[sid] = facts.voiding
        if facts.voiding:
            targets.append(facts.target_id)
    _check_voiding(db, targets, voiding)
    insert_rows(db, table, STATEMENT_COLUMNS, rows)
    blocks.append(db, video)
    link_rows = [(pk, kind, value) for pk, own in zip(pks, links, strict=True) for kind, value in own]
    if link_rows:
        insert_rows(db, XapiStatementLink.__table__, ["statement_pk", "kind", "value"], link_rows)
    if targets:
        db.execute(update(XapiStatement).where(XapiStatement.statement_id.in_(targets), XapiStatement.voiding.is_(False)).values(voided=True))
    _keep_definitions(db, definitions, now)
    _keep_attachments(db, attachments)
    return ids


def _check_voiding(db: Session, targets: list[str | None], batch: Mapping[str, bool]) -> None:
    """Data 2.3.2: a voiding statement cannot void another voiding statement. A target not (yet)
    stored is accepted; it is voided when it arrives (``already_voided`` in ``store_statements``)."""
    wanted = [t for t in targets if t is not None]
    if not wanted:
        return
    voiding = set(db.scalars(select(XapiStatement.statement_id).where(XapiStatement.statement_id.in_(wanted), XapiStatement.voiding.is_(True))))
    voiding |= {sid for sid in wanted if batch.get(sid)}  # batch: each new statement's id -> is it a voiding one
    if voiding:
        raise BadRequest(f"a voiding statement cannot be voided: {', '.join(sorted(voiding))}", code="xapi-void-voiding")


def _keep_definitions(db: Session, definitions: Mapping[str, dict[str, Any]], now: datetime) -> None:
    if not definitions:
        return
    known = dict(db.execute(select(XapiActivity.activity_id, XapiActivity.definition).where(XapiActivity.activity_id.in_(list(definitions)))).all())
    for activity_id, definition in definitions.items():
        if activity_id in known:
            before = orjson.loads(known[activity_id])
            merged = merge_definition(before, definition)
            if merged == before:
                continue  # the usual case: a player repeats the same definition in every statement
            db.execute(update(XapiActivity).where(XapiActivity.activity_id == activity_id)
                       .values(definition=orjson.dumps(merged).decode(), updated_at=now))
        else:
            db.add(XapiActivity(activity_id=activity_id, definition=orjson.dumps(definition).decode(), updated_at=now))
    db.flush()


def _keep_attachments(db: Session, attachments: Mapping[str, Part]) -> None:
    if not attachments:
        return
    known = set(db.scalars(select(XapiAttachment.sha2).where(XapiAttachment.sha2.in_(list(attachments)))))
    for sha2, part in attachments.items():
        if sha2 not in known:
            db.add(XapiAttachment(sha2=sha2, content_type=part.content_type or "application/octet-stream", content=part.body))
    db.flush()
