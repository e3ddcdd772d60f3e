"""What the LRS indexes of a statement (trainquant.learning.xapi.facts): agent keys, statement facts,
activity definitions merged statement by statement, context activities returned as arrays.

Expected values are written out by hand from xAPI 1.0.3 (Data 2.4.2.3 inverse functional identifiers,
Data 2.4.6.2 context activities, Communication 2.1.3 related_agents / related_activities), never
computed with the code under test.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainquant.learning.xapi.facts import agent_key, statement_facts, with_context_arrays

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
ATTENDED = "http://adlnet.gov/expapi/verbs/attended"
ANN = {"objectType": "Agent", "name": "Ann", "mbox": "mailto:Ann.Lee@Example.COM"}
ANN_KEY = "mbox:mailto:Ann.Lee@example.com"
BOB = {"name": "Bob", "mbox_sha1sum": "CD9B00A5611F94EAA7B1661EDAB976068E364975"}
BOB_KEY = "sha1:cd9b00a5611f94eaa7b1661edab976068e364975"
CAROL = {"objectType": "Agent", "openid": "http://openid.example.org/Carol"}
CAROL_KEY = "openid:http://openid.example.org/Carol"
LRS = {"objectType": "Agent", "account": {"homePage": "http://lrs.example/", "name": "apikey:7"}}
LRS_KEY = "account:http://lrs.example/ apikey:7"
COURSE = "http://school.example/courses/safety"
UNIT = "http://school.example/courses/safety/unit-1"


def statement(obj: dict[str, Any], *, verb: str = ATTENDED, actor: Any = None, context: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"actor": ANN if actor is None else actor, "verb": {"id": verb}, "object": obj, "authority": LRS}
    if context is not None:
        out["context"] = context
    return out


# --- agent_key -----------------------------------------------------------------------------------------


def test_mbox_domain_is_case_insensitive():
    assert agent_key({"mbox": "mailto:Ann.Lee@Example.COM"}) == "mbox:mailto:Ann.Lee@example.com"
    assert agent_key({"mbox": "mailto:Ann.Lee@EXAMPLE.com"}) == agent_key({"mbox": "mailto:Ann.Lee@example.COM"})


def test_mbox_local_part_is_case_sensitive():
    assert agent_key({"mbox": "mailto:ann.lee@example.com"}) == "mbox:mailto:ann.lee@example.com"
    assert agent_key({"mbox": "mailto:Ann.Lee@example.com"}) != agent_key({"mbox": "mailto:ann.lee@example.com"})


def test_mbox_domain_is_after_the_last_at_sign():
    # A quoted local part may hold an "@" (RFC 5321); only the text after the last one is the domain.
    assert agent_key({"mbox": 'mailto:"A@B"@Mail.Example.ORG'}) == 'mbox:mailto:"A@B"@mail.example.org'


def test_mbox_sha1sum_is_lower_cased():
    assert agent_key(BOB) == BOB_KEY
    assert agent_key({"mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"}) == BOB_KEY


def test_openid_is_kept_as_given():
    assert agent_key(CAROL) == CAROL_KEY


def test_account_is_home_page_and_name():
    assert agent_key(LRS) == LRS_KEY
    assert agent_key({"account": {"homePage": "http://h.example/", "name": "E1"}}) == "account:http://h.example/ E1"
    assert agent_key({"account": {"homePage": "http://h.example/", "name": "e1"}}) == "account:http://h.example/ e1"


def test_an_identified_group_is_known_by_its_own_identifier():
    group = {"objectType": "Group", "account": {"homePage": "http://h.example/", "name": "team-1"}, "member": [ANN, BOB]}
    assert agent_key(group) == "account:http://h.example/ team-1"


@pytest.mark.parametrize(
    "actor",
    [
        {"objectType": "Group", "name": "anonymous", "member": [ANN, BOB]},
        {"objectType": "Group", "member": []},
        None,
        "mailto:ann@example.com",
        {"name": "no identifier"},
    ],
)
def test_no_key_without_an_identifier(actor):
    assert agent_key(actor) is None


_ASCII_DOMAIN = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-", min_size=1, max_size=20)
_LOCAL = st.text(alphabet=st.characters(blacklist_characters="@", blacklist_categories=("Cs",)), min_size=1, max_size=20)


@given(_LOCAL, _ASCII_DOMAIN)
def test_mbox_key_keeps_the_local_part_and_lower_cases_the_domain(local, domain):
    key = agent_key({"mbox": f"mailto:{local}@{domain}"})
    assert key == "mbox:mailto:" + local + "@" + domain.lower()
    assert key == agent_key({"mbox": f"mailto:{local}@{domain.swapcase()}"})


# --- statement_facts -----------------------------------------------------------------------------------


def test_facts_of_an_activity_statement():
    facts = statement_facts(statement(
        {"objectType": "Activity", "id": UNIT},
        context={
            "registration": "EC531277-B57B-4C15-8D91-D292C5B2B8F7",
            "instructor": BOB,
            "team": {"objectType": "Group", "openid": "http://openid.example.org/team", "member": [CAROL]},
            "contextActivities": {"parent": {"id": COURSE}},
        },
    ))
    assert facts.actor_key == ANN_KEY
    assert facts.verb_id == ATTENDED
    assert facts.activity_id == UNIT
    assert facts.object_agent_key is None
    assert facts.target_id is None
    assert facts.registration == "ec531277-b57b-4c15-8d91-d292c5b2b8f7"
    assert facts.voiding is False
    assert facts.activities == frozenset({UNIT, COURSE})
    # The team's member Carol is not one of the statement's agents; the team itself is.
    assert facts.agents == frozenset({ANN_KEY, LRS_KEY, BOB_KEY, "openid:http://openid.example.org/team"})


def test_an_activity_without_object_type_is_an_activity():
    facts = statement_facts(statement({"id": UNIT}))
    assert facts.activity_id == UNIT
    assert facts.activities == frozenset({UNIT})
    assert facts.agents == frozenset({ANN_KEY, LRS_KEY})
    assert facts.registration is None


def test_facts_of_an_agent_object():
    facts = statement_facts(statement({"objectType": "Agent", "mbox": "mailto:bob@Example.com"}))
    assert facts.object_agent_key == "mbox:mailto:bob@example.com"
    assert facts.activity_id is None
    assert facts.activities == frozenset()
    assert facts.agents == frozenset({ANN_KEY, LRS_KEY, "mbox:mailto:bob@example.com"})


def test_an_identified_group_object_counts_but_its_members_do_not():
    group = {"objectType": "Group", "account": {"homePage": "http://h.example/", "name": "team-1"}, "member": [BOB, CAROL]}
    facts = statement_facts(statement(group))
    assert facts.object_agent_key == "account:http://h.example/ team-1"
    assert facts.agents == frozenset({ANN_KEY, LRS_KEY, "account:http://h.example/ team-1"})


def test_an_anonymous_group_object_adds_no_agent():
    facts = statement_facts(statement({"objectType": "Group", "member": [BOB, CAROL]}))
    assert facts.object_agent_key is None
    assert facts.agents == frozenset({ANN_KEY, LRS_KEY})


def test_an_anonymous_group_actor_has_no_key_and_its_members_are_not_agents():
    facts = statement_facts(statement({"id": UNIT}, actor={"objectType": "Group", "member": [BOB, CAROL]}))
    assert facts.actor_key is None
    assert facts.agents == frozenset({LRS_KEY})


def test_an_anonymous_group_authority_adds_no_agent():
    # Data 2.4.9: a 3-legged OAuth authority is an anonymous group of the application and the user.
    doc = statement({"id": UNIT})
    doc["authority"] = {"objectType": "Group", "member": [CAROL, LRS]}
    assert statement_facts(doc).agents == frozenset({ANN_KEY})


def test_a_voiding_statement():
    facts = statement_facts(statement({"objectType": "StatementRef", "id": "E05AA883-ACAF-40AD-BF54-02C8CE485FB0"}, verb=VOIDED))
    assert facts.voiding is True
    assert facts.target_id == "e05aa883-acaf-40ad-bf54-02c8ce485fb0"
    assert facts.activity_id is None
    assert facts.object_agent_key is None
    assert facts.activities == frozenset()


def test_a_statement_ref_with_another_verb_is_not_voiding():
    facts = statement_facts(statement({"objectType": "StatementRef", "id": "E05AA883-ACAF-40AD-BF54-02C8CE485FB0"}))
    assert facts.voiding is False
    assert facts.target_id == "e05aa883-acaf-40ad-bf54-02c8ce485fb0"


@pytest.mark.parametrize(
    "obj",
    [
        {"objectType": "Activity", "id": UNIT},
        {"objectType": "Agent", "mbox": "mailto:bob@example.com"},
        {"objectType": "SubStatement", "actor": BOB, "verb": {"id": ATTENDED},
         "object": {"objectType": "StatementRef", "id": "e05aa883-acaf-40ad-bf54-02c8ce485fb0"}},
    ],
)
def test_the_voided_verb_on_anything_but_a_statement_ref_is_not_voiding(obj):
    facts = statement_facts(statement(obj, verb=VOIDED))
    assert facts.voiding is False
    assert facts.target_id is None


@pytest.mark.parametrize("kind", ["parent", "grouping", "category", "other"])
@pytest.mark.parametrize("as_array", [False, True])
def test_each_context_activity_kind_is_a_related_activity(kind, as_array):
    given_activities: Any = [{"id": COURSE}, {"objectType": "Activity", "id": UNIT + "/part"}] if as_array else {"id": COURSE}
    facts = statement_facts(statement({"id": UNIT}, context={"contextActivities": {kind: given_activities}}))
    expected = {UNIT, COURSE, UNIT + "/part"} if as_array else {UNIT, COURSE}
    assert facts.activities == frozenset(expected)
    assert facts.activity_id == UNIT


def test_all_four_context_activity_kinds_together():
    context = {"contextActivities": {
        "parent": {"id": "http://a.example/parent"},
        "grouping": [{"id": "http://a.example/g1"}, {"id": "http://a.example/g2"}],
        "category": [{"id": "http://a.example/category"}],
        "other": [],
    }}
    facts = statement_facts(statement({"id": UNIT}, context=context))
    assert facts.activities == frozenset({UNIT, "http://a.example/parent", "http://a.example/g1", "http://a.example/g2", "http://a.example/category"})


def substatement(obj: dict[str, Any], context: Any = None) -> dict[str, Any]:
    out: dict[str, Any] = {"objectType": "SubStatement", "actor": BOB, "verb": {"id": "http://example.com/verbs/will-attend"}, "object": obj}
    if context is not None:
        out["context"] = context
    return out


def test_a_substatement_contributes_its_actor_object_and_context():
    sub = substatement(
        {"id": UNIT},
        context={
            "instructor": CAROL,
            "team": {"objectType": "Group", "mbox": "mailto:Team@School.Example", "member": [{"mbox": "mailto:dan@example.com"}]},
            "contextActivities": {"parent": {"id": COURSE}, "category": [{"id": "http://a.example/category"}]},
        },
    )
    facts = statement_facts(statement(sub, context={"contextActivities": {"grouping": [{"id": "http://a.example/g"}]}}))
    assert facts.activity_id is None  # the object is the substatement, not an activity
    assert facts.object_agent_key is None
    assert facts.target_id is None
    assert facts.activities == frozenset({UNIT, COURSE, "http://a.example/category", "http://a.example/g"})
    assert facts.agents == frozenset({ANN_KEY, LRS_KEY, BOB_KEY, CAROL_KEY, "mbox:mailto:Team@school.example"})


def test_a_substatement_agent_object_is_a_related_agent():
    facts = statement_facts(statement(substatement({"objectType": "Agent", "account": {"homePage": "http://h.example/", "name": "x"}})))
    assert facts.agents == frozenset({ANN_KEY, LRS_KEY, BOB_KEY, "account:http://h.example/ x"})
    assert facts.activities == frozenset()
    assert facts.object_agent_key is None


def test_a_substatement_statement_ref_is_no_target():
    facts = statement_facts(statement(substatement({"objectType": "StatementRef", "id": "E05AA883-ACAF-40AD-BF54-02C8CE485FB0"})))
    assert facts.target_id is None
    assert facts.activities == frozenset()
    assert facts.agents == frozenset({ANN_KEY, LRS_KEY, BOB_KEY})


def test_definitions_of_the_object_the_substatement_object_and_context_activities():
    sub = substatement({"id": "http://a.example/sub", "definition": {"name": {"en": "Sub"}}})
    doc = statement(sub, context={"contextActivities": {
        "parent": {"id": COURSE, "definition": {"type": "http://adlnet.gov/expapi/activities/course"}},
        "grouping": [{"id": "http://a.example/g"}, {"id": "http://a.example/h", "definition": {"name": {"en": "H"}}}],
    }})
    assert statement_facts(doc).definitions == (
        ("http://a.example/sub", {"name": {"en": "Sub"}}),
        (COURSE, {"type": "http://adlnet.gov/expapi/activities/course"}),
        ("http://a.example/h", {"name": {"en": "H"}}),
    )
    plain = statement({"id": UNIT, "definition": {"description": {"en-US": "Unit one"}}})
    assert statement_facts(plain).definitions == ((UNIT, {"description": {"en-US": "Unit one"}}),)
    assert statement_facts(statement({"id": UNIT})).definitions == ()


def test_definitions_of_a_substatement_context_activity():
    sub = substatement({"id": UNIT}, context={"contextActivities": {"parent": {"id": COURSE, "definition": {"name": {"en": "Course"}}}}})
    assert statement_facts(statement(sub)).definitions == ((COURSE, {"name": {"en": "Course"}}),)


def test_facts_do_not_touch_the_statement():
    doc = statement(substatement({"id": UNIT, "definition": {"name": {"en": "U"}}}, context={"contextActivities": {"parent": {"id": COURSE}}}),
                    context={"registration": "EC531277-B57B-4C15-8D91-D292C5B2B8F7", "contextActivities": {"other": {"id": "http://a.example/o"}}})
    before = copy.deepcopy(doc)
    statement_facts(doc)
    assert doc == before


# --- with_context_arrays -------------------------------------------------------------------------------


def test_a_single_context_activity_becomes_a_one_element_array():
    doc = statement({"id": UNIT}, context={
        "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
        "instructor": BOB,
        "contextActivities": {
            "parent": {"id": COURSE},
            "grouping": [{"id": "http://a.example/g1"}, {"id": "http://a.example/g2"}],
            "category": {"objectType": "Activity", "id": "http://a.example/c", "definition": {"name": {"en": "C"}}},
            "other": [],
        },
    })
    before = copy.deepcopy(doc)
    out = with_context_arrays(doc)
    assert out == {
        "actor": ANN,
        "verb": {"id": ATTENDED},
        "object": {"id": UNIT},
        "authority": LRS,
        "context": {
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "instructor": BOB,
            "contextActivities": {
                "parent": [{"id": COURSE}],
                "grouping": [{"id": "http://a.example/g1"}, {"id": "http://a.example/g2"}],
                "category": [{"objectType": "Activity", "id": "http://a.example/c", "definition": {"name": {"en": "C"}}}],
                "other": [],
            },
        },
    }
    assert doc == before


def test_context_arrays_in_a_substatement_too():
    doc = statement(substatement({"id": UNIT}, context={"contextActivities": {"other": {"id": "http://a.example/o"}}}),
                    context={"contextActivities": {"parent": {"id": COURSE}}})
    before = copy.deepcopy(doc)
    out = with_context_arrays(doc)
    assert out["context"] == {"contextActivities": {"parent": [{"id": COURSE}]}}
    assert out["object"] == {
        "objectType": "SubStatement",
        "actor": BOB,
        "verb": {"id": "http://example.com/verbs/will-attend"},
        "object": {"id": UNIT},
        "context": {"contextActivities": {"other": [{"id": "http://a.example/o"}]}},
    }
    assert doc == before


@pytest.mark.parametrize(
    "doc",
    [
        statement({"id": UNIT}),
        statement({"id": UNIT}, context={"registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7", "language": "en-US"}),
        statement({"id": UNIT}, context={"contextActivities": {"parent": [{"id": COURSE}], "other": []}}),
        statement(substatement({"id": UNIT})),
    ],
)
def test_statements_without_single_context_activities_are_unchanged(doc):
    before = copy.deepcopy(doc)
    assert with_context_arrays(doc) == before
    assert doc == before


_ACTIVITY = st.builds(lambda n: {"id": f"http://a.example/{n}"}, st.integers(0, 9))
_CONTEXT_ACTIVITIES = st.dictionaries(st.sampled_from(["parent", "grouping", "category", "other"]), _ACTIVITY | st.lists(_ACTIVITY, max_size=3))


@given(_CONTEXT_ACTIVITIES, _CONTEXT_ACTIVITIES)
def test_context_arrays_change_only_the_shape(outer, inner):
    doc = statement(substatement({"id": UNIT}, context={"contextActivities": inner}), context={"contextActivities": outer})
    before = copy.deepcopy(doc)
    out = with_context_arrays(doc)
    assert doc == before
    for given_activities, returned in ((outer, out["context"]["contextActivities"]), (inner, out["object"]["context"]["contextActivities"])):
        assert set(returned) == set(given_activities)
        for kind, value in given_activities.items():
            assert returned[kind] == (value if isinstance(value, list) else [value])
    assert with_context_arrays(out) == out
    # The index sees a single activity and a one-element array alike.
    assert statement_facts(out) == statement_facts(doc)
