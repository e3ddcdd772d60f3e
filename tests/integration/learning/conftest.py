"""What the LRS tests share: statements to post and the headers xAPI clients send."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

from tests.conftest import make_api_key, make_department, make_employee

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
