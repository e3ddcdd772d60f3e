"""Statements to plays (learning/video.py): hand-worked cases, and random viewers checked against a
tick-by-tick reference that knows what really happened and shares nothing with the reconstruction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trainquant.learning import video
from trainquant.learning.rules import coverage, study_seconds
from trainquant.learning.video import VideoEvent, course_seconds, event_of, plays_and_seeks

T0 = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)
V = "http://school.example/course/1/video/1"


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ev(verb: str, when: float, **kw) -> VideoEvent:
    return VideoEvent(video=V, session=kw.pop("session", "s1"), verb=verb, at=at(when), **kw)


def watched(events, length=60.0, max_speed=2.0):
    plays, seeks = plays_and_seeks(events)
    return coverage(plays, seeks, length=length, max_speed=max_speed)


def test_play_then_pause_is_the_stretch_between():
    c = watched([ev(video.PLAYED, 0, time=0.0), ev(video.PAUSED, 10, time=10.0)])
    assert c.watched == pytest.approx(10.0)


def test_a_hidden_stretch_does_not_count():
    events = [ev(video.PLAYED, 0, time=0.0), ev(video.INTERACTED, 4, time=4.0, hidden=True),
              ev(video.INTERACTED, 6, time=6.0, hidden=False), ev(video.PAUSED, 10, time=10.0)]
    c = watched(events)
    assert c.watched == pytest.approx(8.0)
    assert c.excluded["hidden"] == pytest.approx(2.0)


def test_seeking_to_the_end_and_claiming_completion_proves_nothing():
    events = [ev(video.PLAYED, 0, time=0.0), ev(video.SEEKED, 5, time_from=5.0, time_to=59.5),
              ev(video.PAUSED, 6, time=60.0), ev(video.COMPLETED, 6, time=60.0)]
    c = watched(events)
    assert c.watched == pytest.approx(5.5) and not c.complete


def test_faster_than_allowed_is_dropped_and_a_lie_about_speed_is_implausible():
    fast = [ev(video.PLAYED, 0, time=0.0, speed=2.0), ev(video.PAUSED, 10, time=20.0)]
    c = watched(fast, max_speed=1.5)
    assert c.watched == 0 and c.excluded["too-fast"] == pytest.approx(20.0)
    claims_normal = [ev(video.PLAYED, 0, time=0.0, speed=1.0), ev(video.PAUSED, 10, time=20.0)]
    assert watched(claims_normal).excluded["implausible"] == pytest.approx(20.0)


def test_the_idle_prompt_takes_back_the_time_since_the_last_input():
    events = [ev(video.PLAYED, 0, time=0.0), ev(video.PAUSED, 50, time=50.0, idle_since=at(20))]
    c = watched(events)
    assert c.watched == pytest.approx(20.0) and c.excluded["idle"] == pytest.approx(30.0)


def test_positions_going_backwards_without_a_seek_prove_nothing():
    assert watched([ev(video.PLAYED, 0, time=30.0), ev(video.PAUSED, 10, time=20.0)]).watched == 0


def test_a_tab_closed_while_playing_counts_up_to_its_last_heartbeat():
    events = [ev(video.PLAYED, 0, time=0.0), ev(video.HEARTBEAT, 30, time=30.0)]
    assert watched(events).watched == pytest.approx(30.0)
    assert course_seconds(events) == pytest.approx(30.0)


def test_two_tabs_are_two_sessions_and_study_time_counts_the_wall_once():
    events = [ev(video.PLAYED, 0, time=0.0, session="a"), ev(video.PAUSED, 20, time=20.0, session="a"),
              ev(video.PLAYED, 10, time=30.0, session="b"), ev(video.PAUSED, 30, time=50.0, session="b")]
    plays, _ = plays_and_seeks(events)
    assert study_seconds(plays) == pytest.approx(30.0)
    assert course_seconds(events) == pytest.approx(30.0)


def test_event_of_reads_the_profile_and_ignores_claims():
    statement = {
        "actor": {"mbox": "mailto:a@example.com"},
        "verb": {"id": video.PAUSED},
        "object": {"id": V},
        "result": {"extensions": {video.TIME: 12.5, video.IDLE_FOR: 30, "https://w3id.org/xapi/video/extensions/played-segments": "0[.]60",
                                  "https://w3id.org/xapi/video/extensions/progress": 1}},
        "context": {"extensions": {video.SESSION_ID: "tab-1", video.SPEED: "1.5x", video.VISIBILITY: "hidden"}},
    }
    event = event_of(statement, at=T0)
    assert event == VideoEvent(video=V, session="tab-1", verb=video.PAUSED, at=T0, time=12.5, speed=1.5, hidden=True,
                               idle_since=T0 - timedelta(seconds=30))
    no_session = {**statement, "context": {}}
    assert event_of(no_session, at=T0) is None


# --- random viewers against a tick reference ----------------------------------------------------------

DT = 0.05  # the reference's tick, seconds of wall time
LENGTH = 40.0
MAX_SPEED = 1.5

# An action lasts a whole number of ticks: (kind, ticks, value).
actions = st.lists(
    st.one_of(
        st.tuples(st.just("play"), st.integers(1, 200), st.sampled_from([0.5, 1.0, 1.25, 1.5, 2.0])),
        st.tuples(st.just("pause"), st.integers(1, 100), st.just(0.0)),
        st.tuples(st.just("hide"), st.integers(1, 100), st.just(0.0)),
        st.tuples(st.just("seek"), st.integers(0, 0), st.floats(0, LENGTH, allow_nan=False).map(lambda x: round(x, 2))),
        st.tuples(st.just("idle"), st.integers(1, 200), st.just(0.0)),
    ),
    max_size=12,
)


def _simulate(script):
    """Run the script as our player would: the statements it sends, and what was really watched
    (media cells of DT * speed seconds, played visibly, attentively and not too fast)."""
    events: list[VideoEvent] = []
    truth: set[int] = set()  # watched media in 1/1000 s cells
    pos, wall, n = 0.0, 0.0, 0

    def send(verb, **kw):
        nonlocal n
        n += 1
        events.append(VideoEvent(video=V, session="s", verb=verb, at=at(round(wall, 6)), order=n, **kw))

    for kind, ticks, value in script:
        if kind == "seek":
            send(video.SEEKED, time_from=round(pos, 6), time_to=value)
            pos = value
            continue
        speed = value if kind == "play" else 1.0
        if kind == "pause":
            wall += ticks * DT
            continue
        send(video.PLAYED, time=round(pos, 6), speed=speed, hidden=kind == "hide")
        last_input = wall
        for tick in range(1, ticks + 1):
            step = min(DT * speed, LENGTH - pos)
            if step <= 0:
                break
            if kind == "play" and speed <= MAX_SPEED:
                truth.update(range(round(pos * 1000), round((pos + step) * 1000)))
            pos += step
            wall += step / speed
            if tick % 40 == 0:  # a heartbeat every 2 s of playing (an idle stretch's too)
                send(video.HEARTBEAT, time=round(pos, 6))
        if kind == "idle":
            send(video.PAUSED, time=round(pos, 6), idle_since=at(round(last_input, 6)))
        else:
            send(video.PAUSED, time=round(pos, 6), hidden=False)
    return events, len(truth) / 1000


@settings(max_examples=150, deadline=None)
@given(actions)
def test_random_viewers_get_exactly_what_they_watched(script):
    events, truth = _simulate(script)
    plays, seeks = plays_and_seeks(events)
    got = coverage(plays, seeks, length=LENGTH, max_speed=MAX_SPEED)
    # The reference counts in 1 ms cells; its rounding is at most a cell per stretch.
    assert got.watched == pytest.approx(truth, abs=0.001 * (len(script) + 1))
    assert got.watched <= LENGTH
