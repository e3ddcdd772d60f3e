"""The indicator API: modules, indicators and versions, validation, evaluations and who sees what."""

from __future__ import annotations

import pytest

from tests.integration.indicators.conftest import PERIOD_END

TRIAL = "trial_lecture_score"
NEW = {
    "code": "child_psychology_score", "module_code": "teaching_skill", "name": "儿童心理学考核", "name_en": "Child psychology",
    "metric": "assessment_score", "params": {"assessment_kind": "online_test"}, "aggregation": "max", "window_days": 90,
    "operator": ">=", "threshold": 80,
}


def problem(resp, status):
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    return resp.json()


def error_fields(resp) -> set[str]:
    return {e["field"] for e in problem(resp, 422).get("errors", [])}


@pytest.fixture
def hr(school, as_user):
    return as_user("hr")


# ---------------------------------------------------------------- definitions


def test_modules_and_indicators_of_the_defaults(hr):
    modules = hr.get("/api/v1/indicator-modules").json()
    assert [(m["code"], m["department_kind"], m["indicator_count"]) for m in modules] == [
        ("process_familiarity", "admin", 2), ("efficiency", "admin", 1),
        ("acquisition_skill", "marketing", 2), ("conversion", "marketing", 1),
        ("teaching_skill", "teaching", 3), ("language_level", "teaching", 3),
    ]
    teaching = hr.get("/api/v1/indicators", params={"kind": "teaching"}).json()
    assert [i["code"] for i in teaching] == [
        "theory_study_hours", TRIAL, "student_rating_improvement", "exam_score_gain", "foreign_teacher_communication",
        "exam_score_gain_toefl",
    ]
    trial = teaching[1]
    assert (trial["version_count"], trial["current"]["version"], trial["current"]["threshold"], trial["metric_available"]) == (2, 2, 85, True)
    # the second version of the defaults: the latest attempt of the last 365 days; teaching programs' hours in the calendar year
    assert (trial["current"]["aggregation"], trial["current"]["window_days"], trial["current"]["window_kind"]) == ("last", 365, "days")
    assert (teaching[0]["current"]["window_kind"], teaching[0]["current"]["programs"]) == ("year", {"target_kinds": ["teaching"]})
    assert [(i["current"]["params"], i["current"]["unit"]) for i in teaching if i["current"]["metric"] == "exam_score_change"] == [
        ({"exam": "ielts"}, "band"), ({"exam": "toefl"}, "score")]
    assert teaching[0]["metric_available"] is True  # study hours come from attendance
    assert len(hr.get("/api/v1/indicators").json()) == 12


def test_metrics_registry(hr):
    metrics = {m["code"]: m for m in hr.get("/api/v1/indicator-metrics").json()}
    assert metrics["assessment_score"]["available"] and metrics["assessment_score"]["param_required"]
    assert "trial_lecture" in metrics["assessment_score"]["choices"]
    assert metrics["online_hours"]["available"] is True  # from the LRS (learning/service.py)
    assert metrics["online_hours"]["source"] == "learning"


