"""Validation of xAPI 1.0.3 statements: the pure core behind ``POST/PUT /xapi/statements``.

ADL's ``lrs-conformance-test-suite`` (v1_0_3) is the judge, so every rule here is one of the specification's
MUST rules (xAPI 1.0.3, Part Two "Data"), read the way that suite reads it; where the two seemed to differ
the suite won and the comment says so. A statement is refused on the first violation found, with the
location (``StatementError.path``) and what is wrong.

Invariants of :func:`validate_statement`:

* It never modifies ``doc`` and returns ``None`` or raises :class:`StatementError`; nothing else escapes.
* Every object whose properties the specification lists is closed: an unknown key, a key of the wrong case
  (``"Actor"``) or a ``null`` value is refused. Only the values inside an ``extensions`` object are free
  (any JSON, ``null`` included); their keys must still be IRIs.
* Types are JSON types: ``true`` is not a number, ``"100"`` is not a number, ``"false"`` is not a boolean.

:func:`statement_key` is the canonical form for the "same statement?" question of a repeated id.

Pure: standard library only, no clock, no I/O.
"""

from __future__ import annotations

from typing import Any

from trainquant.learning.xapi.formats import (
    _ACTIVITY_KEYS,
    _AGENT_KEYS,
    _ATTACHMENT_KEYS,
    _COMPONENTS_OF,
    _CONTEXT_KEYS,
    _DEFINITION_KEYS,
    _FORBIDDEN_IN_SUBSTATEMENT,
    _GROUP_KEYS,
    _IFIS,
    _MBOX,
    _MEDIA_TYPE,
    _RESULT_KEYS,
    _SCORE_KEYS,
    _SHA1,
    _STATEMENT_KEYS,
    _SUBSTATEMENT_KEYS,
    _VERSION,
    COMPONENTS,
    CONTEXT_ACTIVITY_KINDS,
    INTERACTION_TYPES,
    StatementError,
    _array,
    _at,
    _boolean,
    _duration,
    _extensions,
    _iri,
    _kind,
    _language_map,
    _language_tag,
    _number,
    _object,
    _string,
    _timestamp,
    _uuid,
)

# --- actors --------------------------------------------------------------------------------------------


def _account(value: object, path: str) -> None:
    account = _object(value, path, frozenset({"homePage", "name"}), ("homePage", "name"))
    _iri(account["homePage"], _at(path, "homePage"), "an IRL")  # XAPI-00042
    _string(account["name"], _at(path, "name"))  # XAPI-00043


def _identifiers(actor: dict[str, Any], path: str) -> list[str]:
    """The IFIs ``actor`` uses, each checked (Data 2.4.2.3)."""
    used = [key for key in _IFIS if key in actor]
    if "mbox" in actor:
        mbox = _string(actor["mbox"], _at(path, "mbox"))
        if not _MBOX.fullmatch(mbox):
            raise StatementError(_at(path, "mbox"), f"{mbox!r} is not a mailto IRI (mailto:name@example.com)")  # XAPI-00038
    if "mbox_sha1sum" in actor:
        sha1 = _string(actor["mbox_sha1sum"], _at(path, "mbox_sha1sum"))
        if not _SHA1.fullmatch(sha1):
            raise StatementError(_at(path, "mbox_sha1sum"), f"{sha1!r} is not a hex SHA-1 (40 hex digits)")  # XAPI-00039
    if "openid" in actor:
        openid = _iri(actor["openid"], _at(path, "openid"), "a URI")
        if not openid.isascii():
            raise StatementError(_at(path, "openid"), f"{openid!r} is not a URI (it has non-ASCII characters)")  # XAPI-00040
    if "account" in actor:
        _account(actor["account"], _at(path, "account"))  # XAPI-00041
    return used


