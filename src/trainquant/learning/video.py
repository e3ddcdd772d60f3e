"""From video-profile statements to plays: what a player's statements prove was played. Pure.

A player reports moments, not stretches: ``played`` at media time t0, later ``paused`` (or ``seeked``,
a heartbeat, a visibility change) at t1. Between two consecutive statements of one player session
the video played from t0 to t1 if it was playing, at the speed, visibility and attention the earlier
statement announced. Each such stretch becomes a :class:`~trainquant.learning.rules.Play`; a ``seeked``
becomes a :class:`~trainquant.learning.rules.Seek`. The auditor's reading throughout:

* A stretch whose positions go backwards without a seek, or that has no position at one end, proves
  nothing and is dropped (no play). A tab closed while playing is credited up to its last statement
  (our player sends a heartbeat with its position every ``HEARTBEAT_S`` seconds).
* Visibility (``OURS/visibility``: "hidden" / "visible") and speed (the profile's ``speed``) in a
  statement's context hold from that statement on; our player sends a statement whenever either changes.
* Idleness is known only once the "are you still there?" prompt shows; the statement pausing for it
  carries ``OURS/idle-for`` (seconds since the last input, so the learner's clock plays no part), and
  the stretch after that moment counts as idle.
* ``completed``, ``progress`` and ``played-segments`` are the client's claims; they are never read here.

Wall times are given per statement by the caller (the service uses the LRS's ``stored`` time for our
own player, whose statements are sent as they happen, and the statement's ``timestamp`` for a client
key's, which may sync later).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from trainquant.learning.rules import Play, Seek

VIDEO = "https://w3id.org/xapi/video/"
PLAYED = VIDEO + "verbs/played"
PAUSED = VIDEO + "verbs/paused"
SEEKED = VIDEO + "verbs/seeked"
ADL = "http://adlnet.gov/expapi/verbs/"
INITIALIZED = ADL + "initialized"
COMPLETED = ADL + "completed"
TERMINATED = ADL + "terminated"
INTERACTED = ADL + "interacted"
TIME = VIDEO + "extensions/time"
TIME_FROM = VIDEO + "extensions/time-from"
TIME_TO = VIDEO + "extensions/time-to"
SPEED = VIDEO + "extensions/speed"
SESSION_ID = VIDEO + "extensions/session-id"
LENGTH = VIDEO + "extensions/length"
# Our player's own vocabulary (unknown to other LRSs, harmless to them).
OURS = "https://trainquant.dev/xapi/"
HEARTBEAT = OURS + "verbs/heartbeat"
VISIBILITY = OURS + "extensions/visibility"
IDLE_FOR = OURS + "extensions/idle-for"
HEARTBEAT_S = 30
_STOPS = frozenset({PAUSED, COMPLETED, TERMINATED, INITIALIZED})


@dataclass(frozen=True, slots=True, kw_only=True)
class VideoEvent:
    """One video-profile statement as the reconstruction reads it."""

    video: str
    session: str
    verb: str
    at: datetime  # its wall time (see the module docstring)
    order: int = 0  # ties of ``at`` broken by storage order
    time: float | None = None
    time_from: float | None = None
    time_to: float | None = None
    speed: float | None = None
    hidden: bool | None = None
    idle_since: datetime | None = None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip().removesuffix("x")
        try:
            value = float(value)
        except ValueError:
            return None
    if isinstance(value, int | float) and math.isfinite(value) and value >= 0:
        return float(value)
    return None


def _idle_since(value: Any, at: datetime) -> datetime | None:
    seconds = _number(value)
    return at - timedelta(seconds=seconds) if seconds is not None and not isinstance(value, str) else None


def _speed(value: Any) -> float | None:
    # A rate of 0 is no playback rate (a client's "0x"): ignored, as an absent one is.
    speed = _number(value)
    return speed if speed is not None and speed > 0 else None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def event_of(statement: Mapping[str, Any], *, at: datetime, order: int = 0) -> VideoEvent | None:
    """The video event of a statement, or None when it is not about a video (no activity object, or
    no session id: without one, two tabs' reports could not be told apart)."""
    obj = statement.get("object") or {}
    if obj.get("objectType", "Activity") != "Activity" or not isinstance(obj.get("id"), str):
        return None
    context = _mapping(statement.get("context"))
    cext = _mapping(context.get("extensions"))
    rext = _mapping(_mapping(statement.get("result")).get("extensions"))
    session = cext.get(SESSION_ID) or context.get("registration")
    if not isinstance(session, str) or not session:
        return None
    visibility = cext.get(VISIBILITY)
    return VideoEvent(
        video=obj["id"], session=session, verb=statement["verb"]["id"], at=at, order=order,
        time=_number(rext.get(TIME)), time_from=_number(rext.get(TIME_FROM)), time_to=_number(rext.get(TIME_TO)),
        speed=_speed(cext.get(SPEED)), hidden=None if visibility not in ("hidden", "visible") else visibility == "hidden",
        idle_since=_idle_since(rext.get(IDLE_FOR), at),
    )


@dataclass
class _Player:
    playing: bool = False
    position: float | None = None
    since: datetime | None = None
    speed: float = 1.0
    hidden: bool = False


def _stretch(video: str, session: str, state: _Player, end_position: float, end: datetime) -> list[Play]:
    start, begun = state.position, state.since
    if start is None or begun is None or end_position < start or end < begun:
        return []  # a report that contradicts itself proves nothing
    return [Play(video=video, session=session, media_from=start, media_to=end_position, wall_start=begun,
                 wall_end=end, speed=state.speed, hidden=state.hidden)]


def _idle_from(plays: list[Play], since: datetime) -> list[Play]:
    """The session's plays with everything after ``since`` idle: the prompt's statement names when the
    learner's last input was, and heartbeats sent since then closed stretches that were idle too."""
    out: list[Play] = []
    for play in plays:
        if play.idle or play.wall_end <= since:
            out.append(play)
        elif play.wall_start >= since:
            out.append(replace(play, idle=True))
        else:
            wall = (play.wall_end - play.wall_start).total_seconds()
            split = play.media_from + play.media_seconds * (since - play.wall_start).total_seconds() / wall
            out += [replace(play, media_to=split, wall_end=since), replace(play, media_from=split, wall_start=since, idle=True)]
    return out


def _replay(video: str, session: str, events: list[VideoEvent]) -> tuple[list[Play], list[Seek]]:
    plays: list[Play] = []
    seeks: list[Seek] = []
    state = _Player()
    for event in sorted(events, key=lambda e: (e.at, e.order)):
        here = event.time_from if event.verb == SEEKED else event.time
        if state.playing:
            if here is not None:
                plays += _stretch(video, session, state, here, event.at)
            state.position, state.since = None, None  # nothing continues across a statement without a position
        if event.idle_since is not None:
            plays = _idle_from(plays, event.idle_since)
        if event.hidden is not None:
            state.hidden = event.hidden
        if event.speed is not None:
            state.speed = event.speed
        if event.verb == SEEKED and event.time_from is not None and event.time_to is not None:
            seeks.append(Seek(video, session, event.time_from, event.time_to, event.at))
            here = event.time_to
        if event.verb == PLAYED:
            state.playing = True
        elif event.verb in _STOPS:
            state.playing = False
        if state.playing:
            state.position, state.since = here, event.at
    return _joined(plays), seeks


def _joined(plays: list[Play]) -> list[Play]:
    """Stretches that continue one another (a heartbeat between them, nothing else changed) as one play:
    one viewing, so a tab opened meanwhile cannot take its time at the heartbeat (rules.one_at_a_time
    gives the time to the play begun first)."""
    out: list[Play] = []
    for play in sorted(plays, key=lambda p: (p.wall_start, p.wall_end)):
        last = out[-1] if out else None
        if (last is not None and last.wall_end == play.wall_start and last.media_to == play.media_from
                and (last.speed, last.hidden, last.idle) == (play.speed, play.hidden, play.idle)):
            out[-1] = replace(last, media_to=play.media_to, wall_end=play.wall_end)
        else:
            out.append(play)
    return out


def plays_and_seeks(events: Iterable[VideoEvent]) -> tuple[list[Play], list[Seek]]:
    """Every play and seek the events prove, each player session replayed on its own."""
    sessions: dict[tuple[str, str], list[VideoEvent]] = {}
    for event in events:
        sessions.setdefault((event.video, event.session), []).append(event)
    plays: list[Play] = []
    seeks: list[Seek] = []
    for (video, session), own in sorted(sessions.items()):
        p, s = _replay(video, session, own)
        plays += p
        seeks += s
    return plays, seeks


def course_seconds(events: Iterable[VideoEvent]) -> float:
    """Time on the course pages: each player session from its first statement to its last (its
    ``terminated``, or the last heartbeat of a tab closed without one), as a union over sessions."""
    spans: dict[str, tuple[datetime, datetime]] = {}
    for event in events:
        first, last = spans.get(event.session, (event.at, event.at))
        spans[event.session] = (min(first, event.at), max(last, event.at))
    total = 0.0
    end: datetime | None = None
    for first, last in sorted(spans.values()):
        if end is not None and first < end:
            first = end
        if last > first:
            total += (last - first).total_seconds()
        end = last if end is None or last > end else end
    return total
