"""Proxy sign-in (代签到) signals: pure functions over stored punches, each a scored case for HR.

Nothing here rejects an event. A signal names the events that would stop counting if HR confirms the
case (``event_ids``) and the people they were made for (``employee_ids``); the rest of the evidence is
in ``involved_event_ids`` and ``detail``. Which events are "the proxied ones":

- shared-device: the first person the device checked in within the cluster is taken as its real
  user; the others' punches from that device are the proxied ones;
- relayed-token: the punches made with the room's QR step from outside the room;
- impossible-travel: of the two punches, the one with the weaker evidence (a non-biometric method
  when the other is face/fingerprint), else the later one;
- timetable-contradiction: the punch made while the person's timetable says they were teaching.

Standard library only; the current time is never read.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise

from trainquant.attendance.geo import haversine_m

SHARED_DEVICE = "shared-device"
RELAYED_TOKEN = "relayed-token"
IMPOSSIBLE_TRAVEL = "impossible-travel"
TIMETABLE_CONTRADICTION = "timetable-contradiction"

# Phones: one phone = one person. Card readers and face/fingerprint terminals are fixed devices every
# colleague queues at, so a burst of different people there is the honest pattern, not a signal.
PHONE_METHODS = frozenset({"qr", "geo"})
BIOMETRIC_METHODS = frozenset({"face", "fingerprint"})
SHARED_DEVICE_WINDOW = timedelta(seconds=60)
MAX_SPEED_KMH = 120.0
MIN_TRAVEL_M = 2_000.0  # below this, GPS noise and neighbouring rooms: never "impossible"
DIFFERENT_SITE_WITHIN = timedelta(minutes=10)
RELAY_MARGIN_M = 150.0  # beyond the fence radius plus the reported accuracy
CLASS_MARGIN = timedelta(minutes=5)  # a punch in a class's first or last 5 minutes is a changeover


@dataclass(frozen=True)
class PunchFact:
    event_id: int
    employee_id: int
    session_id: int | None
    at: datetime
    kind: str
    method: str | None = None
    device_id: str | None = None
    qr_step: int | None = None
    lat: float | None = None  # where the punch says it was made (WGS-84)
    lng: float | None = None
    accuracy_m: float | None = None
    distance_m: float | None = None  # to the session's venue, when the punch had a position
    fence_m: float | None = None  # the venue's radius
    site_id: int | None = None  # the session's site
    venue_lat: float | None = None  # the session's venue
    venue_lng: float | None = None

    def position(self) -> tuple[float, float] | None:
        if self.lat is not None and self.lng is not None:
            return (self.lat, self.lng)
        if self.venue_lat is not None and self.venue_lng is not None:
            return (self.venue_lat, self.venue_lng)
        return None


@dataclass(frozen=True)
class ClassTime:
    employee_id: int
    start: datetime
    end: datetime
    course: str | None = None


@dataclass(frozen=True)
class Signal:
    signal: str
    fingerprint: str
    score: float
    session_id: int | None
    employee_ids: tuple[int, ...]  # whose punches look proxied
    event_ids: tuple[int, ...]  # excluded from those people's figures when HR confirms
    detail: str
    involved_event_ids: tuple[int, ...] = field(default=())
    real_employee_id: int | None = None
    # The figures ``detail`` is written from, for the review page to say in its language (proxy/texts.py).
    evidence: dict = field(default_factory=dict, hash=False, compare=False)


def _order(p: PunchFact) -> tuple:
    return (p.at, p.event_id)


def shared_device(punches: Iterable[PunchFact], *, window: timedelta = SHARED_DEVICE_WINDOW, methods: frozenset[str] = PHONE_METHODS) -> list[Signal]:
    """One phone checking in several different people within ``window`` of the cluster's first punch."""
    by_device: dict[tuple[str, int | None], list[PunchFact]] = defaultdict(list)
    for p in punches:
        if p.device_id and p.method in methods:
            by_device[(p.device_id, p.session_id)].append(p)
    out: list[Signal] = []
    for (device, session_id), items in sorted(by_device.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)):
        items.sort(key=_order)
        i = 0
        while i < len(items):
            anchor = items[i]
            cluster = [p for p in items[i:] if p.at - anchor.at <= window]
            people = list(dict.fromkeys(p.employee_id for p in cluster))
            if len(people) < 2:
                i += 1
                continue
            real = people[0]
            proxied = [p for p in cluster if p.employee_id != real]
            n = len(people)
            span = (cluster[-1].at - anchor.at).total_seconds()
            score = min(1.0, 0.45 + 0.2 * (n - 1) + (0.1 if span <= 20 else 0.0))
            out.append(Signal(
                SHARED_DEVICE, f"{device}:{session_id}:{anchor.event_id}", round(score, 3), session_id,
                tuple(sorted(set(people[1:]))), tuple(sorted(p.event_id for p in proxied)),
                f"device {device} checked in {n} people within {span:.0f} s",
                tuple(sorted(p.event_id for p in cluster)), real, {"device": device, "people": n, "seconds": round(span)},
            ))
            i += len(cluster)
    return out


