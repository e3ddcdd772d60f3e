"""The Statement resource through HTTP: what is stored, what is refused (and that a refusal stores
nothing), voiding, scopes, binding to employees and the ``more`` pages."""

from __future__ import annotations

import orjson
from sqlalchemy import func, select

from tests.conftest import login, make_api_key, make_user
from tests.integration.learning.conftest import HOME, XAPI, basic, new_id, statement
from trainquant.learning.models import XapiDelivery, XapiStatement


def _count(db) -> int:
    return db.scalar(select(func.count()).select_from(XapiStatement))


def test_a_statement_is_stored_and_read_back_with_what_the_lrs_adds(client, key, db):
    sid = new_id()
    body = orjson.dumps(statement(sid=sid))
    r = client.post("/xapi/statements", content=body, headers={**basic(key), "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json() == [sid]
    assert r.headers["X-Experience-API-Version"] == "1.0.3"
    got = client.get("/xapi/statements", params={"statementId": sid}, headers=basic(key))
    assert got.status_code == 200
    doc = got.json()
    assert doc["actor"] == {"objectType": "Agent", "mbox": "mailto:learner@example.com"}
    assert doc["version"] == "1.0.0" and doc["timestamp"] == doc["stored"]
    assert doc["authority"]["account"] == {"homePage": HOME, "name": "apikey:player"}
    assert "X-Experience-API-Consistent-Through" in got.headers
    # The request's JSON is kept byte for byte.
    assert db.scalars(select(XapiDelivery)).one().raw == body


def test_the_version_header_is_required_except_on_about(client, key):
    no_version = {"Authorization": basic(key)["Authorization"]}
    r = client.get("/xapi/statements", headers=no_version)
    assert r.status_code == 400 and r.json()["code"] == "xapi-version-missing"
    assert r.headers["X-Experience-API-Version"] == "1.0.3"
    assert client.get("/xapi/statements", headers={**no_version, "X-Experience-API-Version": "0.95"}).status_code == 400
    assert client.get("/xapi/statements", headers={**no_version, "X-Experience-API-Version": "1.0"}).status_code == 200
    about = client.get("/xapi/about")
    assert about.status_code == 200 and "1.0.3" in about.json()["version"]


def test_one_invalid_statement_refuses_the_whole_batch(client, key, db):
    good, bad = statement(sid=new_id()), statement(sid=new_id())
    bad["actor"] = {"objectType": "Agent", "mbox": "learner@example.com"}  # not a mailto: IRI
    r = client.post("/xapi/statements", json=[good, bad], headers=basic(key))
    assert r.status_code == 400
    assert r.json()["code"] == "xapi-invalid-statement" and r.json()["path"].startswith("$[1].actor")
    assert _count(db) == 0


def test_malformed_json_and_a_wrong_content_type_are_400(client, key, db):
    assert client.post("/xapi/statements", content=b'{"actor": ', headers={**basic(key), "Content-Type": "application/json"}).status_code == 400
    assert client.post("/xapi/statements", content=b"<xml/>", headers={**basic(key), "Content-Type": "text/xml"}).status_code == 400
    assert _count(db) == 0


def test_a_ten_megabyte_statement_is_refused_unread(client, key, db):
    huge = statement(result={"extensions": {"http://example.com/blob": "x" * (10 * 1024 * 1024)}})
    r = client.post("/xapi/statements", content=orjson.dumps(huge), headers={**basic(key), "Content-Type": "application/json"})
    assert r.status_code == 413
    assert _count(db) == 0


def test_repeated_ids(client, key, db):
    sid = new_id()
    assert client.post("/xapi/statements", json=[statement(sid=sid), statement(sid=sid)], headers=basic(key)).status_code == 400
    assert client.put("/xapi/statements", params={"statementId": sid}, json=statement(), headers=basic(key)).status_code == 204
    # The same statement again (a client's retry) is a repeat, stored once.
    assert client.put("/xapi/statements", params={"statementId": sid}, json=statement(), headers=basic(key)).status_code == 204
    assert client.post("/xapi/statements", json=statement(sid=sid), headers=basic(key)).status_code == 200
    assert _count(db) == 1
    other = client.post("/xapi/statements", json=statement(sid=sid, activity="http://example.com/act/2"), headers=basic(key))
    assert other.status_code == 409 and other.json()["code"] == "xapi-id-taken"
    assert _count(db) == 1


def test_a_retry_differing_only_where_the_comparison_ignores_is_a_repeat(client, key, db):
    # The stored document (context activities made arrays, authority and stored added) is compared
    # with the retry by their canonical forms.
    sid = new_id()
    first = statement(sid=sid, context={"contextActivities": {"parent": {"id": "http://example.com/course"}}}, timestamp="2026-12-01T08:00:00Z")
    assert client.post("/xapi/statements", json=first, headers=basic(key)).status_code == 200
    retry = {**statement(sid=sid.upper(), context={"contextActivities": {"parent": [{"id": "http://example.com/course", "definition": {}}]}}),
             "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"zh-CN": "体验"}}, "timestamp": "2026-12-01T09:00:00Z"}
    assert client.post("/xapi/statements", json=retry, headers=basic(key)).status_code == 200
    changed = statement(sid=sid, context={"contextActivities": {"parent": {"id": "http://example.com/other"}}})
    assert client.post("/xapi/statements", json=changed, headers=basic(key)).status_code == 409
    assert _count(db) == 1


def test_an_unknown_verb_is_kept(client, key):
    sid = new_id()
    verb = "http://school.example/verbs/pondered"
    assert client.post("/xapi/statements", json=statement(sid=sid, verb=verb), headers=basic(key)).status_code == 200
    assert client.get("/xapi/statements", params={"verb": verb}, headers=basic(key)).json()["statements"][0]["id"] == sid


def test_voiding(client, key):
    target, voiding = new_id(), new_id()
    client.post("/xapi/statements", json=statement(sid=target), headers=basic(key))
    void = {"id": voiding, "actor": {"mbox": "mailto:hr@example.com"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": target}}
    assert client.post("/xapi/statements", json=void, headers=basic(key)).status_code == 200
    assert client.get("/xapi/statements", params={"statementId": target}, headers=basic(key)).status_code == 404
    assert client.get("/xapi/statements", params={"voidedStatementId": target}, headers=basic(key)).json()["id"] == target
    listed = [s["id"] for s in client.get("/xapi/statements", headers=basic(key)).json()["statements"]]
    assert listed == [voiding]
    # A voiding statement cannot itself be voided.
    again = {**void, "id": new_id(), "object": {"objectType": "StatementRef", "id": voiding}}
    assert client.post("/xapi/statements", json=again, headers=basic(key)).status_code == 400


def test_credentials_and_scopes(client, db, key):
    assert client.get("/xapi/statements", headers=XAPI).status_code == 401
    reader = make_api_key(db, scopes=["xapi:statements/read"], name="reader")
    assert client.post("/xapi/statements", json=statement(), headers=basic(reader)).status_code == 403
    mine = make_api_key(db, scopes=["xapi:statements/write", "xapi:statements/read/mine"], name="mine")
    own = new_id()
    client.post("/xapi/statements", json=statement(sid=own), headers=basic(mine))
    client.post("/xapi/statements", json=statement(sid=new_id()), headers=basic(key))
    assert [s["id"] for s in client.get("/xapi/statements", headers=basic(mine)).json()["statements"]] == [own]
    assert len(client.get("/xapi/statements", headers=basic(reader)).json()["statements"]) == 2
    revoked = "tq_000000000000_nothing"
    assert client.get("/xapi/statements", headers=basic(revoked)).status_code == 401


def test_a_learners_own_player_may_speak_only_for_the_learner(client, db, learner):
    make_user(db, username="huang", role="employee", employee=learner)
    csrf = login(client, "huang")
    headers = {**XAPI, "X-CSRF-Token": csrf}
    forged = statement(actor={"objectType": "Agent", "account": {"homePage": HOME, "name": "E999"}})
    r = client.post("/xapi/statements", json=forged, headers=headers)
    assert r.status_code == 403 and r.json()["code"] == "xapi-forged-actor"
    assert _count(db) == 0
    own = statement(actor={"objectType": "Agent", "account": {"homePage": HOME, "name": "E100"}})
    assert client.post("/xapi/statements", json=own, headers=headers).status_code == 200
    assert db.scalar(select(XapiStatement.employee_id)) == learner.id
    # Without the CSRF token a page's session cannot write.
    assert client.post("/xapi/statements", json=own, headers=XAPI).status_code == 403


def test_a_client_keys_statement_counts_for_the_employee_its_actor_names(client, db, key, learner):
    named = new_id()
    client.post("/xapi/statements", json=statement(sid=named, actor={"account": {"homePage": HOME, "name": "E100"}}), headers=basic(key))
    stranger = new_id()
    client.post("/xapi/statements", json=statement(sid=stranger, actor={"account": {"homePage": "http://elsewhere.example/", "name": "E100"}}), headers=basic(key))
    bound = dict(db.execute(select(XapiStatement.statement_id, XapiStatement.employee_id)).all())
    assert bound == {named: learner.id, stranger: None}


def test_more_pages_walk_a_snapshot(client, key):
    ids = [new_id() for _ in range(5)]
    for sid in ids:
        client.post("/xapi/statements", json=statement(sid=sid), headers=basic(key))
    page = client.get("/xapi/statements", params={"limit": 2}, headers=basic(key)).json()
    seen = [s["id"] for s in page["statements"]]
    client.post("/xapi/statements", json=statement(sid=new_id()), headers=basic(key))  # after the first page
    while page["more"]:
        page = client.get(page["more"], headers=basic(key)).json()
        seen += [s["id"] for s in page["statements"]]
    assert seen == ids[::-1]


def test_filters_and_the_alternate_request_syntax(client, key):
    a, b = new_id(), new_id()
    client.post("/xapi/statements", json=[statement(sid=a), statement(sid=b, activity="http://example.com/act/2")], headers=basic(key))
    got = client.get("/xapi/statements", params={"activity": "http://example.com/act/2"}, headers=basic(key)).json()
    assert [s["id"] for s in got["statements"]] == [b]
    alt = client.post("/xapi/statements?method=GET", data={"activity": "http://example.com/act/1", **basic(key)},
                      headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert alt.status_code == 200 and [s["id"] for s in alt.json()["statements"]] == [a]
    assert client.get("/xapi/statements", params={"statementId": a, "verb": "http://x.example/v"}, headers=basic(key)).status_code == 400
    assert client.get("/xapi/statements", params={"colour": "red"}, headers=basic(key)).status_code == 400
