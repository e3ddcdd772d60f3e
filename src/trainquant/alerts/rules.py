"""Participation alerts (R2.4), pure: the likely cause of one person's low figure, the clashes ahead,
and the time pattern behind a department's low average."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from statistics import fmean

PERSON_THRESHOLD = 0.8
DEPARTMENT_THRESHOLD = 0.7
PATTERN_GAP = 0.15  # a slice this much below the rest of the department is "the pattern"

TIMETABLE_CONFLICT, ABSENT, LATE, LEFT_EARLY, NO_CHECKOUT, AWAY = "timetable-conflict", "absent", "late", "left-early", "no-checkout", "away"
# On equal minutes the first named wins: a class explains being late better than lateness does.
CAUSE_PRIORITY = (TIMETABLE_CONFLICT, ABSENT, LATE, LEFT_EARLY, NO_CHECKOUT, AWAY)

WEEKEND, WEEKDAY = "weekend", "weekday"
BANDS = (("morning", 0, 12), ("afternoon", 12, 18), ("evening", 18, 24))


@dataclass(frozen=True)
class Figures:
    """One person's stored figures for one session, plus the class time inside the session window."""

    attended_seconds: int
    scheduled_seconds: int
    late_seconds: int = 0
    early_leave_seconds: int = 0
    away_seconds: int = 0
    teaching_seconds: int = 0  # the person's classes overlapping the session
    flags: frozenset[str] = frozenset()

    @property
    def participation(self) -> float:
        return self.attended_seconds / self.scheduled_seconds if self.scheduled_seconds else 0.0


@dataclass(frozen=True)
class Cause:
    cause: str
    lost_seconds: int
    breakdown: tuple[tuple[str, int], ...]  # every cause with its seconds lost, largest first


def minutes_lost(f: Figures) -> dict[str, int]:
    """Seconds lost per cause. They may overlap (late because teaching); the winner is what matters."""
    lost: dict[str, int] = {}
    if f.teaching_seconds > 0 or "timetable-conflict" in f.flags:
        lost[TIMETABLE_CONFLICT] = max(f.teaching_seconds, 1)
    if "absent" in f.flags or (f.attended_seconds == 0 and f.scheduled_seconds > 0):
        lost[ABSENT] = max(0, f.scheduled_seconds - f.teaching_seconds)
        return lost
    if f.late_seconds > 0:
        lost[LATE] = f.late_seconds
    if f.early_leave_seconds > 0:
        # With no check-out the end of the visit is not known: the missing punch is the cause.
        lost[NO_CHECKOUT if "no-checkout" in f.flags else LEFT_EARLY] = f.early_leave_seconds
    elif "no-checkout" in f.flags:
        lost[NO_CHECKOUT] = 0
    if f.away_seconds > 0:
        lost[AWAY] = f.away_seconds
    return lost


def likely_cause(f: Figures) -> Cause:
    lost = minutes_lost(f)
    if not lost:
        return Cause(ABSENT if f.attended_seconds == 0 else LATE, max(0, f.scheduled_seconds - f.attended_seconds), ())
    ranked = sorted(lost.items(), key=lambda kv: (-kv[1], CAUSE_PRIORITY.index(kv[0])))
    return Cause(ranked[0][0], ranked[0][1], tuple(ranked))


def is_low(f: Figures, threshold: float = PERSON_THRESHOLD) -> bool:
    return f.scheduled_seconds > 0 and f.participation < threshold


@dataclass(frozen=True)
class Upcoming:
    code: str
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Span:
    start: datetime
    end: datetime


def clashing(upcoming: Iterable[Upcoming], classes: Sequence[Span]) -> list[Upcoming]:
    """The sessions ahead that overlap one of the person's classes, in time order."""
    return sorted((u for u in upcoming if any(c.start < u.end and c.end > u.start for c in classes)), key=lambda u: (u.start, u.code))


def free_alternatives(upcoming: Iterable[Upcoming], classes: Sequence[Span]) -> list[Upcoming]:
    return sorted((u for u in upcoming if not any(c.start < u.end and c.end > u.start for c in classes)), key=lambda u: (u.start, u.code))


@dataclass(frozen=True)
class Attendance:
    """One person-session figure as the department check sees it: the session's local weekday and hour."""

    department_id: int
    participation: float
    weekday: int
    hour: int
    session_id: int = 0


@dataclass(frozen=True)
class Slice:
    name: str  # "weekend", "weekday", "morning", "afternoon", "evening", "mon" ...
    mean: float
    count: int


