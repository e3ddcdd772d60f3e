"""A person's business effect of their training, rated, and HR marking their way of working as the
department's template (R3.3): through the API and the employee's page."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select

from tests.conftest import login, make_api_key, make_department, make_employee, make_user
from tests.integration.analytics.test_roi import LIFT, NOW, sales  # noqa: F401 - the fixture
from trainquant.analytics import exemplar
from trainquant.analytics.impact.service import design_for
from trainquant.analytics.models import DepartmentTemplate
from trainquant.org.models import Employee


def _band(gain: Decimal) -> str:
    """The default gain bands, written out: excellent from 15%, good from 8%, fair from 0."""
    return "excellent" if gain >= 15 else "good" if gain >= 8 else "fair" if gain >= 0 else "poor"


def test_a_persons_effect_of_their_training_is_isolated_and_rated(db, sales):  # noqa: F811
    s01 = db.scalar(select(Employee).where(Employee.employee_no == "S01"))
    rows = exemplar.person_effects(db, s01, design=design_for("Asia/Shanghai", pre_days=28, post_days=28), now=NOW)
    # CLOSE aims at conversion and orders; only orders have records.
    assert [(r.program.code, r.metric.key) for r in rows] == [("CLOSE", "crm.order_amount")]
    [r] = rows
    assert r.naive is not None and r.imputed is not None and r.effect is not None
    # One person's four weeks of orders (noise 150 a week) around a planted lift of 600 a week.
    assert abs(r.effect - LIFT) < 400
    assert r.gain_percent is not None and r.band == _band(r.gain_percent)
    assert abs(float(r.gain_percent) - 100 * r.effect / r.imputed[0]) < 0.06
    never = db.scalar(select(Employee).where(Employee.employee_no == "S25"))
    assert exemplar.person_effects(db, never, design=design_for("Asia/Shanghai"), now=NOW) == []


def test_hr_marks_a_department_template_and_a_new_one_retires_it(client, db, sales):  # noqa: F811
    hr = make_api_key(db, scopes=["training:manage", "reports:read"], name="hr")
    reader = make_api_key(db, scopes=["reports:read"], name="reader")
    db.commit()
    auth = {"Authorization": f"Bearer {hr}"}
    body = {"employee_no": "S01", "metric": "crm.order_amount", "program_code": "CLOSE", "note": "先问需求，再讲课程；每通电话后两分钟内记录。"}
    made = client.post("/api/v1/reports/templates", json=body, headers=auth)
    assert made.status_code == 201, made.text
    first = made.json()
    assert first["active"] and first["department_code"] == "MKT" and first["marked_by"] == "apikey:hr" and first["effect"] is not None
    assert client.post("/api/v1/reports/templates", json=body, headers={"Authorization": f"Bearer {reader}"}).status_code == 403

    second = client.post("/api/v1/reports/templates", json={**body, "employee_no": "S02"}, headers=auth)
    assert second.status_code == 201, second.text
    current = client.get("/api/v1/reports/templates?department=MKT", headers={"Authorization": f"Bearer {reader}"}).json()
    assert [t["employee_no"] for t in current["items"]] == ["S02"]
    history = client.get("/api/v1/reports/templates?history=true", headers=auth).json()
    assert {(t["employee_no"], t["active"]) for t in history["items"]} == {("S01", False), ("S02", True)}
    assert db.scalar(select(DepartmentTemplate).where(DepartmentTemplate.id == first["id"])).retired_by == "apikey:hr"

    retired = client.delete(f"/api/v1/reports/templates/{second.json()['id']}", headers=auth)
    assert retired.status_code == 200 and retired.json()["active"] is False
    assert client.get("/api/v1/reports/templates", headers=auth).json()["total"] == 0
    effects = client.get("/api/v1/reports/employees/S01/effects", headers=auth).json()
    assert effects["effects"][0]["metric"] == "crm.order_amount" and effects["effects"][0]["band"] in ("excellent", "good", "fair", "poor")


def test_a_template_needs_a_measured_effect_a_note_and_a_known_metric(client, db, sales):  # noqa: F811
    hr = make_api_key(db, scopes=["training:manage", "reports:read"], name="hr")
    db.commit()
    auth = {"Authorization": f"Bearer {hr}"}
    base = {"employee_no": "S01", "metric": "crm.order_amount", "program_code": "CLOSE", "note": "x"}
    untrained = client.post("/api/v1/reports/templates", json={**base, "employee_no": "S25"}, headers=auth)
    assert untrained.status_code == 409 and untrained.json()["code"] == "template-not-measured"
    unknown = client.post("/api/v1/reports/templates", json={**base, "metric": "crm.nothing"}, headers=auth)
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown-metric"
    blank = client.post("/api/v1/reports/templates", json={**base, "note": "   "}, headers=auth)
    assert blank.status_code == 422
    assert client.delete("/api/v1/reports/templates/999", headers=auth).status_code == 404
    assert db.scalar(select(DepartmentTemplate.id)) is None


def test_the_employee_page_shows_the_effect_and_marks_the_template(client, db, clock, sales):  # noqa: F811
    clock.at = NOW
    make_user(db, username="hr1", role="hr")
    other = make_department(db, code="ELSE", kind="marketing")
    make_employee(db, employee_no="E99", department=other)
    make_user(db, username="boss", role="manager", department=other)
    db.commit()
    token = login(client, "hr1")
    page = client.get("/reports/employees/S01?lang=en")
    assert page.status_code == 200
    assert 'data-testid="business"' in page.text and 'data-metric="crm.order_amount"' in page.text and "Mark as department template" in page.text
    marked = client.post("/reports/employees/S01/templates", data={"csrf_token": token, "metric": "crm.order_amount", "program_code": "CLOSE",
                                                                   "note": "每通电话后两分钟内记录"}, follow_redirects=False)
    assert marked.status_code == 303
    assert "每通电话后两分钟内记录" in client.get("/reports/employees/S01").text
    assert "每通电话后两分钟内记录" in client.get("/reports?department=MKT").text
    # A manager of another department sees neither the person nor the template.
    client.cookies.clear()
    login(client, "boss")
    assert client.get("/reports/employees/S01").status_code == 404
    assert "每通电话后两分钟内记录" not in client.get("/api/v1/reports/templates", headers={"Accept": "application/json"}).text
