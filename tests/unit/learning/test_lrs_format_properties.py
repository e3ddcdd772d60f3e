"""The formats' exact form and their properties (learning/xapi/output.py): no input mutated, ids keep no
display or definition, canonical keeps one language per map."""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.learning.sample import ATTENDED, COURSE, GROUPING, MEETING, full_statement
from trainquant.learning.xapi.output import formatted

# --- format=exact --------------------------------------------------------------------------------------


def test_exact_is_the_statement_as_stored():
    doc = full_statement()
    out = formatted(doc, "exact", definitions={MEETING: {"name": {"en": "other"}}}, languages=["zh-cn"])
    assert out == full_statement()
    assert out is not doc


# --- properties of the formats -------------------------------------------------------------------------

_LANGUAGE_MAP = st.dictionaries(st.sampled_from(["en-US", "en-GB", "zh-CN", "fr", "de"]), st.text(max_size=3), max_size=3)
_IFI = st.one_of(
    st.builds(lambda n: {"mbox": f"mailto:u{n}@example.com"}, st.integers(0, 5)),
    st.builds(lambda n: {"mbox_sha1sum": f"{n:040x}"}, st.integers(0, 5)),
    st.builds(lambda n: {"openid": f"http://openid.example.org/{n}"}, st.integers(0, 5)),
    st.builds(lambda n: {"account": {"homePage": "http://h.example/", "name": f"u{n}"}}, st.integers(0, 5)),
)
_AGENT = st.builds(lambda ifi, extra: {**extra, **ifi}, _IFI, st.fixed_dictionaries({}, optional={"objectType": st.just("Agent"), "name": st.text(max_size=3)}))
_GROUP = st.one_of(
    st.builds(lambda members, name: {"objectType": "Group", "name": name, "member": members}, st.lists(_AGENT, min_size=1, max_size=3), st.text(max_size=3)),
    st.builds(lambda ifi, members: {"objectType": "Group", **ifi, "member": members}, _IFI, st.lists(_AGENT, max_size=2)),
)
_COMPONENT_LIST = st.lists(st.builds(lambda n, d: {"id": f"c{n}", "description": d}, st.integers(0, 9), _LANGUAGE_MAP), max_size=3)
_DEFINITION = st.fixed_dictionaries({}, optional={
    "name": _LANGUAGE_MAP,
    "description": _LANGUAGE_MAP,
    "type": st.just("http://adlnet.gov/expapi/activities/cmi.interaction"),
    "choices": _COMPONENT_LIST,
    "scale": _COMPONENT_LIST,
    "steps": _COMPONENT_LIST,
    "extensions": st.dictionaries(st.just("http://e.example/x"), st.integers(), max_size=1),
})
# As an object an agent must say it is one (Data 2.4.4.2); as an actor it may leave objectType out.
_OBJECT_AGENT = _AGENT.map(lambda agent: {**agent, "objectType": "Agent"})
_ACTIVITY_IDS = st.sampled_from([MEETING, COURSE, GROUPING, "http://a.example/d"])
_ACTIVITY = st.builds(lambda i, extra: {"id": i, **extra}, _ACTIVITY_IDS, st.fixed_dictionaries({}, optional={"objectType": st.just("Activity"), "definition": _DEFINITION}))
_CONTEXT = st.fixed_dictionaries({}, optional={
    "registration": st.just("ec531277-b57b-4c15-8d91-d292c5b2b8f7"),
    "instructor": _AGENT | _GROUP,
    "team": _GROUP,
    "contextActivities": st.dictionaries(st.sampled_from(["parent", "grouping", "category", "other"]), _ACTIVITY | st.lists(_ACTIVITY, max_size=2)),
})
_VERB = st.builds(lambda extra: {"id": ATTENDED, **extra}, st.fixed_dictionaries({}, optional={"display": _LANGUAGE_MAP}))
_STATEMENT_REF = st.just({"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"})
_SUBSTATEMENT = st.builds(
    lambda actor, verb, obj, extra: {"objectType": "SubStatement", "actor": actor, "verb": verb, "object": obj, **extra},
    _AGENT | _GROUP, _VERB, _ACTIVITY | _OBJECT_AGENT | _GROUP | _STATEMENT_REF, st.fixed_dictionaries({}, optional={"context": _CONTEXT}),
)
_ATTACHMENT = st.builds(
    lambda display, extra: {"usageType": "http://a.example/u", "display": display, "contentType": "text/plain", "length": 1, "sha2": "ab", **extra},
    _LANGUAGE_MAP, st.fixed_dictionaries({}, optional={"description": _LANGUAGE_MAP}),
)
_STATEMENTS = st.builds(
    lambda actor, verb, obj, extra: {"id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0", "actor": actor, "verb": verb, "object": obj, **extra},
    _AGENT | _GROUP, _VERB, _ACTIVITY | _OBJECT_AGENT | _GROUP | _STATEMENT_REF | _SUBSTATEMENT,
    st.fixed_dictionaries({}, optional={
        "context": _CONTEXT,
        "result": st.just({"success": True}),
        "authority": _AGENT,
        "attachments": st.lists(_ATTACHMENT, max_size=2),
    }),
)
_LRS_DEFINITIONS = st.dictionaries(_ACTIVITY_IDS, _DEFINITION, max_size=3)
_LANGUAGES = st.lists(st.sampled_from(["en-us", "en", "zh-cn", "zh", "fr", "de", "ja", "*"]), max_size=3)


