"""An online program completed: every video through, then the quiz (an external quiz's statement
becomes an assessment of the quiz's kind); the training record written once, the event published once."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.conftest import NOW
from tests.integration.learning.conftest import HOME, basic
from trainquant.integrations.connectors.models import Connector
from trainquant.integrations.outbox.models import OutboxEvent, Subscription
from trainquant.learning import video
from trainquant.learning.completion import sweep
from trainquant.learning.models import CourseVideo, OnlineCompletion, OnlineCourse
from trainquant.training.models import Assessment, Program

V = "http://school.example/course/ONL3/video/1"
QUIZ = "http://quiz.example/onl3/final"
TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def course(db):
    program = Program(code="ONL3", title="线上课程三", kind="online", created_at=NOW)
    db.add(program)
    db.flush()
    db.add(CourseVideo(program_id=program.id, position=1, title="唯一一讲", activity_id=V, length_s=60.0, max_speed=2.0,
                       no_skipping=False, created_at=NOW))
    db.add(OnlineCourse(program_id=program.id, quiz_kind="online_test", quiz_activity_id=QUIZ))
    db.flush()
    return program


def _statements(sid_prefix: str, *, seconds: float) -> list[dict]:
    actor = {"account": {"homePage": HOME, "name": "E100"}}
    return [
        {"id": f"{sid_prefix}-0000-4000-8000-000000000001", "actor": actor, "verb": {"id": video.PLAYED}, "object": {"id": V},
         "timestamp": (NOW - timedelta(minutes=5)).isoformat(), "result": {"extensions": {video.TIME: 0.0}},
         "context": {"extensions": {video.SESSION_ID: "s1"}}},
        {"id": f"{sid_prefix}-0000-4000-8000-000000000002", "actor": actor, "verb": {"id": video.PAUSED}, "object": {"id": V},
         "timestamp": (NOW - timedelta(minutes=5) + timedelta(seconds=seconds)).isoformat(), "result": {"extensions": {video.TIME: seconds}},
         "context": {"extensions": {video.SESSION_ID: "s1"}}},
    ]


def _quiz(sid: str, scaled: float) -> dict:
    return {"id": sid, "actor": {"account": {"homePage": HOME, "name": "E100"}}, "verb": {"id": "http://adlnet.gov/expapi/verbs/passed"},
            "object": {"id": QUIZ}, "result": {"score": {"scaled": scaled}, "success": scaled >= 0.6}}


def test_completion_waits_for_every_video_and_the_quiz(client, db, key, learner, course):
    connector = Connector(name="oa", system="oa", title="OA", secret_encrypted="x", created_at=NOW)
    db.add(connector)
    db.flush()
    db.add(Subscription(connector_id=connector.id, url="http://oa.example/hook", events=["training.completed"], secret_encrypted="x",
                        active=True, created_at=NOW))
    db.flush()
    assert client.post("/xapi/statements", json=_statements("aaaaaaaa", seconds=60.0), headers=basic(key)).status_code == 200
    assert sweep(db, now=NOW, tz=TZ).completions == 0  # the quiz is not passed yet
    assert client.post("/xapi/statements", json=_quiz("bbbbbbbb-0000-4000-8000-000000000001", 0.9), headers=basic(key)).status_code == 200
    result = sweep(db, now=NOW, tz=TZ)
    assert (result.assessments, result.completions) == (1, 1)
    quiz = db.scalar(select(Assessment).where(Assessment.employee_id == learner.id))
    assert (quiz.kind_code, quiz.score, quiz.passed, quiz.evidence) == ("online_test", 90.0, True, "xapi:bbbbbbbb-0000-4000-8000-000000000001")
    record = db.scalar(select(OnlineCompletion))
    assert (record.employee_id, record.quiz_score, record.watched_seconds) == (learner.id, 90.0, 60.0)
    assert record.completed_at == NOW - timedelta(minutes=4)  # the end of the last play, not the sweep
    event = db.scalar(select(OutboxEvent))
    assert event.key == f"training.completed:online:{course.id}:{learner.id}" and event.payload["employee_no"] == "E100"
    # Sweeping again records and publishes nothing twice.
    assert sweep(db, now=NOW, tz=TZ) == type(result)(0, 0)
    assert db.scalar(select(func.count()).select_from(OnlineCompletion)) == 1


def test_a_failed_quiz_or_a_skipped_video_completes_nothing(client, db, key, learner, course):
    client.post("/xapi/statements", json=_statements("cccccccc", seconds=50.0), headers=basic(key))
    client.post("/xapi/statements", json=_quiz("dddddddd-0000-4000-8000-000000000001", 0.95), headers=basic(key))
    assert sweep(db, now=NOW, tz=TZ).completions == 0  # 50 of 60 s watched
    client.post("/xapi/statements", json=_quiz("eeeeeeee-0000-4000-8000-000000000001", 0.3), headers=basic(key))
    assert db.scalar(select(func.count()).select_from(OnlineCompletion)) == 0
