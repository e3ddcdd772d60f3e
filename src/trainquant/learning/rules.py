"""Video watch coverage from play events: the pure core of the LRS.

The figures decide pay and promotion, so every rule takes the reading an auditor would:

* Only plays our player reported count. Seeks, a client's ``completed`` verb, a progress of 1.0 and the
  ``played-segments`` extension never add watched time; they are claims, a play with a consistent wall
  time is the evidence.
* Watched media time is a union: re-watching a part, or playing it in two tabs, counts it once.
* A play is dropped whole when it is not evidence of watching: page hidden, learner idle, played faster
  than allowed, or more media than its wall time at its speed could hold (a forged or broken report).
* Everything is float seconds; comparisons that must absorb rounding use the one constant :data:`EPS`.

The figures depend only on the set of plays, never on the order they arrived in.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from trainquant.learning.segments import Interval, clip, subtract, union_length

# The one tolerance for float noise in seconds (1 µs, the resolution of a datetime). Two instants closer
# than this are the same instant; a gap of at most this is rounding, not a gap. It is far below anything
# a player reports (milliseconds), so it can never hide a real gap or a real excess.
EPS = 1e-6

# Missing media at the two ends that still counts as complete, in seconds, in total over both ends: a
# player may start at 0.3 s or report its last position 0.5 s before the end. Only media inside the first
# and the last END_TOLERANCE_S seconds may be missing; any gap elsewhere longer than EPS means not complete.
END_TOLERANCE_S = 1.0

# Slack of the wall-time plausibility check, in seconds: a play's media length may exceed its wall time
# times its speed by this much (timer granularity, the player's start-up), and no more.
PLAUSIBILITY_TOLERANCE_S = 1.0

DEFAULT_MAX_SPEED = 2.0

# Reasons a play is not counted, in the order they are tested: a play that is both hidden and too fast
# is reported once, as hidden, so the excluded seconds of the reasons add up to the dropped plays.
HIDDEN = "hidden"
IDLE = "idle"
TOO_FAST = "too-fast"
IMPLAUSIBLE = "implausible"
# Not a property of one play: the part of a play that ran while an earlier-begun play of the same learner
# was running too (see :func:`one_at_a_time`).
CONCURRENT = "concurrent"
REASONS = (HIDDEN, IDLE, TOO_FAST, IMPLAUSIBLE)
ALL_REASONS = (*REASONS, CONCURRENT)

# --- play events ---------------------------------------------------------------------------------------


def _utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} {value.isoformat()} is naive; an aware datetime is required")
    # Subtracting two datetimes that share a tzinfo ignores the offset, so a play across a DST change
    # would be an hour off; in UTC every difference is elapsed time.
    return value.astimezone(UTC)


def _position(value: float, name: str) -> None:
    if not math.isfinite(value) or value < 0:
        raise ValueError(f"{name} {value!r} is not a finite, non-negative media position")


@dataclass(frozen=True, slots=True, kw_only=True)
class Play:
    """One stretch of actual playback reported by our player, from ``media_from`` to ``media_to``.

    Invariants (checked on construction, ``ValueError`` otherwise): media positions finite and
    ``0 <= media_from <= media_to``; wall times aware and ``wall_start <= wall_end`` (stored in UTC);
    ``speed`` finite and > 0. Keyword-only: four numbers and times in a row are too easy to swap.
    """

    video: str  # the activity id
    session: str  # the tab / player session
    media_from: float
    media_to: float
    wall_start: datetime
    wall_end: datetime
    speed: float = 1.0
    hidden: bool = False  # the page was hidden / not visible during the play
    idle: bool = False  # the learner was idle during the play

    def __post_init__(self) -> None:
        _position(self.media_from, "media_from")
        _position(self.media_to, "media_to")
        if self.media_to < self.media_from:
            raise ValueError(f"play ends at {self.media_to} before it starts at {self.media_from}; playback only goes forward")
        object.__setattr__(self, "wall_start", _utc(self.wall_start, "wall_start"))
        object.__setattr__(self, "wall_end", _utc(self.wall_end, "wall_end"))
        if self.wall_end < self.wall_start:
            raise ValueError(f"play ends at {self.wall_end.isoformat()} before it starts at {self.wall_start.isoformat()}")
        if not math.isfinite(self.speed) or self.speed <= 0:
            raise ValueError(f"speed {self.speed!r} is not a finite, positive rate")

    @property
    def media_seconds(self) -> float:
        return self.media_to - self.media_from

    @property
    def wall_seconds(self) -> float:
        return (self.wall_end - self.wall_start).total_seconds()


@dataclass(frozen=True, slots=True)
class Seek:
    """A seeked jump from ``media_from`` to ``media_to`` at wall time ``at``: the skipped part was not
    watched then. A seek is not a play and never adds watched time; a later real play of the skipped
    part counts like any other. Backward seeks (``media_to < media_from``) are allowed."""

    video: str
    session: str
    media_from: float
    media_to: float
    at: datetime

    def __post_init__(self) -> None:
        _position(self.media_from, "media_from")
        _position(self.media_to, "media_to")
        object.__setattr__(self, "at", _utc(self.at, "at"))


def _check_max_speed(max_speed: float) -> None:
    if not math.isfinite(max_speed) or max_speed <= 0:
        raise ValueError(f"max_speed {max_speed!r} is not a finite, positive rate")


def exclusion_reason(play: Play, *, max_speed: float = DEFAULT_MAX_SPEED) -> str | None:
    """Why ``play`` is not counted (one of :data:`REASONS`, the first that applies), or ``None``.

    ``too-fast``: ``speed > max_speed``, compared exactly (speeds are picked from the player's menu,
    not computed, so there is no rounding to absorb). ``implausible``: more media than the wall time
    at that speed could play, ``media_seconds > wall_seconds * speed + PLAUSIBILITY_TOLERANCE_S``;
    this is what makes coverage impossible to fake with forged positions.
    """
    _check_max_speed(max_speed)
    if play.hidden:
        return HIDDEN
    if play.idle:
        return IDLE
    if play.speed > max_speed:
        return TOO_FAST
    if play.media_seconds > play.wall_seconds * play.speed + PLAUSIBILITY_TOLERANCE_S + EPS:
        return IMPLAUSIBLE
    return None


# --- coverage ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Coverage:
    """How much of one video was watched.

    ``watched``: seconds of the union of the counted plays' media ranges within ``[0, length]``;
    ``ratio = watched / length``, unrounded, in ``[0, 1]``. ``complete``: see :func:`coverage`.
    ``excluded``: for each of :data:`REASONS` (all present), the media seconds within ``[0, length]`` of
    the plays dropped for it, summed play by play: not a union, and a part also watched by a counted play
    still appears here.
    """

    watched: float
    length: float
    ratio: float
    complete: bool
    excluded: dict[str, float]


def _complete(watched: list[Interval], length: float) -> bool:
    if not watched:
        return False  # a video shorter than the tolerance is not complete unwatched
    # Missing media is forgiven only inside the first and the last END_TOLERANCE_S seconds, and at most
    # END_TOLERANCE_S of it in all. Judged by where it lies (not by whether a gap touches an end), so
    # watching more can never make a video incomplete: the missing set only shrinks.
    ends = [(0.0, min(length, END_TOLERANCE_S)), (max(0.0, length - END_TOLERANCE_S), length)]
    missing = subtract([(0.0, length)], watched)
    if union_length(subtract(missing, ends)) > EPS:
        return False  # a gap in the middle, however small
    return union_length(missing) <= END_TOLERANCE_S + EPS


def coverage(plays: Iterable[Play], seeks: Iterable[Seek], *, length: float, max_speed: float = DEFAULT_MAX_SPEED) -> Coverage:
    """Watch coverage of ONE video of ``length`` seconds from its plays.

    The watched set is the union of the media ranges of the counted plays (see
    :func:`exclusion_reason`), clipped to ``[0, length]``. Seeks are accepted for the record and never
    add anything. ``complete`` is True only when the watched set covers ``[0, length]`` except at most
    ``END_TOLERANCE_S`` seconds in total, all of it inside the first and the last ``END_TOLERANCE_S``
    seconds (no gap longer than ``EPS`` anywhere else),
    and something was watched.

    Raises ``ValueError`` when ``length`` or ``max_speed`` is not finite and positive, or when the plays
    and seeks are not all of the same video (mixing videos would inflate the figure).
    """
    if not math.isfinite(length) or length <= 0:
        raise ValueError(f"length {length!r} is not a finite, positive number of seconds")
    _check_max_speed(max_speed)
    plays, seeks = list(plays), list(seeks)
    videos = {p.video for p in plays} | {s.video for s in seeks}
    if len(videos) > 1:
        raise ValueError(f"coverage is of one video; got events of {sorted(videos)}")
    counted: list[Interval] = []
    dropped: dict[str, list[float]] = {reason: [] for reason in REASONS}
    for play in plays:
        reason = exclusion_reason(play, max_speed=max_speed)
        if reason is None:
            counted.append((play.media_from, play.media_to))
        else:
            dropped[reason].append(union_length(clip([(play.media_from, play.media_to)], 0.0, length)))
    watched_set = clip(counted, 0.0, length)
    # The pieces are disjoint within [0, length]; the min only absorbs the rounding of their differences.
    watched = min(length, math.fsum(end - start for start, end in watched_set))
    return Coverage(
        watched=watched,
        length=length,
        ratio=min(1.0, watched / length),
        complete=_complete(watched_set, length),
        # fsum is exact, so the totals do not depend on the order of the plays either.
        excluded={reason: math.fsum(seconds) for reason, seconds in dropped.items()} | {CONCURRENT: 0.0},
    )


def one_at_a_time(plays: Iterable[Play], *, max_speed: float = DEFAULT_MAX_SPEED) -> tuple[list[Play], dict[str, float]]:
    """A learner's counted plays with at most one of them running at any wall moment, and the media
    seconds cut from each video for it.

    One person watches one thing at a time: four windows playing four quarters of a lecture for fifteen
    minutes are fifteen minutes of one quarter, not the lecture. At each moment the play begun first
    (ties broken by video, session and positions, so the result depends only on the set) holds the
    time; a later-begun play keeps only what runs after every earlier-begun play has ended, a single
    tail of it since they all began before it. Its media is cut in proportion to its wall time (the
    media it actually advanced per second). Plays excluded for a reason of their own (hidden, idle,
    too fast, implausible) hold nothing: a hidden tab never takes the time of a visible one, and they
    are returned untouched for :func:`coverage` to drop.
    """
    _check_max_speed(max_speed)
    ordered = sorted(plays, key=lambda p: (p.wall_start, p.video, p.session, p.media_from, p.media_to, p.wall_end, p.speed))
    out: list[Play] = []
    cut: dict[str, float] = {}
    held_until: datetime | None = None  # the latest end of the earlier-begun counted plays
    for play in ordered:
        if exclusion_reason(play, max_speed=max_speed) is not None:
            out.append(play)
            continue
        if held_until is None or held_until <= play.wall_start or play.wall_seconds <= 0:
            out.append(play)
        elif held_until < play.wall_end:
            share = (held_until - play.wall_start).total_seconds() / play.wall_seconds
            start = play.media_from + play.media_seconds * share
            cut[play.video] = cut.get(play.video, 0.0) + (start - play.media_from)
            out.append(Play(video=play.video, session=play.session, media_from=min(start, play.media_to), media_to=play.media_to,
                            wall_start=held_until, wall_end=play.wall_end, speed=play.speed))
        else:
            cut[play.video] = cut.get(play.video, 0.0) + play.media_seconds
        if held_until is None or play.wall_end > held_until:
            held_until = play.wall_end
    return out, cut


def learner_coverage(plays: Iterable[Play], *, lengths: dict[str, float], max_speed: float = DEFAULT_MAX_SPEED) -> dict[str, Coverage]:
    """Coverage of each video in ``lengths`` from all of one learner's plays, watched one at a time
    (:func:`one_at_a_time`): what a concurrent play lost is in ``excluded["concurrent"]``. Plays of a
    video not in ``lengths`` are ignored (they are another course's)."""
    kept, cut = one_at_a_time(plays, max_speed=max_speed)
    out = {}
    for video, length in lengths.items():
        c = coverage([p for p in kept if p.video == video], [], length=length, max_speed=max_speed)
        out[video] = Coverage(c.watched, c.length, c.ratio, c.complete, c.excluded | {CONCURRENT: cut.get(video, 0.0)})
    return out


def study_seconds(plays: Iterable[Play], *, max_speed: float = DEFAULT_MAX_SPEED) -> float:
    """Wall-clock seconds actually spent watching: the union of the wall intervals of the counted plays
    (see :func:`exclusion_reason`) over every tab and video, so two videos playing at once count once.

    Invariant: ``0 <= study_seconds(plays) <= last wall_end - first wall_start``; independent of order.
    """
    _check_max_speed(max_speed)
    counted = [p for p in plays if exclusion_reason(p, max_speed=max_speed) is None]
    if not counted:
        return 0.0
    # Whole microseconds from the earliest start: integers (exact in a float up to 2**53 µs, 285 years),
    # so the union is exact and the one rounding is the final division.
    origin = min(p.wall_start for p in counted)
    tick = timedelta(microseconds=1)
    spans = [((p.wall_start - origin) // tick, (p.wall_end - origin) // tick) for p in counted]
    return union_length(spans) / 1_000_000