@dataclass(frozen=True)
class Pattern:
    department_id: int
    mean: float
    count: int
    cause: str  # weekend-sessions | evening-sessions | morning-sessions | afternoon-sessions | low-overall
    worst: Slice | None
    slices: tuple[Slice, ...]


def band_of(hour: int) -> str:
    return next(name for name, lo, hi in BANDS if lo <= hour < hi)


def _slices(rows: Sequence[Attendance]) -> list[Slice]:
    groups: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        groups[WEEKEND if r.weekday >= 5 else WEEKDAY].append(r.participation)
        groups[band_of(r.hour)].append(r.participation)
    order = [WEEKDAY, WEEKEND] + [b for b, _, _ in BANDS]
    return [Slice(k, round(fmean(groups[k]), 4), len(groups[k])) for k in order if groups.get(k)]


def department_patterns(rows: Iterable[Attendance], *, threshold: float = DEPARTMENT_THRESHOLD, min_count: int = 5, min_sessions: int = 2,
                        gap: float = PATTERN_GAP) -> list[Pattern]:
    """Departments averaging under ``threshold``, each with the slice of sessions that drags it down.

    A slice (weekend vs weekday, or a time band) is "the pattern" when it is at least ``gap`` below the
    rest of the department's sessions; otherwise the cause is low participation overall.
    """
    by_dep: dict[int, list[Attendance]] = defaultdict(list)
    for r in rows:
        by_dep[r.department_id].append(r)
    out = []
    for dep in sorted(by_dep):
        items = by_dep[dep]
        if len(items) < min_count or len({r.session_id for r in items}) < min_sessions:
            continue  # one session, or a handful of people, is not a pattern
        mean = fmean(r.participation for r in items)
        if mean >= threshold:
            continue
        slices = _slices(items)
        worst, worst_gap = None, 0.0
        for s in slices:
            rest = [r.participation for r in items if not _in_slice(r, s.name)]
            if not rest:
                continue
            g = fmean(rest) - s.mean
            if g >= gap and g > worst_gap:
                worst, worst_gap = s, g
        cause = f"{worst.name}-sessions" if worst is not None and worst.name != WEEKDAY else "low-overall"
        if worst is not None and worst.name == WEEKDAY:
            cause = "weekday-sessions"
        out.append(Pattern(dep, round(mean, 4), len(items), cause, worst, tuple(slices)))
    return out


def _in_slice(r: Attendance, name: str) -> bool:
    if name == WEEKEND:
        return r.weekday >= 5
    if name == WEEKDAY:
        return r.weekday < 5
    return band_of(r.hour) == name


# ---------------------------------------------------------------- one alert per person per period
# A person under the minimum in several sessions of a month is one thing to follow up, not several:
# their alert lists the month's sessions. The month is the school's calendar month.


def month_of(day: date) -> tuple[date, date]:
    """The calendar month holding ``day``: its first and last day."""
    first = day.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


@dataclass(frozen=True)
class Missed:
    """One session of a person's period alert, as the alert keeps it."""

    session_id: int
    attended_seconds: int
    scheduled_seconds: int
    threshold: float
    lost_seconds: tuple[tuple[str, int], ...]  # (cause, seconds) as ``likely_cause`` ranked them


@dataclass(frozen=True)
class Summary:
    participation: float  # time attended / time scheduled over the listed sessions
    threshold: float | None  # the sessions' minimum when they share one
    cause: str  # the cause that lost the most time over them all


def summarise(missed: Sequence[Missed]) -> Summary:
    """A period alert's figures from its sessions. Its cause is each session's likely cause weighted
    by the time that session lost, the most over the sessions winning (ties go to CAUSE_PRIORITY's
    order); a session whose loss has no named cause counts as absent."""
    if not missed:
        raise ValueError("a period alert lists at least one session")
    scheduled = sum(m.scheduled_seconds for m in missed)
    attended = sum(m.attended_seconds for m in missed)
    lost: dict[str, int] = defaultdict(int)
    for m in missed:
        if m.lost_seconds:
            winner, seconds = m.lost_seconds[0]
            lost[winner] += seconds
        else:
            lost[ABSENT] += max(0, m.scheduled_seconds - m.attended_seconds)
    cause = min(lost.items(), key=lambda kv: (-kv[1], CAUSE_PRIORITY.index(kv[0]) if kv[0] in CAUSE_PRIORITY else len(CAUSE_PRIORITY)))[0]
    thresholds = {m.threshold for m in missed}
    return Summary(attended / scheduled if scheduled else 0.0, thresholds.pop() if len(thresholds) == 1 else None, cause)