def _agent(value: object, path: str, *, object_type_required: bool = False) -> None:
    agent = _object(value, path, _AGENT_KEYS)
    if "objectType" in agent and agent["objectType"] != "Agent":
        raise StatementError(_at(path, "objectType"), f"must be 'Agent', not {agent['objectType']!r}")
    if object_type_required and "objectType" not in agent:
        # Data 2.4.4.2: an Agent used as a statement's object MUST say so (XAPI-00065).
        raise StatementError(_at(path, "objectType"), "is required when an Agent is the object")
    if "name" in agent:
        _string(agent["name"], _at(path, "name"))  # XAPI-00033
    used = _identifiers(agent, path)
    if len(used) != 1:
        # Data 2.4.2.1.s2: exactly one IFI (XAPI-00034).
        found = ", ".join(used) or "none"
        raise StatementError(path, f"an Agent must have exactly one of mbox, mbox_sha1sum, openid, account (found {found})")


def _group(value: object, path: str) -> dict[str, Any]:
    group = _object(value, path, _GROUP_KEYS, ("objectType",))
    if group["objectType"] != "Group":
        raise StatementError(_at(path, "objectType"), f"must be 'Group', not {group['objectType']!r}")
    if "name" in group:
        _string(group["name"], _at(path, "name"))
    used = _identifiers(group, path)
    if len(used) > 1:
        # Data 2.4.2.2.s5.b1: an Identified Group has exactly one IFI (XAPI-00037).
        raise StatementError(path, f"a Group must not have more than one of mbox, mbox_sha1sum, openid, account (found {', '.join(used)})")
    if not used and "member" not in group:
        # Data 2.4.2.2.s4.b1: an Anonymous Group MUST list its members (XAPI-00035).
        raise StatementError(_at(path, "member"), "is required in an Anonymous Group (one without mbox, mbox_sha1sum, openid or account)")
    if "member" in group:
        members = _array(group["member"], _at(path, "member"))
        for index, member in enumerate(members):
            where = f"{path}.member[{index}]"
            if isinstance(member, dict) and member.get("objectType") == "Group":
                # Data 2.4.2.2.s4.b2 / s5.b2: no Group inside a Group (XAPI-00036).
                raise StatementError(_at(where, "objectType"), "a Group's members must be Agents, not Groups")
            _agent(member, where)
    return group


def _actor(value: object, path: str, *, object_type_required: bool = False) -> None:
    """An Agent or a Group; without ``objectType`` it is an Agent (Data 2.4.2)."""
    if isinstance(value, dict) and "objectType" in value and value["objectType"] not in ("Agent", "Group"):
        # Case-sensitive: "agent" is not "Agent" (XAPI-00031, XAPI-00009).
        raise StatementError(_at(path, "objectType"), f"must be 'Agent' or 'Group', not {value['objectType']!r}")
    if isinstance(value, dict) and value.get("objectType") == "Group":
        _group(value, path)
    else:
        _agent(value, path, object_type_required=object_type_required)


def _authority(value: object, path: str) -> None:
    _actor(value, path)
    if isinstance(value, dict) and value.get("objectType") == "Group":
        # Data 2.4.9.s3.b1: a Group authority is the OAuth pair, an Anonymous Group of exactly two Agents
        # (XAPI-00098).
        if any(key in value for key in _IFIS):
            raise StatementError(path, "a Group authority must be an Anonymous Group (no mbox, mbox_sha1sum, openid or account)")
        if len(value["member"]) != 2:
            raise StatementError(_at(path, "member"), f"a Group authority must have exactly two members, not {len(value['member'])}")


# --- verb, object --------------------------------------------------------------------------------------


def _verb(value: object, path: str) -> None:
    verb = _object(value, path, frozenset({"id", "display"}), ("id",))
    _iri(verb["id"], _at(path, "id"))  # XAPI-00044
    if "display" in verb:
        _language_map(verb["display"], _at(path, "display"))  # XAPI-00045


def _components(value: object, path: str) -> None:
    seen: set[str] = set()
    for index, item in enumerate(_array(value, path)):
        where = f"{path}[{index}]"
        component = _object(item, where, frozenset({"id", "description"}), ("id",))
        ident = _string(component["id"], _at(where, "id"))
        if ident in seen:
            # Data 2.4.4.1: within one array of Interaction Components all ids MUST be distinct.
            raise StatementError(_at(where, "id"), f"{ident!r} is used twice in this array")
        seen.add(ident)
        if "description" in component:
            _language_map(component["description"], _at(where, "description"))


