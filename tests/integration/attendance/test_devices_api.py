"""Registering a terminal through the API, then letting it speak PUSH: the allow-list is the API's."""

from tests.conftest import make_api_key, make_department, make_employee, make_site
from trainquant.org.models import ExternalId


def test_register_a_terminal_then_it_may_post(client, db):
    site = make_site(db, code="BJ", venues=1)
    dep = make_department(db, code="T", kind="teaching")
    emp = make_employee(db, employee_no="T1", department=dep, site=site)
    db.add(ExternalId(employee_id=emp.id, system="device_pin", external_id="7"))
    key = make_api_key(db, scopes=["attendance:manage"])
    db.commit()
    h = {"Authorization": f"Bearer {key}"}
    assert client.get("/iclock/cdata", params={"SN": "ZK9"}).status_code == 403
    resp = client.post("/api/v1/attendance/devices", json={"device_id": "ZK9", "site_code": "BJ", "venue": "Room 1", "name": "前台人脸机"}, headers=h)
    assert resp.status_code == 201, resp.text
    assert client.post("/api/v1/attendance/devices", json={"device_id": "ZK9", "site_code": "BJ"}, headers=h).status_code == 409
    assert client.post("/api/v1/attendance/devices", json={"device_id": "ZK8", "site_code": "BJ", "venue": "Nowhere"}, headers=h).status_code == 404
    assert client.post("/api/v1/attendance/devices", json={"device_id": "a b", "site_code": "BJ"}, headers=h).status_code == 422
    hand = client.get("/iclock/cdata", params={"SN": "ZK9", "options": "all"})
    assert hand.status_code == 200 and hand.text.startswith("GET OPTION FROM: ZK9")
    pk = resp.json()["id"]
    assert client.post(f"/api/v1/attendance/devices/{pk}/commands", json={"command": "INFO"}, headers=h).status_code == 201
    poll = client.get("/iclock/getrequest", params={"SN": "ZK9"})
    assert poll.text.startswith("C:") and "INFO" in poll.text
    assert client.patch(f"/api/v1/attendance/devices/{pk}", json={"active": False}, headers=h).json()["active"] is False
    assert client.get("/iclock/cdata", params={"SN": "ZK9"}).status_code == 403
    assert client.get("/api/v1/attendance/devices", headers={"Authorization": f"Bearer {make_api_key(db, scopes=['attendance:read'], name='r')}"}).status_code in (401, 403)


def test_a_device_id_past_what_a_database_holds_is_refused_not_an_error(client, db):
    key = make_api_key(db, scopes=["attendance:manage"])
    db.commit()
    h = {"Authorization": f"Bearer {key}"}
    huge = "12345678901234567890123"
    assert client.patch(f"/api/v1/attendance/devices/{huge}", json={"active": False}, headers=h).status_code == 422
    assert client.get(f"/api/v1/attendance/devices/{huge}/commands", headers=h).status_code == 422
    assert client.post(f"/api/v1/attendance/devices/{huge}/commands", json={"command": "INFO"}, headers=h).status_code == 422
    assert client.get(f"/api/v1/attendance/devices/{2**31}/commands", headers=h).status_code == 422
    assert client.get(f"/api/v1/attendance/devices/{2**31 - 1}/commands", headers=h).status_code == 404
