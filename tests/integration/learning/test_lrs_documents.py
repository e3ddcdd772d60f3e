"""State, Activity Profile and Agent Profile through HTTP: ETags, preconditions, merging, and a
learner's session kept to its own documents."""

from __future__ import annotations

import hashlib
import json

from tests.conftest import login, make_user
from tests.integration.learning.conftest import HOME, XAPI, basic

ACTIVITY = "http://example.com/course/video-1"
AGENT = json.dumps({"objectType": "Agent", "account": {"homePage": HOME, "name": "E100"}})


def _state(**extra: str) -> dict[str, str]:
    return {"activityId": ACTIVITY, "agent": AGENT, "stateId": "resume", **extra}


def test_state_put_get_merge_and_delete(client, key):
    body = b'{"position": 12.5}'
    r = client.put("/xapi/activities/state", params=_state(), content=body, headers={**basic(key), "Content-Type": "application/json"})
    assert r.status_code == 204
    tag = '"' + hashlib.sha1(body).hexdigest() + '"'
    got = client.get("/xapi/activities/state", params=_state(), headers=basic(key))
    assert got.status_code == 200 and got.content == body and got.headers["ETag"] == tag
    assert client.post("/xapi/activities/state", params=_state(), json={"speed": 1.5}, headers=basic(key)).status_code == 204
    assert client.get("/xapi/activities/state", params=_state(), headers=basic(key)).json() == {"position": 12.5, "speed": 1.5}
    ids = client.get("/xapi/activities/state", params={"activityId": ACTIVITY, "agent": AGENT}, headers=basic(key))
    assert ids.json() == ["resume"]
    # Merging into a document that is not JSON is refused, and changes nothing.
    client.put("/xapi/activities/state", params=_state(stateId="notes"), content=b"plain", headers={**basic(key), "Content-Type": "text/plain"})
    assert client.post("/xapi/activities/state", params=_state(stateId="notes"), json={"a": 1}, headers=basic(key)).status_code == 400
    assert client.get("/xapi/activities/state", params=_state(stateId="notes"), headers=basic(key)).content == b"plain"
    assert client.delete("/xapi/activities/state", params={"activityId": ACTIVITY, "agent": AGENT}, headers=basic(key)).status_code == 204
    assert client.get("/xapi/activities/state", params=_state(), headers=basic(key)).status_code == 404


def test_profiles_refuse_lost_updates(client, key):
    params = {"activityId": ACTIVITY, "profileId": "settings"}
    headers = {**basic(key), "Content-Type": "application/json"}
    assert client.put("/xapi/activities/profile", params=params, content=b'{"max_speed": 2}', headers=headers).status_code == 400
    assert client.put("/xapi/activities/profile", params=params, content=b'{"max_speed": 2}', headers={**headers, "If-None-Match": "*"}).status_code == 204
    tag = client.get("/xapi/activities/profile", params=params, headers=basic(key)).headers["ETag"]
    # Without a precondition onto an existing document: 409; with a stale ETag: 412; with the current one: 204.
    assert client.put("/xapi/activities/profile", params=params, content=b'{"max_speed": 1.5}', headers=headers).status_code == 409
    assert client.put("/xapi/activities/profile", params=params, content=b'{"max_speed": 1.5}', headers={**headers, "If-Match": '"0000"'}).status_code == 412
    assert client.put("/xapi/activities/profile", params=params, content=b'{"max_speed": 1.5}', headers={**headers, "If-Match": tag}).status_code == 204
    assert client.get("/xapi/activities/profile", params=params, headers=basic(key)).json() == {"max_speed": 1.5}


def test_a_learners_session_uses_only_its_own_state(client, db, learner):
    make_user(db, username="huang", role="employee", employee=learner)
    csrf = login(client, "huang")
    headers = {**XAPI, "X-CSRF-Token": csrf, "Content-Type": "application/json"}
    assert client.put("/xapi/activities/state", params=_state(), content=b'{"position": 30}', headers=headers).status_code == 204
    assert client.get("/xapi/activities/state", params=_state(), headers=XAPI).json() == {"position": 30}
    other = json.dumps({"objectType": "Agent", "account": {"homePage": HOME, "name": "E999"}})
    assert client.get("/xapi/activities/state", params=_state(agent=other), headers=XAPI).status_code == 403
    # A learner has no profile scope.
    assert client.get("/xapi/activities/profile", params={"activityId": ACTIVITY}, headers=XAPI).status_code == 403


def test_activities_and_agents(client, key):
    statement = {"actor": {"mbox": "mailto:a@example.com", "name": "A"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
                 "object": {"id": ACTIVITY, "definition": {"name": {"en-US": "Video 1"}}}}
    client.post("/xapi/statements", json=statement, headers=basic(key))
    statement["object"]["definition"] = {"name": {"zh-CN": "视频一"}}
    client.post("/xapi/statements", json=statement, headers=basic(key))
    activity = client.get("/xapi/activities", params={"activityId": ACTIVITY}, headers=basic(key)).json()
    assert activity == {"objectType": "Activity", "id": ACTIVITY, "definition": {"name": {"en-US": "Video 1", "zh-CN": "视频一"}}}
    person = client.get("/xapi/agents", params={"agent": json.dumps({"mbox": "mailto:a@example.com", "name": "A"})}, headers=basic(key)).json()
    assert person == {"objectType": "Person", "name": ["A"], "mbox": ["mailto:a@example.com"]}
    assert client.get("/xapi/agents", headers=basic(key)).status_code == 400
