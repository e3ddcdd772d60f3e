"""Connectors and their signed webhooks: secrets shown once and kept encrypted, deliveries verified,
replays recognised, rotation without a gap."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, timedelta

import orjson
import pytest
from sqlalchemy import func, select

from tests.conftest import make_api_key, make_department, make_employee
from trainquant.integrations.connectors.models import Connector
from trainquant.integrations.metrics.models import MetricRecord
from trainquant.org.models import ExternalId

NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)


def signed(secret: str, body: bytes, at: datetime) -> dict:
    ts = int(at.timestamp())
    mac = hmac.new(secret.encode(), f"{ts}.".encode() + body, hashlib.sha256).hexdigest()
    return {"X-TQ-Timestamp": str(ts), "X-TQ-Signature": f"sha256={mac}", "content-type": "application/json"}


@pytest.fixture
def connector(db, client, clock):
    clock.at = NOW
    dep = make_department(db, code="TEACH")
    t1 = make_employee(db, employee_no="T1", department=dep)
    db.add(ExternalId(employee_id=t1.id, system="teaching_platform", external_id="TP100"))
    key = make_api_key(db, scopes=["integrations:manage", "metrics:read"], name="it")
    db.commit()
    client.headers["Authorization"] = f"Bearer {key}"
    resp = client.post("/api/v1/integrations/connectors", json={"name": "teach-main", "system": "teaching_platform", "title": "教学平台"})
    assert resp.status_code == 201, resp.text
    del client.headers["Authorization"]  # a webhook is signed, not logged in
    return {"secret": resp.json()["secret"], "key": key}


def body_of(*ratings) -> bytes:
    return orjson.dumps({"records": [
        {"record_id": f"rt-{i}", "metric": "teaching.rating.interaction", "value": v, "external_id": "TP100",
         "at": (NOW - timedelta(days=i + 1)).isoformat()} for i, v in enumerate(ratings)]})


def test_the_secret_is_shown_once_and_kept_only_encrypted(client, connector, db):
    row = db.scalar(select(Connector))
    assert connector["secret"].startswith("whsec_") and connector["secret"] not in row.secret_encrypted
    client.headers["Authorization"] = f"Bearer {connector['key']}"
    listed = client.get("/api/v1/integrations/connectors").json()
    assert [c["name"] for c in listed] == ["teach-main"] and "secret" not in listed[0]
    assert client.post("/api/v1/integrations/connectors", json={"name": "teach-main", "system": "crm"}).status_code == 409


def test_a_signed_delivery_is_stored_and_its_replay_answered_as_a_repeat(client, connector, db):
    body = body_of(4.2, 4.6)
    headers = signed(connector["secret"], body, NOW)
    first = client.post("/api/v1/integrations/webhooks/teach-main", content=body, headers=headers)
    assert first.status_code == 200, first.text
    assert (first.json()["accepted"], first.json()["repeat"]) == (2, False)
    replay = client.post("/api/v1/integrations/webhooks/teach-main", content=body, headers=headers)
    assert replay.status_code == 200 and replay.json()["repeat"] is True and replay.json()["delivery"] == first.json()["delivery"]
    assert db.scalar(select(func.count()).select_from(MetricRecord)) == 2
    stored = db.scalar(select(MetricRecord).order_by(MetricRecord.id))
    assert (stored.source, stored.external_system, stored.employee_id is not None) == ("teach-main", "teaching_platform", True)


@pytest.mark.parametrize("tamper", ["body", "secret", "stale", "unsigned", "unknown"])
def test_bad_signatures_old_deliveries_and_unknown_connectors_are_refused_and_store_nothing(client, connector, db, tamper):
    body = body_of(4.2)
    headers = signed("whsec_wrong" if tamper == "secret" else connector["secret"], body, NOW - timedelta(minutes=6) if tamper == "stale" else NOW)
    if tamper == "unsigned":
        headers = {"content-type": "application/json"}
    url = "/api/v1/integrations/webhooks/" + ("nobody" if tamper == "unknown" else "teach-main")
    resp = client.post(url, content=body + (b" " if tamper == "body" else b""), headers=headers)
    assert resp.status_code == 401 and resp.headers["content-type"].startswith("application/problem+json")
    assert resp.json()["code"] == {"stale": "timestamp-outside-window", "unsigned": "signature-missing"}.get(tamper, "signature-invalid")
    assert db.scalar(select(func.count()).select_from(MetricRecord)) == 0


def test_rotation_keeps_the_previous_secret_for_its_grace_period_only(client, connector, clock, db):
    client.headers["Authorization"] = f"Bearer {connector['key']}"
    rotated = client.post("/api/v1/integrations/connectors/teach-main/rotate").json()
    del client.headers["Authorization"]
    old, new = connector["secret"], rotated["secret"]
    assert old != new
    for i, secret in enumerate((old, new)):
        body = body_of(*[4.0 + i / 10] * (i + 1))
        assert client.post("/api/v1/integrations/webhooks/teach-main", content=body, headers=signed(secret, body, NOW)).status_code == 200
    clock.at = NOW + timedelta(hours=25)  # past the 24 h grace
    body = body_of(4.9, 4.9, 4.9)
    assert client.post("/api/v1/integrations/webhooks/teach-main", content=body, headers=signed(old, body, clock.at)).status_code == 401
    assert client.post("/api/v1/integrations/webhooks/teach-main", content=body, headers=signed(new, body, clock.at)).status_code == 200


def test_a_switched_off_connector_takes_nothing_and_bad_bodies_are_422(client, connector, db):
    body = b'{"records": {"no": "list"}}'
    resp = client.post("/api/v1/integrations/webhooks/teach-main", content=body, headers=signed(connector["secret"], body, NOW))
    assert resp.status_code == 422
    client.headers["Authorization"] = f"Bearer {connector['key']}"
    assert client.post("/api/v1/integrations/connectors/teach-main/active", json={"active": False}).json()["active"] is False
    del client.headers["Authorization"]
    good = body_of(4.0)
    assert client.post("/api/v1/integrations/webhooks/teach-main", content=good, headers=signed(connector["secret"], good, NOW)).status_code == 403


def test_it_connects_a_system_on_the_page_and_sees_the_secret_once(client, db, clock):
    from tests.conftest import login, make_user

    clock.at = NOW
    make_user(db, username="it", role="admin")
    db.commit()
    csrf = login(client, "it")
    assert 'href="/integrations/connectors"' in client.get("/imports").text
    made = client.post("/integrations/connectors", data={"csrf_token": csrf, "name": "crm-main", "system": "crm", "title": "销售 CRM"})
    assert made.status_code == 200 and "whsec_" in made.text and "请立即复制到对方系统" in made.text
    listing = client.get("/integrations/connectors").text
    assert "crm-main" in listing and "whsec_" not in listing  # shown once
    bad = client.post("/integrations/connectors", data={"csrf_token": csrf, "name": "CRM MAIN", "system": "crm"})
    assert bad.status_code == 422 and "名称为 2 到 40" in bad.text
    again = client.post("/integrations/connectors", data={"csrf_token": csrf, "name": "crm-main", "system": "crm"})
    assert again.status_code == 422 and "已有同名对接" in again.text
    rotated = client.post("/integrations/connectors/crm-main/rotate", data={"csrf_token": csrf})
    assert rotated.status_code == 200 and "whsec_" in rotated.text
    off = client.post("/integrations/connectors/crm-main/active", data={"csrf_token": csrf, "active": "false"}, follow_redirects=True)
    assert off.status_code == 200 and "已停用" in off.text
