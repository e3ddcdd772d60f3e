"""Loading the simulated training year after the school, through the training models."""

from collections import Counter
from itertools import pairwise

import pytest
from sqlalchemy import func, select

from tests.conftest import NOW
from trainquant.simulate.institution.school import generate
from trainquant.simulate.load import load_school
from trainquant.simulate.training.generate import ACTOR, generate_training
from trainquant.simulate.training.load import load_training
from trainquant.training.models import (
    Assessment,
    CostItem,
    Enrolment,
    EnrolmentEvent,
    MandatoryRule,
    Program,
    TrainingSession,
)

TODAY = NOW.date()


@pytest.fixture(scope="module")
def school():
    return generate(2026, today=TODAY)


@pytest.fixture(scope="module")
def year(school):
    return generate_training(school, 2026)


@pytest.fixture
def loaded(db, school, year):
    load_school(db, school, now=NOW)
    summary = load_training(db, school, year, now=NOW)
    db.commit()
    return summary


def count(db, model) -> int:
    return db.scalar(select(func.count()).select_from(model))


def test_counts_equal_the_generated_year(db, year, loaded):
    assert count(db, Program) == loaded.programs == len(year.programs)
    assert count(db, MandatoryRule) == loaded.rules == 1
    assert count(db, TrainingSession) == loaded.sessions == len(year.sessions)
    assert count(db, Enrolment) == loaded.enrolments == len(year.enrolments)
    assert count(db, EnrolmentEvent) == loaded.events == sum(len(e.events) for e in year.enrolments)
    assert count(db, Assessment) == loaded.assessments == len(year.assessments)
    assert count(db, CostItem) == loaded.costs == len(year.costs)
    assert Counter(db.scalars(select(Enrolment.status))) == Counter(e.status for e in year.enrolments)
    assert db.scalar(select(func.sum(CostItem.amount))) == sum(c.amount for c in year.costs)


def test_a_second_load_creates_nothing(db, school, year, loaded):
    again = load_training(db, school, year, now=NOW)
    assert again.created == 0
    assert count(db, Enrolment) == len(year.enrolments)


def test_history_is_one_event_per_transition(db, loaded):
    events: dict[int, list[EnrolmentEvent]] = {}
    for ev in db.scalars(select(EnrolmentEvent).order_by(EnrolmentEvent.id)):
        events.setdefault(ev.enrolment_id, []).append(ev)
    for e in db.scalars(select(Enrolment)):
        history = events[e.id]
        assert history[0].from_status is None and history[-1].to_status == e.status
        assert all(a.to_status == b.from_status and a.at <= b.at for a, b in pairwise(history))
        assert {ev.actor for ev in history} == {ACTOR}


def test_trial_lecture_mean_equals_the_truth(db, year, loaded):
    mean = db.scalar(select(func.avg(Assessment.score)).where(Assessment.kind_code == "trial_lecture"))
    assert mean == pytest.approx(year.truth.mean("trial_lecture"), abs=1e-6)
    passed = db.scalars(select(Assessment.passed).where(Assessment.kind_code == "case_analysis")).all()
    assert sum(passed) / len(passed) == pytest.approx(year.truth.mean("case_analysis"))
