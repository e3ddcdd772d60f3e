"""A real xAPI client against the real server: Rustici's TinCanPython (``tincan`` on PyPI) stores
statements and documents over HTTP and reads them back."""

from __future__ import annotations

import uuid

import pytest
from tincan import (
    Activity,
    ActivityDefinition,
    Agent,
    AgentAccount,
    LanguageMap,
    RemoteLRS,
    Result,
    StateDocument,
    Statement,
    Verb,
)

from tests.conftest import NOW
from tests.e2e.live import live_server
from trainquant.auth.service import create_api_key
from trainquant.config import Settings
from trainquant.db import make_engine, make_sessionmaker, unit_of_work
from trainquant.migrate import upgrade


@pytest.fixture
def lrs(tmp_path):
    url = f"sqlite:///{tmp_path / 'lrs.db'}"
    engine = make_engine(Settings(env="test"), url=url)
    upgrade(engine)
    with unit_of_work(make_sessionmaker(engine)) as db:
        _, key = create_api_key(db, name="tincan", scopes=["xapi:all"], created_by="test", now=NOW)
    engine.dispose()
    with live_server(url, NOW) as base:
        yield RemoteLRS(endpoint=f"{base}/xapi/", version="1.0.1", username="tincan", password=key)


def _statement(sid: uuid.UUID, seconds: int) -> Statement:
    return Statement(
        id=sid,
        actor=Agent(name="黄清", account=AgentAccount(home_page="http://127.0.0.1:8000/", name="E100")),
        verb=Verb(id="https://w3id.org/xapi/video/verbs/played", display=LanguageMap({"en-US": "played"})),
        object=Activity(id="http://example.com/video/1", definition=ActivityDefinition(name=LanguageMap({"zh-CN": "课程一"}))),
        result=Result(extensions={"https://w3id.org/xapi/video/extensions/time": seconds}),
    )


def test_tincan_stores_and_reads_back_statements(lrs):
    first, second = uuid.uuid4(), uuid.uuid4()
    saved = lrs.save_statement(_statement(first, 12))
    assert saved.success, saved.data
    assert lrs.save_statements([_statement(second, 30)]).success
    got = lrs.retrieve_statement(first)
    assert got.success
    assert got.content.id == first and got.content.actor.account.name == "E100"
    assert got.content.result.extensions["https://w3id.org/xapi/video/extensions/time"] == 12
    found = lrs.query_statements({"verb": Verb(id="https://w3id.org/xapi/video/verbs/played"), "limit": 10})
    assert found.success
    assert [s.id for s in found.content.statements] == [second, first]
    # The same statement again is a repeat; another under the same id a conflict.
    assert lrs.save_statement(_statement(first, 12)).success
    conflict = lrs.save_statement(_statement(first, 99))
    assert not conflict.success and conflict.response.status == 409


def test_tincan_keeps_a_resume_position_in_the_state_resource(lrs):
    agent = Agent(account=AgentAccount(home_page="http://127.0.0.1:8000/", name="E100"))
    activity = Activity(id="http://example.com/video/1")
    doc = StateDocument(id="resume", activity=activity, agent=agent, content='{"position": 42.5}', content_type="application/json")
    assert lrs.save_state(doc).success
    back = lrs.retrieve_state(activity=activity, agent=agent, state_id="resume")
    assert back.success and bytes(back.content.content) == b'{"position": 42.5}'
    about = lrs.about()
    assert about.success and "1.0.3" in about.content.version