def _outside(p: PunchFact) -> float | None:
    """How far beyond its room's fence the punch was made, or None when it cannot be told."""
    if p.distance_m is None or p.fence_m is None:
        return None
    return p.distance_m - p.fence_m - (p.accuracy_m or 0.0)


def _within_fence(p: PunchFact) -> bool:
    """Made inside its room's fence, or where that cannot be told."""
    beyond = _outside(p)
    return beyond is None or beyond <= 0


def relayed_token(punches: Iterable[PunchFact], *, margin_m: float = RELAY_MARGIN_M) -> list[Signal]:
    """A room's QR step used from well outside the room: the code was photographed and passed on.

    Everyone in the room scans the same step at once; that alone is the honest pattern. The signal is
    a use of the step whose own position puts it beyond the fence, or far from the others who used it.
    """
    by_step: dict[tuple[int | None, int], list[PunchFact]] = defaultdict(list)
    for p in punches:
        if p.method == "qr" and p.qr_step is not None:
            by_step[(p.session_id, p.qr_step)].append(p)
    out: list[Signal] = []
    for (session_id, step), items in sorted(by_step.items(), key=lambda kv: (kv[0][0] or 0, kv[0][1])):
        people = {p.employee_id for p in items}
        if len(people) < 2:
            continue
        located = [(p, p.lat, p.lng) for p in items if p.lat is not None and p.lng is not None]
        remote: dict[int, float] = {}
        for p in items:
            beyond = _outside(p)
            if beyond is not None and beyond > margin_m:
                remote[p.event_id] = beyond
        inside = [(q, lat, lng) for q, lat, lng in located if q.event_id not in remote and _within_fence(q)]
        for p, lat, lng in located:
            if p.event_id in remote or not inside:
                continue
            to_others = [haversine_m(lat, lng, q_lat, q_lng) for q, q_lat, q_lng in inside if q.employee_id != p.employee_id]
            nearest = min(to_others) if to_others else 0.0
            slack = margin_m + (p.accuracy_m or 0.0) + 2 * (p.fence_m or 50.0)
            if nearest > slack:
                remote[p.event_id] = nearest - slack
        if not remote:
            continue
        bad = [p for p in items if p.event_id in remote]
        far = max(remote.values())
        score = min(1.0, 0.6 + min(0.35, far / 10_000))
        out.append(Signal(
            RELAYED_TOKEN, f"{session_id}:{step}", round(score, 3), session_id,
            tuple(sorted({p.employee_id for p in bad})), tuple(sorted(p.event_id for p in bad)),
            f"QR step {step} used by {len(people)} people; {len(bad)} use(s) up to {far:.0f} m outside the room",
            tuple(sorted(p.event_id for p in items)), evidence={"step": step, "people": len(people), "outside": len(bad), "metres": round(far)},
        ))
    return out


