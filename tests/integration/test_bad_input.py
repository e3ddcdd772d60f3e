"""Bad input is a 4xx problem naming what is wrong, never a 500 or a silent coercion (issue 9, section 2).

Each class found by fuzzing has its test here: ids no row can have (past 64 bits, or past 32 on PostgreSQL) in paths and pages, times with an
offset where a local time is meant, dates at the calendar's edges, numbers sent as text or booleans,
and the OpenAPI document declaring the problems every operation answers.
"""

from __future__ import annotations

from datetime import date

import pytest

from tests.conftest import (
    NOW,
    login,
    make_api_key,
    make_department,
    make_employee,
    make_site,
    make_user,
)
from tests.integration.training.conftest import make_program, make_session
from trainquant.auth.permissions import PERMISSIONS
from trainquant.indicators.models import Indicator
from trainquant.training.models import Enrolment

HUGE = "1180591620717411303424"  # 2**70: no BIGINT holds it


@pytest.fixture
def school(db, client):
    site = make_site(db, code="BJ")
    teach = make_department(db, code="TEACH", kind="teaching")
    t1 = make_employee(db, employee_no="T1", department=teach, site=site)
    program = make_program(db, code="CI", target_kinds=["teaching"])
    session = make_session(db, program=program, code="CI-1", site=site)
    db.add(Enrolment(session_id=session.id, employee_id=t1.id, status="requested", source="self", created_at=NOW, updated_at=NOW))
    make_user(db, username="admin", role="admin")
    key = make_api_key(db, scopes=sorted(PERMISSIONS))
    db.commit()
    return {"Authorization": f"Bearer {key}"}


def assert_problem(resp, status: int, field: str | None = None) -> dict:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    body = resp.json()
    if field is not None:
        assert field in {e["field"] for e in body["errors"]}, body
    return body


# ---------------------------------------------------------------- ids no row can have


ID_OPERATIONS = [
    ("GET", "/api/v1/enrolments/{id}"),
    ("POST", "/api/v1/enrolments/{id}/approve"),
    ("POST", "/api/v1/enrolments/{id}/reject"),
    ("POST", "/api/v1/enrolments/{id}/override"),
    ("POST", "/api/v1/enrolments/{id}/cancel"),
    ("GET", "/api/v1/assessments/{id}"),
    ("DELETE", "/api/v1/costs/{id}"),
    ("DELETE", "/api/v1/apikeys/{id}"),
    ("POST", "/api/v1/users/{id}/signout"),
    ("GET", "/api/v1/imports/{id}"),
    ("GET", "/api/v1/imports/{id}/errors"),
    ("GET", "/api/v1/imports/{id}/errors.xlsx"),
    ("POST", "/api/v1/attendance/review/{id}/confirm"),
    ("POST", "/api/v1/attendance/review/{id}/clear"),
    ("POST", "/api/v1/alerts/{id}/acknowledge"),
    ("POST", "/api/v1/alerts/{id}/resolve"),
]
BODIES = {"reject": {"reason": "no"}, "override": {"decision": "approve", "reason": "HR"}}


@pytest.mark.parametrize(("method", "path"), ID_OPERATIONS)
@pytest.mark.parametrize("row_id", [HUGE, "9223372036854775808", "2147483648", "0", "-1"])
def test_an_id_no_row_can_have_is_a_422_naming_it(client, school, method, path, row_id):
    body = BODIES.get(path.rsplit("/", 1)[-1])
    resp = client.request(method, path.format(id=row_id), json=body, headers=school)
    problem = assert_problem(resp, 422)
    assert problem["errors"][0]["location"] == "path"


def test_the_largest_id_is_looked_up_and_not_found(client, school):
    # 2**31-1: PostgreSQL's INTEGER ids end there (SQLite's go on to 2**63-1).
    assert_problem(client.get("/api/v1/enrolments/2147483647", headers=school), 404)


PAGE_IDS = [
    ("POST", "/approvals/{id}/approve"),
    ("POST", "/approvals/{id}/reject"),
    ("POST", "/my/trainings/{id}/cancel"),
    ("POST", "/training/enrolments/{id}/action"),
    ("GET", "/imports/{id}"),
    ("POST", "/alerts/{id}/acknowledge"),
    ("POST", "/attendance/review/{id}/clear"),
]


@pytest.mark.parametrize(("method", "path"), PAGE_IDS)
def test_pages_refuse_an_id_past_64_bits(client, school, method, path):
    token = login(client, "admin")
    resp = client.request(method, path.format(id=HUGE), data={"csrf_token": token, "action": "approve"} if method == "POST" else None)
    assert resp.status_code == 422, resp.text


def test_the_assessment_page_ignores_a_done_id_past_64_bits(client, school):
    login(client, "admin")
    assert client.get(f"/training/assessments/new?done={HUGE}").status_code == 200


