"""What the LRS tests share: statements to post, the headers xAPI clients send, an online program of
two videos and a learner's player posting to it."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

from tests.conftest import NOW, make_api_key, make_department, make_employee
from trainquant.learning import video
from trainquant.learning.models import CourseVideo
from trainquant.training.models import Program

XAPI = {"X-Experience-API-Version": "1.0.3"}
HOME = "http://127.0.0.1:8000/"  # Settings().home_page() with no public_url: the school's account home page


def basic(key: str) -> dict[str, str]:
    """HTTP Basic as xAPI clients send it: any user name, the API key as the password."""
    return {"Authorization": "Basic " + base64.b64encode(f"client:{key}".encode()).decode(), **XAPI}


def statement(*, actor: dict[str, Any] | None = None, verb: str = "http://adlnet.gov/expapi/verbs/experienced",
              activity: str = "http://example.com/act/1", sid: str | None = None, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "actor": actor or {"objectType": "Agent", "mbox": "mailto:learner@example.com"},
        "verb": {"id": verb, "display": {"en-US": "experienced"}},
        "object": {"id": activity, "definition": {"name": {"en-US": "Lesson one"}}},
        **extra,
    }
    if sid is not None:
        doc["id"] = sid
    return doc


def new_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def key(db) -> str:
    return make_api_key(db, scopes=["xapi:all"], name="player")


@pytest.fixture
def learner(db):
    dept = make_department(db, code="T1")
    return make_employee(db, employee_no="E100", department=dept, name="黄清")


V1, V2 = "http://school.example/course/ONL1/video/1", "http://school.example/course/ONL1/video/2"


@pytest.fixture
def program(db):
    """An online program of two one-minute videos, 2x at most."""
    program = Program(code="ONL1", title="课堂互动（线上）", kind="online", created_at=NOW)
    db.add(program)
    db.flush()
    for position, activity in enumerate((V1, V2), start=1):
        db.add(CourseVideo(program_id=program.id, position=position, title=f"第{position}讲", activity_id=activity,
                           length_s=60.0, max_speed=2.0, no_skipping=False, created_at=NOW))
    db.flush()
    return program


def player(client, clock, csrf):
    def send(verb, activity, session, *, advance=0.0, hidden=False, **result):
        clock.advance(seconds=advance)
        statement = {
            "actor": {"objectType": "Agent", "account": {"homePage": HOME, "name": "E100"}},
            "verb": {"id": verb},
            "object": {"id": activity},
            "result": {"extensions": {video.VIDEO + "extensions/" + k.replace("_", "-"): v for k, v in result.items()}},
            "context": {"extensions": {video.SESSION_ID: session, video.VISIBILITY: "hidden" if hidden else "visible", video.SPEED: "1x"}},
        }
        r = client.post("/xapi/statements", json=statement, headers={**XAPI, "X-CSRF-Token": csrf})
        assert r.status_code == 200, r.text

    return send

