"""HR core API: create, read, filter, page, update; every bad input a clear 4xx problem, nothing half-written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import make_api_key, make_department, make_employee, make_site
from trainquant.org.models import Employee, ExternalId


@pytest.fixture
def hr(client, db):
    root = make_department(db, code="ROOT", kind="other")
    make_department(db, code="IELTS", kind="teaching", parent=root, name="雅思组")
    make_department(db, code="MKT", kind="marketing", parent=root, name="市场部")
    make_site(db, code="BJ")
    key = make_api_key(db, scopes=["org:read", "org:write", "growth:write"])
    db.commit()
    client.headers["Authorization"] = f"Bearer {key}"
    return client


def new(**kw):
    body = {"employee_no": "T0001", "name": "李雷", "department_code": "IELTS"}
    body.update(kw)
    return body


def problem(resp, status):
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    assert body["status"] == status and body["detail"]
    return body


def test_create_and_read_back(hr):
    body = new(hourly_cost="120.50", hire_date="2026-03-01", tags=["new-teacher"], external_ids={"device_pin": "1001", "wecom": "lilei"}, site_code="BJ", position="初级教师")
    resp = hr.post("/api/v1/employees", json=body)
    assert resp.status_code == 201, resp.text
    got = hr.get("/api/v1/employees/T0001").json()
    assert got["hourly_cost"] == "120.50"
    assert got["tags"] == ["new-teacher"]
    assert got["external_ids"] == {"device_pin": "1001", "wecom": "lilei"}
    assert got["department_kind"] == "teaching" and got["site_code"] == "BJ"


def test_patch_changes_only_given_fields(hr):
    hr.post("/api/v1/employees", json=new(position="初级教师", tags=["a"]))
    resp = hr.patch("/api/v1/employees/T0001", json={"hourly_cost": "99"})
    assert resp.status_code == 200
    got = resp.json()
    assert got["hourly_cost"] == "99.00" and got["position"] == "初级教师" and got["tags"] == ["a"]
    assert hr.patch("/api/v1/employees/T0001", json={"name": None}).status_code == 422


@pytest.mark.parametrize(
    "body,status,field",
    [
        (new(unexpected="x"), 422, "unexpected"),
        (new(hire_date="2026-02-30"), 422, "hire_date"),
        (new(hourly_cost="12.345"), 422, "hourly_cost"),
        (new(hourly_cost=-1), 422, "hourly_cost"),
        (new(name="x" * 65), 422, "name"),
        (new(employee_no="T 1"), 422, "employee_no"),
        (new(status="fired"), 422, "status"),
        (new(tags="a,b"), 422, "tags"),
        (new(external_ids={"qq": "1"}), 422, "external_ids.qq"),
        (new(name=123), 422, "name"),
    ],
)
def test_bad_bodies_are_named(hr, db, body, status, field):
    got = problem(hr.post("/api/v1/employees", json=body), status)
    assert any((e["field"] or "").startswith(field) for e in got["errors"]), got
    assert db.scalar(select(func.count(Employee.id))) == 0


def test_reference_errors(hr, db):
    got = problem(hr.post("/api/v1/employees", json=new(department_code="NOPE")), 422)
    assert got["errors"][0]["code"] == "unknown-department"
    got = problem(hr.post("/api/v1/employees", json=new(manager_no="GHOST")), 422)
    assert got["errors"][0]["field"] == "manager_no"
    assert hr.post("/api/v1/employees", json=new(external_ids={"device_pin": "7"})).status_code == 201
    problem(hr.post("/api/v1/employees", json=new()), 409)  # duplicate employee_no
    got = problem(hr.post("/api/v1/employees", json=new(employee_no="T0002", external_ids={"device_pin": "7"})), 409)
    assert got["errors"][0]["code"] == "external-id-taken"
    assert db.scalar(select(func.count(Employee.id))) == 1
    assert db.scalar(select(func.count()).select_from(ExternalId)) == 1


def test_malformed_json_is_a_422_not_a_500(hr):
    resp = hr.post("/api/v1/employees", content=b"{not json", headers={"content-type": "application/json"})
    problem(resp, 422)


def test_filters_and_paging(hr, db):
    deps = {"IELTS": "teaching", "MKT": "marketing"}
    for i in range(7):
        hr.post("/api/v1/employees", json=new(employee_no=f"T{i:04}", name=f"教师{i}", tags=["new-teacher"] if i < 3 else []))
    for i in range(4):
        hr.post("/api/v1/employees", json=new(employee_no=f"M{i:04}", name=f"顾问{i}", department_code="MKT", status="probation" if i == 0 else "active"))
    assert deps
    page = hr.get("/api/v1/employees", params={"page_size": 5}).json()
    assert page["total"] == 11 and len(page["items"]) == 5
    last = hr.get("/api/v1/employees", params={"page_size": 5, "page": 3}).json()
    assert [e["employee_no"] for e in last["items"]] == ["T0006"]
    assert hr.get("/api/v1/employees", params={"kind": "marketing"}).json()["total"] == 4
    assert hr.get("/api/v1/employees", params={"department": "ROOT"}).json()["total"] == 11
    assert hr.get("/api/v1/employees", params={"tag": "new-teacher"}).json()["total"] == 3
    assert hr.get("/api/v1/employees", params={"status": "probation"}).json()["total"] == 1
    assert hr.get("/api/v1/employees", params={"q": "顾问"}).json()["total"] == 4
    problem(hr.get("/api/v1/employees", params={"page_size": 100000}), 422)
    problem(hr.get("/api/v1/employees", params={"page": 0}), 422)
    problem(hr.get("/api/v1/employees", params={"department": "NOPE"}), 404)


def test_departments_tree_guarded(hr):
    assert hr.post("/api/v1/departments", json={"code": "KIDS", "name": "少儿组", "kind": "teaching", "parent_code": "IELTS"}).status_code == 201
    problem(hr.patch("/api/v1/departments/IELTS", json={"parent_code": "KIDS"}), 422)  # a cycle
    problem(hr.post("/api/v1/departments", json={"code": "KIDS", "name": "x", "kind": "teaching"}), 409)
    problem(hr.post("/api/v1/departments", json={"code": "X", "name": "x", "kind": "sales"}), 422)
    problem(hr.post("/api/v1/departments", json={"code": "Y", "name": "y", "kind": "other", "parent_code": "NOPE"}), 404)


def test_sites_validate_zone_and_coordinates(hr):
    problem(hr.post("/api/v1/sites", json={"code": "X", "name": "x", "timezone": "Mars/Base"}), 422)
    problem(hr.post("/api/v1/sites", json={"code": "X", "name": "x", "venues": [{"name": "A", "latitude": 91, "longitude": 0}]}), 422)
    ok = hr.post("/api/v1/sites", json={"code": "SH", "name": "上海", "venues": [{"name": "A", "latitude": 31.2, "longitude": 121.4, "radius_m": 40}]})
    assert ok.status_code == 201 and ok.json()["venues"][0]["radius_m"] == 40
    problem(hr.post("/api/v1/sites/SH/venues", json={"name": "A", "latitude": 31.2, "longitude": 121.4}), 409)


def test_timetable_week_view(hr):
    hr.post("/api/v1/employees", json=new(site_code="BJ"))
    slot = {"weekday": 1, "start_time": "18:30", "end_time": "20:30", "valid_from": "2026-09-01", "course": "雅思口语"}
    assert hr.post("/api/v1/employees/T0001/timetable/slots", json=slot).status_code == 201
    # The same slot again is an update of the same key, not a second slot.
    assert hr.post("/api/v1/employees/T0001/timetable/slots", json={**slot, "course": "雅思写作"}).status_code == 201
    cls = {"starts_at": "2026-09-05T09:00:00+08:00", "ends_at": "2026-09-05T11:00:00+08:00", "course": "补课"}
    assert hr.post("/api/v1/employees/T0001/timetable/classes", json=cls).status_code == 201
    week = hr.get("/api/v1/employees/T0001/timetable", params={"week_of": "2026-09-03"}).json()
    assert week["week_start"] == "2026-08-31" and week["weekly_hours"] == 4.0
    assert [(o["local_day"], o["local_start"], o["course"]) for o in week["occurrences"]] == [
        ("2026-09-01", "18:30:00", "雅思写作"),
        ("2026-09-05", "09:00:00", "补课"),
    ]
    assert week["occurrences"][0]["starts_at"].startswith("2026-09-01T10:30:00")  # stored in UTC
    problem(hr.post("/api/v1/employees/T0001/timetable/slots", json={**slot, "end_time": "17:00"}), 422)
    problem(hr.post("/api/v1/employees/T0001/timetable/slots", json={**slot, "weekday": 7}), 422)
    problem(hr.post("/api/v1/employees/T0001/timetable/classes", json={**cls, "starts_at": "2026-09-05T09:00:00"}), 422)


def test_growth_profile(hr):
    hr.post("/api/v1/employees", json=new())
    note = {"kind": "weakness", "tag": "classroom-interaction", "source": "student-feedback", "noted_on": "2026-08-01", "note": "学生反馈互动不足"}
    assert hr.post("/api/v1/employees/T0001/growth", json=note).status_code == 201
    problem(hr.post("/api/v1/employees/T0001/growth", json=note), 409)
    problem(hr.post("/api/v1/employees/T0001/growth", json={**note, "kind": "gap"}), 422)
    assert [n["tag"] for n in hr.get("/api/v1/employees/T0001/growth").json()] == ["classroom-interaction"]


def test_openapi_is_served(client):
    spec = client.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    assert "/api/v1/employees" in spec["paths"]


def test_unknown_route_is_problem_json(hr, db):
    make_employee(db, employee_no="Z1", department=make_department(db, code="Z", kind="other"))
    problem(hr.get("/api/v1/nothing-here"), 404)
    problem(hr.get("/api/v1/employees/NOPE"), 404)