@given(_STATEMENTS, _LRS_DEFINITIONS, _LANGUAGES, st.sampled_from(["exact", "ids", "canonical"]))
@settings(deadline=None)
def test_formatting_never_changes_its_input(doc, definitions, languages, fmt):
    doc_before, definitions_before = copy.deepcopy(doc), copy.deepcopy(definitions)
    out = formatted(doc, fmt, definitions=definitions, languages=languages)
    assert doc == doc_before
    assert definitions == definitions_before
    if fmt == "exact":
        assert out == doc_before


def _keys(value: Any) -> Iterator[str]:
    if isinstance(value, Mapping):
        for key, item in value.items():
            yield key
            yield from _keys(item)
    elif isinstance(value, list):
        for item in value:
            yield from _keys(item)


@given(_STATEMENTS)
@settings(deadline=None)
def test_ids_has_no_display_or_definition(doc):
    out = formatted(doc, "ids")
    # Attachments are not reduced (their display is required), so they are left out of the search.
    assert not {"display", "definition"} & set(_keys({k: v for k, v in out.items() if k != "attachments"}))
    assert out["verb"] == {"id": ATTENDED}


def _one_of(picked: Mapping[str, Any], source: Mapping[str, Any]) -> None:
    assert len(picked) <= 1
    assert len(picked) == (1 if source else 0)
    assert picked.items() <= source.items()


def _check_definition(out: Mapping[str, Any], source: Mapping[str, Any]) -> None:
    assert set(out) == set(source)
    for key, value in source.items():
        if key in ("name", "description"):
            _one_of(out[key], value)
        elif key in ("choices", "scale", "steps"):
            assert [c["id"] for c in out[key]] == [c["id"] for c in value]
            for picked, component in zip(out[key], value, strict=True):
                _one_of(picked["description"], component["description"])
        else:
            assert out[key] == value


def _check_activity(out: Mapping[str, Any], source: Mapping[str, Any], definitions: Mapping[str, Any]) -> None:
    assert {k: v for k, v in out.items() if k != "definition"} == {k: v for k, v in source.items() if k != "definition"}
    definition = definitions[source["id"]] if source["id"] in definitions else source.get("definition")
    if definition is None:
        assert "definition" not in out
    else:
        _check_definition(out["definition"], definition)


def _check_canonical(out: Mapping[str, Any], source: Mapping[str, Any], definitions: Mapping[str, Any]) -> None:
    assert set(out) == set(source)
    assert out["actor"] == source["actor"]
    if "display" in source["verb"]:
        _one_of(out["verb"]["display"], source["verb"]["display"])
    kind = source["object"].get("objectType", "Activity")
    if kind == "Activity":
        _check_activity(out["object"], source["object"], definitions)
    elif kind == "SubStatement":
        _check_canonical(out["object"], source["object"], definitions)
    else:
        assert out["object"] == source["object"]
    if "context" in source:
        for part in ("registration", "instructor", "team"):
            assert out["context"].get(part) == source["context"].get(part)
        for kind_, given_activities in source["context"].get("contextActivities", {}).items():
            returned = out["context"]["contextActivities"][kind_]
            if isinstance(given_activities, list):
                assert len(returned) == len(given_activities)
                for a_out, a_source in zip(returned, given_activities, strict=True):
                    _check_activity(a_out, a_source, definitions)
            else:
                _check_activity(returned, given_activities, definitions)
    for a_out, a_source in zip(out.get("attachments", []), source.get("attachments", []), strict=True):
        _one_of(a_out["display"], a_source["display"])
        if "description" in a_source:
            _one_of(a_out["description"], a_source["description"])


@given(_STATEMENTS, _LRS_DEFINITIONS, _LANGUAGES)
@settings(deadline=None)
def test_canonical_maps_hold_at_most_one_language(doc, definitions, languages):
    _check_canonical(formatted(doc, "canonical", definitions=definitions, languages=languages), doc, definitions)
