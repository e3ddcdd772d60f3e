"""Statements as GET returns them (trainquant.learning.xapi.output) and multipart/mixed bodies
(trainquant.learning.xapi.multipart).

Expected values are written out by hand from xAPI 1.0.3 Communication 2.1.3 (format exact / ids /
canonical), RFC 9110 12.5.4 (Accept-Language) and RFC 2046 5.1 (multipart, its own example in
5.1.1), never computed with the code under test.
"""

from __future__ import annotations

import pytest

from tests.unit.learning.sample import ATTENDED, COURSE, GROUPING, LRS_ACCOUNT, MEETING, SHA1, SIGNATURE, TEAM_ACCOUNT, full_statement
from trainquant.learning.xapi.output import formatted

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
