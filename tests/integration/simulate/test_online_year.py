"""The simulated online year (part 5) through the LRS: the coverage, completion and study time the
platform computes from the statements equal the ground truth worked out from each behaviour."""

from collections import Counter

import pytest
from sqlalchemy import func, select

from tests.conftest import NOW
from trainquant.learning.fast import coverage_all
from trainquant.learning.lrs import blocks
from trainquant.learning.models import XapiVideoBlock
from trainquant.learning.service import course_progress
from trainquant.org.models import Employee
from trainquant.simulate.institution.school import generate
from trainquant.simulate.learning.generate import BEHAVIOURS, LENGTH_S, generate_online_year
from trainquant.simulate.learning.load import load_online_year
from trainquant.simulate.load import load_school
from trainquant.training.models import Program

HOME = "http://127.0.0.1:8000/"


@pytest.fixture(scope="module")
def school():
    return generate(2026, today=NOW.date())


@pytest.fixture(scope="module")
def year(school):
    return generate_online_year(school, home=HOME)


@pytest.fixture
def loaded(db, school, year, tmp_path):
    load_school(db, school, now=NOW)
    return load_online_year(db, year, instance=tmp_path, home=HOME, now=NOW)


def test_every_behaviour_is_in_the_year(year):
    seen = Counter(year.behaviour.values())
    assert set(seen) == set(BEHAVIOURS)
    assert min(seen.values()) >= 3


def test_computed_coverage_and_study_time_equal_the_ground_truth(db, year, loaded, tmp_path):
    assert loaded.statements == len(year.statements) > 5000
    ids = dict(db.execute(select(Employee.employee_no, Employee.id)).all())
    checked = Counter()
    for course in year.courses:
        program = db.scalar(select(Program.id).where(Program.code == course.code))
        learners = sorted({no for no, code in year.truth if code == course.code})
        progress = course_progress(db, program, [ids[no] for no in learners])
        for no in learners:
            truth, got = year.truth[(no, course.code)], progress[ids[no]]
            kind = year.behaviour[(no, course.code)]
            for v in got.videos:
                activity = next(s.activity_id for s in course.videos if s.position == v.position)
                assert v.coverage.watched == pytest.approx(truth.watched[activity], abs=1e-6), (no, kind, v.title)
            assert got.complete == truth.complete(course), (no, kind)
            assert got.study_seconds == pytest.approx(truth.study_seconds, abs=1e-6), (no, kind)
            checked[kind] += 1
    assert set(checked) == set(BEHAVIOURS)
    # Loading again stores nothing twice.
    assert load_online_year(db, year, instance=tmp_path, home=HOME, now=NOW).statements == 0


def test_the_video_blocks_give_the_ground_truth_before_and_after_compaction(db, year, loaded):
    """The NumPy path over the blocks the LRS wrote (learning/lrs/blocks.py), not over the statements'
    JSON: the same coverage and completeness as the ground truth, and compaction changes nothing."""
    ids = dict(db.execute(select(Employee.employee_no, Employee.id)).all())
    videos = {s.activity_id: s for c in year.courses for s in c.videos}
    lengths = {a: float(LENGTH_S) for a in videos}
    speeds = {s.activity_id: c.max_speed for c in year.courses for s in c.videos}
    before = db.scalar(select(func.count()).select_from(XapiVideoBlock))
    for compacted in (False, True):
        if compacted:
            merged = blocks.compact(db)
            assert db.scalar(select(func.count()).select_from(XapiVideoBlock)) == before - merged + merged // blocks.FANOUT
            assert sum(db.scalars(select(XapiVideoBlock.rows))) == loaded.statements  # every statement once
        figures = coverage_all(blocks.read_columns(db, list(videos)), lengths=lengths, max_speeds=speeds)
        for (no, code), truth in year.truth.items():
            course = next(c for c in year.courses if c.code == code)
            for activity, watched in truth.watched.items():
                assert figures.watched.get((ids[no], activity), 0.0) == pytest.approx(watched, abs=1e-6), (no, code, compacted)
            complete = all(figures.complete.get((ids[no], s.activity_id), False) for s in course.videos)
            assert complete == truth.complete(course), (no, code, compacted)


def test_the_truth_completes_only_whoever_watched_everything(year):
    completes = Counter((kind, key[1]) for key, kind in year.behaviour.items()
                        if year.truth[key].complete(next(c for c in year.courses if c.code == key[1])))
    # 2x is within the advisers' course limit and over the teachers' 1.5x.
    assert {kind for kind, _ in completes} == {"diligent", "rewatcher", "fast"}
    assert ("fast", "ONL-TEACH") not in completes
