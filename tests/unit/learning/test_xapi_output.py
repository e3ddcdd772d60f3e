"""The LRS's pure pieces: what the filters index (facts), the GET formats (output) and multipart bodies."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainquant.learning.xapi import StatementError
from trainquant.learning.xapi.facts import agent_key, statement_facts, with_context_arrays
from trainquant.learning.xapi.multipart import build_multipart, parse_multipart
from trainquant.learning.xapi.output import accepted_languages, formatted, pick_language

STATEMENT = {
    "id": "8f2c7f0e-7e53-4f0a-9a55-0a4c2f7a1c11",
    "actor": {"objectType": "Agent", "name": "A", "mbox": "mailto:Ann@Example.COM"},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"en-US": "experienced", "zh-CN": "体验了"}},
    "object": {"objectType": "Activity", "id": "http://example.com/a", "definition": {"name": {"en-US": "A", "zh-CN": "甲"}}},
    "context": {
        "registration": "0D6C2A4E-1B7F-4C7E-9A51-000000000001",
        "instructor": {"objectType": "Agent", "name": "T", "openid": "http://example.com/t"},
        "contextActivities": {"parent": {"id": "http://example.com/course"}},
    },
    "authority": {"objectType": "Agent", "account": {"homePage": "http://lrs.example/", "name": "apikey:x"}},
}


def test_agent_keys():
    assert agent_key({"mbox": "mailto:Ann@Example.COM"}) == "mbox:mailto:Ann@example.com"
    assert agent_key({"mbox_sha1sum": "ABCDEF"}) == "sha1:abcdef"
    assert agent_key({"account": {"homePage": "http://h/", "name": "E1"}}) == "account:http://h/ E1"
    assert agent_key({"objectType": "Group", "member": [{"mbox": "mailto:a@b.c"}]}) is None


def test_statement_facts():
    facts = statement_facts(STATEMENT)
    assert facts.actor_key == "mbox:mailto:Ann@example.com"
    assert facts.activity_id == "http://example.com/a"
    assert facts.registration == "0d6c2a4e-1b7f-4c7e-9a51-000000000001"
    assert facts.activities == {"http://example.com/a", "http://example.com/course"}
    assert facts.agents == {"mbox:mailto:Ann@example.com", "openid:http://example.com/t", "account:http://lrs.example/ apikey:x"}
    assert not facts.voiding and facts.target_id is None


def test_context_activities_become_arrays_without_touching_the_input():
    before = copy.deepcopy(STATEMENT)
    out = with_context_arrays(STATEMENT)
    assert out["context"]["contextActivities"] == {"parent": [{"id": "http://example.com/course"}]}
    assert before == STATEMENT


def test_languages():
    assert accepted_languages("fr;q=0.5, en-GB, zh;q=0.8, de;q=0") == ["en-gb", "zh", "fr"]
    assert pick_language({"en-US": "a", "zh-CN": "b"}, ["zh"]) == {"zh-CN": "b"}
    assert pick_language({"en-US": "a", "zh-CN": "b"}, ["fr"]) == {"en-US": "a"}
    assert pick_language({}, ["fr"]) == {}


def test_ids_format_keeps_identifiers_only():
    out = formatted(STATEMENT, "ids")
    assert out["actor"] == {"objectType": "Agent", "mbox": "mailto:Ann@Example.COM"}
    assert out["verb"] == {"id": "http://adlnet.gov/expapi/verbs/experienced"}
    assert out["object"] == {"id": "http://example.com/a"}
    assert out["context"]["instructor"] == {"objectType": "Agent", "openid": "http://example.com/t"}


def test_canonical_format_keeps_one_language_and_the_lrs_definition():
    out = formatted(STATEMENT, "canonical", definitions={"http://example.com/a": {"name": {"en-US": "A1", "zh-CN": "甲一"}}}, languages=["zh-cn"])
    assert out["verb"]["display"] == {"zh-CN": "体验了"}
    assert out["object"]["definition"] == {"name": {"zh-CN": "甲一"}}


def test_multipart_framing():
    body = b"preamble\r\n--b1\r\nContent-Type: application/json\r\n\r\n[]\r\n--b1\r\nX-Experience-API-Hash: ab\r\n\r\nxy\r\n--b1--\r\nepilogue"
    parts = parse_multipart(body, 'multipart/mixed; boundary="b1"')
    assert [(p.content_type, p.body) for p in parts] == [("application/json", b"[]"), ("", b"xy")]
    assert parts[1].headers == {"x-experience-api-hash": "ab"}
    with pytest.raises(StatementError):
        parse_multipart(b"--b1\r\nContent-Type: application/json\r\n\r\n[]", "multipart/mixed; boundary=b1")
    with pytest.raises(StatementError):
        parse_multipart(body, "multipart/mixed")


@given(st.lists(st.binary(max_size=200).filter(lambda b: b"--BOUNDARY" not in b), max_size=4))
def test_multipart_round_trip(contents):
    attachments = [(f"{i:064x}", "application/octet-stream", c) for i, c in enumerate(contents)]
    body, content_type = build_multipart(b'{"a": 1}', attachments, boundary="BOUNDARY")
    parts = parse_multipart(body, content_type)
    assert parts[0].body == b'{"a": 1}'
    assert [p.body for p in parts[1:]] == contents
