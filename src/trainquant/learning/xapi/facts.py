"""What the LRS indexes of a valid xAPI 1.0.3 statement: the keys its GET filters match on. Pure.

An agent or an identified group is known by its inverse functional identifier (Data 2.4.2.3), written
as one text key so that two spellings of one identity (an e-mail domain in other case) index alike.

Statements here are parsed JSON, so objects are ``dict``: the checks say ``dict``, not ``Mapping``
(an ABC check costs several times a type check, and the LRS makes dozens per statement).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
CONTEXT_ACTIVITY_KINDS = ("parent", "grouping", "category", "other")


def mbox_key(mbox: str) -> str:
    # Data 2.3.1.b7: the domain of an e-mail address is case-insensitive; the local part is not.
    local, _, domain = mbox.rpartition("@")
    return f"mbox:{local}@{domain.lower()}"


def agent_key(actor: Mapping[str, Any] | None) -> str | None:
    """The identity of an agent or an identified group; None for an anonymous group (or nothing)."""
    if type(actor) is not dict:
        return None
    # A valid agent has exactly one identifier (Data 2.4.2.1), so the order of these looks is free:
    # the usual one first.
    account = actor.get("account")
    if type(account) is dict:
        return f"account:{account.get('homePage')} {account.get('name')}"
    mbox = actor.get("mbox")
    if type(mbox) is str:
        return mbox_key(mbox)
    sha1 = actor.get("mbox_sha1sum")
    if type(sha1) is str:
        return f"sha1:{sha1.lower()}"
    openid = actor.get("openid")
    if type(openid) is str:
        return f"openid:{openid}"
    return None


def _identities(actor: Any) -> Iterator[str]:
    """The actor's own key. A group's members are not its identity: Communication 2.1.3 matches the
    agent parameter against the actor, object, authority, instructor and team themselves."""
    key = agent_key(actor)
    if key is not None:
        yield key


def _context_activity_ids(context: Any) -> Iterator[str]:
    if not isinstance(context, dict) or not isinstance(context.get("contextActivities"), dict):
        return
    for kind in CONTEXT_ACTIVITY_KINDS:
        value = context["contextActivities"].get(kind)
        for activity in value if isinstance(value, list) else [value] if value is not None else []:
            yield activity["id"]


def _context_activities(context: Any) -> list[Mapping[str, Any]]:
    if not isinstance(context, dict) or not isinstance(context.get("contextActivities"), dict):
        return []
    out: list[Mapping[str, Any]] = []
    for kind in CONTEXT_ACTIVITY_KINDS:
        value = context["contextActivities"].get(kind)
        out += value if isinstance(value, list) else [value] if value is not None else []
    return out


def _definitions(statement: Mapping[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    objects = [statement["object"]]
    sub = statement["object"] if statement["object"].get("objectType") == "SubStatement" else None
    if sub is not None:
        objects.append(sub["object"])
    objects += _context_activities(statement.get("context"))
    if sub is not None:  # a SubStatement's context activities carry definitions too
        objects += _context_activities(sub.get("context"))
    for obj in objects:
        if obj.get("objectType", "Activity") == "Activity" and isinstance(obj.get("definition"), dict):
            yield obj["id"], dict(obj["definition"])


class StatementFacts(NamedTuple):  # a tuple: built in C, several times faster than a frozen dataclass
    actor_key: str | None
    verb_id: str
    activity_id: str | None  # the object, when it is an activity
    object_agent_key: str | None  # the object, when it is an agent or an identified group
    target_id: str | None  # the object, when it is a StatementRef
    registration: str | None
    voiding: bool  # a voiding statement: verb voided, object a StatementRef
    activities: frozenset[str]  # related_activities: the object, context activities, a SubStatement's
    agents: frozenset[str]  # related_agents: actor, object, authority, instructor, team, a SubStatement's
    definitions: tuple[tuple[str, dict[str, Any]], ...]  # every activity definition the statement carries


def statement_facts(statement: Mapping[str, Any]) -> StatementFacts:
    """The facts of a statement that ``validate_statement`` accepted (with its authority set)."""
    obj = statement["object"]
    kind = obj.get("objectType", "Activity")
    context = statement.get("context")
    activities: set[str] = set(_context_activity_ids(context))
    actor_key = agent_key(statement["actor"])
    agents: set[str] = {key for key in (actor_key, agent_key(statement.get("authority"))) if key is not None}
    if type(context) is dict:
        for part in ("instructor", "team"):
            if part in context:
                agents |= set(_identities(context[part]))
    if kind == "Activity":
        activities.add(obj["id"])
    elif kind in ("Agent", "Group"):
        agents |= set(_identities(obj))
    elif kind == "SubStatement":
        agents |= set(_identities(obj["actor"]))
        sub_object = obj["object"]
        if sub_object.get("objectType", "Activity") == "Activity":
            activities.add(sub_object["id"])
        elif sub_object.get("objectType") in ("Agent", "Group"):
            agents |= set(_identities(sub_object))
        sub_context = obj.get("context")
        activities |= set(_context_activity_ids(sub_context))
        if isinstance(sub_context, dict):
            for part in ("instructor", "team"):
                agents |= set(_identities(sub_context.get(part)))
    registration = context.get("registration") if isinstance(context, dict) else None
    return StatementFacts(
        actor_key=actor_key,
        verb_id=statement["verb"]["id"],
        activity_id=obj["id"] if kind == "Activity" else None,
        object_agent_key=agent_key(obj) if kind in ("Agent", "Group") else None,
        target_id=obj["id"].lower() if kind == "StatementRef" else None,
        registration=registration.lower() if isinstance(registration, str) else None,
        voiding=statement["verb"]["id"] == VOIDED and kind == "StatementRef",
        activities=frozenset(activities),
        agents=frozenset(agents),
        definitions=tuple(_definitions(statement)),
    )


def _context_arrays(context: Any) -> Any:
    if not isinstance(context, dict) or not isinstance(context.get("contextActivities"), dict):
        return context
    activities = {kind: value if isinstance(value, list) else [value] for kind, value in context["contextActivities"].items()}
    return {**context, "contextActivities": activities}


def with_context_arrays(statement: Mapping[str, Any]) -> dict[str, Any]:
    """The statement with each context activity list an array (Data 2.4.6.2: the LRS returns a single
    context activity given as an object inside an array), in a SubStatement too."""
    out = dict(statement)
    if "context" in out:
        out["context"] = _context_arrays(out["context"])
    if isinstance(out.get("object"), dict) and out["object"].get("objectType") == "SubStatement":
        out["object"] = with_context_arrays(out["object"])
    return out


def merge_definition(known: Mapping[str, Any] | None, seen: Mapping[str, Any]) -> dict[str, Any]:
    """The LRS's canonical definition of an activity after one more statement: the newest value of each
    property, language maps merged language by language (a later statement adding zh-CN keeps en-US)."""
    merged = dict(known or {})
    for key, value in seen.items():
        if key in ("name", "description", "extensions") and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged
