"""The simulated school's online year (part 5): two online programs, and every teacher and course
adviser watching them the way real staff do, as the statements a player sends, with the ground truth
of what each really watched worked out from the behaviour itself (never from the statements).

Behaviours: diligent (start to end), re-watcher (a third again), 2x viewer (over one course's 1.5x
limit, within the other's 2x), background tab (the middle half played hidden), seeker (30 s, then a
jump to the end and a claim of completion), two at once (the next video started in a second tab a
minute later), idle (the prompt after two unattended minutes), and drop-out (stops half-way).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from trainquant.learning import video as xv
from trainquant.simulate.institution.school import SimulatedSchool

BEHAVIOURS = ("diligent", "rewatcher", "fast", "background", "seeker", "two-at-once", "idle", "dropout")
WEIGHTS = (30, 10, 10, 10, 10, 10, 10, 10)
LENGTH_S = 240  # every demo lecture is four minutes (one encoded file serves them all)


@dataclass(frozen=True)
class VideoSpec:
    position: int
    title: str
    activity_id: str


@dataclass(frozen=True)
class CourseSpec:
    code: str
    title: str
    title_en: str
    target_kind: str
    max_speed: float
    videos: tuple[VideoSpec, ...]


@dataclass
class LearnerTruth:
    """What one person really watched of one course: media seconds per video (counted as the rules
    mean: in view, attended, within the speed limit, one video at a time) and wall seconds watching."""

    watched: dict[str, float] = field(default_factory=dict)
    study_seconds: float = 0.0

    def complete(self, course: CourseSpec) -> bool:
        return all(self.watched.get(v.activity_id, 0.0) >= LENGTH_S - 1e-6 for v in course.videos)


@dataclass(frozen=True)
class OnlineYear:
    courses: tuple[CourseSpec, ...]
    statements: tuple[dict[str, Any], ...]
    behaviour: dict[tuple[str, str], str]  # (employee_no, course code) -> behaviour
    truth: dict[tuple[str, str], LearnerTruth]


def courses(home: str) -> tuple[CourseSpec, ...]:
    def videos(code: str, titles: tuple[str, ...]) -> tuple[VideoSpec, ...]:
        return tuple(VideoSpec(i, t, f"{home}learning/videos/sim-{code.lower()}-{i}") for i, t in enumerate(titles, start=1))

    return (
        CourseSpec("ONL-TEACH", "课堂互动方法（线上）", "Classroom interaction (online)", "teaching", 1.5,
                   videos("ONL-TEACH", ("提问的设计", "小组活动组织", "课堂反馈技巧"))),
        CourseSpec("ONL-SALES", "课程顾问话术（线上）", "Course adviser scripts (online)", "marketing", 2.0,
                   videos("ONL-SALES", ("需求挖掘", "异议处理"))),
    )


class _Player:
    """One player tab: the statements it sends, each stamped with its wall time."""

    def __init__(self, rng: random.Random, out: list[dict[str, Any]], actor: dict[str, Any], activity: str, start: datetime):
        self.rng, self.out, self.actor, self.activity = rng, out, actor, activity
        self.session = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        self.wall = start
        self.speed, self.hidden = 1.0, False

    def send(self, verb: str, **result: float) -> None:
        """One statement at the tab's current wall time (``idle_for`` is our extension, the rest the profile's)."""
        self.out.append({
            "id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "actor": self.actor, "verb": {"id": verb}, "object": {"id": self.activity},
            "result": {"extensions": {(xv.OURS if k == "idle_for" else xv.VIDEO) + "extensions/" + k.replace("_", "-"): v for k, v in result.items()}},
            "context": {"registration": self.session, "extensions": {
                xv.SESSION_ID: self.session, xv.LENGTH: LENGTH_S, xv.SPEED: f"{self.speed:g}x", xv.VISIBILITY: "hidden" if self.hidden else "visible"}},
            "timestamp": self.wall.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
        })

    def play(self, media_from: float, media_to: float, *, heartbeats: bool = True) -> None:
        """Play from ``media_from`` to ``media_to`` at the current speed (the caller sent ``played``),
        with a heartbeat every 30 s of wall time, ending at ``media_to`` without a statement."""
        position = media_from
        while heartbeats and (media_to - position) / self.speed > xv.HEARTBEAT_S:
            position += xv.HEARTBEAT_S * self.speed
            self.wall += timedelta(seconds=xv.HEARTBEAT_S)
            self.send(xv.HEARTBEAT, time=position)
        self.wall += timedelta(seconds=(media_to - position) / self.speed)


def _watch(behaviour: str, course: CourseSpec, v: VideoSpec, p: _Player, truth: LearnerTruth) -> None:
    L = float(LENGTH_S)
    a = v.activity_id
    if behaviour == "fast":
        p.speed = 2.0
        p.send(xv.PLAYED, time=0.0)
        p.play(0.0, L)
        p.send(xv.PAUSED, time=L)
        allowed = p.speed <= course.max_speed
        truth.watched[a] = L if allowed else 0.0
        truth.study_seconds += L / 2 if allowed else 0.0
        return
    p.send(xv.PLAYED, time=0.0)
    if behaviour in ("diligent", "two-at-once"):
        p.play(0.0, L)
        p.send(xv.PAUSED, time=L)
        truth.watched[a] = L
        truth.study_seconds += L
    elif behaviour == "rewatcher":
        p.play(0.0, L)
        p.send(xv.SEEKED, time_from=L, time_to=L / 3)
        p.play(L / 3, 2 * L / 3)
        p.send(xv.PAUSED, time=2 * L / 3)
        truth.watched[a] = L
        truth.study_seconds += L + L / 3
    elif behaviour == "background":
        p.play(0.0, L / 4)
        p.hidden = True
        p.send(xv.INTERACTED, time=L / 4)
        p.play(L / 4, 3 * L / 4, heartbeats=False)  # a hidden tab's timers are throttled: no heartbeat
        p.hidden = False
        p.send(xv.INTERACTED, time=3 * L / 4)
        p.play(3 * L / 4, L)
        p.send(xv.PAUSED, time=L)
        truth.watched[a] = L / 2
        truth.study_seconds += L / 2
    elif behaviour == "seeker":
        p.play(0.0, 30.0)
        p.send(xv.SEEKED, time_from=30.0, time_to=L - 5)
        p.play(L - 5, L)
        p.send(xv.PAUSED, time=L)
        p.send(xv.COMPLETED, time=L, progress=1.0)
        truth.watched[a] = 35.0
        truth.study_seconds += 35.0
    elif behaviour == "idle":
        # Input at 60 s, then nothing: the prompt shows at 180 s and takes back the last two minutes.
        p.play(0.0, 180.0)
        p.send(xv.PAUSED, time=180.0, idle_for=120.0)
        p.wall += timedelta(seconds=20)
        p.send(xv.PLAYED, time=180.0)
        p.play(180.0, L)
        p.send(xv.PAUSED, time=L)
        truth.watched[a] = L - 120
        truth.study_seconds += 60 + (L - 180)
    elif behaviour == "dropout":
        p.play(0.0, L / 2)
        p.send(xv.PAUSED, time=L / 2)
        truth.watched[a] = L / 2
        truth.study_seconds += L / 2
    p.send(xv.TERMINATED)


def generate_online_year(school: SimulatedSchool, *, home: str, seed: int | None = None) -> OnlineYear:
    rng = random.Random(school.seed * 7919 + 5 if seed is None else seed)
    specs = courses(home)
    statements: list[dict[str, Any]] = []
    behaviour: dict[tuple[str, str], str] = {}
    truth: dict[tuple[str, str], LearnerTruth] = {}
    start = datetime.combine(school.today - timedelta(days=330), time(11, 0), UTC)  # 19:00 in Beijing
    for course in specs:
        for person in school.employees_of_kind(course.target_kind):
            kind = rng.choices(BEHAVIOURS, WEIGHTS)[0]
            actor = {"objectType": "Agent", "name": person.name, "account": {"homePage": home, "name": person.employee_no}}
            day = start + timedelta(days=rng.randrange(0, 300))
            t = LearnerTruth()
            behaviour[(person.employee_no, course.code)] = kind
            truth[(person.employee_no, course.code)] = t
            videos = list(course.videos)
            i = 0
            while i < len(videos):
                v = videos[i]
                if kind == "two-at-once" and i + 1 < len(videos):
                    _two_at_once(rng, v, videos[i + 1], statements, actor, day, t)
                    i += 2
                else:
                    _watch(kind, course, v, _Player(rng, statements, actor, v.activity_id, day), t)
                    i += 1
                day += timedelta(days=rng.randrange(1, 8))
    return OnlineYear(specs, tuple(statements), behaviour, truth)


def _two_at_once(rng: random.Random, first: VideoSpec, second: VideoSpec, out: list[dict[str, Any]], actor: dict[str, Any], day: datetime, truth: LearnerTruth) -> None:
    """The first video, and a minute later the second in another tab, both in view. One person watches
    one thing at a time: the first holds the wall time, the second counts only once the first ended."""
    L, lag = float(LENGTH_S), 60.0
    a = _Player(rng, out, actor, first.activity_id, day)
    b = _Player(rng, out, actor, second.activity_id, day + timedelta(seconds=lag))
    a.send(xv.PLAYED, time=0.0)
    b.send(xv.PLAYED, time=0.0)
    a.play(0.0, L)
    a.send(xv.PAUSED, time=L)
    b.play(0.0, L)
    b.send(xv.PAUSED, time=L)
    truth.watched[first.activity_id] = L
    truth.watched[second.activity_id] = L - (L - lag)  # what played after the first ended
    truth.study_seconds += lag + L


def lengths(year: OnlineYear) -> dict[str, float]:
    return {v.activity_id: float(LENGTH_S) for c in year.courses for v in c.videos}


def first_day(today: date) -> date:
    return today - timedelta(days=330)
