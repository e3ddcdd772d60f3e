"""Attended time from check-in events: the pure core of attendance.

Everything is in whole seconds on UTC-aware datetimes. The figures depend only on the set of
punches, never on the order they arrived in; a recomputation from the same punches gives the same
figures. ``batch.py`` computes the same thing for millions of punches at once and is tested
against this reference.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

IN, OUT = "in", "out"
CREDIT_TO_END = "credit-to-end"
COUNT_TO_LAST_EVENT = "count-to-last-event"

FLAG_NO_CHECKOUT = "no-checkout"
FLAG_TIMETABLE_CONFLICT = "timetable-conflict"
FLAG_DUPLICATE_IN = "duplicate-in"
FLAG_OUT_WITHOUT_IN = "out-without-in"
FLAG_ABSENT = "absent"

# A converter (ZKTeco line, platform record, sheet row) that cannot make an event of a record sends
# {"unusable": "<why>", ...}: ingestion keeps it as rejected ("malformed") with that reason.
UNUSABLE = "unusable"
# ... and may name the reason code instead of "malformed" (one of CONVERTER_CODES). QUIET_CODES are
# platform punches that belong to no session (commuting, lunch, a second tap): kept, but not rejections
# anyone must look at, and not counted against the sender's hourly allowance of rejected records.
UNUSABLE_CODE = "unusable_code"
QUIET_CODES = ("unrelated", "double-tap", "redundant")
CONVERTER_CODES = ("malformed", "platform-rejected", "unknown-employee", "outside-geofence", "device-elsewhere", *QUIET_CODES)


@dataclass(frozen=True, order=True)
class Punch:
    at: datetime
    kind: str  # "in" | "out"
    event_id: str = ""

    def sort_key(self) -> tuple:
        # "in" before "out" at the same instant: a zero-length visit rather than a negative one.
        return (self.at, 0 if self.kind == IN else 1, self.event_id)


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    missing_checkout_policy: str = CREDIT_TO_END

    @property
    def seconds(self) -> int:
        return int((self.end - self.start).total_seconds())


@dataclass(frozen=True)
class Attendance:
    attended_seconds: int
    scheduled_seconds: int
    late_seconds: int
    early_leave_seconds: int
    present: tuple[Interval, ...]
    away: tuple[Interval, ...]
    teaching_overlap: tuple[Interval, ...]
    flags: frozenset[str] = field(default_factory=frozenset)

    @property
    def participation(self) -> float:
        return self.attended_seconds / self.scheduled_seconds if self.scheduled_seconds else 0.0

    @property
    def attended_minutes(self) -> float:
        return self.attended_seconds / 60

    @property
    def scheduled_minutes(self) -> float:
        return self.scheduled_seconds / 60


def pair(punches: Iterable[Punch], policy: str, window_end: datetime) -> tuple[list[Interval], set[str]]:
    """Presence intervals from punches: an ``in`` opens, the next ``out`` closes.

    A second ``in`` while present and an ``out`` while absent change nothing but raise a flag.
    A presence still open at the end is closed per the session's missing-checkout policy.
    """
    flags: set[str] = set()
    unique = {p.sort_key(): p for p in punches}  # the same event twice is one event
    ordered = [unique[k] for k in sorted(unique)]
    intervals: list[Interval] = []
    opened: datetime | None = None
    last_at: datetime | None = None
    for p in ordered:
        last_at = p.at
        if p.kind == IN:
            if opened is None:
                opened = p.at
            else:
                flags.add(FLAG_DUPLICATE_IN)
        elif p.kind == OUT:
            if opened is None:
                flags.add(FLAG_OUT_WITHOUT_IN)
            else:
                intervals.append(Interval(opened, p.at))
                opened = None
        else:
            raise ValueError(f"unknown punch kind {p.kind!r}")
    if opened is not None:
        flags.add(FLAG_NO_CHECKOUT)
        close = max(opened, window_end) if policy == CREDIT_TO_END else max(opened, last_at or opened)
        intervals.append(Interval(opened, close))
    return intervals, flags


def clip_and_merge(intervals: Iterable[Interval], start: datetime, end: datetime) -> list[Interval]:
    clipped = sorted(
        (Interval(max(i.start, start), min(i.end, end)) for i in intervals if i.end > start and i.start < end),
        key=lambda i: (i.start, i.end),
    )
    merged: list[Interval] = []
    for i in clipped:
        if i.end <= i.start:
            continue
        if merged and i.start <= merged[-1].end:
            if i.end > merged[-1].end:
                merged[-1] = Interval(merged[-1].start, i.end)
        else:
            merged.append(i)
    return merged


def subtract(intervals: Sequence[Interval], cuts: Iterable[Interval]) -> tuple[list[Interval], list[Interval]]:
    """``intervals`` minus ``cuts`` (both merged, sorted); also the parts that were cut away."""
    cut_list = sorted((c for c in cuts if c.end > c.start), key=lambda c: (c.start, c.end))
    kept: list[Interval] = []
    removed: list[Interval] = []
    for iv in intervals:
        pieces = [iv]
        for c in cut_list:
            if c.start >= iv.end:
                break
            if c.end <= iv.start:
                continue
            nxt = []
            for p in pieces:
                if c.end <= p.start or c.start >= p.end:
                    nxt.append(p)
                    continue
                overlap = Interval(max(p.start, c.start), min(p.end, c.end))
                if overlap.end > overlap.start:
                    removed.append(overlap)
                if p.start < c.start:
                    nxt.append(Interval(p.start, c.start))
                if c.end < p.end:
                    nxt.append(Interval(c.end, p.end))
            pieces = nxt
        kept.extend(pieces)
    return kept, removed


def attended(punches: Iterable[Punch], window: Window, teaching: Iterable[Interval] = ()) -> Attendance:
    """The figures of one person in one session.

    ``teaching`` are the person's classes from their timetable: time they were teaching cannot count
    as attended, whatever the punches say (a teacher cannot be in two rooms).
    """
    raw, flags = pair(punches, window.missing_checkout_policy, window.end)
    in_room = clip_and_merge(raw, window.start, window.end)
    teaching_in_window = clip_and_merge(teaching, window.start, window.end)
    present, cut = subtract(in_room, teaching_in_window)
    if cut:
        flags.add(FLAG_TIMETABLE_CONFLICT)
    total = sum(i.seconds for i in present)
    if not present:
        flags.add(FLAG_ABSENT)
        return Attendance(0, window.seconds, 0, 0, (), (), tuple(cut), frozenset(flags))
    # Late and early are about the punches (when they came and went), not about the teaching cut.
    late = int((in_room[0].start - window.start).total_seconds())
    early = int((window.end - in_room[-1].end).total_seconds())
    away = tuple(Interval(a.end, b.start) for a, b in pairwise(present) if b.start > a.end)
    return Attendance(total, window.seconds, late, early, tuple(present), away, tuple(cut), frozenset(flags))


def minutes(seconds: int) -> float:
    return round(seconds / 60, 2)


def shift(interval: Interval, delta: timedelta) -> Interval:
    return Interval(interval.start + delta, interval.end + delta)
