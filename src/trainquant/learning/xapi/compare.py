"""The canonical form of an xAPI 1.0.3 statement for the repeated-id question (same statement: 200/204,
another: 409), per Data 2.3.1. Pure: standard library only."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from trainquant.learning.xapi.validate import (
    validate_statement,
)

# --- comparison ----------------------------------------------------------------------------------------

# Data 2.3.1, Statement Immutability and Exceptions: properties the LRS may assign or change while processing
# ("id", "authority", "stored", "timestamp", "version") and Attachments, which "are not part of Statements".
IGNORED_IN_COMPARISON = ("id", "authority", "stored", "timestamp", "version", "attachments")


def _canonical_json(value: Any) -> Any:
    # Parsed JSON: exact types (bool is not taken for int; str, the usual case, first).
    kind = type(value)
    if kind is str or kind is bool or kind is int or value is None:
        return value
    if kind is float:  # JSON has one number type: 1 and 1.0 are the same value, however parsed or stored
        return int(value) if value.is_integer() else value
    if kind is list:
        return [_canonical_json(item) for item in value]
    return {key: _canonical_json(item) for key, item in value.items()}


def _canonical_mbox(mbox: str) -> str:
    # Data 2.3.1.b7: the domain of an e-mail address is case-insensitive.
    local, _, domain = mbox.rpartition("@")
    return f"{local}@{domain.lower()}"


def _canonical_actor(actor: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {key: _canonical_json(value) for key, value in actor.items() if key != "member"}
    if "mbox" in out:
        out["mbox"] = _canonical_mbox(out["mbox"])
    if "mbox_sha1sum" in out:
        out["mbox_sha1sum"] = out["mbox_sha1sum"].lower()  # hex digits, case-insensitive
    if "member" in actor:
        # Data 2.3.1.b5: a Group's member list is unordered.
        members = [_canonical_actor(member) for member in actor["member"]]
        out["member"] = sorted(members, key=lambda member: json.dumps(member, sort_keys=True))
    return out


def _canonical_activity(activity: Mapping[str, Any]) -> dict[str, Any]:
    # Data 2.3.1.b2: an Activity Definition is not part of the statement. The objectType default is made
    # explicit so that {"id": X} and {"objectType": "Activity", "id": X} compare equal.
    return {"objectType": "Activity", "id": activity["id"]}


def _canonical_object(obj: Mapping[str, Any]) -> dict[str, Any]:
    object_type = obj.get("objectType", "Activity")
    if object_type == "Activity":
        return _canonical_activity(obj)
    if object_type in ("Agent", "Group"):
        return _canonical_actor(obj)
    if object_type == "StatementRef":
        return {"objectType": "StatementRef", "id": obj["id"].lower()}  # UUIDs are case-insensitive
    return _canonical_statement(obj)


def _canonical_context(context: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {key: _canonical_json(value) for key, value in context.items()}
    if "registration" in out:
        out["registration"] = out["registration"].lower()
    if "statement" in out:
        out["statement"] = {"objectType": "StatementRef", "id": out["statement"]["id"].lower()}
    for key in ("instructor", "team"):
        if key in context:
            out[key] = _canonical_actor(context[key])
    if "language" in out:
        out["language"] = out["language"].lower()  # RFC 5646 tags are case-insensitive
    if "contextActivities" in context:
        # The LRS stores and returns every kind as an array (XAPI-00096), so one Activity and a one-Activity
        # array are the same statement.
        out["contextActivities"] = {
            kind: [_canonical_activity(a) for a in (entry if isinstance(entry, list) else [entry])] for kind, entry in context["contextActivities"].items()
        }
    return out


def _canonical_statement(statement: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in statement.items():
        if key in IGNORED_IN_COMPARISON:
            continue
        if key == "actor":
            out[key] = _canonical_actor(value)
        elif key == "verb":
            out[key] = {"id": value["id"]}  # Data 2.3.1.b3: the Verb's display is not part of the statement
        elif key == "object":
            out[key] = _canonical_object(value)
        elif key == "context":
            out[key] = _canonical_context(value)
        else:
            # result (its duration a string as written, Data 2.3.1.b8), objectType of a SubStatement.
            out[key] = _canonical_json(value)
    return out


def statement_key(doc: object, *, validated: bool = False) -> bytes:
    """Canonical bytes of ``doc`` for the repeated-id check: equal keys mean the same statement (200/204),
    different keys mean a conflict (409). ``doc`` must be a valid statement (it is validated first, so
    :class:`StatementError` is raised otherwise).

    Per xAPI 1.0.3 Data 2.3.1 (Statement Comparison Requirements: differences that an exception to
    Statement Immutability could cause MUST be ignored, all others MUST NOT), the key ignores:

    * ``id``, ``authority``, ``stored``, ``timestamp``, ``version`` (assigned or changed by the LRS) and
      ``attachments`` (not part of the statement), at the top level and inside a SubStatement;
    * Activity Definitions (of the object and of context activities) and the Verb's ``display``;
    * the order of object keys, the order of a Group's members, a context activity given alone or as a
      one-element array, an absent Activity ``objectType``;
    * case where it is insignificant: the mbox domain, hex digits (mbox_sha1sum, UUIDs), the context language tag;
    * ``1`` against ``1.0`` (one JSON number).

    Everything else counts, serialisation included: an Activity id, a ``result.duration`` ("PT1H" is not
    "PT60M", Data 2.3.1.b8), extension values, names. Invariant: the key is a UTF-8 JSON text, a pure
    function of the statement's content.
    """
    if not validated:  # the caller already validated ``doc`` (the LRS validates each statement once)
        validate_statement(doc)
    assert isinstance(doc, dict)  # validate_statement refuses anything else
    canonical = _canonical_statement(doc)
    return json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