def test_create_edit_and_retire_keep_every_version(hr):
    module = hr.post("/api/v1/indicator-modules", json={"code": "kids_teaching", "department_kind": "teaching", "name": "少儿教学", "name_en": "Kids teaching"})
    assert module.status_code == 201, module.text
    created = hr.post("/api/v1/indicators", json=NEW | {"module_code": "kids_teaching"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["current"]["effective_from"] == "2026-09-01"  # today in Asia/Shanghai
    assert body["current"]["unit"] == "score" and body["current"]["created_by"] == "hr"
    v1 = body["versions"][0]

    edited = hr.post(f"/api/v1/indicators/{NEW['code']}/versions", json={"threshold": 85, "note": "raise the bar"})
    assert edited.status_code == 201, edited.text
    after = edited.json()
    assert [v["version"] for v in after["versions"]] == [1, 2]
    assert after["versions"][0] == v1  # the old version is never modified
    assert (after["current"]["threshold"], after["current"]["note"], after["current"]["operator"]) == (85, "raise the bar", ">=")

    same = hr.post(f"/api/v1/indicators/{NEW['code']}/versions", json={"threshold": 85})
    assert "unchanged" in [e["code"] for e in problem(same, 422)["errors"]]
    too_early = hr.post(f"/api/v1/indicators/{NEW['code']}/versions", json={"threshold": 90, "effective_from": "2026-08-01"})
    assert error_fields(too_early) == {"effective_from"}

    retired = hr.post(f"/api/v1/indicators/{NEW['code']}/retire", json={"note": "line closed"})
    assert retired.status_code == 200 and retired.json()["retired_at"] and retired.json()["retire_note"] == "line closed"
    assert NEW["code"] not in [i["code"] for i in hr.get("/api/v1/indicators").json()]
    assert NEW["code"] in [i["code"] for i in hr.get("/api/v1/indicators", params={"include_retired": True}).json()]
    assert len(hr.get(f"/api/v1/indicators/{NEW['code']}").json()["versions"]) == 2
    problem(hr.post(f"/api/v1/indicators/{NEW['code']}/versions", json={"threshold": 70}), 409)
    problem(hr.post(f"/api/v1/indicators/{NEW['code']}/retire", json={}), 409)


def test_changing_the_metric_drops_the_old_parameter_and_unit(hr):
    resp = hr.post(f"/api/v1/indicators/{TRIAL}/versions", json={"metric": "study_hours", "aggregation": "sum", "threshold": 12})
    assert resp.status_code == 201, resp.text
    cur = resp.json()["current"]
    assert (cur["params"], cur["unit"], cur["metric"]) == ({}, "h", "study_hours")


@pytest.mark.parametrize(
    ("changes", "fields"),
    [
        ({"metric": "happiness"}, {"metric"}),
        ({"operator": "!="}, {"operator"}),
        ({"aggregation": "median"}, {"aggregation"}),
        ({"aggregation": "sum"}, {"aggregation"}),  # a sum of scores
        ({"window_days": 0}, {"window_days"}),
        ({"window_days": -30}, {"window_days"}),
        ({"params": {}}, {"params.assessment_kind"}),
        ({"params": {"assessment_kind": "karaoke"}}, {"params.assessment_kind"}),
        ({"params": {"assessment_kind": 5}}, {"params.assessment_kind"}),
        ({"metric": "business_change_pct", "aggregation": "change", "params": {}}, {"params.business_metric"}),
        ({"threshold": "high"}, {"threshold"}),
        ({"unit": "furlong"}, {"unit"}),
        ({"module_code": "nope"}, {"module_code"}),
        ({"code": "new"}, {"code"}),
        ({"code": "Has Spaces"}, {"code"}),
        ({"colour": "red"}, {"colour"}),
    ],
)
def test_invalid_definitions_are_422_with_the_field(hr, changes, fields):
    assert error_fields(hr.post("/api/v1/indicators", json=NEW | changes)) == fields


def test_invalid_edits_are_422_and_duplicates_409(hr):
    assert error_fields(hr.post(f"/api/v1/indicators/{TRIAL}/versions", json={"operator": "=>"})) == {"operator"}
    assert error_fields(hr.post(f"/api/v1/indicators/{TRIAL}/versions", json={"params": {}})) == {"params.assessment_kind"}
    assert error_fields(hr.post(f"/api/v1/indicators/{TRIAL}/versions", json={"window_days": 0})) == {"window_days"}
    problem(hr.post(f"/api/v1/indicators/{TRIAL}/versions", json={"note": "only a note"}), 422)
    problem(hr.post(f"/api/v1/indicators/{TRIAL}/versions", json={"threshold": None}), 422)
    problem(hr.post("/api/v1/indicators", json=NEW | {"code": TRIAL}), 409)
    problem(hr.post("/api/v1/indicator-modules", json={"code": "conversion", "department_kind": "marketing", "name": "x", "name_en": "x"}), 409)
    problem(hr.get("/api/v1/indicators/nope"), 404)
    problem(hr.post("/api/v1/indicators/nope/versions", json={"threshold": 1}), 404)


@pytest.mark.parametrize("who", ["boss", "t1"])
def test_changes_need_indicators_write(school, as_user, who):
    client = as_user(who)
    assert client.get("/api/v1/indicators").status_code == 200  # everyone may read definitions
    problem(client.post("/api/v1/indicators", json=NEW), 403)
    problem(client.post(f"/api/v1/indicators/{TRIAL}/versions", json={"threshold": 1}), 403)
    problem(client.post(f"/api/v1/indicators/{TRIAL}/retire", json={}), 403)
    problem(client.post("/api/v1/evaluations", json={"period_end": "2026-08-31"}), 403)


def test_api_keys_and_anonymous(school, client):
    reader = {"Authorization": f"Bearer {school.read_key}"}
    writer = {"Authorization": f"Bearer {school.write_key}"}
    assert client.get("/api/v1/indicators", headers=reader).status_code == 200
    problem(client.post("/api/v1/indicators", json=NEW, headers=reader), 403)
    created = client.post("/api/v1/indicators", json=NEW, headers=writer)
    assert created.status_code == 201 and created.json()["current"]["created_by"] == "apikey:writer"
    problem(client.get("/api/v1/indicators"), 401)


# ---------------------------------------------------------------- evaluations and scope


@pytest.fixture
def evaluated(hr):
    run = hr.post("/api/v1/evaluations", json={"period_end": PERIOD_END.isoformat()})
    assert run.status_code == 201, run.text
    return run.json()


def test_a_run_counts_its_results(evaluated):
    # 3 teachers x 6 + 1 marketer x 3 + 1 admin x 3
    assert (evaluated["employees"], evaluated["evaluations"], evaluated["population"]) == (5, 24, "all")
    assert evaluated["met"] + evaluated["not_met"] + evaluated["no_data"] == 24


def test_employee_results(hr, evaluated):
    body = hr.get("/api/v1/evaluations/employees/T1").json()
    assert body["run_id"] == evaluated["id"] and body["period_end"] == "2026-08-31"
    got = {r["indicator_code"]: (r["status"], r["value"], r["reason"]) for r in body["results"]}
    assert got == {
        "theory_study_hours": ("no_data", None, "no-facts"),  # no session to attend is no data, not 0 hours
        TRIAL: ("met", 88.0, None),
        "student_rating_improvement": ("no_data", None, "no-training"),  # the change is read around a training; T1 had none
        "exam_score_gain": ("met", 0.5, None),
        "exam_score_gain_toefl": ("no_data", None, "no-facts"),  # T1 sat IELTS only
        "foreign_teacher_communication": ("met", 92.0, None),
    }
    hours = next(r for r in body["results"] if r["indicator_code"] == "theory_study_hours")
    assert (hours["window_start"], hours["window_end"]) == ("2026-01-01", "2026-08-31")  # the calendar year
    trial = next(r for r in body["results"] if r["indicator_code"] == TRIAL)
    assert [f["value"] for f in trial["facts"]] == [88.0] and trial["facts"][0]["ref"].startswith("assessment:")
    # teaching skill: trial lecture met, study hours and rating lift no data -> 1 of 1.
    assert {m["module_code"]: m["score"] for m in body["modules"]} == {"teaching_skill": 1.0, "language_level": 1.0}
    m1 = {r["indicator_code"]: r["status"] for r in hr.get("/api/v1/evaluations/employees/M1").json()["results"]}
    assert m1 == {"script_simulation_score": "met", "case_analysis_pass_rate": "met", "conversion_lift_30d": "no_data"}
    a1 = {r["indicator_code"]: r["status"] for r in hr.get("/api/v1/evaluations/employees/A1").json()["results"]}
    # Online hours have a source, but A1 watched nothing and attended nothing: no data, not 0 h.
    assert a1 == {"online_course_hours": "no_data", "practical_error_rate": "met", "process_time_change": "no_data"}
    empty = hr.get("/api/v1/evaluations/employees/T1", params={"period_end": "2025-01-01"}).json()
    assert empty["results"] == [] and empty["run_id"] is None


def test_department_summary(hr, evaluated):
    body = hr.get("/api/v1/evaluations/departments/TEACH").json()
    assert body["employees"] == 3
    shares = {s["indicator_code"]: (s["met"], s["not_met"], s["no_data"], s["share_met"]) for s in body["indicators"]}
    assert shares[TRIAL] == (1, 1, 1, 0.5)  # T1 met, T2 missed, T0 has no trial lecture
    assert shares["theory_study_hours"] == (0, 0, 3, None)  # nobody had a session to attend
    # teaching skill: only the trial lecture has data (0.5); language level: IELTS and communication met.
    assert {m["module_code"]: m["score"] for m in body["modules"]} == {"teaching_skill": 0.5, "language_level": 1.0}
    assert hr.get("/api/v1/evaluations/departments/IELTS").json()["employees"] == 1


def test_an_employee_sees_only_their_own_results(school, as_user, evaluated):
    t1 = as_user("t1")
    assert t1.get("/api/v1/evaluations/employees/T1").status_code == 200
    problem(t1.get("/api/v1/evaluations/employees/T2"), 404)
    problem(t1.get("/api/v1/evaluations/departments/IELTS"), 403)


def test_a_manager_sees_their_departments_only(school, as_user, evaluated):
    boss = as_user("boss")
    assert boss.get("/api/v1/evaluations/employees/T1").status_code == 200  # IELTS is under TEACH
    assert boss.get("/api/v1/evaluations/departments/TEACH").status_code == 200
    assert boss.get("/api/v1/evaluations/departments/IELTS").status_code == 200
    problem(boss.get("/api/v1/evaluations/employees/M1"), 404)
    problem(boss.get("/api/v1/evaluations/departments/MKT"), 403)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"period_end"}),
        ({"period_end": "2026-02-30"}, {"period_end"}),
        ({"period_end": "2026-08-31", "department_kind": "sales"}, {"department_kind"}),
        ({"period_end": "2026-08-31", "department_code": "NOPE"}, {"department_code"}),
        ({"period_end": "2026-08-31", "employee_no": "GHOST"}, {"employee_no"}),
        ({"period_end": "2026-08-31", "extra": 1}, {"extra"}),
    ],
)
def test_invalid_runs_are_422(hr, body, fields):
    assert error_fields(hr.post("/api/v1/evaluations", json=body)) == fields