def test_the_errors_of_an_import_refused_at_its_header_are_listed(client, school):
    # A header-row error keeps the header's cells as a list, which the errors page declared as a dict: a 500.
    files = {"file": ("staff.csv", "工号,姓名,不认识的列\nX1,李雷,?\n".encode(), "text/csv")}
    run = client.post("/api/v1/imports/employees", files=files, headers=school)
    assert run.status_code == 422, run.text
    resp = client.get(f"/api/v1/imports/{run.json()['import_run_id']}/errors", headers=school)
    assert resp.status_code == 200, resp.text
    assert any(isinstance(e["raw"], list) for e in resp.json()["items"])


# ---------------------------------------------------------------- times: an offset is refused, never stripped


@pytest.mark.parametrize("route", ["slots", "cover"])
@pytest.mark.parametrize(("field", "value"), [("day_start", "00:00:00Z"), ("day_end", "20:00:00+08:00")])
def test_the_slot_finder_refuses_a_day_bound_with_an_offset(client, school, route, field, value):
    body = {"department_kinds": ["teaching"], "date_from": "2026-09-07", "date_to": "2026-09-11", field: value}
    assert_problem(client.post(f"/api/v1/scheduling/{route}", json=body, headers=school), 422, field)


def test_a_weekly_slot_with_an_offset_is_refused_not_stripped(client, school):
    body = {"weekday": 1, "start_time": "18:30:00+08:00", "end_time": "20:30:00", "valid_from": "2026-09-01"}
    assert_problem(client.post("/api/v1/employees/T1/timetable/slots", json=body, headers=school), 422, "start_time")
    ok = client.post("/api/v1/employees/T1/timetable/slots", json={**body, "start_time": "18:30"}, headers=school)
    assert ok.status_code == 201, ok.text
    assert ok.json()["slots"][0]["start_time"] == "18:30:00"


# ---------------------------------------------------------------- dates at the calendar's edges


@pytest.mark.parametrize("period_end", ["0001-01-01", "9999-12-31", "1899-12-31"])
def test_an_evaluation_whose_window_leaves_the_calendar_is_a_422(client, school, period_end):
    resp = client.post("/api/v1/evaluations", json={"period_end": period_end}, headers=school)
    assert_problem(resp, 422, "period_end")


@pytest.mark.parametrize(("path", "param"), [
    ("/api/v1/evaluations/employees/T1", "period_end"),
    ("/api/v1/evaluations/departments/TEACH", "period_end"),
    ("/api/v1/employees/T1/timetable", "week_of"),
    ("/api/v1/employees", "hired_from"),
    ("/api/v1/assessments", "assessed_to"),
    ("/api/v1/sessions", "starts_from"),
])
def test_a_date_filter_at_the_calendars_edge_is_a_422(client, school, path, param):
    value = "0001-01-01T00:00:00+08:00" if param == "starts_from" else "0001-01-01"
    assert_problem(client.get(path, params={param: value}, headers=school), 422, param)


@pytest.mark.parametrize("path", ["/employees/T1?week=9999-12-31", "/employees/T1?week=0001-01-01",
                                  "/indicators/results?department=TEACH&period_end=9999-12-31", "/indicators/results/T1?period_end=0001-01-01"])
def test_pages_refuse_a_date_at_the_calendars_edge(client, school, path):
    login(client, "admin")
    assert client.get(path).status_code == 422


def test_an_alert_check_reaching_before_year_one_is_a_422(client, school):
    resp = client.post("/api/v1/alerts/check", json={"period_start": "0001-01-01", "period_end": "0001-01-02"}, headers=school)
    assert_problem(resp, 422, "period_start")


def test_the_alert_check_page_refuses_dates_it_cannot_compute_with(client, school):
    token = login(client, "admin")
    resp = client.post("/alerts/check", data={"csrf_token": token, "period_from": "0001-01-01", "period_to": "0001-01-02"})
    assert resp.status_code == 422, resp.text


# ---------------------------------------------------------------- numbers are not coerced


INDICATOR = {
    "code": "strict_score", "module_code": "teaching_skill", "name": "测试", "name_en": "Test", "metric": "assessment_score",
    "params": {"assessment_kind": "trial_lecture"}, "aggregation": "max", "window_days": 90, "operator": ">=", "threshold": 85,
}


@pytest.mark.parametrize(("field", "value"), [("threshold", "88"), ("threshold", True), ("window_days", "30"), ("weight", "1")])
def test_an_indicator_number_sent_as_text_or_a_boolean_is_refused(client, school, db, field, value):
    resp = client.post("/api/v1/indicators", json={**INDICATOR, field: value}, headers=school)
    assert_problem(resp, 422, field)
    assert db.query(Indicator).filter_by(code="strict_score").count() == 0


