"""Watch coverage, completion and study time of online programs, from the statements in the LRS.

Only statements bound to an employee count (``XapiStatement.employee_id``: an employee's own player,
or a client key whose actor names the employee), and only for the program's registered videos, whose
length and speed limit are the program's own. The wall time of a statement is the LRS's ``stored``
time when our player sent it (it sends each as it happens, so the learner's clock cannot stretch a
play), and the statement's ``timestamp`` when a client key did (a third-party tool may sync later).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from trainquant.db import chunks
from trainquant.learning.fast import coverage_all
from trainquant.learning.lrs import blocks
from trainquant.learning.models import CourseVideo, XapiStatement
from trainquant.learning.packed import wall_time
from trainquant.learning.rules import Coverage, Play, exclusion_reason, learner_coverage, one_at_a_time, study_seconds
from trainquant.learning.segments import Interval, clip
from trainquant.learning.video import VideoEvent, course_seconds, event_of, plays_and_seeks
from trainquant.training.models import Program


@dataclass(frozen=True)
class VideoProgress:
    video_id: int
    position: int
    title: str
    coverage: Coverage


@dataclass(frozen=True)
class CourseProgress:
    employee_id: int
    videos: list[VideoProgress]
    study_seconds: float  # wall time really watching, once however many tabs
    course_seconds: float  # wall time with the course's player open

    @property
    def complete(self) -> bool:
        return bool(self.videos) and all(v.coverage.complete for v in self.videos)

    @property
    def ratio(self) -> float:
        """The share of the program's media watched (every video weighted by its length)."""
        total = sum(v.coverage.length for v in self.videos)
        return sum(v.coverage.watched for v in self.videos) / total if total else 0.0


def load_events(db: Session, employee_ids: Sequence[int], activity_ids: Iterable[str], *,
                since: datetime | None = None, until: datetime | None = None) -> dict[int, list[VideoEvent]]:
    """Each employee's video events on these activities (voided statements left out)."""
    activities = sorted(set(activity_ids))
    out: dict[int, list[VideoEvent]] = {}
    if not activities or not employee_ids:
        return out
    s = XapiStatement
    for employees in chunks(sorted(set(employee_ids)), 500):
        stmt = select(s.id, s.employee_id, s.stored, s.stored_by, s.document).where(
            s.employee_id.in_(employees), s.activity_id.in_(activities), s.voided.is_(False))
        if since is not None:
            stmt = stmt.where(s.stored >= since)
        if until is not None:
            stmt = stmt.where(s.stored < until)
        for pk, employee_id, stored, stored_by, document in db.execute(stmt):
            if employee_id is None:
                continue
            doc = orjson.loads(document)
            event = event_of(doc, at=wall_time(stored, stored_by, doc), order=pk)
            if event is not None:
                out.setdefault(employee_id, []).append(event)
    return out


def videos_of(db: Session, program_id: int) -> list[CourseVideo]:
    return list(db.scalars(select(CourseVideo).where(CourseVideo.program_id == program_id).order_by(CourseVideo.position)))


def _progress(employee_id: int, videos: Sequence[CourseVideo], events: list[VideoEvent]) -> CourseProgress:
    plays, _ = plays_and_seeks(events)
    by_speed: dict[float, dict[str, float]] = {}
    for v in videos:
        by_speed.setdefault(v.max_speed, {})[v.activity_id] = v.length_s
    coverages: dict[str, Coverage] = {}
    for max_speed, lengths in by_speed.items():
        coverages |= learner_coverage([p for p in plays if p.video in lengths], lengths=lengths, max_speed=max_speed)
    limits = {v.activity_id: v.max_speed for v in videos}
    return CourseProgress(
        employee_id=employee_id,
        videos=[VideoProgress(v.id, v.position, v.title, coverages[v.activity_id]) for v in videos],
        study_seconds=_study(plays, limits),
        course_seconds=course_seconds(events),
    )


def _study(plays: Sequence[Play], limits: dict[str, float]) -> float:
    # Each play judged by its own video's speed limit; the wall union across videos and tabs.
    allowed = [p for p in plays if p.video in limits and p.speed <= limits[p.video]]
    return study_seconds(allowed, max_speed=max(limits.values(), default=2.0))


def course_progress(db: Session, program_id: int, employee_ids: Sequence[int]) -> dict[int, CourseProgress]:
    """Every employee's progress on an online program (an employee without statements: nothing watched)."""
    videos = videos_of(db, program_id)
    events = load_events(db, employee_ids, [v.activity_id for v in videos])
    return {e: _progress(e, videos, events.get(e, [])) for e in employee_ids}


def complete_by_blocks(db: Session, videos: Sequence[CourseVideo], employee_ids: Sequence[int]) -> set[int]:
    """The employees for whom every one of ``videos`` is complete, read from the video blocks by the
    NumPy path (``fast.coverage_all``: the verdicts ``course_progress`` gives, without parsing a
    statement). A screen: the figures recorded for a completion still come from ``course_progress``."""
    if not videos or not employee_ids:
        return set()
    columns = blocks.read_columns(db, [v.activity_id for v in videos], learners=employee_ids)
    figures = coverage_all(columns, lengths={v.activity_id: v.length_s for v in videos}, max_speeds={v.activity_id: v.max_speed for v in videos})
    return {e for e in employee_ids if all(figures.complete.get((e, v.activity_id), False) for v in videos)}


