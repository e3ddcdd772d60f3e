"""Scheduling around timetables (R2.1): rank candidate slots by who is free, and cover a group.

Pure: people come in with their busy intervals (classes, other trainings) in UTC; department peak
periods are rules in local time; the time zone is a parameter and the clock is never read.

``cover`` is a greedy set cover (each step takes the slot that seats the most people not yet seated,
up to the capacity), so it is within a factor H(n) of the optimum in general. It reports a lower
bound with every plan, and on small groups it searches exactly for a smaller plan, so a plan marked
``optimal`` uses no more sessions than needed.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TEACHING, TRAINING, PEAK = "teaching", "training", "peak"
REASON_ORDER = {TEACHING: 0, TRAINING: 1, PEAK: 2}
UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class Busy:
    start: datetime
    end: datetime
    reason: str  # teaching | training | peak
    label: str = ""


@dataclass(frozen=True)
class Person:
    employee_id: int
    employee_no: str = ""
    name: str = ""
    department_code: str = ""
    department_kind: str = ""
    busy: tuple[Busy, ...] = ()


@dataclass(frozen=True)
class PeakRule:
    """A department's busy period in local time, e.g. marketing on weekends (peak acquisition time)."""

    weekdays: tuple[int, ...]
    start: time
    end: time
    label: str
    department_kinds: tuple[str, ...] = ()
    department_codes: tuple[str, ...] = ()

    def applies_to(self, person: Person) -> bool:
        return person.department_kind in self.department_kinds or person.department_code in self.department_codes


DEFAULT_PEAKS: tuple[PeakRule, ...] = (
    PeakRule((5, 6), time(9, 30), time(18, 0), "周末到访咨询与试听高峰 (weekend acquisition peak)", department_kinds=("marketing",)),
)


@dataclass(frozen=True)
class Candidate:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Missing:
    employee_id: int
    reason: str
    label: str = ""


@dataclass(frozen=True)
class SlotOption:
    start: datetime
    end: datetime
    free: tuple[int, ...]
    missing: tuple[Missing, ...]

    @property
    def free_count(self) -> int:
        return len(self.free)


@dataclass(frozen=True)
class CoverSession:
    start: datetime
    end: datetime
    employee_ids: tuple[int, ...]


@dataclass(frozen=True)
class CoverPlan:
    sessions: tuple[CoverSession, ...]
    uncoverable: tuple[int, ...]  # free in none of the candidate slots
    lower_bound: int
    optimal: bool
    method: str = "greedy"
    extra: dict = field(default_factory=dict, compare=False, hash=False)
    too_few: tuple[int, ...] = ()  # free at some slot, but at none with enough others for a group of min_group


def candidates(first: date, last: date, *, length_minutes: int, tz: ZoneInfo, grid_minutes: int = 30,
               day_start: time = time(8, 0), day_end: time = time(21, 0), weekdays: Iterable[int] | None = None) -> list[Candidate]:
    """Every start on the grid between ``day_start`` and ``day_end`` (local), each day, that ends by ``day_end``."""
    if length_minutes <= 0 or grid_minutes <= 0:
        raise ValueError("length and grid must be positive")
    allowed = set(range(7) if weekdays is None else weekdays)
    out: list[Candidate] = []
    day = first
    while day <= last:
        if day.weekday() in allowed:
            start = datetime.combine(day, day_start, tz)
            stop = datetime.combine(day, day_end, tz)
            while start + timedelta(minutes=length_minutes) <= stop:
                end = start + timedelta(minutes=length_minutes)
                out.append(Candidate(start.astimezone(UTC), end.astimezone(UTC)))
                start += timedelta(minutes=grid_minutes)
        day += timedelta(days=1)
    return out


def _peak_clash(person: Person, cand: Candidate, peaks: Sequence[PeakRule], tz: ZoneInfo) -> PeakRule | None:
    ls, le = cand.start.astimezone(tz), cand.end.astimezone(tz)
    for rule in peaks:
        if not rule.applies_to(person):
            continue
        day = ls.date()
        while day <= le.date():
            if day.weekday() in rule.weekdays:
                ps, pe = datetime.combine(day, rule.start, tz), datetime.combine(day, rule.end, tz)
                if ps < le and pe > ls:
                    return rule
            day += timedelta(days=1)
    return None


def why_missing(person: Person, cand: Candidate, peaks: Sequence[PeakRule] = (), tz: ZoneInfo = UTC) -> Missing | None:
    """Why a person cannot attend a slot (a class first, then another training, then a peak), or None if free."""
    clashes = sorted((b for b in person.busy if b.start < cand.end and b.end > cand.start), key=lambda b: (REASON_ORDER.get(b.reason, 9), b.start))
    if clashes:
        return Missing(person.employee_id, clashes[0].reason, clashes[0].label)
    peak = _peak_clash(person, cand, peaks, tz)
    if peak is not None:
        return Missing(person.employee_id, PEAK, peak.label)
    return None