def _definition(value: object, path: str) -> None:
    definition = _object(value, path, _DEFINITION_KEYS)  # XAPI-00048
    for key in ("name", "description"):
        if key in definition:
            _language_map(definition[key], _at(path, key))  # XAPI-00056, XAPI-00059
    if "type" in definition:
        _iri(definition["type"], _at(path, "type"))  # XAPI-00060
    if "moreInfo" in definition:
        _iri(definition["moreInfo"], _at(path, "moreInfo"), "an IRL")  # XAPI-00061
    if "extensions" in definition:
        _extensions(definition["extensions"], _at(path, "extensions"))  # XAPI-00057
    interaction = definition.get("interactionType")
    if interaction is not None and interaction not in INTERACTION_TYPES:
        # Exact, case-sensitive vocabulary: "choiCe" is refused (XAPI-00049, XAPI-00009).
        raise StatementError(_at(path, "interactionType"), f"must be one of {', '.join(INTERACTION_TYPES)}; not {interaction!r}")
    interaction_keys = [key for key in ("correctResponsesPattern", *COMPONENTS) if key in definition]
    if interaction_keys and interaction is None:
        # Data 2.4.4.1.s8: interaction properties require interactionType (XAPI-00064).
        raise StatementError(_at(path, "interactionType"), f"is required when {interaction_keys[0]} is present")
    if "correctResponsesPattern" in definition:
        for index, pattern in enumerate(_array(definition["correctResponsesPattern"], _at(path, "correctResponsesPattern"))):
            _string(pattern, f"{path}.correctResponsesPattern[{index}]")
    for key in COMPONENTS:
        if key in definition:
            if key not in _COMPONENTS_OF.get(str(interaction), set()):
                raise StatementError(_at(path, key), f"is not used by interactionType {interaction!r}")
            _components(definition[key], _at(path, key))


def _activity(value: object, path: str) -> None:
    activity = _object(value, path, _ACTIVITY_KEYS, ("id",))  # XAPI-00047: id exactly once
    if "objectType" in activity and activity["objectType"] != "Activity":
        raise StatementError(_at(path, "objectType"), f"must be 'Activity', not {activity['objectType']!r}")
    _iri(activity["id"], _at(path, "id"))  # XAPI-00047
    if "definition" in activity:
        _definition(activity["definition"], _at(path, "definition"))


def _statement_ref(value: object, path: str) -> None:
    ref = _object(value, path, frozenset({"objectType", "id"}), ("objectType", "id"))
    if ref["objectType"] != "StatementRef":
        raise StatementError(_at(path, "objectType"), f"must be 'StatementRef', not {ref['objectType']!r}")  # XAPI-00073
    _uuid(ref["id"], _at(path, "id"))  # XAPI-00072


def _object_of(value: object, path: str, *, substatement: bool) -> str:
    """Check a statement's ``object``; return its objectType (``"Activity"`` when absent)."""
    if not isinstance(value, dict):
        raise StatementError(path, f"must be an object, not {_kind(value)}")
    object_type = value.get("objectType", "Activity")
    if object_type == "Activity":
        _activity(value, path)
    elif object_type in ("Agent", "Group"):
        _actor(value, path, object_type_required=True)
    elif object_type == "StatementRef":
        _statement_ref(value, path)
    elif object_type == "SubStatement":
        if substatement:
            # Data 2.4.4.3.s8.b4: a SubStatement MUST NOT contain a SubStatement (XAPI-00071).
            raise StatementError(_at(path, "objectType"), "a SubStatement must not contain a SubStatement")
        _statement(value, path, substatement=True)
    else:
        # XAPI-00046; case-sensitive, so "activity" is refused.
        raise StatementError(_at(path, "objectType"), f"must be Activity, Agent, Group, StatementRef or SubStatement; not {object_type!r}")
    return str(object_type)