def test_runs_for_a_kind_a_department_and_one_employee(hr):
    kind = hr.post("/api/v1/evaluations", json={"period_end": "2026-08-31", "department_kind": "marketing"}).json()
    assert (kind["population"], kind["employees"], kind["evaluations"]) == ("kind:marketing", 1, 3)
    dep = hr.post("/api/v1/evaluations", json={"period_end": "2026-08-31", "department_code": "TEACH"}).json()
    assert (dep["population"], dep["employees"]) == ("department:TEACH", 3)
    one = hr.post("/api/v1/evaluations", json={"period_end": "2026-08-31", "employee_no": "T2"}).json()
    assert (one["population"], one["employees"], one["evaluations"], one["not_met"]) == ("employee:T2", 1, 6, 1)
    problem(hr.post("/api/v1/evaluations", json={"period_end": "2026-08-31", "department_kind": "admin", "employee_no": "A1"}), 422)


# ---------------------------------------------------------------- a stored run read back by id


def test_a_run_is_read_back_by_id_as_it_was_stored(hr, evaluated):
    run_id = evaluated["id"]
    body = hr.get(f"/api/v1/evaluations/{run_id}", params={"page_size": 5}).json()
    assert body["run"] == evaluated
    assert (body["total"], body["page"], body["page_size"], len(body["items"])) == (24, 1, 5, 5)
    first = body["items"][0]
    assert (first["employee_no"], first["indicator_code"]) == ("A1", "online_course_hours")  # by employee number, then indicator
    assert (first["status"], first["reason"], first["window_kind"], first["programs"]) == ("no_data", "no-facts", "year", {"target_kinds": ["admin"]})
    missing = hr.get(f"/api/v1/evaluations/{run_id}", params={"status": "no_data", "reason": "no-facts", "page_size": 100}).json()
    assert missing["total"] == len(missing["items"]) and {i["reason"] for i in missing["items"]} == {"no-facts"}
    t1 = hr.get(f"/api/v1/evaluations/{run_id}", params={"indicator": TRIAL, "department": "IELTS"}).json()
    assert [(i["employee_no"], i["status"], i["value"], i["version"]) for i in t1["items"]] == [("T1", "met", 88.0, 2)]
    # a newer version and a newer run leave the stored run as it was
    hr.post(f"/api/v1/indicators/{TRIAL}/versions", json={"threshold": 95, "effective_from": "2026-08-01"})
    hr.post("/api/v1/evaluations", json={"period_end": PERIOD_END.isoformat()})
    again = hr.get(f"/api/v1/evaluations/{run_id}", params={"indicator": TRIAL, "department": "IELTS"}).json()
    assert again["items"] == t1["items"]
    problem(hr.get("/api/v1/evaluations/999999"), 404)
    assert error_fields(hr.get(f"/api/v1/evaluations/{run_id}", params={"reason": "bored"})) == {"reason"}


def test_a_run_read_back_shows_each_reader_their_own(school, as_user, evaluated):
    run_id = evaluated["id"]
    mine = as_user("t1").get(f"/api/v1/evaluations/{run_id}").json()
    assert {i["employee_no"] for i in mine["items"]} == {"T1"} and mine["total"] == 6 and mine["run"]["evaluations"] == 6
    boss = as_user("boss").get(f"/api/v1/evaluations/{run_id}").json()
    assert {i["employee_no"] for i in boss["items"]} == {"T0", "T1", "T2"} and boss["total"] == 18
    problem(as_user("boss").get(f"/api/v1/evaluations/{run_id}", params={"department": "MKT"}), 403)
