"""Watch coverage's blocks (learning/lrs/blocks.py): a block per request of statements that count for
an employee, size-tiered compaction that keeps every record once, voided statements left out on
reading, and the same verdicts as the one-at-a-time path over the statements' JSON."""

from __future__ import annotations

import numpy as np
import pytest
from sqlalchemy import func, select

from tests.conftest import NOW, login, make_user
from tests.integration.learning.conftest import HOME, V1, V2, basic, new_id, player
from trainquant.learning import video
from trainquant.learning.fast import coverage_all
from trainquant.learning.lrs import blocks
from trainquant.learning.models import XapiVideoBlock
from trainquant.learning.service import complete_by_blocks, course_progress, videos_of

LENGTHS, SPEEDS = {V1: 60.0, V2: 60.0}, {V1: 2.0, V2: 2.0}


def _count(db) -> int:
    return db.scalar(select(func.count()).select_from(XapiVideoBlock))


def _arrays(columns) -> dict[str, np.ndarray]:
    o = np.argsort(columns.order)
    return {name: getattr(columns, name)[o] for name in ("learner", "video", "session", "verb", "wall", "order", "time", "time_from", "time_to", "speed")}


def test_a_request_that_counts_for_nobody_writes_no_block(client, db, key, learner):
    stranger = {"actor": {"objectType": "Agent", "account": {"homePage": "http://elsewhere.example/", "name": "E100"}},
                "verb": {"id": video.PLAYED}, "object": {"id": V1}, "context": {"extensions": {video.SESSION_ID: "s"}}}
    no_session = {**stranger, "actor": {"objectType": "Agent", "account": {"homePage": HOME, "name": "E100"}}, "context": {}}
    assert client.post("/xapi/statements", json=[stranger, no_session], headers=basic(key)).status_code == 200
    assert _count(db) == 0


def test_compaction_merges_sixteen_blocks_of_a_tier_and_keeps_every_record(client, db, clock, learner, program):
    make_user(db, username="huang", role="employee", employee=learner)
    send = player(client, clock, login(client, "huang"))
    for n in range(20):  # two sessions of ten one-statement requests
        send(video.PLAYED if n % 2 == 0 else video.PAUSED, V1 if n < 10 else V2, f"tab-{n // 10}", advance=3, time=float(3 * (n % 10)))
    assert _count(db) == 20
    before = _arrays(blocks.read_columns(db, [V1, V2]))
    assert len(before["order"]) == 20
    assert blocks.compact(db) == 16  # sixteen blocks of one row -> one of sixteen; four left in tier 0
    assert sorted(db.scalars(select(XapiVideoBlock.rows))) == [1, 1, 1, 1, 16]
    assert blocks.compact(db) == 0  # nothing left to merge
    after = _arrays(blocks.read_columns(db, [V1, V2]))
    for name, values in before.items():
        np.testing.assert_array_equal(after[name], values, err_msg=name)


def test_blocks_give_the_verdicts_of_the_statements_and_leave_voided_ones_out(client, db, clock, learner, program, key):
    make_user(db, username="huang", role="employee", employee=learner)
    send = player(client, clock, login(client, "huang"))
    send(video.PLAYED, V1, "tab-1", time=0.0)
    send(video.PAUSED, V1, "tab-1", advance=60, time=60.0)  # V1 watched through
    send(video.PLAYED, V2, "tab-2", advance=1, time=0.0)
    send(video.PAUSED, V2, "tab-2", advance=30, time=30.0)  # half of V2
    reference = course_progress(db, program.id, [learner.id])[learner.id]
    figures = coverage_all(blocks.read_columns(db, [V1, V2], learners=[learner.id]), lengths=LENGTHS, max_speeds=SPEEDS)
    for v in reference.videos:
        activity = V1 if v.position == 1 else V2
        assert figures.watched[(learner.id, activity)] == pytest.approx(v.coverage.watched)
        assert figures.complete[(learner.id, activity)] == v.coverage.complete
    assert figures.complete[(learner.id, V1)] and not figures.complete[(learner.id, V2)]
    assert complete_by_blocks(db, videos_of(db, program.id), [learner.id]) == set()
    # Voiding the statement that closed V1's play takes that play away on both paths.
    pause = client.get("/xapi/statements", params={"verb": video.PAUSED, "activity": V1}, headers=basic(key)).json()["statements"][0]
    void = {"actor": {"objectType": "Agent", "mbox": "mailto:hr@school.example"}, "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": pause["id"]}, "id": new_id()}
    assert client.post("/xapi/statements", json=void, headers=basic(key)).status_code == 200
    figures = coverage_all(blocks.read_columns(db, [V1, V2]), lengths=LENGTHS, max_speeds=SPEEDS)
    assert figures.watched.get((learner.id, V1), 0.0) == course_progress(db, program.id, [learner.id])[learner.id].videos[0].coverage.watched == 0.0
    # Another learner's records and a window that ends before them are left out.
    assert len(blocks.read_columns(db, [V1, V2], learners=[learner.id + 1]).order) == 0
    assert len(blocks.read_columns(db, [V1, V2], until=NOW).order) == 0
    assert len(blocks.read_columns(db, [V1, V2], since=NOW).order) == 3  # V1's played and V2's two: the voided pause is out