# --- result, context, attachments ----------------------------------------------------------------------


def _score(value: object, path: str) -> None:
    score = _object(value, path, _SCORE_KEYS)  # XAPI-00079
    numbers = {key: _number(score[key], _at(path, key)) for key in ("scaled", "raw", "min", "max") if key in score}
    if "scaled" in numbers and not -1 <= numbers["scaled"] <= 1:
        raise StatementError(_at(path, "scaled"), f"{numbers['scaled']:g} is not between -1 and 1")  # XAPI-00083
    if "min" in numbers and "max" in numbers and not numbers["min"] < numbers["max"]:
        # Data 2.4.5.1: min is a "decimal number less than max" (XAPI-00081, XAPI-00080).
        raise StatementError(_at(path, "min"), f"{numbers['min']:g} is not less than max {numbers['max']:g}")
    if "raw" in numbers:
        if "min" in numbers and numbers["raw"] < numbers["min"]:
            raise StatementError(_at(path, "raw"), f"{numbers['raw']:g} is less than min {numbers['min']:g}")  # XAPI-00082
        if "max" in numbers and numbers["raw"] > numbers["max"]:
            raise StatementError(_at(path, "raw"), f"{numbers['raw']:g} is more than max {numbers['max']:g}")  # XAPI-00082


def _result(value: object, path: str) -> None:
    result = _object(value, path, _RESULT_KEYS)
    if "score" in result:
        _score(result["score"], _at(path, "score"))
    for key in ("success", "completion"):
        if key in result:
            _boolean(result[key], _at(path, key))  # XAPI-00074, XAPI-00075
    if "response" in result:
        _string(result["response"], _at(path, "response"))  # XAPI-00076
    if "duration" in result:
        _duration(result["duration"], _at(path, "duration"))  # XAPI-00077, XAPI-00124
    if "extensions" in result:
        _extensions(result["extensions"], _at(path, "extensions"))  # XAPI-00078


def _context_activities(value: object, path: str) -> None:
    activities = _object(value, path, frozenset(CONTEXT_ACTIVITY_KINDS))  # XAPI-00093, XAPI-00086
    for kind, entry in activities.items():
        where = _at(path, kind)
        # A single Activity or an array of them; the LRS returns arrays (XAPI-00094, XAPI-00096).
        if isinstance(entry, list):
            for index, activity in enumerate(entry):
                _activity(activity, f"{where}[{index}]")
        else:
            _activity(entry, where)


def _context(value: object, path: str, object_type: str) -> None:
    context = _object(value, path, _CONTEXT_KEYS)
    if "registration" in context:
        _uuid(context["registration"], _at(path, "registration"))  # XAPI-00087-1
    if "instructor" in context:
        _actor(context["instructor"], _at(path, "instructor"))  # XAPI-00087-2
    if "team" in context:
        team = context["team"]
        if not (isinstance(team, dict) and team.get("objectType") == "Group"):
            raise StatementError(_at(path, "team"), "must be a Group (with objectType 'Group')")  # XAPI-00088
        _group(team, _at(path, "team"))
    if "contextActivities" in context:
        _context_activities(context["contextActivities"], _at(path, "contextActivities"))
    for key in ("revision", "platform"):
        if key in context:
            _string(context[key], _at(path, key))  # XAPI-00089, XAPI-00090
            if object_type != "Activity":
                # Data 2.4.6.s4: revision and platform only describe an Activity (XAPI-00084, XAPI-00085).
                raise StatementError(_at(path, key), f"is only allowed when the object is an Activity, not a {object_type}")
    if "language" in context:
        _language_tag(context["language"], _at(path, "language"))  # XAPI-00091
    if "statement" in context:
        _statement_ref(context["statement"], _at(path, "statement"))  # XAPI-00092
    if "extensions" in context:
        _extensions(context["extensions"], _at(path, "extensions"))


