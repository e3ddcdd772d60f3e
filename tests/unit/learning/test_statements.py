"""xAPI 1.0.3 statement validation and comparison (trainquant.learning.xapi).

The refused cases are taken from ADL's lrs-conformance-test-suite (test/v1_0_3/configs/*.js); each names the
requirement (XAPI-nnnnn) it comes from.
"""

import copy
from collections.abc import Callable
from datetime import timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainquant.learning.xapi import StatementError, statement_key, validate_statement

ACTIVITY_ID = "http://www.example.com/meetings/occurances/34534"
AGENT = {"objectType": "Agent", "name": "xAPI mbox", "mbox": "mailto:xapi@adlnet.gov"}


def full_statement() -> dict[str, Any]:
    """A statement that uses (nearly) every property, modelled on the suite's templates."""
    return {
        "id": "fd41c918-b88b-4b20-a0a5-a4c32391aaa0",
        "actor": dict(AGENT),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"en-GB": "attended", "en-US": "attended"}},
        "object": {
            "objectType": "Activity",
            "id": ACTIVITY_ID,
            "definition": {
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                "name": {"en": "Choice"},
                "description": {"en": "Which of these prototypes are available at the beta site?"},
                "moreInfo": "http://virtualmeeting.example.com/345256",
                "interactionType": "choice",
                "correctResponsesPattern": ["golf[,]tetris"],
                "choices": [{"id": "golf", "description": {"en-US": "Golf Example"}}, {"id": "tetris", "description": {"en-US": "Tetris Example"}}],
                "extensions": {"http://example.com/profiles/meetings/extension/reporter": {"name": "Thomas", "id": "http://openid.com/342"}},
            },
        },
        "result": {
            "score": {"scaled": 0.95, "raw": 95, "min": 0, "max": 100},
            "success": True,
            "completion": True,
            "response": "We agreed on some example actions.",
            "duration": "PT1H0M0S",
            "extensions": {"http://example.com/profiles/meetings/resultextensions/minuteslocation": "X:\\meetings\\minutes"},
        },
        "context": {
            "registration": "ec531277-b57b-4c15-8d91-d292c5b2b8f7",
            "instructor": {"objectType": "Agent", "name": "Instructor", "mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"},
            "team": {"objectType": "Group", "name": "Team", "account": {"homePage": "http://www.example.com", "name": "team-1"}},
            "contextActivities": {
                "parent": [{"id": "http://www.example.com/meetings/series/267"}],
                "grouping": {"objectType": "Activity", "id": "http://www.example.com/meetings/categories/teammeeting"},
                "category": [{"id": "http://www.example.com/meetings/categories/recurring", "definition": {"name": {"en": "recurring"}}}],
                "other": [],
            },
            "revision": "rev_10_3_2",
            "platform": "Example virtual meeting software",
            "language": "tlh",
            "statement": {"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"},
            "extensions": {"http://example.com/profiles/meetings/contextextensions/airspeed": "600mph"},
        },
        "timestamp": "2013-05-18T05:32:34.804+00:00",
        "stored": "2013-05-18T05:32:34.804Z",
        "authority": {"objectType": "Agent", "account": {"homePage": "http://cloud.scorm.com/", "name": "anonymous"}},
        "version": "1.0.3",
        "attachments": [
            {
                "usageType": "http://example.com/attachment-usage/test",
                "display": {"en-US": "A test attachment"},
                "description": {"en-US": "A test attachment (description)"},
                "contentType": "text/plain; charset=ascii",
                "length": 27,
                "sha2": "495395e777cd98da653df9615d09c0fd6bb2f8d4788394cd53c56a3bfdcd848a",
                "fileUrl": "http://over.there.com/file.txt",
            }
        ],
    }


def substatement_statement() -> dict[str, Any]:
    return {
        "actor": dict(AGENT),
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
        "object": {
            "objectType": "SubStatement",
            "actor": {"objectType": "Agent", "mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/reported"},
            "object": {"objectType": "Activity", "id": ACTIVITY_ID},
        },
    }


Edit = Callable[[dict[str, Any]], None]