def impossible_travel(punches: Iterable[PunchFact], *, max_kmh: float = MAX_SPEED_KMH, min_m: float = MIN_TRAVEL_M) -> list[Signal]:
    """Consecutive punches of one person too far apart for the time between them."""
    by_person: dict[int, list[PunchFact]] = defaultdict(list)
    for p in punches:
        by_person[p.employee_id].append(p)
    out: list[Signal] = []
    for person in sorted(by_person):
        items = sorted(by_person[person], key=_order)
        for a, b in pairwise(items):
            gap_s = (b.at - a.at).total_seconds()
            pa, pb = a.position(), b.position()
            if pa is not None and pb is not None:
                if pa == pb:
                    continue  # the same place (the same room, most often): no distance at all
                dist = haversine_m(*pa, *pb)
                if dist < min_m:
                    continue
                speed = dist / 1000 / (gap_s / 3600) if gap_s > 0 else math.inf
                if speed <= max_kmh:
                    continue
                score = min(1.0, 0.55 + 0.4 * (1 - max_kmh / speed)) if speed != math.inf else 0.95
                what = f"{dist / 1000:.1f} km in {gap_s / 60:.0f} min ({'∞' if speed == math.inf else f'{speed:.0f}'} km/h)"
                evidence = {"km": round(dist / 1000, 1), "minutes": round(gap_s / 60), "kmh": None if speed == math.inf else round(speed)}
            elif a.site_id is not None and b.site_id is not None and a.site_id != b.site_id and gap_s <= DIFFERENT_SITE_WITHIN.total_seconds():
                score, what = 0.6, f"two sites within {gap_s / 60:.0f} min"
                evidence = {"sites": 2, "minutes": round(gap_s / 60)}
            else:
                continue
            weak = b
            if (a.method in BIOMETRIC_METHODS) != (b.method in BIOMETRIC_METHODS):
                weak = b if a.method in BIOMETRIC_METHODS else a
            out.append(Signal(
                IMPOSSIBLE_TRAVEL, f"{a.event_id}:{b.event_id}", round(score, 3), weak.session_id,
                (person,), (weak.event_id,), f"consecutive punches {what}", (a.event_id, b.event_id), evidence=evidence,
            ))
    return out


def timetable_contradiction(punches: Iterable[PunchFact], classes: Sequence[ClassTime], *, margin: timedelta = CLASS_MARGIN) -> list[Signal]:
    """A punch made while the person's timetable says they were teaching a class."""
    by_person: dict[int, list[ClassTime]] = defaultdict(list)
    for c in classes:
        by_person[c.employee_id].append(c)
    out: list[Signal] = []
    for p in sorted(punches, key=_order):
        for c in by_person.get(p.employee_id, ()):
            if c.start + margin <= p.at <= c.end - margin:
                score = 0.5 if p.method in BIOMETRIC_METHODS else 0.75
                course = f" ({c.course})" if c.course else ""
                out.append(Signal(
                    TIMETABLE_CONTRADICTION, f"{p.event_id}", score, p.session_id, (p.employee_id,), (p.event_id,),
                    f"punch '{p.kind}' at {p.at.isoformat()} while teaching {c.start.isoformat()}–{c.end.isoformat()}{course}",
                    (p.event_id,), evidence={"kind": p.kind, "at": p.at.isoformat(), "class_start": c.start.isoformat(),
                                             "class_end": c.end.isoformat(), "course": c.course or None},
                ))
                break
    return out


def all_signals(punches: Sequence[PunchFact], classes: Sequence[ClassTime], *, session_ids: Iterable[int] | None = None) -> list[Signal]:
    """Every signal; with ``session_ids``, only signals about those sessions (travel looks wider)."""
    wanted = None if session_ids is None else set(session_ids)
    mine = [p for p in punches if wanted is None or p.session_id in wanted]
    found = shared_device(mine) + relayed_token(mine) + timetable_contradiction(mine, classes) + impossible_travel(punches)
    return [s for s in found if wanted is None or s.session_id in wanted]
