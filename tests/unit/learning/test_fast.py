"""The NumPy coverage (learning/fast.py) against the one-at-a-time reference (video.py, rules.py) on
arbitrary statement sequences: several learners, videos and tabs, speed and visibility changes, seeks,
heartbeats, idle prompts, positions that go backwards, ties in time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainquant.learning import video as xv
from trainquant.learning.fast import REASONS, Columns, coverage_all
from trainquant.learning.rules import learner_coverage
from trainquant.learning.video import event_of, plays_and_seeks

T0 = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
VIDEOS = ["http://v.example/a", "http://v.example/b", "http://v.example/c"]
LENGTHS = {"http://v.example/a": 60.0, "http://v.example/b": 30.0, "http://v.example/c": 45.0}
SPEEDS = {"http://v.example/a": 2.0, "http://v.example/b": 1.5, "http://v.example/c": 2.0}
VERBS = [xv.PLAYED, xv.PLAYED, xv.PAUSED, xv.SEEKED, xv.HEARTBEAT, xv.INTERACTED, xv.COMPLETED, xv.TERMINATED, xv.INITIALIZED]
position = st.one_of(st.none(), st.integers(0, 70_000).map(lambda ms: ms / 1000))

statement = st.fixed_dictionaries({
    "learner": st.integers(0, 2), "video": st.integers(0, 2), "session": st.sampled_from(["s1", "s2", "s3"]),
    "verb": st.sampled_from(VERBS), "wall_ms": st.integers(0, 400_000),
    "time": position, "time_from": position, "time_to": position,
    "speed": st.one_of(st.none(), st.sampled_from([0, 0.5, 1, 1.5, 2, 3, "1.25x"])),
    "visibility": st.one_of(st.none(), st.sampled_from(["hidden", "visible"])),
    "idle_for": st.one_of(st.none(), st.integers(0, 300_000).map(lambda ms: ms / 1000)),
})


def _doc(e: dict) -> dict:
    result = {k: e[k.replace("-", "_")] for k in ("time", "time-from", "time-to") if e[k.replace("-", "_")] is not None}
    extensions = {xv.VIDEO + "extensions/" + k: v for k, v in result.items()}
    if e["idle_for"] is not None:
        extensions[xv.IDLE_FOR] = e["idle_for"]
    context = {xv.SESSION_ID: e["session"]}
    if e["speed"] is not None:
        context[xv.SPEED] = e["speed"]
    if e["visibility"] is not None:
        context[xv.VISIBILITY] = e["visibility"]
    return {"actor": {"mbox": "mailto:x@example.com"}, "verb": {"id": e["verb"]}, "object": {"id": VIDEOS[e["video"]]},
            "result": {"extensions": extensions}, "context": {"extensions": context}}


def _reference(rows: list[tuple[int, dict, datetime]]) -> dict[tuple[int, str], tuple[float, bool, dict]]:
    by: dict[int, list] = {}
    for order, (learner, doc, at) in enumerate(rows):
        event = event_of(doc, at=at, order=order)
        if event is not None:
            by.setdefault(learner, []).append(event)
    out = {}
    for learner, events in by.items():
        plays, _ = plays_and_seeks(events)
        for limit in set(SPEEDS.values()):
            own = {v: LENGTHS[v] for v, s in SPEEDS.items() if s == limit}
            for v, c in learner_coverage([p for p in plays if p.video in own], lengths=own, max_speed=limit).items():
                if any(e.video == v for e in events):
                    out[(learner, v)] = (c.watched, c.complete, {r: c.excluded[r] for r in REASONS})
    return out


def _check(rows):
    want = _reference(rows)
    got = coverage_all(Columns.build(rows, VIDEOS), lengths=LENGTHS, max_speeds=SPEEDS)
    for key, (watched, complete, excluded) in want.items():
        assert got.watched.get(key, 0.0) == pytest.approx(watched, abs=1e-5), key
        assert got.complete.get(key, False) == complete, key
        ex = got.excluded.get(key, dict.fromkeys(REASONS, 0.0))
        for reason in REASONS:
            assert ex[reason] == pytest.approx(excluded[reason], abs=1e-5), (key, reason)
    assert set(got.watched) <= set(want)


@settings(max_examples=300, deadline=None)
@given(st.lists(statement, max_size=40))
def test_arbitrary_sequences_give_the_reference_figures(events):
    _check([(e["learner"], _doc(e), T0 + timedelta(milliseconds=e["wall_ms"])) for e in events])


def test_a_watched_video_and_a_concurrent_tab():
    def e(verb, wall, session="s1", video=0, **kw):
        base = {"learner": 0, "video": video, "session": session, "verb": verb, "wall_ms": wall * 1000, "time": None, "time_from": None,
                "time_to": None, "speed": None, "visibility": None, "idle_for": None}
        return base | kw
    events = [e(xv.PLAYED, 0, time=0.0), e(xv.HEARTBEAT, 30, time=30.0), e(xv.PAUSED, 60, time=60.0),
              e(xv.PLAYED, 20, session="s2", video=2, time=0.0), e(xv.PAUSED, 65, session="s2", video=2, time=45.0)]
    rows = [(x["learner"], _doc(x), T0 + timedelta(milliseconds=x["wall_ms"])) for x in events]
    _check(rows)
    got = coverage_all(Columns.build(rows, VIDEOS), lengths=LENGTHS, max_speeds=SPEEDS)
    assert got.complete[(0, VIDEOS[0])] and got.watched[(0, VIDEOS[2])] == pytest.approx(5.0)  # only after the first ended
