"""The simulated school's whole platform days through the platform import: the figures equal the ground truth."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.conftest import NOW
from trainquant.attendance.models import AttendanceRecord, CheckinEvent, ProxyCase
from trainquant.org.models import Employee
from trainquant.simulate.attendance.load_platform_day import load_platform_days
from trainquant.simulate.attendance.platform_day import platform_days
from trainquant.simulate.institution.school import generate
from trainquant.simulate.load import load_school
from trainquant.training.models import TrainingSession

TERM = datetime(2026, 11, 16, 2, 0, tzinfo=UTC)  # a Monday in term: the days before it have classes


@pytest.fixture(scope="module")
def school():
    return generate(2026, today=NOW.date())


@pytest.fixture(scope="module")
def days(school):
    return platform_days(school)


@pytest.fixture
def loaded(db, school, days, settings):
    load_school(db, school, now=NOW)
    summary = load_platform_days(db, days, now=NOW, settings=settings)
    db.flush()
    return summary


def _records(db, codes) -> dict[tuple[str, str], AttendanceRecord]:
    q = (select(TrainingSession.code, Employee.employee_no, AttendanceRecord)
         .join(TrainingSession, TrainingSession.id == AttendanceRecord.session_id)
         .join(Employee, Employee.id == AttendanceRecord.employee_id).where(TrainingSession.code.in_(codes)))
    return {(code, no): rec for code, no, rec in db.execute(q)}


def test_every_platforms_whole_day_gives_the_true_figures(db, days, loaded):
    assert [d.platform for d in days] == ["wecom", "dingtalk", "feishu"]
    assert sum(loaded.records.values()) > 2500  # three days of about 300 people's punches
    for d in days:
        records = _records(db, [s.code for s in d.sessions])
        truth = {(t.session_code, t.employee_no): t for t in d.truth}
        assert set(records) == set(truth), d.platform  # the enrolled only: no walk-in, no commuter got a record
        wrong = [(k, t.behaviour, records[k].attended_seconds, t.attended_seconds) for k, t in truth.items()
                 if records[k].attended_seconds != t.attended_seconds]
        assert wrong == [], (d.platform, wrong[:10])
        behaviours = {t.behaviour for t in d.truth}
        assert behaviours >= {"full", "late", "early-leave", "steps-out", "forgot-checkout", "absent"}, d.platform


def test_the_platforms_verdicts_walk_ins_and_punches_of_no_session_are_kept_apart(db, days, loaded):
    assert loaded.reasons["walk-in"] == sum(2 * len(d.walk_ins) for d in days)
    assert loaded.reasons["platform-rejected"] == 8  # DingTalk's illegal and Feishu's Lack records
    assert loaded.reasons["malformed"] == 4  # WeCom's 未打卡 records
    assert loaded.reasons["unrelated"] > 1000 and loaded.reasons["double-tap"] > 0
    cases = list(db.scalars(select(ProxyCase).where(ProxyCase.signal == "platform-verdict")))
    assert len(cases) == sum(d.planted["review"] for d in days)
    walk_ins = {(code, no) for d in days for code, no in d.walk_ins}
    stored = set(db.execute(select(TrainingSession.code, Employee.employee_no)
                            .join(CheckinEvent, CheckinEvent.session_id == TrainingSession.id)
                            .join(Employee, Employee.id == CheckinEvent.employee_id)
                            .where(CheckinEvent.reason_code == "walk-in")).all())
    assert stored == walk_ins


def test_importing_the_days_again_repeats_every_record_and_changes_no_figure(db, days, loaded, settings):
    before = {k: r.attended_seconds for k, r in _records(db, [s.code for d in days for s in d.sessions]).items()}
    again = load_platform_days(db, days, now=NOW, settings=settings)
    assert again.verdicts["accepted"] == again.verdicts["rejected"] == 0
    assert again.verdicts["duplicate"] == sum(d.records for d in days)
    db.expire_all()
    assert {k: r.attended_seconds for k, r in _records(db, [s.code for d in days for s in d.sessions]).items()} == before


@pytest.mark.parametrize(("seed", "now"), [(1, NOW), (2, NOW), (3, NOW), (2026, TERM), (4, TERM)])
def test_other_schools_days_give_the_true_figures_too(db, settings, seed, now):
    """Other seeds, other people and behaviours, and days in term (teachers' classes then: nobody is
    enrolled across their own class): the import is not fitted to one simulated school."""
    other = generate(seed, today=now.date())
    other_days = platform_days(other)
    load_school(db, other, now=now)
    load_platform_days(db, other_days, now=now, settings=settings)
    db.flush()
    wrong = []
    for d in other_days:
        records = _records(db, [s.code for s in d.sessions])
        truth = {(t.session_code, t.employee_no): t for t in d.truth}
        assert set(records) == set(truth), d.platform
        wrong += [(d.platform, k, t.behaviour, records[k].attended_seconds, t.attended_seconds)
                  for k, t in truth.items() if records[k].attended_seconds != t.attended_seconds]
    assert wrong == []