def _attachments(value: object, path: str) -> None:
    for index, item in enumerate(_array(value, path)):  # XAPI-00025
        where = f"{path}[{index}]"
        attachment = _object(item, where, _ATTACHMENT_KEYS, ("usageType", "display", "contentType", "length", "sha2"))
        _iri(attachment["usageType"], _at(where, "usageType"))  # XAPI-00107
        _language_map(attachment["display"], _at(where, "display"))  # XAPI-00106
        if "description" in attachment:
            _language_map(attachment["description"], _at(where, "description"))
        content_type = _string(attachment["contentType"], _at(where, "contentType"))
        if not _MEDIA_TYPE.fullmatch(content_type):
            raise StatementError(_at(where, "contentType"), f"{content_type!r} is not a MIME type")  # XAPI-00105
        length = _number(attachment["length"], _at(where, "length"))
        if not length.is_integer() or length < 0:
            raise StatementError(_at(where, "length"), f"{attachment['length']!r} is not a non-negative integer")  # XAPI-00102
        _string(attachment["sha2"], _at(where, "sha2"))  # XAPI-00103
        if "fileUrl" in attachment:
            _iri(attachment["fileUrl"], _at(where, "fileUrl"), "an IRL")  # XAPI-00104


# --- statement -----------------------------------------------------------------------------------------


_VOIDED = "http://adlnet.gov/expapi/verbs/voided"


def _statement(value: object, path: str, *, substatement: bool) -> None:
    if substatement and isinstance(value, dict):
        for key in _FORBIDDEN_IN_SUBSTATEMENT:
            if key in value:
                # XAPI-00067..00070: said as such rather than as an unknown key.
                raise StatementError(_at(path, key), "is not allowed in a SubStatement")
    statement = _object(value, path, _SUBSTATEMENT_KEYS if substatement else _STATEMENT_KEYS, ("actor", "verb", "object"))
    if substatement and statement.get("objectType") != "SubStatement":
        raise StatementError(_at(path, "objectType"), "must be 'SubStatement'")
    if "id" in statement:
        _uuid(statement["id"], _at(path, "id"))
    _actor(statement["actor"], _at(path, "actor"))
    _verb(statement["verb"], _at(path, "verb"))
    object_type = _object_of(statement["object"], _at(path, "object"), substatement=substatement)
    if statement["verb"]["id"] == _VOIDED and object_type != "StatementRef":
        # Data 2.3.2: a voiding statement's object is a StatementRef to the statement it voids (XAPI-00040).
        raise StatementError(_at(path, "object"), "a voiding statement (verb voided) must have a StatementRef as its object")
    if "result" in statement:
        _result(statement["result"], _at(path, "result"))
    if "context" in statement:
        _context(statement["context"], _at(path, "context"), object_type)
    for key in ("timestamp", "stored"):
        if key in statement:
            _timestamp(statement[key], _at(path, key))  # XAPI-00022, XAPI-00123
    if "authority" in statement:
        _authority(statement["authority"], _at(path, "authority"))  # XAPI-00024
    if "version" in statement:
        version = _string(statement["version"], _at(path, "version"))
        if not _VERSION.fullmatch(version):
            raise StatementError(_at(path, "version"), f"{version!r} is not '1.0' or '1.0.x'")  # XAPI-00101
    if "attachments" in statement:
        _attachments(statement["attachments"], _at(path, "attachments"))


def validate_statement(doc: object, *, substatement: bool = False) -> None:
    """Raise :class:`StatementError` on the first MUST violation of xAPI 1.0.3 in ``doc``.

    ``doc`` is the parsed JSON of one statement (``json.loads`` output: dict, list, str, int, float, bool,
    None). With ``substatement=True`` it is checked as the object of another statement: ``objectType`` must
    be ``"SubStatement"``; ``id``, ``stored``, ``version``, ``authority`` and a nested SubStatement are refused.
    Returns ``None`` when the statement is valid; ``doc`` is never modified.
    """
    _statement(doc, "", substatement=substatement)


def validate_actor(value: object, path: str = "$") -> None:
    """An Agent or a Group as a parameter carries it (the LRS's ``agent`` parameters): refused as in a statement."""
    _actor(value, path)
