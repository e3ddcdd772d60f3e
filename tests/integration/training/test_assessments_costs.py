"""Assessments against their scales, who may record and see them; cost items in Decimal and their totals."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.integration.training.conftest import make_program, make_session, problem
from trainquant.training.models import Assessment, AssessmentKind


@pytest.fixture
def course(db, school):
    program = make_program(db, code="CI")
    make_session(db, program=program)
    make_program(db, code="GR")
    db.commit()


def record(school, who: str = "hr", **body):
    return school.call(who, "POST", "/api/v1/assessments", {"employee_no": "T1", "assessed_on": "2026-08-30", **body})


def test_the_kinds_are_seeded_by_the_migration(school, db):
    kinds = {k["code"]: k for k in school.call("t1", "GET", "/api/v1/assessment-kinds").json()}
    assert set(kinds) == {"trial_lecture", "online_test", "script_simulation", "case_analysis", "ielts", "toefl", "communication", "error_rate"}
    assert (kinds["trial_lecture"]["name"], kinds["trial_lecture"]["pass_mark"], kinds["trial_lecture"]["multiple_raters"]) == ("试讲评分", 85, True)
    assert (kinds["ielts"]["max_value"], kinds["ielts"]["step"]) == (9, 0.5)
    assert (kinds["error_rate"]["scale"], kinds["error_rate"]["higher_is_better"], kinds["error_rate"]["pass_mark"]) == ("ratio", False, 0)
    assert db.get(AssessmentKind, "case_analysis").scale == "pass_fail"


@pytest.mark.parametrize(
    "body,score,passed",
    [
        ({"kind": "trial_lecture", "score": 88}, 88, True),
        ({"kind": "trial_lecture", "ratings": [{"rater": "王老师", "score": 86}, {"rater": "李老师", "score": 85.5}, {"rater": "Anna", "score": 83}]}, 84.83, False),
        ({"kind": "script_simulation", "score": 95}, 95, True),
        ({"kind": "online_test", "score": 59.5}, 59.5, False),
        ({"kind": "ielts", "score": 7.5}, 7.5, None),
        ({"kind": "toefl", "score": 120}, 120, None),
        ({"kind": "communication", "score": 90}, 90, True),
        ({"kind": "case_analysis", "passed": True}, None, True),
        ({"kind": "error_rate", "errors": 0, "operations": 40}, 0, True),
        ({"kind": "error_rate", "errors": 2, "operations": 40}, 0.05, False),
    ],
)
def test_valid_results(school, course, body, score, passed):
    got = record(school, **body, program_code="CI", evidence="https://intranet/rec/1")
    assert got.status_code == 201, got.text
    row = got.json()
    assert (row["score"], row["passed"], row["program_code"]) == (score, passed, "CI")
    assert row["created_by"] == "hr"


def test_raters_are_kept(school, course):
    row = record(school, kind="trial_lecture", ratings=[{"rater": "王老师", "score": 90}, {"rater": "李老师", "score": 86}], session_code="CI-1").json()
    assert row["ratings"] == [{"rater": "王老师", "score": 90.0}, {"rater": "李老师", "score": 86.0}]
    assert (row["rater"], row["score"], row["session_code"], row["program_code"]) == ("王老师、李老师", 88, "CI-1", "CI")


@pytest.mark.parametrize(
    "body,field,message",
    [
        ({"kind": "trial_lecture", "score": 130}, "score", "must be between 0 and 100"),
        ({"kind": "ielts", "score": 7.3}, "score", "must be in steps of 0.5"),
        ({"kind": "toefl", "score": 121}, "score", "must be between 0 and 120"),
        ({"kind": "case_analysis"}, "passed", "needs passed: true or false"),
        ({"kind": "case_analysis", "score": 80}, "score", "pass/fail"),
        ({"kind": "error_rate", "errors": 3}, "operations", "needs errors and operations"),
        ({"kind": "error_rate", "errors": 5, "operations": 4}, "errors", "between 0 and the number of operations"),
        ({"kind": "ielts", "ratings": [{"rater": "a", "score": 7}]}, "ratings", "one rater"),
        ({"kind": "trial_lecture", "ratings": [{"rater": "a", "score": 90}, {"rater": "b", "score": 101}]}, "ratings.1.score", "between 0 and 100"),
        ({"kind": "karaoke", "score": 10}, "kind", "unknown assessment kind"),
        ({"kind": "ielts", "score": 7, "assessed_on": "2026-09-02"}, "assessed_on", "future"),
        ({"kind": "ielts", "score": 7, "session_code": "CI-1", "program_code": "GR"}, "session_code", "not part of program"),
        ({"kind": "ielts", "score": 7, "program_code": "NOPE"}, "program_code", "no program"),
        ({"kind": "ielts", "score": "seven"}, "score", ""),
        ({"kind": "ielts", "score": 7, "extra": 1}, "extra", ""),
    ],
)
def test_invalid_results(school, course, db, body, field, message):
    got = problem(record(school, **body), 422)
    assert message in got["detail"], got
    assert any(e["field"] == field for e in got["errors"]), got
    assert db.scalar(select(func.count(Assessment.id))) == 0


def test_who_records_and_who_sees(school, course, db):
    assert record(school, "boss", kind="trial_lecture", score=90).status_code == 201  # their team
    problem(record(school, "boss", employee_no="M1", kind="script_simulation", score=90), 404)  # out of scope
    problem(record(school, "boss", employee_no="B1", kind="ielts", score=7), 403)  # not themselves
    problem(record(school, "t1", kind="ielts", score=9), 403)  # no permission
    assert record(school, "hr", employee_no="T2", kind="toefl", score=100).status_code == 201
    assert record(school, "hr", employee_no="M1", kind="case_analysis", passed=True).status_code == 201

    def seen(who, **params):
        return sorted(a["employee_no"] for a in school.call(who, "GET", "/api/v1/assessments", params=params).json()["items"])

    assert seen("hr") == ["M1", "T1", "T2"]
    assert seen("boss") == ["T1", "T2"]
    assert seen("t1") == ["T1"]  # an employee sees only their own
    assert seen("t1", employee="T2") == []
    assert seen("m1") == ["M1"]
    assert seen("hr", kind="toefl") == ["T2"]
    assert seen("hr", assessed_from="2026-08-31") == []
    others = school.call("hr", "GET", "/api/v1/assessments", params={"employee": "T2"}).json()["items"][0]["id"]
    problem(school.call("t1", "GET", f"/api/v1/assessments/{others}"), 404)
    assert school.call("t2", "GET", f"/api/v1/assessments/{others}").status_code == 200
    page = school.call("hr", "GET", "/api/v1/assessments", params={"page_size": 1}).json()
    assert page["total"] == 3 and len(page["items"]) == 1


# ---------------------------------------------------------------- costs


def add_cost(school, **body):
    return school.call("hr", "POST", "/api/v1/costs", {"category": "trainer_fee", "amount": "1000.00", **body})


def test_costs_are_decimal_and_totalled_per_currency(school, course):
    assert add_cost(school, program_code="CI", amount="5000.10").status_code == 201
    item = add_cost(school, session_code="CI-1", category="venue", amount="1200.05", incurred_on="2026-09-08", note="场地费").json()
    assert (item["amount"], item["currency"], item["program_code"], item["session_code"]) == ("1200.05", "CNY", "CI", "CI-1")
    add_cost(school, program_code="CI", category="materials", amount=0.1)
    add_cost(school, program_code="CI", category="licence", amount="300", currency="USD")
    add_cost(school, program_code="GR", amount="10")
    totals = school.call("hr", "GET", "/api/v1/costs/totals", params={"program": "CI"}).json()
    (ci,) = totals
    assert ci["totals"] == [
        {"currency": "CNY", "amount": "6200.25", "by_category": {"materials": "0.10", "trainer_fee": "5000.10", "venue": "1200.05"}},
        {"currency": "USD", "amount": "300.00", "by_category": {"licence": "300.00"}},
    ]
    every = school.call("hr", "GET", "/api/v1/costs/totals").json()
    assert [t["program_code"] for t in every] == ["CI", "GR"]
    listed = school.call("hr", "GET", "/api/v1/costs", params={"program": "CI"}).json()
    assert listed["total"] == 4
    assert school.call("hr", "GET", "/api/v1/costs", params={"session": "CI-1"}).json()["total"] == 1
    assert school.call("hr", "DELETE", f"/api/v1/costs/{item['id']}").status_code == 204
    assert school.call("hr", "GET", "/api/v1/costs/totals", params={"program": "CI"}).json()[0]["totals"][0]["amount"] == "5000.20"


@pytest.mark.parametrize(
    "body,field",
    [
        ({"program_code": "CI", "amount": "12.345"}, "amount"),
        ({"program_code": "CI", "amount": -1}, "amount"),
        ({"program_code": "CI", "amount": "NaN"}, "amount"),
        ({"program_code": "CI", "currency": "rmb"}, "currency"),
        ({"program_code": "CI", "category": "snacks"}, "category"),
        ({}, None),
        ({"program_code": "NOPE"}, "program_code"),
        ({"session_code": "NOPE"}, "session_code"),
        ({"program_code": "GR", "session_code": "CI-1"}, "session_code"),
    ],
)
def test_bad_costs(school, course, body, field):
    got = problem(add_cost(school, **body), 422)
    if field:
        assert any((e["field"] or "").startswith(field) for e in got["errors"]), got


def test_costs_are_for_hr(school, course):
    for who in ("boss", "t1"):
        problem(school.call(who, "GET", "/api/v1/costs"), 403)
        problem(school.call(who, "GET", "/api/v1/costs/totals"), 403)
        problem(school.call(who, "POST", "/api/v1/costs", {"program_code": "CI", "category": "venue", "amount": "1"}), 403)
    assert school.call("key", "GET", "/api/v1/costs").status_code == 200