def test_an_indicator_with_numbers_is_stored(client, school):
    resp = client.post("/api/v1/indicators", json=INDICATOR, headers=school)
    assert resp.status_code == 201, resp.text
    assert resp.json()["current"]["threshold"] == 85.0


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/indicators/trial_lecture_score/versions", {"threshold": "90"}, "threshold"),
    ("/api/v1/programs", {"code": "P2", "title": "T", "kind": "offline", "planned_hours": "2"}, "planned_hours"),
    ("/api/v1/programs", {"code": "P2", "title": "T", "kind": "offline", "requires_approval": "false"}, "requires_approval"),
    ("/api/v1/sessions", {"program_code": "CI", "starts_at": "2026-10-01T10:00:00+08:00", "ends_at": "2026-10-01T12:00:00+08:00",
                          "capacity": "20", "online": True}, "capacity"),
    ("/api/v1/costs", {"program_code": "CI", "category": "venue", "amount": 10, "incurred_on": 20260830}, "incurred_on"),
    ("/api/v1/sites", {"code": "SH", "name": "上海", "venues": [{"name": "R1", "latitude": "31.2", "longitude": 121.4}]}, "venues.0.latitude"),
    ("/api/v1/mandatory-rules", {"code": "R1", "name": "R", "program_code": "CI", "condition": {"hired_within_days": "30"}}, "condition.hired_within_days"),
    ("/api/v1/scheduling/slots", {"department_kinds": ["teaching"], "date_from": "2026-09-07", "date_to": "2026-09-11", "limit": "5"}, "limit"),
    ("/api/v1/scheduling/cover", {"department_kinds": ["teaching"], "date_from": "2026-09-07", "date_to": "2026-09-11", "capacity": "30"}, "capacity"),
])
def test_other_bodies_are_strict_too(client, school, path, body, field):
    assert_problem(client.post(path, json=body, headers=school), 422, field)


def test_decimals_and_dates_still_travel_as_text(client, school):
    resp = client.post("/api/v1/costs", json={"program_code": "CI", "category": "venue", "amount": "1200.50", "incurred_on": "2026-08-30"},
                       headers=school)
    assert resp.status_code == 201, resp.text
    assert (resp.json()["amount"], resp.json()["incurred_on"]) == ("1200.50", "2026-08-30")


# ---------------------------------------------------------------- text the database cannot hold


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/v1/programs", {"code": "P3", "title": "a\u0000b", "kind": "online"}, "title"),
    ("/api/v1/departments", {"code": "D1", "name": "x", "kind": "teaching", "name_en": "\u0000"}, "name_en"),
    ("/api/v1/indicators", {**INDICATOR, "params": {"assessment_kind": "trial\u0000"}}, "params"),
])
def test_a_nul_character_in_a_body_is_a_422_naming_the_field(client, school, path, body, field):
    assert_problem(client.post(path, json=body, headers=school), 422, field)


@pytest.mark.parametrize("path", ["/api/v1/departments/a%00b", "/api/v1/employees?q=a%00b", "/api/v1/employees/%00/growth",
                                  "/api/v1/sessions?program=%00"])
def test_a_nul_character_in_a_path_or_query_is_a_problem_not_a_500(client, school, db, path):
    # PostgreSQL refuses to even send such text (a 500 on main; now a 422 from the DataError handler);
    # SQLite stores and looks it up, finding nothing (404, or an empty page).
    resp = client.get(path, headers=school)
    if db.get_bind().dialect.name == "postgresql":
        assert_problem(resp, 422)
    else:
        assert resp.status_code in (200, 404), resp.text


# ---------------------------------------------------------------- the document declares the problems


def test_every_error_the_document_declares_is_a_problem(client):
    document = client.get("/api/openapi.json").json()
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and {"type", "title", "status", "detail", "errors"} <= set(schemas["Problem"]["properties"])
    for path, item in document["paths"].items():
        for method, operation in item.items():
            codes = {int(c) for c in operation["responses"] if int(c) >= 400}
            if path.startswith("/api/v1/") and path != "/api/v1/me":
                assert {401, 403, 503} <= codes, (method, path)
            for code in codes:
                content = operation["responses"][str(code)]["content"]
                # The ZKTeco protocol answers a terminal in its own text, refusals (403) included;
                # every other error the document declares is a problem.
                expected = ["text/plain"] if path.startswith("/iclock/") and code in (200, 403) else ["application/problem+json"]
                assert list(content) == expected, (method, path, code)


def test_the_document_declares_the_id_bounds_and_no_offsetless_time_format(client):
    document = client.get("/api/openapi.json").json()
    (param,) = document["paths"]["/api/v1/enrolments/{enrolment_id}"]["get"]["parameters"]
    assert (param["schema"]["minimum"], param["schema"]["maximum"]) == (1, 2**31 - 1)
    assert '"format": "time"' not in str(document).replace("'", '"')


def test_pages_still_take_form_text(client, school):
    # Pages validate the same models from form text (strict=False): a growth note's date arrives as text.
    token = login(client, "admin")
    resp = client.post("/employees/T1", data={"csrf_token": token, "kind": "need", "tag": "voice", "noted_on": "2026-08-30"},
                       follow_redirects=False)
    assert resp.status_code == 303, resp.text
    assert client.get("/api/v1/employees/T1/growth", headers=school).json()[0]["noted_on"] == str(date(2026, 8, 30))
