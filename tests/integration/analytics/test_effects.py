"""A program's isolated effect on a business metric, from stored attendance and metric records."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tests.conftest import make_api_key, make_department, make_employee
from tests.integration.training.conftest import make_program, make_session
from trainquant.analytics.impact import rules
from trainquant.analytics.impact.service import design_for, program_effect
from trainquant.attendance.models import AttendanceRecord
from trainquant.integrations.metrics.service import ingest_records
from trainquant.training.models import Enrolment

# Monday 2026-03-02 00:00 in Beijing, and 30 weeks from it.
WEEK0 = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
NOW = WEEK0 + timedelta(weeks=30)
COHORTS = (8, 11, 14)  # the weeks the three sessions are held in
EFFECT, SEASON = 0.40, 0.30  # the rating lift of training; the summer lifts everyone from week 12 to 22


def _week(n: int) -> datetime:
    return WEEK0 + timedelta(weeks=n)


@pytest.fixture
def school(db):
    rng = np.random.default_rng(5)
    teaching = make_department(db, code="TEACH", kind="teaching")
    sales = make_department(db, code="SALES", kind="marketing")
    teachers = [make_employee(db, employee_no=f"T{i:02d}", department=teaching) for i in range(36)]
    sellers = [make_employee(db, employee_no=f"S{i:02d}", department=sales) for i in range(6)]
    program = make_program(db, code="INTERACT", title="课堂互动技巧")
    sessions = [make_session(db, program=program, code=f"INTERACT-{k + 1}", sequence=k + 1,
                             starts_at=_week(w) + timedelta(days=2, hours=1)) for k, w in enumerate(COHORTS)]
    trained_week: dict[str, int | None] = {}
    for i, t in enumerate(teachers):
        k = i % 4  # three cohorts of 9 and 9 never trained
        trained_week[t.employee_no] = COHORTS[k] if k < 3 else None
        if k == 3:
            continue
        s = sessions[k]
        db.add(Enrolment(session_id=s.id, employee_id=t.id, status="approved", source="hr", created_at=NOW, updated_at=NOW))
        db.add(AttendanceRecord(session_id=s.id, employee_id=t.id, attended_seconds=7200, scheduled_seconds=7200, participation=1.0,
                                late_seconds=0, early_leave_seconds=0, away=[], flags=[], events=2, computed_at=NOW))
    # One more enrolled who attended only half: not trained, and not a comparison either (they took part).
    half = teachers[3]
    db.add(Enrolment(session_id=sessions[0].id, employee_id=half.id, status="approved", source="hr", created_at=NOW, updated_at=NOW))
    db.flush()
    records = []
    for person in teachers + sellers:
        level = 3.6 + rng.normal(0, 0.15)
        for w in range(26):
            since = None if trained_week.get(person.employee_no) is None else w - trained_week[person.employee_no]  # type: ignore[operator]
            value = level + (SEASON if 12 <= w <= 22 else 0.0) + (EFFECT if since is not None and since > 0 else 0.0) + rng.normal(0, 0.1)
            at = _week(w) + timedelta(days=3, hours=2)
            records.append({"record_id": f"{person.employee_no}-{w}", "metric": "teaching.rating.interaction",
                            "value": f"{min(5.0, value):.3f}", "employee_no": person.employee_no, "at": at.isoformat()})
    result = ingest_records(db, "teaching_platform", records, now=NOW)
    assert result.accepted == len(records)
    db.commit()
    return program, trained_week


def test_the_isolated_effect_recovers_the_planted_one_and_the_naive_change_includes_the_season(db, school):
    design = design_for("Asia/Shanghai", pre_days=28, post_days=28)
    report = program_effect(db, "INTERACT", "teaching.rating.interaction", design=design, now=NOW)
    assert (report.sample.trained, report.sample.left_out) == (27, 0)
    # The comparison: the 9 never-trained teachers (and the not-yet-trained), never the sales people.
    people = {r.unit for r in report.sample.rows}
    assert len(people) == 36
    assert report.estimate is not None and report.finding.status == rules.CREDIBLE and report.finding.improved is True
    assert report.estimate.low <= EFFECT <= report.estimate.high
    assert report.naive is not None and report.naive.change > EFFECT + 0.05  # the season lifted the weeks after the first cohorts
    assert report.relative is not None and 0.08 < report.relative < 0.14  # 0.4 on a counterfactual of about 3.7-4.0
    assert report.pretrend is not None and report.pretrend.p_value > 0.05
    assert report.estimate.detectable < EFFECT


def test_too_few_trained_gives_no_number(db, school):
    design = design_for("Asia/Shanghai", pre_days=28, post_days=28)
    report = program_effect(db, "INTERACT", "teaching.rating.interaction", design=design.__class__(**{**design.__dict__, "min_trained": 30}),
                            now=NOW)
    assert report.finding.status == rules.INSUFFICIENT and report.finding.reasons == ("too-few-trained",)
    assert report.estimate is None and report.naive is not None  # the naive change is still what it is


def test_no_records_of_the_metric_and_an_unknown_metric(db, school):
    design = design_for("Asia/Shanghai")
    report = program_effect(db, "INTERACT", "crm.conversion_rate", design=design, now=NOW)
    assert report.finding.status == rules.INSUFFICIENT and report.naive is None and report.sample.rows == ()
    from trainquant.errors import Invalid, NotFound

    with pytest.raises(NotFound):
        program_effect(db, "INTERACT", "crm.nothing", design=design, now=NOW)
    with pytest.raises(Invalid):
        design_for("Asia/Shanghai", pre_days=2)


def test_the_effect_api(client, db, school):
    key = make_api_key(db, scopes=["reports:read"], name="reader")
    db.commit()
    got = client.get("/api/v1/reports/programs/INTERACT/effects/teaching.rating.interaction?pre_days=28&post_days=28",
                     headers={"Authorization": f"Bearer {key}"})
    assert got.status_code == 200, got.text
    body = got.json()
    assert body["finding"]["status"] == "credible" and body["trained"] == 27
    assert body["isolated"]["low"] <= EFFECT <= body["isolated"]["high"]
    assert body["naive"]["change"] > body["isolated"]["effect"]
    bad = client.get("/api/v1/reports/programs/INTERACT/effects/teaching.rating.interaction?pre_days=1", headers={"Authorization": f"Bearer {key}"})
    assert bad.status_code == 422 and bad.headers["content-type"].startswith("application/problem+json")


def test_a_callers_pools_read_the_programs_people_once_for_all_its_metrics(db, school):
    from trainquant.analytics.impact import service

    design = design_for("Asia/Shanghai", pre_days=28, post_days=28)
    version = ("pools", object())  # a version no other test has: the effects cache cannot answer
    pools: dict = {}
    shared = [service.cached_effect(db, "INTERACT", m, design=design, now=NOW, version=version, pools=pools)
              for m in ("teaching.rating.interaction", "teaching.rating.overall")]
    assert list(pools) == [("INTERACT", NOW, None)]
    pool = pools[("INTERACT", NOW, None)]
    assert len(pool.trained) == 27 and set(pool.trained) <= set(pool.people)  # three cohorts of 9
    alone = program_effect(db, "INTERACT", "teaching.rating.interaction", design=design, now=NOW)
    assert shared[0].sample == alone.sample and shared[0].estimate == alone.estimate


@pytest.fixture
def coached(db, school):
    """Six of the first cohort also coached, a week after their session, by a program aimed at the same rating."""
    from sqlalchemy import select

    from trainquant.org.models import Employee

    coach = make_program(db, code="COACH", title="一对一带教", aims=["teaching.rating.interaction"])
    session = make_session(db, program=coach, code="COACH-1", sequence=1, starts_at=_week(COHORTS[0] + 1) + timedelta(days=1, hours=1))
    for no in ("T00", "T04", "T08", "T12", "T16", "T20"):  # i % 4 == 0: the first cohort
        eid = db.scalar(select(Employee.id).where(Employee.employee_no == no))
        db.add(Enrolment(session_id=session.id, employee_id=eid, status="approved", source="hr", created_at=NOW, updated_at=NOW))
        db.add(AttendanceRecord(session_id=session.id, employee_id=eid, attended_seconds=7200, scheduled_seconds=7200, participation=1.0,
                                late_seconds=0, early_leave_seconds=0, away=[], flags=[], events=2, computed_at=NOW))
    db.commit()


def test_another_program_aimed_at_the_figure_meanwhile_is_said_beside_the_effect(client, db, school, coached):
    from tests.conftest import login, make_user
    from trainquant.analytics.impact.rules import Overlap

    design = design_for("Asia/Shanghai", pre_days=28, post_days=28)
    report = program_effect(db, "INTERACT", "teaching.rating.interaction", design=design, now=NOW)
    assert report.overlaps == (Overlap("COACH", 6),)
    assert report.finding.status == rules.CREDIBLE and "concurrent-training" in report.finding.reasons  # 6 of 27 >= 20%
    assert program_effect(db, "INTERACT", "teaching.rating.overall", design=design, now=NOW).overlaps == ()  # not what COACH aims at
    key = make_api_key(db, scopes=["reports:read"], name="reader")
    make_user(db, username="hr1", role="hr")
    db.commit()
    body = client.get("/api/v1/reports/programs/INTERACT/effects/teaching.rating.interaction?pre_days=28&post_days=28",
                      headers={"Authorization": f"Bearer {key}"}).json()
    assert body["overlaps"] == [{"program_code": "COACH", "people": 6}] and "concurrent-training" in body["finding"]["reasons"]
    login(client, "hr1")
    zh = client.get("/reports/programs/INTERACT/effects?pre_days=28&post_days=28")
    assert zh.status_code == 200 and "27 名受训者中 6 名同期还参加了 COACH" in zh.text, zh.text
    en = client.get("/reports/programs/INTERACT/effects?pre_days=28&post_days=28&lang=en")
    assert "6 of 27 also took COACH meanwhile" in en.text
