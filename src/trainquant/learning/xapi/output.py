"""Statements as GET returns them (Communication 2.1.3 ``format``): exact, ids or canonical. Pure.

exact gives the statement as stored; ids keeps only identifiers (an agent's IFI, an activity's and a
verb's id); canonical gives each activity the LRS's definition of it and keeps one language per map,
the one the request's Accept-Language prefers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

FORMATS = ("exact", "ids", "canonical")
_IFIS = ("mbox", "mbox_sha1sum", "openid", "account")
_DEFINITION_MAPS = ("name", "description")
_COMPONENTS = ("choices", "scale", "source", "target", "steps")


def accepted_languages(header: str | None) -> list[str]:
    """The languages of an Accept-Language header, most preferred first (RFC 9110 12.5.4)."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((header or "").split(",")):
        tag, _, params = part.strip().partition(";")
        if not tag.strip():
            continue
        weight = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if weight > 0:
            ranked.append((-weight, index, tag.strip().lower()))
    return [tag for _, _, tag in sorted(ranked)]


def pick_language(language_map: Mapping[str, Any], preferred: Sequence[str]) -> dict[str, Any]:
    """One entry of a language map: the first preferred tag present (exactly, then by its primary
    subtag, either way), else the map's first entry."""
    if not language_map:
        return {}
    keys = list(language_map)
    lowered = {key.lower(): key for key in keys}
    for tag in preferred:
        if tag == "*":
            return {keys[0]: language_map[keys[0]]}
        if tag in lowered:
            return {lowered[tag]: language_map[lowered[tag]]}
        primary = tag.split("-")[0]
        for key in keys:
            if key.lower().split("-")[0] == primary:
                return {key: language_map[key]}
    return {keys[0]: language_map[keys[0]]}


def _agent_ids(actor: Any) -> Any:
    if not isinstance(actor, Mapping):
        return actor
    reduced: dict[str, Any] = {key: actor[key] for key in ("objectType", *_IFIS) if key in actor}
    if actor.get("objectType") == "Group" and not any(key in actor for key in _IFIS):
        reduced["member"] = [_agent_ids(member) for member in actor.get("member") or ()]
    return reduced


def _activity_ids(activity: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": activity["id"]}


def _context_ids(context: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(context)
    for part in ("instructor", "team"):
        if part in out:
            out[part] = _agent_ids(out[part])
    if isinstance(out.get("contextActivities"), Mapping):
        out["contextActivities"] = {
            kind: [_activity_ids(a) for a in value] if isinstance(value, list) else _activity_ids(value)
            for kind, value in out["contextActivities"].items()
        }
    return out


def _object_ids(obj: Mapping[str, Any]) -> dict[str, Any]:
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        return _activity_ids(obj)
    if kind in ("Agent", "Group"):
        return _agent_ids(obj)
    if kind == "SubStatement":
        return _statement_ids(obj)
    return dict(obj)


def _statement_ids(statement: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(statement)
    out["actor"] = _agent_ids(statement["actor"])
    out["verb"] = {"id": statement["verb"]["id"]}
    out["object"] = _object_ids(statement["object"])
    if "authority" in out:
        out["authority"] = _agent_ids(out["authority"])
    if isinstance(out.get("context"), Mapping):
        out["context"] = _context_ids(out["context"])
    return out


def _definition_canonical(definition: Mapping[str, Any], preferred: Sequence[str]) -> dict[str, Any]:
    out = dict(definition)
    for key in _DEFINITION_MAPS:
        if isinstance(out.get(key), Mapping):
            out[key] = pick_language(out[key], preferred)
    for key in _COMPONENTS:
        if isinstance(out.get(key), list):
            out[key] = [
                {**item, "description": pick_language(item["description"], preferred)}
                if isinstance(item, Mapping) and isinstance(item.get("description"), Mapping) else item
                for item in out[key]
            ]
    return out


def _activity_canonical(activity: Mapping[str, Any], definitions: Mapping[str, Mapping[str, Any]], preferred: Sequence[str]) -> dict[str, Any]:
    out = dict(activity)
    definition = definitions.get(activity["id"], activity.get("definition"))
    if isinstance(definition, Mapping):
        out["definition"] = _definition_canonical(definition, preferred)
    return out


def _statement_canonical(statement: Mapping[str, Any], definitions: Mapping[str, Mapping[str, Any]], preferred: Sequence[str]) -> dict[str, Any]:
    out = dict(statement)
    verb = dict(statement["verb"])
    if isinstance(verb.get("display"), Mapping):
        verb["display"] = pick_language(verb["display"], preferred)
    out["verb"] = verb
    obj = statement["object"]
    kind = obj.get("objectType", "Activity")
    if kind == "Activity":
        out["object"] = _activity_canonical(obj, definitions, preferred)
    elif kind == "SubStatement":
        out["object"] = _statement_canonical(obj, definitions, preferred)
    context = statement.get("context")
    if isinstance(context, Mapping) and isinstance(context.get("contextActivities"), Mapping):
        out["context"] = {
            **context,
            "contextActivities": {
                kind: [_activity_canonical(a, definitions, preferred) for a in value] if isinstance(value, list)
                else _activity_canonical(value, definitions, preferred)
                for kind, value in context["contextActivities"].items()
            },
        }
    if isinstance(out.get("attachments"), list):
        out["attachments"] = [
            {**a, **{key: pick_language(a[key], preferred) for key in ("display", "description") if isinstance(a.get(key), Mapping)}}
            for a in out["attachments"]
        ]
    return out


def formatted(
    statement: Mapping[str, Any],
    format: str,
    *,
    definitions: Mapping[str, Mapping[str, Any]] | None = None,
    languages: Sequence[str] = (),
) -> dict[str, Any]:
    """The stored ``statement`` in ``format``. ``definitions`` are the LRS's canonical activity
    definitions (canonical only); ``languages`` the Accept-Language preference."""
    if format == "ids":
        return _statement_ids(statement)
    if format == "canonical":
        return _statement_canonical(statement, definitions or {}, languages)
    return dict(statement)