def put(path: str, value: Any) -> Edit:
    """An edit setting ``value`` at the dot path (digits index arrays)."""

    def edit(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value

    return edit


def drop(path: str) -> Edit:
    def edit(doc: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node: Any = doc
        for part in parents:
            node = node[int(part)] if part.isdigit() else node[part]
        del node[last]

    return edit


def both(*edits: Edit) -> Edit:
    def edit(doc: dict[str, Any]) -> None:
        for one in edits:
            one(doc)

    return edit


def test_the_full_statement_is_valid():
    validate_statement(full_statement())
    validate_statement(substatement_statement())


def test_validation_does_not_modify_the_statement():
    doc = full_statement()
    before = copy.deepcopy(doc)
    validate_statement(doc)
    assert doc == before


GROUP_TWO = {"objectType": "Group", "member": [{"mbox": "mailto:a@example.com"}, {"account": {"homePage": "http://example.com/oauth", "name": "consumer"}}]}

REFUSED = [
    # --- statement (Data 2.2) ---
    pytest.param(drop("actor"), "actor", id="XAPI-00003 no actor"),
    pytest.param(drop("verb"), "verb", id="XAPI-00004 no verb"),
    pytest.param(drop("object"), "object", id="XAPI-00005 no object"),
    pytest.param(put("Actor", dict(AGENT)), "Actor", id="XAPI-00008 key case Actor"),
    pytest.param(put("iD", "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"), "iD", id="XAPI-00008 key case iD"),
    pytest.param(put("objectType", "Statement"), "objectType", id="XAPI-00010 key not allowed at top level"),
    pytest.param(put("actor.name", None), "actor.name", id="XAPI-00001 null actor name"),
    pytest.param(put("verb.display", {"en-US": None}), "verb.display.en-US", id="XAPI-00001 null in language map"),
    pytest.param(put("context.registration", None), "context.registration", id="XAPI-00001 null registration"),
    pytest.param(put("object.definition.moreInfo", None), "object.definition.moreInfo", id="XAPI-00001 null moreInfo"),
    # --- id (Data 2.4.1, XAPI-00007, XAPI-00027..30) ---
    pytest.param(put("id", 12345), "id", id="XAPI-00007 numeric id"),
    pytest.param(put("id", "AA97B177-9383-4934-8543-0F91A7A028368"), "id", id="XAPI-00027 uuid too many digits"),
    pytest.param(put("id", "MA97B177-9383-4934-8543-0F91A7A02836"), "id", id="XAPI-00027 uuid non-hex letter"),
    pytest.param(put("id", ""), "id", id="XAPI-00007 empty uuid"),
    # --- actor (Data 2.4.2) ---
    pytest.param(put("actor.objectType", "agent"), "actor.objectType", id="XAPI-00031 objectType agent lowercase"),
    pytest.param(put("actor.objectType", 123), "actor.objectType", id="XAPI-00032 objectType numeric"),
    pytest.param(put("actor.name", 123), "actor.name", id="XAPI-00033 name numeric"),
    pytest.param(put("actor", {"objectType": "Agent", "name": "nobody"}), "actor", id="XAPI-00034 agent without IFI"),
    pytest.param(put("actor.openid", "http://openid.example.org/12345"), "actor", id="XAPI-00034 agent with two IFIs"),
    pytest.param(put("actor.mbox", "http://should.fail.com"), "actor.mbox", id="XAPI-00038 mbox not mailto"),
    pytest.param(put("actor.mbox", "mailto:should.fail.com"), "actor.mbox", id="XAPI-00038 mbox without @"),
    pytest.param(put("actor", {"mbox_sha1sum": "not-a-sha1"}), "actor.mbox_sha1sum", id="XAPI-00039 mbox_sha1sum not hex"),
    pytest.param(put("actor", {"openid": "ab=c://should.fail.com"}), "actor.openid", id="XAPI-00040 openid not URI"),
    pytest.param(put("actor", {"account": {"name": "x"}}), "actor.account.homePage", id="XAPI-00042 account without homePage"),
    pytest.param(put("actor", {"account": {"homePage": "ab=c://should.fail.com", "name": "x"}}), "actor.account.homePage", id="XAPI-00042 homePage not IRL"),
    pytest.param(put("actor", {"account": {"homePage": "http://www.example.com"}}), "actor.account.name", id="XAPI-00043 account without name"),
    pytest.param(
        put("actor", {"account": {"homePage": "http://www.example.com", "name": {"key": "x"}}}), "actor.account.name", id="XAPI-00007 account name object"
    ),
    pytest.param(put("actor", {"objectType": "Group", "name": "Group Anonymous"}), "actor.member", id="XAPI-00035 anonymous group without member"),
    pytest.param(
        put("actor", {"objectType": "Group", "member": [{"objectType": "Group", "mbox": "mailto:g@example.com"}]}),
        "actor.member[0].objectType",
        id="XAPI-00036 group inside a group",
    ),
    pytest.param(put("actor", {"objectType": "Group", "member": [{"name": "no IFI"}]}), "actor.member[0]", id="XAPI-00036 member not an Agent"),
    pytest.param(
        put("actor", {"objectType": "Group", "mbox": "mailto:g@example.com", "openid": "http://openid.example.org/1"}),
        "actor",
        id="XAPI-00037 identified group with two IFIs",
    ),
    # --- verb (Data 2.4.3) ---
    pytest.param(drop("verb.id"), "verb.id", id="XAPI-00044 verb without id"),
    pytest.param(put("verb.id", "ab=c://should.fail.com"), "verb.id", id="XAPI-00044 verb id not IRI"),
    pytest.param(put("verb.display", "a12345 attended"), "verb.display", id="XAPI-00045 display a string"),
    pytest.param(put("verb.display", {"something": "besucht"}), "verb.display", id="XAPI-00013 language tag too long"),
    pytest.param(put("verb.display", {"a12345": "attended"}), "verb.display", id="XAPI-00121 language tag with digits"),
    # --- object (Data 2.4.4) ---
    pytest.param(put("object.objectType", "activity"), "object.objectType", id="XAPI-00046 objectType lowercase"),
    pytest.param(drop("object.id"), "object.id", id="XAPI-00047 activity without id"),
    pytest.param(put("object.id", "ab=c://should.fail.com"), "object.id", id="XAPI-00047 activity id not IRI"),
    pytest.param(put("object.definition", "should error"), "object.definition", id="XAPI-00048 definition a string"),
    pytest.param(put("object.definition.name", {"a12345678": "x"}), "object.definition.name", id="XAPI-00056 name bad language map"),
    pytest.param(put("object.definition.description", "x"), "object.definition.description", id="XAPI-00059 description a string"),
    pytest.param(put("object.definition.type", "should error"), "object.definition.type", id="XAPI-00060 type not IRI"),
    pytest.param(put("object.definition.moreInfo", "should error"), "object.definition.moreInfo", id="XAPI-00061 moreInfo not IRL"),
    pytest.param(put("object.definition.interactionType", "choiCe"), "object.definition.interactionType", id="XAPI-00009 interactionType case"),
    pytest.param(put("object.definition.interactionType", 12345), "object.definition.interactionType", id="XAPI-00049 interactionType numeric"),
    pytest.param(drop("object.definition.interactionType"), "object.definition.interactionType", id="XAPI-00064 components without interactionType"),
    pytest.param(put("object.definition.extensions", "should error"), "object.definition.extensions", id="XAPI-00057 extensions a string"),
    pytest.param(put("object.definition.extensions", {"should fail": True}), "object.definition.extensions", id="XAPI-00118 extension key not IRI"),
    pytest.param(put("object.definition.choices.1.id", "golf"), "object.definition.choices[1].id", id="Data 2.4.4.1 duplicate component id"),
    pytest.param(put("object", {"mbox": "mailto:a@example.com"}), "object.mbox", id="XAPI-00065 agent object without objectType is an Activity"),
    pytest.param(
        put("object", {"objectType": "Agent", "mbox": "mailto:a@example.com", "extra": 1}), "object.extra", id="XAPI-00010 unknown key in agent object"
    ),
    pytest.param(put("object", {"objectType": "StatementRef"}), "object.id", id="XAPI-00072 statementref without id"),
    pytest.param(put("object", {"objectType": "StatementRef", "id": "should fail"}), "object.id", id="XAPI-00072 statementref id not UUID"),
    # --- result (Data 2.4.5) ---
    pytest.param(put("result.success", "We regret to inform you"), "result.success", id="XAPI-00074 success a string"),
    pytest.param(put("result.completion", "false"), "result.completion", id="XAPI-00075 completion 'false'"),
    pytest.param(put("result.response", 12345), "result.response", id="XAPI-00076 response numeric"),
    pytest.param(put("result.duration", "PA1H0M0S"), "result.duration", id="XAPI-00077 duration not ISO 8601"),
    pytest.param(put("result.duration", "PT"), "result.duration", id="XAPI-00124 empty duration"),
    pytest.param(put("result.extensions", 12345), "result.extensions", id="XAPI-00078 extensions numeric"),
    pytest.param(put("result.score", "invalid"), "result.score", id="XAPI-00079 score a string"),
    pytest.param(put("result.score.scaled", 1.01), "result.score.scaled", id="XAPI-00083 scaled above 1"),
    pytest.param(put("result.score.raw", 101), "result.score.raw", id="XAPI-00082 raw above max"),
    pytest.param(put("result.score", {"raw": 0.6767676, "min": 1.4067676}), "result.score.raw", id="XAPI-00082 raw below min"),
    pytest.param(put("result.score", {"min": 0.6767676, "max": 0.6767355}), "result.score.min", id="XAPI-00081 min above max"),
    pytest.param(put("result.score.max", "100"), "result.score.max", id="XAPI-00006 number as a string"),
    pytest.param(put("result.score.max", True), "result.score.max", id="XAPI-00006 boolean is not a number"),
    # --- context (Data 2.4.6) ---
    pytest.param(put("context.registration", "MA97B177-9383-4934-8543-0F91A7A02836"), "context.registration", id="XAPI-00087-1 registration not UUID"),
    pytest.param(put("context.instructor", {"key": "should fail"}), "context.instructor.key", id="XAPI-00087-2 instructor not an Agent"),
    pytest.param(put("context.team", dict(AGENT)), "context.team", id="XAPI-00088 team an Agent"),
    pytest.param(put("context.contextActivities", "should fail"), "context.contextActivities", id="XAPI-00086 contextActivities a string"),
    pytest.param(put("context.contextActivities.child", []), "context.contextActivities.child", id="XAPI-00093 unknown contextActivities key"),
    pytest.param(put("context.contextActivities.parent", [{"id": "should fail"}]), "context.contextActivities.parent[0].id", id="XAPI-00094 parent id not IRI"),
    pytest.param(put("context.contextActivities.other", 12345), "context.contextActivities.other", id="XAPI-00094 other numeric"),
    pytest.param(put("context.revision", 12345), "context.revision", id="XAPI-00089 revision numeric"),
    pytest.param(put("context.platform", {"key": "x"}), "context.platform", id="XAPI-00090 platform object"),
    pytest.param(put("object", {"objectType": "Agent", "mbox": "mailto:a@example.com"}), "context.revision", id="XAPI-00084 revision with agent object"),
    pytest.param(
        both(put("object", {"objectType": "StatementRef", "id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}), drop("context.revision")),
        "context.platform",
        id="XAPI-00085 platform with statementref object",
    ),
    pytest.param(put("context.language", 12345), "context.language", id="XAPI-00091 language numeric"),
    pytest.param(put("context.language", "a12345"), "context.language", id="XAPI-00091 language not RFC 5646"),
    pytest.param(
        put("context.statement", {"id": "6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}), "context.statement.objectType", id="XAPI-00092 statement without objectType"
    ),
    # --- timestamp, version, authority, attachments ---
    pytest.param(put("timestamp", "01/011/2015"), "timestamp", id="XAPI-00022 invalid date"),
    pytest.param(put("timestamp", "should fail"), "timestamp", id="XAPI-00123 not a date"),
    pytest.param(put("timestamp", "2008-09-15T15:53:00.601-00"), "timestamp", id="XAPI-00123 -00 offset"),
    pytest.param(put("timestamp", "2008-09-15T15:53:00.601-0000"), "timestamp", id="XAPI-00123 -0000 offset"),
    pytest.param(put("timestamp", "2008-09-15T15:53:00.601-00:00"), "timestamp", id="XAPI-00123 -00:00 offset"),
    pytest.param(put("timestamp", "2015-02-30T12:00:00Z"), "timestamp", id="XAPI-00123 no such day"),
    pytest.param(put("stored", "yesterday"), "stored", id="Data 2.4.8 stored not a timestamp"),
    pytest.param(put("version", "0.9.9"), "version", id="XAPI-00101 version 0.9.9"),
    pytest.param(put("version", "1.1.0"), "version", id="XAPI-00101 version 1.1.0"),
    pytest.param(put("version", "should fail"), "version", id="XAPI-00101 version a word"),
    pytest.param(
        put("authority", {"objectType": "Group", "openid": "http://openid.example.org/12345"}), "authority", id="XAPI-00098 identified group authority"
    ),
    pytest.param(
        put("authority", {"objectType": "Group", "member": [*GROUP_TWO["member"], {"mbox": "mailto:c@example.com"}]}),
        "authority.member",
        id="XAPI-00098 authority group of three",
    ),
    pytest.param(put("attachments", "should fail"), "attachments", id="XAPI-00025 attachments a string"),
    pytest.param(put("attachments.0.usageType", "should fail"), "attachments[0].usageType", id="XAPI-00107 usageType not IRI"),
    pytest.param(put("attachments.0.contentType", 12345), "attachments[0].contentType", id="XAPI-00105 contentType numeric"),
    pytest.param(put("attachments.0.length", "should fail"), "attachments[0].length", id="XAPI-00102 length a string"),
    pytest.param(put("attachments.0.sha2", 12345), "attachments[0].sha2", id="XAPI-00103 sha2 numeric"),
    pytest.param(put("attachments.0.fileUrl", "should fail"), "attachments[0].fileUrl", id="XAPI-00104 fileUrl not IRL"),
    pytest.param(put("attachments.0.display", {"something": "x"}), "attachments[0].display", id="XAPI-00106 display bad language tag"),
]


@pytest.mark.parametrize(("edit", "path"), REFUSED)
def test_a_single_change_is_refused_at_its_path(edit: Edit, path: str):
    doc = full_statement()
    edit(doc)
    with pytest.raises(StatementError) as caught:
        validate_statement(doc)
    assert caught.value.path == path, caught.value
    assert isinstance(caught.value, ValueError) and caught.value.message


SUB_REFUSED = [
    pytest.param(put("object.id", "fd41c918-b88b-4b20-a0a5-a4c32391aaa0"), "object.id", id="XAPI-00070 substatement with id"),
    pytest.param(put("object.stored", "2013-05-18T05:32:34.804Z"), "object.stored", id="XAPI-00069 substatement with stored"),
    pytest.param(put("object.version", "1.0.0"), "object.version", id="XAPI-00068 substatement with version"),
    pytest.param(put("object.authority", dict(AGENT)), "object.authority", id="XAPI-00067 substatement with authority"),
    pytest.param(put("object.object", substatement_statement()["object"]), "object.object.objectType", id="XAPI-00071 substatement in a substatement"),
    pytest.param(drop("object.verb"), "object.verb", id="XAPI-00066 substatement without verb"),
    pytest.param(put("object.timestamp", "01/011/2015"), "object.timestamp", id="XAPI-00022 substatement invalid timestamp"),
    pytest.param(put("object.object", {"mbox": "mailto:a@example.com"}), "object.object.mbox", id="XAPI-00065 substatement agent object without objectType"),
]


@pytest.mark.parametrize(("edit", "path"), SUB_REFUSED)
def test_a_single_change_in_a_substatement_is_refused(edit: Edit, path: str):
    doc = substatement_statement()
    edit(doc)
    with pytest.raises(StatementError) as caught:
        validate_statement(doc)
    assert caught.value.path == path, caught.value


def test_not_an_object_is_refused():
    for doc in (None, [], "statement", 1):
        with pytest.raises(StatementError) as caught:
            validate_statement(doc)
        assert caught.value.path == ""


def test_validate_as_substatement_directly():
    validate_statement(substatement_statement()["object"], substatement=True)
    with pytest.raises(StatementError):
        validate_statement(full_statement(), substatement=True)  # it has id, stored, version, authority


ACCEPTED = [
    pytest.param(drop("object.objectType"), id="activity without objectType"),
    pytest.param(put("object", {"id": ACTIVITY_ID}), id="bare activity"),
    pytest.param(
        put("actor", {"objectType": "Group", "name": "Anon", "member": [dict(AGENT), {"openid": "http://openid.example.org/1"}]}),
        id="anonymous group with members",
    ),
    pytest.param(put("actor", {"objectType": "Group", "mbox": "mailto:g@example.com", "member": [dict(AGENT)]}), id="identified group with members"),
    pytest.param(put("actor", {"objectType": "Group", "mbox": "mailto:g@example.com"}), id="identified group without members"),
    pytest.param(put("timestamp", "2015-11-18T12:17:00+08:00"), id="timestamp +08:00"),
    pytest.param(put("timestamp", "2015-11-18T12:17:00.123456789Z"), id="timestamp with nanoseconds"),
    pytest.param(put("timestamp", "20151118T121700Z"), id="ISO 8601 basic timestamp"),
    pytest.param(put("timestamp", "2015-11-18T12:17:00"), id="timestamp without zone (a SHOULD, not a MUST)"),
    pytest.param(put("timestamp", "2099-01-01T00:00:00.000Z"), id="future timestamp (timestamp_property.js)"),
    pytest.param(put("object.definition.extensions", {}), id="empty extensions (XAPI-00119)"),
    pytest.param(put("result.extensions", {"http://example.com/ex": None}), id="null extension value (XAPI-00119)"),
    pytest.param(put("context.extensions", {"http://example.com/ex": ""}), id="empty string extension value"),
    pytest.param(put("result.extensions", {"http://example.com/ex": [1, {"a": [True, None]}, 2.5]}), id="any JSON extension value"),
    pytest.param(put("verb.display", {"de": "besucht", "de-DE": "besucht", "zh-Hant-TW": "x", "sgn-BE-FR": "x", "x-klingon": "x"}), id="RFC 5646 tags"),
    pytest.param(put("version", "1.0"), id="version 1.0"),
    pytest.param(put("version", "1.0.9"), id="version 1.0.9"),
    pytest.param(put("id", "FD41C918-B88B-4B20-A0A5-A4C32391AAA0"), id="uppercase UUID"),
    pytest.param(put("result.duration", "PT1H0M0.1S"), id="duration with fraction"),
    pytest.param(put("result.duration", "P3W"), id="duration in weeks"),
    pytest.param(put("result.score", {"raw": -5}), id="raw unrestricted without min and max"),
    pytest.param(put("authority", GROUP_TWO), id="authority as the OAuth pair"),
    pytest.param(put("context.contextActivities.parent", {"id": ACTIVITY_ID}), id="single context activity"),
    pytest.param(put("context.contextActivities.other", []), id="empty context activity array"),
    pytest.param(both(put("object", substatement_statement()["object"]), drop("context.revision"), drop("context.platform")), id="substatement object"),
    pytest.param(
        put("object.definition", {"interactionType": "matching", "source": [{"id": "ben"}], "target": [{"id": "1"}], "correctResponsesPattern": ["ben[.]1"]}),
        id="matching",
    ),
]


@pytest.mark.parametrize("edit", ACCEPTED)
def test_a_valid_variation_is_accepted(edit: Edit):
    doc = full_statement()
    edit(doc)
    validate_statement(doc)


def test_minimal_statement_from_the_spec_is_accepted():
    validate_statement(
        {
            "id": "12345678-1234-5678-1234-567812345678",
            "actor": {"mbox": "mailto:xapi@adlnet.gov"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/created", "display": {"en-US": "created"}},
            "object": {"id": "http://example.adlnet.gov/xapi/example/activity"},
        }
    )


# --- statement_key -------------------------------------------------------------------------------------


def test_statement_key_ignores_what_the_spec_lets_change():
    doc = full_statement()
    other = copy.deepcopy(doc)
    other["id"] = "00000000-0000-4000-8000-000000000000"
    other["object"]["definition"] = {"name": {"en": "renamed"}}  # Activity Definitions are not part of it
    other["verb"]["display"] = {"fr": "a assisté"}
    del other["attachments"]
    other["actor"]["mbox"] = "mailto:xapi@ADLNET.gov"
    other["context"]["contextActivities"]["grouping"] = [other["context"]["contextActivities"]["grouping"]]
    other["context"]["registration"] = doc["context"]["registration"].upper()
    other["result"]["score"]["raw"] = 95.0
    assert statement_key(doc) == statement_key(other)


def test_statement_key_keeps_what_the_spec_does_not_let_change():
    doc = full_statement()
    for edit in (
        put("result.duration", "PT60M"),  # Data 2.3.1.b8: durations compare as strings
        put("object.id", ACTIVITY_ID.upper()),
        put("actor.name", "someone else"),
        put("result.success", False),
        put("context.extensions", {}),
    ):
        other = copy.deepcopy(doc)
        edit(other)
        assert statement_key(doc) != statement_key(other)


def test_statement_key_ignores_member_order():
    members = [{"mbox": "mailto:a@example.com"}, {"mbox": "mailto:b@example.com"}]
    doc = full_statement()
    doc["actor"] = {"objectType": "Group", "member": members}
    other = copy.deepcopy(doc)
    other["actor"]["member"].reverse()
    assert statement_key(doc) == statement_key(other)


def test_statement_key_refuses_an_invalid_statement():
    with pytest.raises(StatementError):
        statement_key({"actor": dict(AGENT)})


def _reordered(value: Any, rng: st.DataObject) -> Any:
    if isinstance(value, dict):
        keys = rng.draw(st.permutations(list(value)))
        return {key: _reordered(value[key], rng) for key in keys}
    if isinstance(value, list):
        return [_reordered(item, rng) for item in value]
    return value


_offsets = st.integers(-23 * 60, 23 * 60).map(lambda minutes: timezone(timedelta(minutes=minutes)))
_timestamps = st.datetimes(timezones=_offsets).map(lambda d: d.isoformat())
_agents = st.one_of(
    st.emails().map(lambda e: {"mbox": f"mailto:{e}"}),
    st.text("0123456789abcdef", min_size=40, max_size=40).map(lambda h: {"mbox_sha1sum": h}),
    st.text("abcdefghij", min_size=1).map(lambda n: {"account": {"homePage": "http://example.com", "name": n}}),
)


@given(
    data=st.data(),
    stored=_timestamps,
    timestamp=_timestamps,
    version=st.sampled_from(["1.0", "1.0.0", "1.0.3"]),
    authority=st.one_of(_agents, st.just(GROUP_TWO)),
)
def test_statement_key_ignores_key_order_and_lrs_assigned_properties(data, stored, timestamp, version, authority):
    doc = full_statement()
    other = _reordered(doc, data)
    other["stored"] = stored
    other["timestamp"] = timestamp
    other["version"] = version
    other["authority"] = authority
    assert statement_key(other) == statement_key(doc)


@given(verb=st.text("abcdefghijklmnopqrstuvwxyz/", min_size=1).map(lambda s: f"http://example.com/verbs/{s}"), actor=_agents)
def test_statement_key_changes_with_the_verb_or_the_actor(verb, actor):
    doc = full_statement()
    new_verb = copy.deepcopy(doc)
    new_verb["verb"]["id"] = verb
    new_actor = copy.deepcopy(doc)
    new_actor["actor"] = actor
    assert (statement_key(new_verb) == statement_key(doc)) == (verb == doc["verb"]["id"])
    assert statement_key(new_actor) != statement_key(doc)