def _daily_plays(db: Session, employee_ids: Sequence[int], *, start: date, end: date, zone: str,
                 videos: Sequence[CourseVideo]) -> dict[tuple[int, date], list[Play]]:
    """Each employee's plays of ``videos`` per local day a play began."""
    tz = ZoneInfo(zone)
    limits = {v.activity_id: v.max_speed for v in videos}
    lo = datetime.combine(start, datetime.min.time(), tz)
    hi = datetime.combine(end, datetime.max.time(), tz)
    out: dict[tuple[int, date], list[Play]] = {}
    # Statements a day either side: a play is dated by its start, and its closing statement may come after midnight.
    events = load_events(db, employee_ids, limits, since=lo - timedelta(days=1), until=hi + timedelta(days=1))
    for employee_id, own in events.items():
        plays, _ = plays_and_seeks(own)
        for play in plays:
            day = play.wall_start.astimezone(tz).date()
            if start <= day <= end:
                out.setdefault((employee_id, day), []).append(play)
    return out


def daily_study_seconds(db: Session, employee_ids: Sequence[int], *, start: date, end: date, zone: str) -> dict[tuple[int, date], float]:
    """Online study seconds per employee and local day (by the start of each play), on every registered
    video: the study behind a learner's own page."""
    videos = list(db.scalars(select(CourseVideo)))
    if not videos:
        return {}
    limits = {v.activity_id: v.max_speed for v in videos}
    out: dict[tuple[int, date], float] = {}
    for key, todays in _daily_plays(db, employee_ids, start=start, end=end, zone=zone, videos=videos).items():
        seconds = _study(todays, limits)
        if seconds > 0:
            out[key] = seconds
    return out


def daily_program_study_seconds(db: Session, employee_ids: Sequence[int], *, start: date, end: date,
                                zone: str) -> dict[tuple[int, date, str], float]:
    """Online study seconds per employee, local day and program (its code): the fact behind the
    ``online_hours`` and ``study_hours`` indicators, which count chosen programs.

    Time two programs' videos played at once counts once, for the program first in code order: each
    program gets what the union of its plays and those of the programs before it adds to theirs, so
    a day's programs add up to the day's study, and a set of programs never counts more than it had."""
    videos = list(db.scalars(select(CourseVideo)))
    if not videos:
        return {}
    codes = dict(db.execute(select(Program.id, Program.code).where(Program.id.in_(sorted({v.program_id for v in videos})))).all())
    program_of = {v.activity_id: codes[v.program_id] for v in videos}
    limits = {v.activity_id: v.max_speed for v in videos}
    out: dict[tuple[int, date, str], float] = {}
    for (employee_id, day), todays in _daily_plays(db, employee_ids, start=start, end=end, zone=zone, videos=videos).items():
        so_far: list[Play] = []
        counted = 0.0
        for code in sorted({program_of[p.video] for p in todays}):
            so_far += [p for p in todays if program_of[p.video] == code]
            total = _study(so_far, limits)
            if total > counted:
                out[(employee_id, day, code)] = total - counted
            counted = total
    return out


BUCKETS = 20  # the drop-off chart's resolution: each 5% of a video


def _watched_sets(plays: Sequence[Play], videos: Sequence[CourseVideo]) -> dict[str, list[Interval]]:
    """The media each video's counted plays covered (as ``learner_coverage`` counts them)."""
    out: dict[str, list[Interval]] = {}
    for max_speed in {v.max_speed for v in videos}:
        own = [v for v in videos if v.max_speed == max_speed]
        kept, _ = one_at_a_time([p for p in plays if p.video in {v.activity_id for v in own}], max_speed=max_speed)
        for v in own:
            counted = [(p.media_from, p.media_to) for p in kept if p.video == v.activity_id and exclusion_reason(p, max_speed=max_speed) is None]
            out[v.activity_id] = clip(counted, 0.0, v.length_s)
    return out


def dropoff(db: Session, program_id: int, employee_ids: Sequence[int]) -> dict[int, list[float]]:
    """For each video, the share of the people who watched any of it that watched each twentieth (at
    its middle): where along the video viewers stop."""
    videos = videos_of(db, program_id)
    events = load_events(db, employee_ids, [v.activity_id for v in videos])
    counts = {v.id: [0] * BUCKETS for v in videos}
    starters = dict.fromkeys(counts, 0)
    for own in events.values():
        plays, _ = plays_and_seeks(own)
        sets = _watched_sets(plays, videos)
        for v in videos:
            watched = sets.get(v.activity_id, [])
            if not watched:
                continue
            starters[v.id] += 1
            for b in range(BUCKETS):
                middle = (b + 0.5) * v.length_s / BUCKETS
                counts[v.id][b] += any(start <= middle <= end for start, end in watched)
    return {v.id: [round(100 * c / starters[v.id], 1) if starters[v.id] else 0.0 for c in counts[v.id]] for v in videos}
