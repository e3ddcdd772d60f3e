"""Statements as GET returns them (trainquant.learning.xapi.output) and multipart/mixed bodies
(trainquant.learning.xapi.multipart).

Expected values are written out by hand from xAPI 1.0.3 Communication 2.1.3 (format exact / ids /
canonical), RFC 9110 12.5.4 (Accept-Language) and RFC 2046 5.1 (multipart, its own example in
5.1.1), never computed with the code under test.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from trainquant.learning.xapi import StatementError
from trainquant.learning.xapi.multipart import boundary_of, build_multipart, media_type, parse_multipart, sha256_hex
from trainquant.learning.xapi.output import accepted_languages, formatted, pick_language

ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
MEETING = "http://www.example.com/meetings/occurances/34534"
COURSE = "http://www.example.com/meetings/series/267"
GROUPING = "http://www.example.com/meetings/categories/teammeeting"
SHA1 = "cd9b00a5611f94eaa7b1661edab976068e364975"
TEAM_ACCOUNT = {"homePage": "http://www.example.com", "name": "team-1"}
LRS_ACCOUNT = {"homePage": "http://lrs.example/", "name": "apikey:7"}
SIGNATURE = {
    "usageType": "http://adlnet.gov/expapi/attachments/signature",
    "display": {"en-US": "Signature", "zh-CN": "签名"},
    "description": {"en-US": "A test signature"},
    "contentType": "application/octet-stream",
    "length": 4235,
    "sha2": "672fa5fa658017f1b72d65036f13379c6ab05d4ab3b6664908d8acf0b6a0c634",
}


def full_statement() -> dict[str, Any]:
    return {
        "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "actor": {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"},
        "verb": {"id": ATTENDED, "display": {"en-GB": "attended", "zh-CN": "参加了"}},
        "object": {
            "objectType": "Activity",
            "id": MEETING,
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                "name": {"en-US": "Meeting", "zh-CN": "会议"},
                "description": {"en-US": "Weekly", "zh-CN": "每周"},
                "interactionType": "choice",
                "correctResponsesPattern": ["golf"],
                "choices": [{"id": "golf", "description": {"en-US": "Golf", "zh-CN": "高尔夫"}}, {"id": "tetris", "description": {"en-US": "Tetris"}}],
            },
        },
        "result": {"success": True, "response": "golf", "extensions": {"http://e.example/r": "x"}},
        "context": {
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "instructor": {"name": "Bob", "mbox_sha1sum": SHA1},
            "team": {"objectType": "Group", "name": "Team", "account": TEAM_ACCOUNT, "member": [{"mbox": "mailto:dan@example.com"}]},
            "contextActivities": {
                "parent": {"id": COURSE, "definition": {"name": {"en-US": "Course", "zh-CN": "课程"}}},
                "grouping": [{"objectType": "Activity", "id": GROUPING, "definition": {"description": {"en-US": "Team meeting", "fr": "Réunion"}}}],
            },
            "statement": {"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"},
            "language": "en-US",
            "extensions": {"http://e.example/c": 1},
        },
        "timestamp": "2026-09-08T06:00:00.000Z",
        "authority": {"objectType": "Agent", "name": "LRS", "account": LRS_ACCOUNT},
        "attachments": [dict(SIGNATURE)],
    }


# --- Accept-Language -----------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", " ", ",", " , ;q=1"])
def test_no_languages(header):
    assert accepted_languages(header) == []


def test_languages_by_q_value():
    assert accepted_languages("fr;q=0.3, zh-CN, de;q=0.7, en;q=0.9") == ["zh-cn", "en", "de", "fr"]


def test_equal_q_values_keep_header_order():
    assert accepted_languages("da, en-gb;q=0.8, en;q=0.8, fr;q=0.8") == ["da", "en-gb", "en", "fr"]
    assert accepted_languages("zh, en, fr") == ["zh", "en", "fr"]
    assert accepted_languages("fr;q=1.0, en") == ["fr", "en"]


@pytest.mark.parametrize("header", ["en;q=0", "en;q=0.0", "en; q=0.000"])
def test_q_zero_is_dropped(header):
    assert accepted_languages(header) == []
    assert accepted_languages(header + ", fr;q=0.1") == ["fr"]


@pytest.mark.parametrize("q", ["abc", "", "0.5.1", "high"])
def test_a_malformed_q_counts_as_zero(q):
    assert accepted_languages(f"en;q={q}, fr;q=0.5") == ["fr"]


def test_spaces_and_case_in_the_header():
    assert accepted_languages(" en-US ; q = 0.7 , FR ") == ["fr", "en-us"]
    assert accepted_languages("en;Q=0.2, de;q=0.4") == ["de", "en"]
    assert accepted_languages("*;q=0.1, de") == ["de", "*"]


_TAGS = ["en", "en-us", "zh-cn", "zh", "fr", "de-de", "*"]
_QS = [None, "1", "0.9", "0.5", "0.5", "0.001", "0", "x"]


@given(st.lists(st.tuples(st.sampled_from(_TAGS), st.sampled_from(_QS)), max_size=6, unique_by=lambda e: e[0]))
def test_languages_are_a_stable_sort_by_q(entries):
    header = ", ".join(tag if q is None else f"{tag};q={q}" for tag, q in entries)
    weight = {None: 1.0, "1": 1.0, "0.9": 0.9, "0.5": 0.5, "0.001": 0.001, "0": 0.0, "x": 0.0}
    kept = [(tag, weight[q]) for tag, q in entries if weight[q] > 0]
    # Python's sort is stable: ties stay in header order.
    assert accepted_languages(header) == [tag for tag, _ in sorted(kept, key=lambda e: -e[1])]


def test_pick_exact_match_ignoring_case():
    assert pick_language({"en-US": "a", "zh-CN": "b"}, ["zh-cn"]) == {"zh-CN": "b"}
    assert pick_language({"en-US": "a", "zh-CN": "b"}, ["en-us"]) == {"en-US": "a"}


def test_pick_exact_match_before_a_same_primary_subtag():
    assert pick_language({"zh-TW": "t", "zh-CN": "c"}, ["zh-cn"]) == {"zh-CN": "c"}


def test_pick_by_primary_subtag_either_way():
    assert pick_language({"en-US": "a", "zh-TW": "t"}, ["zh-cn"]) == {"zh-TW": "t"}
    assert pick_language({"en-US": "a", "zh-CN": "c"}, ["zh"]) == {"zh-CN": "c"}
    assert pick_language({"fr": "f", "en": "e"}, ["en-gb"]) == {"en": "e"}


def test_pick_follows_preference_order():
    assert pick_language({"en-US": "a", "fr": "f"}, ["fr", "en-us"]) == {"fr": "f"}
    assert pick_language({"en-US": "a", "fr": "f"}, ["de", "en-us", "fr"]) == {"en-US": "a"}
    # Each tag is tried exactly, then by its primary subtag, before the next tag.
    assert pick_language({"en-US": "a", "fr": "f"}, ["en-gb", "fr"]) == {"en-US": "a"}


def test_pick_star_takes_the_first_entry():
    assert pick_language({"en-US": "a", "zh-CN": "b"}, ["*"]) == {"en-US": "a"}
    assert pick_language({"en-US": "a", "zh-CN": "b"}, ["*", "zh-cn"]) == {"en-US": "a"}
    assert pick_language({"en-US": "a", "zh-CN": "b"}, ["zh-cn", "*"]) == {"zh-CN": "b"}
    assert pick_language({"en-US": "a", "zh-CN": "b"}, ["de", "*"]) == {"en-US": "a"}


def test_pick_falls_back_to_the_first_entry():
    assert pick_language({"de-DE": "d", "en-US": "a"}, ["fr", "ja"]) == {"de-DE": "d"}
    assert pick_language({"de-DE": "d", "en-US": "a"}, []) == {"de-DE": "d"}


def test_pick_from_an_empty_map():
    assert pick_language({}, ["en"]) == {}
    assert pick_language({}, []) == {}


_MAPS = st.dictionaries(st.sampled_from(["en", "en-US", "en-GB", "zh-CN", "zh-TW", "fr", "und"]), st.text(max_size=3), max_size=5)
_PREFERRED = st.lists(st.sampled_from(["en", "en-us", "zh-cn", "zh", "fr", "de", "*"]), max_size=4)


@given(_MAPS, _PREFERRED)
def test_pick_is_one_entry_of_the_map(language_map, preferred):
    picked = pick_language(language_map, preferred)
    assert len(picked) == (1 if language_map else 0)
    assert picked.items() <= language_map.items()


# --- format=ids ----------------------------------------------------------------------------------------


def test_ids_keeps_identifiers_only():
    doc = full_statement()
    assert formatted(doc, "ids") == {
        "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "actor": {"objectType": "Agent", "mbox": "mailto:ann@example.com"},
        "verb": {"id": ATTENDED},
        "object": {"id": MEETING},
        "result": {"success": True, "response": "golf", "extensions": {"http://e.example/r": "x"}},
        "context": {
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "instructor": {"mbox_sha1sum": SHA1},
            "team": {"objectType": "Group", "account": TEAM_ACCOUNT},
            "contextActivities": {"parent": {"id": COURSE}, "grouping": [{"id": GROUPING}]},
            "statement": {"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"},
            "language": "en-US",
            "extensions": {"http://e.example/c": 1},
        },
        "timestamp": "2026-09-08T06:00:00.000Z",
        "authority": {"objectType": "Agent", "account": LRS_ACCOUNT},
        # Communication 2.1.3 reduces agents, groups, activities and verbs; an attachment stays whole.
        "attachments": [SIGNATURE],
    }


def test_ids_of_an_anonymous_group_keeps_its_reduced_members():
    doc = full_statement()
    doc["actor"] = {"objectType": "Group", "name": "G", "member": [
        {"name": "a", "mbox": "mailto:a@example.com"},
        {"objectType": "Agent", "name": "b", "account": {"homePage": "http://h.example/", "name": "b"}},
        {"openid": "http://openid.example.org/c", "name": "c"},
    ]}
    assert formatted(doc, "ids")["actor"] == {"objectType": "Group", "member": [
        {"mbox": "mailto:a@example.com"},
        {"objectType": "Agent", "account": {"homePage": "http://h.example/", "name": "b"}},
        {"openid": "http://openid.example.org/c"},
    ]}


def test_ids_of_an_identified_group_drops_its_members():
    doc = full_statement()
    doc["actor"] = {"objectType": "Group", "name": "G", "mbox": "mailto:g@example.com", "member": [{"mbox": "mailto:a@example.com"}]}
    assert formatted(doc, "ids")["actor"] == {"objectType": "Group", "mbox": "mailto:g@example.com"}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        ({"objectType": "Agent", "name": "Bob", "mbox_sha1sum": SHA1}, {"objectType": "Agent", "mbox_sha1sum": SHA1}),
        ({"objectType": "Group", "name": "G", "member": [{"name": "a", "mbox": "mailto:a@example.com"}]},
         {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}]}),
        ({"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"},
         {"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}),
        ({"id": MEETING, "definition": {"name": {"en": "M"}}}, {"id": MEETING}),
    ],
)
def test_ids_of_each_kind_of_object(obj, expected):
    doc = full_statement()
    doc["object"] = obj
    assert formatted(doc, "ids")["object"] == expected


def test_ids_of_a_substatement_reduces_it_too():
    doc = full_statement()
    doc["object"] = {
        "objectType": "SubStatement",
        "actor": {"objectType": "Agent", "name": "Bob", "openid": "http://openid.example.org/bob"},
        "verb": {"id": "http://example.com/verbs/will-attend", "display": {"en-US": "will attend"}},
        "object": {"objectType": "Activity", "id": MEETING, "definition": {"name": {"en-US": "Meeting"}}},
        "context": {
            "instructor": {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"},
            "contextActivities": {"parent": [{"id": COURSE, "definition": {"name": {"en-US": "Course"}}}]},
        },
    }
    assert formatted(doc, "ids")["object"] == {
        "objectType": "SubStatement",
        "actor": {"objectType": "Agent", "openid": "http://openid.example.org/bob"},
        "verb": {"id": "http://example.com/verbs/will-attend"},
        "object": {"id": MEETING},
        "context": {
            "instructor": {"objectType": "Agent", "mbox": "mailto:ann@example.com"},
            "contextActivities": {"parent": [{"id": COURSE}]},
        },
    }


# --- format=canonical ----------------------------------------------------------------------------------


def test_canonical_keeps_the_preferred_language_of_every_map():
    out = formatted(full_statement(), "canonical", languages=["zh-cn"])
    assert out["verb"] == {"id": ATTENDED, "display": {"zh-CN": "参加了"}}
    assert out["object"] == {
        "objectType": "Activity",
        "id": MEETING,
        "definition": {
            "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
            "name": {"zh-CN": "会议"},
            "description": {"zh-CN": "每周"},
            "interactionType": "choice",
            "correctResponsesPattern": ["golf"],
            "choices": [{"id": "golf", "description": {"zh-CN": "高尔夫"}}, {"id": "tetris", "description": {"en-US": "Tetris"}}],
        },
    }
    assert out["context"]["contextActivities"] == {
        "parent": {"id": COURSE, "definition": {"name": {"zh-CN": "课程"}}},
        "grouping": [{"objectType": "Activity", "id": GROUPING, "definition": {"description": {"en-US": "Team meeting"}}}],
    }
    assert out["attachments"] == [{**SIGNATURE, "display": {"zh-CN": "签名"}, "description": {"en-US": "A test signature"}}]
    # Agents carry no language maps: they are as stored.
    assert out["actor"] == {"objectType": "Agent", "name": "Ann", "mbox": "mailto:ann@example.com"}
    assert out["context"]["team"] == full_statement()["context"]["team"]
    assert out["result"] == full_statement()["result"]


def test_canonical_without_languages_keeps_each_maps_first_entry():
    out = formatted(full_statement(), "canonical")
    assert out["verb"]["display"] == {"en-GB": "attended"}
    assert out["object"]["definition"]["name"] == {"en-US": "Meeting"}
    assert out["context"]["contextActivities"]["grouping"][0]["definition"] == {"description": {"en-US": "Team meeting"}}


def test_canonical_uses_the_lrs_definition_instead_of_the_statements():
    lrs = {
        MEETING: {"type": "http://adlnet.gov/expapi/activities/meeting", "name": {"en-US": "Meeting v2", "fr": "Réunion", "zh-CN": "会议二"}},
        COURSE: {"name": {"en-US": "Course v2"}, "moreInfo": "http://m.example/course"},
    }
    out = formatted(full_statement(), "canonical", definitions=lrs, languages=["fr", "en"])
    # Replaced whole: the statement's description and choices of the meeting are not kept.
    assert out["object"]["definition"] == {"type": "http://adlnet.gov/expapi/activities/meeting", "name": {"fr": "Réunion"}}
    assert out["context"]["contextActivities"]["parent"] == {"id": COURSE, "definition": {"name": {"en-US": "Course v2"}, "moreInfo": "http://m.example/course"}}
    # No LRS definition of the grouping activity: its own one, in French.
    assert out["context"]["contextActivities"]["grouping"][0]["definition"] == {"description": {"fr": "Réunion"}}


def test_canonical_gives_a_definition_to_an_activity_stated_without_one():
    doc = full_statement()
    doc["object"] = {"id": MEETING}
    out = formatted(doc, "canonical", definitions={MEETING: {"name": {"en-US": "Meeting", "de": "Treffen"}}}, languages=["de-at"])
    assert out["object"] == {"id": MEETING, "definition": {"name": {"de": "Treffen"}}}
    assert formatted(doc, "canonical", languages=["de"])["object"] == {"id": MEETING}


@pytest.mark.parametrize("component", ["choices", "scale", "source", "target", "steps"])
def test_canonical_interaction_component_descriptions(component):
    doc = full_statement()
    doc["object"]["definition"] = {
        "interactionType": "likert",
        component: [
            {"id": "c1", "description": {"en-US": "one", "zh-CN": "一"}},
            {"id": "c2", "description": {"en-US": "two", "zh-CN": "二", "fr": "deux"}},
            {"id": "c3"},
        ],
    }
    out = formatted(doc, "canonical", languages=["zh"])
    assert out["object"]["definition"] == {
        "interactionType": "likert",
        component: [{"id": "c1", "description": {"zh-CN": "一"}}, {"id": "c2", "description": {"zh-CN": "二"}}, {"id": "c3"}],
    }


def test_canonical_inside_a_substatement():
    doc = full_statement()
    doc["object"] = {
        "objectType": "SubStatement",
        "actor": {"objectType": "Agent", "openid": "http://openid.example.org/bob"},
        "verb": {"id": "http://example.com/verbs/will-attend", "display": {"en-US": "will attend", "zh-CN": "将参加"}},
        "object": {"id": MEETING, "definition": {"name": {"en-US": "Meeting", "zh-CN": "会议"}}},
        "context": {"contextActivities": {"parent": [{"id": COURSE}]}},
    }
    out = formatted(doc, "canonical", definitions={COURSE: {"name": {"en-US": "Course", "zh-CN": "课程"}}}, languages=["zh-cn"])
    assert out["object"] == {
        "objectType": "SubStatement",
        "actor": {"objectType": "Agent", "openid": "http://openid.example.org/bob"},
        "verb": {"id": "http://example.com/verbs/will-attend", "display": {"zh-CN": "将参加"}},
        "object": {"id": MEETING, "definition": {"name": {"zh-CN": "会议"}}},
        "context": {"contextActivities": {"parent": [{"id": COURSE, "definition": {"name": {"zh-CN": "课程"}}}]}},
    }


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


# --- multipart/mixed -----------------------------------------------------------------------------------


def test_sha256_hex_of_known_vectors():
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_build_multipart_bytes():
    body, content_type = build_multipart(b'[{"a":1}]', [("ab12", "text/plain", b"hi")], boundary="b1")
    assert body == (
        b'--b1\r\nContent-Type: application/json\r\n\r\n[{"a":1}]'
        b"\r\n--b1\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: ab12\r\n\r\nhi"
        b"\r\n--b1--"
    )
    assert content_type == 'multipart/mixed; boundary="b1"'


def test_the_rfc_2046_example_with_a_quoted_boundary():
    body = (
        b"This is the preamble.  It is to be ignored, though it\r\n"
        b"is a handy place for composition agents to include an\r\n"
        b"explanatory note to non-MIME conformant readers.\r\n"
        b"\r\n"
        b"--simple boundary\r\n"
        b"\r\n"
        b"This is implicitly typed plain US-ASCII text.\r\n"
        b"It does NOT end with a linebreak.\r\n"
        b"--simple boundary\r\n"
        b"Content-type: text/plain; charset=us-ascii\r\n"
        b"\r\n"
        b"This is explicitly typed plain US-ASCII text.\r\n"
        b"It DOES end with a linebreak.\r\n"
        b"\r\n"
        b"--simple boundary--\r\n"
        b"\r\n"
        b"This is the epilogue.  It is also to be ignored.\r\n"
    )
    parts = parse_multipart(body, 'multipart/mixed; boundary="simple boundary"')
    assert [(p.headers, p.body) for p in parts] == [
        ({}, b"This is implicitly typed plain US-ASCII text.\r\nIt does NOT end with a linebreak."),
        ({"content-type": "text/plain; charset=us-ascii"}, b"This is explicitly typed plain US-ASCII text.\r\nIt DOES end with a linebreak.\r\n"),
    ]
    assert [p.content_type for p in parts] == ["", "text/plain"]


def test_preamble_and_epilogue_are_ignored():
    body = (
        b"a preamble mentioning --b1 and --b1-- mid-line\r\n"
        b"--b1\r\nContent-Type: application/json\r\n\r\n[]"
        b"\r\n--b1--\r\nan epilogue\r\n--b1\r\nContent-Type: text/plain\r\n\r\nnot a part\r\n--b1--"
    )
    parts = parse_multipart(body, "multipart/mixed; boundary=b1")
    assert [(p.headers, p.body) for p in parts] == [({"content-type": "application/json"}, b"[]")]


def test_transport_padding_after_a_boundary():
    body = b"--b1 \t\r\nContent-Type: application/json\r\n\r\n[]\r\n--b1\t\r\nX-Experience-API-Hash: ab\r\n\r\nxy\r\n--b1-- \r\n"
    parts = parse_multipart(body, "multipart/mixed; boundary=b1")
    assert [p.body for p in parts] == [b"[]", b"xy"]


def test_a_longer_boundary_line_is_refused():
    body = b"--b1\r\nContent-Type: application/json\r\n\r\n[]\r\n--b1x\r\n\r\nxy\r\n--b1--"
    with pytest.raises(StatementError) as error:
        parse_multipart(body, "multipart/mixed; boundary=b1")
    assert error.value.path == "$.parts[1]"


@pytest.mark.parametrize(
    "body",
    [
        b"--b1\r\nContent-Type: application/json\r\n\r\n[]\r\n--b1\r\nContent-Type: text/plain\r\n\r\nxy",
        b"--b1\r\nContent-Type: application/json\r\n\r\n[]\r\n--b1\r\nContent-Type: text/plain\r\n\r\nxy\r\n",
    ],
)
def test_a_missing_close_delimiter_is_refused(body):
    with pytest.raises(StatementError) as error:
        parse_multipart(body, "multipart/mixed; boundary=b1")
    assert error.value.path == "$"
    assert "close delimiter" in error.value.message


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"--b1--",
        b"no boundary at all",
        b"--b1\r\nContent-Type: application/json\r\n\r\n[]",
        b"--b1\r\nContent-Type: application/json\r\n\r\n[]\r\n--b1\r\nContent-",
        b"--b1\r\nContent-Type: application/json\r\n\r\n[]\r\n--b1\r\n\r\nxy\r\n--b1",
    ],
)
def test_bodies_without_complete_parts_are_refused(body):
    with pytest.raises(StatementError):
        parse_multipart(body, "multipart/mixed; boundary=b1")


@pytest.mark.parametrize("content_type", ["multipart/mixed", "multipart/mixed; charset=utf-8", "multipart/mixed; boundary=", "multipart/mixed; boundary= "])
def test_a_missing_boundary_parameter_is_refused(content_type):
    with pytest.raises(StatementError):
        parse_multipart(b"--b1\r\nContent-Type: application/json\r\n\r\n[]\r\n--b1--", content_type)


def test_an_empty_quoted_boundary_is_refused():
    with pytest.raises(StatementError):
        boundary_of('multipart/mixed; boundary=""')


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        ('multipart/mixed; boundary="gc0p4Jq0M2Yt08j34c0p"', "gc0p4Jq0M2Yt08j34c0p"),
        ("multipart/mixed; boundary=gc0p4Jq0M2Yt08j34c0p", "gc0p4Jq0M2Yt08j34c0p"),
        ('Multipart/Mixed; charset=utf-8; BOUNDARY="a=b:c"', "a=b:c"),
        ("multipart/mixed;boundary=x1 ; charset=utf-8", "x1"),
    ],
)
def test_boundary_parameter(content_type, boundary):
    assert boundary_of(content_type) == boundary


def test_header_names_are_lower_cased_and_values_kept():
    body = b"--b1\r\nCONTENT-TYPE: Application/JSON; charset=UTF-8\r\nX-Experience-API-Hash:   ABCdef  \r\n\r\n[]\r\n--b1--"
    [part] = parse_multipart(body, "multipart/mixed; boundary=b1")
    assert part.headers == {"content-type": "Application/JSON; charset=UTF-8", "x-experience-api-hash": "ABCdef"}
    assert part.content_type == "application/json"


def test_a_header_line_without_a_colon_is_refused():
    body = b"--b1\r\nContent-Type: application/json\r\n\r\n[]\r\n--b1\r\nContent-Type: text/plain\r\nnot a header\r\n\r\nxy\r\n--b1--"
    with pytest.raises(StatementError) as error:
        parse_multipart(body, "multipart/mixed; boundary=b1")
    assert error.value.path == "$.parts[1]"


@pytest.mark.parametrize(("content_type", "expected"), [(None, ""), ("", ""), ("Multipart/Mixed; boundary=x", "multipart/mixed"), (" application/json ", "application/json")])
def test_media_type(content_type, expected):
    assert media_type(content_type) == expected


@pytest.mark.parametrize(
    ("body", "content"),
    [
        (b"--b1\r\n\r\nline one\r\n\r\nline three\r\n--b1--", b"line one\r\n\r\nline three"),
        (b"--b1\r\n\r\n\r\nafter a blank line\r\n--b1--", b"\r\nafter a blank line"),
    ],
)
def test_a_part_without_headers_keeps_its_content_whole(body, content):
    parts = parse_multipart(body, "multipart/mixed; boundary=b1")
    assert [(p.headers, p.body) for p in parts] == [({}, content)]


def test_round_trip_of_contents_that_look_like_framing():
    contents = [b"", b"\r\n", b"--", b"x--b1--", b"-\r\n--b", b"\r\n\r\nX-Experience-API-Hash: fake\r\n\r\n", b"\r\n--b2\r\n"]
    attachments = [(f"{i:064x}", "application/octet-stream", c) for i, c in enumerate(contents)]
    body, content_type = build_multipart(b"[]", attachments, boundary="b1")
    parts = parse_multipart(body, content_type)
    assert [p.body for p in parts] == [b"[]", *contents]


_BCHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'()+_,-./:=?"
_PIECES = [b"\r", b"\n", b"\r\n", b"-", b"--", b"\r\n--", b"\r\n\r\n", b":", b" ", b"\x00", b"\xff", b"x"]


@st.composite
def _framing_bytes(draw: st.DrawFn, boundary: bytes) -> bytes:
    """Bytes rich in CRLFs, dashes and pieces of the boundary, none holding the delimiter itself."""
    pieces = [*_PIECES, boundary, boundary[:-1], boundary[1:]]
    content = draw(st.binary(max_size=40) | st.lists(st.sampled_from(pieces), max_size=16).map(b"".join))
    # RFC 2046 5.1.1: CRLF "--" boundary must not occur in a part; a part's content starts a line.
    assume(b"\r\n--" + boundary not in b"\r\n" + content)
    return content


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_build_then_parse_round_trip(data):
    boundary = data.draw(st.text(alphabet=_BCHARS, min_size=1, max_size=20), label="boundary")
    raw = boundary.encode()
    json_body = data.draw(_framing_bytes(raw), label="json")
    contents = data.draw(st.lists(_framing_bytes(raw), max_size=4), label="contents")
    types = ["application/octet-stream", "text/plain; charset=utf-8", "image/png"]
    attachments = [(f"{i:064x}", types[i % 3], content) for i, content in enumerate(contents)]
    body, content_type = build_multipart(json_body, attachments, boundary=boundary)
    parts = parse_multipart(body, content_type)
    assert parts[0].headers == {"content-type": "application/json"}
    assert parts[0].body == json_body
    assert [p.body for p in parts[1:]] == contents
    assert [p.headers for p in parts[1:]] == [
        {"content-type": t, "content-transfer-encoding": "binary", "x-experience-api-hash": h} for h, t, _ in attachments
    ]