def evaluate(people: Sequence[Person], cands: Iterable[Candidate], *, peaks: Sequence[PeakRule] = (), tz: ZoneInfo = UTC) -> list[SlotOption]:
    out = []
    for c in cands:
        free, missing = [], []
        for p in people:
            m = why_missing(p, c, peaks, tz)
            if m is None:
                free.append(p.employee_id)
            else:
                missing.append(m)
        out.append(SlotOption(c.start, c.end, tuple(sorted(free)), tuple(sorted(missing, key=lambda m: m.employee_id))))
    return out


def rank(options: Iterable[SlotOption], *, limit: int | None = None) -> list[SlotOption]:
    """Most people free first; ties go to the earlier slot. Deterministic for the same input."""
    ordered = sorted(options, key=lambda o: (-o.free_count, o.start, o.end))
    return ordered if limit is None else ordered[:limit]


def _distinct(options: Sequence[SlotOption]) -> list[SlotOption]:
    """One slot per set of free people (the earliest), without slots whose free set another strictly contains."""
    by_set: dict[frozenset[int], SlotOption] = {}
    for o in sorted(options, key=lambda o: (o.start, o.end)):
        s = frozenset(o.free)
        if s and s not in by_set:
            by_set[s] = o
    sets = list(by_set)
    keep = [s for s in sets if not any(s < t for t in sets)]
    return sorted((by_set[s] for s in keep), key=lambda o: (o.start, o.end))


def lower_bound(options: Sequence[SlotOption], capacity: int) -> int:
    """No plan can use fewer sessions: ceil(people / capacity), and people with pairwise disjoint slots each need their own."""
    people: dict[int, set[int]] = {}
    for i, o in enumerate(options):
        for e in o.free:
            people.setdefault(e, set()).add(i)
    if not people:
        return 0
    used: set[int] = set()
    disjoint = 0
    for e in sorted(people, key=lambda e: (len(people[e]), e)):
        if not (people[e] & used):
            used |= people[e]
            disjoint += 1
    return max(math.ceil(len(people) / capacity), disjoint)


def _assign(chosen: Sequence[SlotOption], people: Sequence[int], capacity: int) -> list[list[int]] | None:
    """Seat every person in one chosen session they are free for, at most ``capacity`` each (augmenting paths)."""
    seats: list[list[int]] = [[] for _ in chosen]
    where: dict[int, int] = {}
    free_in = {e: [i for i, o in enumerate(chosen) if e in o.free] for e in people}

    def place(e: int, seen: set[int]) -> bool:
        for i in free_in[e]:
            if i in seen:
                continue
            seen.add(i)
            if len(seats[i]) < capacity:
                seats[i].append(e)
                where[e] = i
                return True
            for other in list(seats[i]):
                if place_other(other, i, seen):
                    seats[i].remove(other)
                    seats[i].append(e)
                    where[e] = i
                    return True
        return False

    def place_other(other: int, leaving: int, seen: set[int]) -> bool:
        for j in free_in[other]:
            if j == leaving or j in seen:
                continue
            seen.add(j)
            if len(seats[j]) < capacity:
                seats[j].append(other)
                where[other] = j
                return True
            for third in list(seats[j]):
                if place_other(third, j, seen):
                    seats[j].remove(third)
                    seats[j].append(other)
                    where[other] = j
                    return True
        return False

    for e in people:
        if not place(e, set()):
            return None
    return seats


def cover(options: Sequence[SlotOption], *, capacity: int, exact_up_to: int = 20_000, min_group: int = 1) -> CoverPlan:
    """The fewest sessions that seat everyone free in at least one slot, ``capacity`` seats each.

    A slot may be chosen twice (two parallel groups at the same time) when more people than seats
    can come only then. Greedy first; when small enough, an exact search below the greedy count.
    With ``min_group`` > 1 no session is planned for fewer people: those the plan cannot gather into
    one (free only where too few others are) are ``too_few``, for HR to seat by hand (greedy only).
    """
    if capacity <= 0:
        raise ValueError("capacity must be positive")
    if not 1 <= min_group <= capacity:
        raise ValueError("the smallest group is between 1 and the seats of a session")
    if min_group > 1:
        return _cover_groups(options, capacity=capacity, min_group=min_group)
    coverable, uncoverable, distinct, options_of = _group_of(options)
    left = set(coverable)
    plan: list[tuple[SlotOption, tuple[int, ...]]] = []
    while left:
        best = max(distinct, key=lambda o: (min(capacity, len(left.intersection(o.free))), -o.start.timestamp()))
        # Seat first those with the fewest other chances.
        seated = tuple(sorted(sorted(left.intersection(best.free), key=lambda e: (options_of[e], e))[:capacity]))
        plan.append((best, seated))
        left -= set(seated)
    bound = lower_bound(distinct, capacity)
    method, optimal = "greedy", len(plan) <= bound
    if not optimal:
        budget = exact_up_to
        for k in range(bound, len(plan)):
            found = None
            for combo in itertools.combinations_with_replacement(range(len(distinct)), k):
                budget -= 1
                if budget < 0:
                    break
                chosen = [distinct[i] for i in combo]
                if len(set().union(*(o.free for o in chosen))) < len(coverable):
                    continue
                seats = _assign(chosen, coverable, capacity)
                if seats is not None:
                    found = list(zip(chosen, (tuple(sorted(s)) for s in seats), strict=True))  # _assign: one seat list per chosen option
                    break
            if budget < 0:
                break
            if found is not None:
                plan, method, optimal = found, "exact", True
                break
        else:
            method, optimal = "greedy+exact", True
    sessions = tuple(CoverSession(o.start, o.end, seated) for o, seated in sorted(plan, key=lambda p: (p[0].start, p[1])))
    return CoverPlan(sessions, uncoverable, bound, optimal, method)


def _join_planned(plan: list[tuple[SlotOption, list[int]]], left: set[int], capacity: int) -> None:
    """Each of ``left`` takes a seat left in a planned session at a time they are free."""
    for e in sorted(left):
        for o, seated in plan:
            if e in o.free and len(seated) < capacity:
                seated.append(e)
                left.discard(e)
                break


def _group_of(options: Sequence[SlotOption]) -> tuple[list[int], tuple[int, ...], list[SlotOption], dict[int, int]]:
    """Who can be seated (free at some slot), who cannot, the distinct slots, and each person's chances."""
    everyone = sorted({e for o in options for e in o.free} | {m.employee_id for o in options for m in o.missing})
    coverable = sorted({e for o in options for e in o.free})
    uncoverable = tuple(e for e in everyone if e not in set(coverable))
    distinct = _distinct(options)
    return coverable, uncoverable, distinct, {e: sum(1 for o in distinct if e in o.free) for e in coverable}


def _cover_groups(options: Sequence[SlotOption], *, capacity: int, min_group: int) -> CoverPlan:
    """``cover`` with a smallest group: the greedy plan, stopping where the best slot left would seat
    fewer than ``min_group``; who is left joins a planned session they are free at if it has a seat."""
    coverable, uncoverable, distinct, options_of = _group_of(options)
    left = set(coverable)
    plan: list[tuple[SlotOption, list[int]]] = []
    while left:
        best = max(distinct, key=lambda o: (min(capacity, len(left.intersection(o.free))), -o.start.timestamp()))
        seated = sorted(sorted(left.intersection(best.free), key=lambda e: (options_of[e], e))[:capacity])
        if len(seated) < min_group:
            break
        plan.append((best, seated))
        left -= set(seated)
    _join_planned(plan, left, capacity)
    # Who is left gathers at a slot with people a planned session can spare (it keeps min_group).
    progress = True
    while left and progress:
        progress = False
        for o in sorted(distinct, key=lambda o: (-len(left.intersection(o.free)), o.start)):
            here = sorted(left.intersection(o.free))
            if not here:
                continue
            need = min_group - len(here)
            donors: list[tuple[list[int], int]] = []
            for _, seated in plan:
                spare = len(seated) - min_group
                for e in sorted(seated, key=lambda e: (options_of[e], e), reverse=True):
                    if len(donors) >= need or spare <= 0:
                        break
                    if e in o.free and all(e != d for _, d in donors):
                        donors.append((seated, e))
                        spare -= 1
            if len(donors) < need:
                continue
            for seated, e in donors:
                seated.remove(e)
            group = (here + [e for _, e in donors])[:capacity]
            plan.append((o, group))
            left -= set(group)
            progress = True
            break
        _join_planned(plan, left, capacity)
    sessions = tuple(CoverSession(o.start, o.end, tuple(sorted(seated))) for o, seated in sorted(plan, key=lambda p: (p[0].start, sorted(p[1]))))
    bound = lower_bound(distinct, capacity)
    return CoverPlan(sessions, uncoverable, bound, len(sessions) <= bound and not left, "greedy-groups", too_few=tuple(sorted(left)))
