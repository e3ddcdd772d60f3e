"""Which session a platform punch belongs to, and which way it goes. Pure: sessions, enrolments and
venues come in as parameters.

A platform export is a whole day of everyone's punches: arriving at work, lunch, double taps, and
somewhere among them the sessions' check-ins. Placement decides for each punch, independently of the
export's order (ties are broken by the punch's key, never by its position):

- **Session.** Candidates are the sessions whose window (``before`` the start to ``after`` the end)
  holds the punch. A punch's place is evidence: its device's room, or its position against a room's
  fence, says it was *here* or *elsewhere*; without either nothing is known. The person's own
  sessions (approved enrolments) come first, unless the evidence puts the punch elsewhere; among
  them the one the evidence points to, then the one whose time holds the punch, then the nearest in
  time. Punches that fit none of the person's sessions are a ``walk-in`` only where the evidence puts
  them in that session's room and they make a stay (a check-in and a check-out, or two punches
  without directions); HR accepts or dismisses it; one placed elsewhere while the person's
  session ran is ``away`` (a rejection HR sees); otherwise it is ``unrelated`` (commuting, lunch,
  another building), kept quietly.
- **Double tap.** Among one person's punches placed in one session, a punch of the same direction
  within ``double_tap`` after the previous one kept is the same punch: the first is kept, the rest
  are ``double-tap``.
- **Direction**, for punches without one (Feishu), among the punches placed in one session for one
  person only: of the punches up to the start only the last is an arrival, of those from the end on
  only the first a departure (the others are ``redundant``). An odd count cannot pair up: a punch
  more than ``SLACK`` outside the session's time (at work before it, going home after it) is the one
  that is not the session's, and the farthest such is redundant. Then the punches alternate from
  "in", and a last punch from the end on is "out" (a lone punch in the second half of the session
  too: leaving, not arriving for the rest). Where the count still cannot close, the unpaired punch
  is read as leaving, the reading that credits less, and the placement says so.
- Punches with a direction keep it; the same redundancy applies to them (an arrival before the start
  followed by another "in" is back from lunch, not the session's check-in), so a commute punch before
  a session never adds a ``duplicate-in`` nor hides a late arrival.
- What a direction-less day cannot tell apart stays ambiguous: a punch in the window before the start
  and one after the start, and none after the end, read as arriving early and leaving, not as an
  arrival at work and a late arrival without a check-out (a narrow window before keeps it rare).

Invariants (property-tested): a punch outside every session's window changes no other placement,
and the order of the punches changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from itertools import pairwise

from trainquant.attendance.geo import fence_check

ATTACHED, WALK_IN, UNRELATED, DOUBLE_TAP, REDUNDANT = "attached", "walk-in", "unrelated", "double-tap", "redundant"
AWAY = "away"  # during one of the person's sessions, placed elsewhere by its position or device
SLACK = timedelta(minutes=15)  # how far outside a session's time its own arrival or departure may lie
HERE, UNKNOWN, ELSEWHERE = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Windows:
    # Narrow before the start: an arrival at work long before a session is not its check-in, and with
    # the credit-to-end policy it would earn the whole session. After the end a departure is clipped
    # to the end, so a wide window there costs nothing.
    before: timedelta = timedelta(minutes=20)
    after: timedelta = timedelta(minutes=60)
    double_tap: timedelta = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Fence:
    lat: float  # WGS-84
    lng: float
    radius_m: float


@dataclass(frozen=True, slots=True)
class Slot:
    """A session a punch may belong to."""

    code: str
    starts_at: datetime
    ends_at: datetime
    venue_id: int | None = None
    fence: Fence | None = None
    enrolled: frozenset[int] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class Punch:
    key: str  # the event id: unique per export, the tie-breaker
    employee_id: int
    at: datetime
    kind: str | None  # "in" | "out" | None (the platform does not say)
    lat: float | None = None  # WGS-84
    lng: float | None = None
    accuracy_m: float | None = None
    venue_id: int | None = None  # the room of the device it was made on, when it is one of ours


@dataclass(frozen=True, slots=True)
class Placement:
    status: str  # attached | walk-in | unrelated | double-tap | redundant | away
    session: str | None = None
    kind: str | None = None
    inferred: bool = False  # the direction was inferred here
    note: str = ""
    distance_m: float | None = None  # away: from the session's room, when the position says


def evidence(p: Punch, s: Slot) -> tuple[int, float | None]:
    """(HERE / UNKNOWN / ELSEWHERE, distance to the room in metres when the position says)."""
    if p.venue_id is not None and s.venue_id is not None:
        return (HERE if p.venue_id == s.venue_id else ELSEWHERE), None
    if p.lat is not None and p.lng is not None and s.fence is not None:
        inside, distance, _ = fence_check(p.lat, p.lng, p.accuracy_m, venue_lat=s.fence.lat, venue_lng=s.fence.lng, radius_m=s.fence.radius_m)
        return (HERE if inside else ELSEWHERE), distance
    return UNKNOWN, None


def _in_window(p: Punch, s: Slot, w: Windows) -> bool:
    return s.starts_at - w.before <= p.at <= s.ends_at + w.after


def _time_rank(p: Punch, s: Slot) -> tuple[bool, float]:
    inside = s.starts_at <= p.at <= s.ends_at
    gap = 0.0 if inside else min(abs((p.at - s.starts_at).total_seconds()), abs((p.at - s.ends_at).total_seconds()))
    return (not inside, gap)


def _choose(p: Punch, slots: Sequence[Slot], w: Windows) -> Placement:
    candidates = [s for s in slots if _in_window(p, s, w)]
    if not candidates:
        return Placement(UNRELATED, note="no session at this time")
    judged = [(s, *evidence(p, s)) for s in candidates]
    own = [(s, ev) for s, ev, _ in judged if p.employee_id in s.enrolled and ev != ELSEWHERE]
    if own:
        best = min(own, key=lambda x: (x[1], *_time_rank(p, x[0]), x[0].code))[0]
        return Placement(ATTACHED, session=best.code, kind=p.kind)
    here = [s for s, ev, _ in judged if ev == HERE]
    if here:
        best = min(here, key=lambda s: (*_time_rank(p, s), s.code))
        return Placement(WALK_IN, session=best.code, kind=p.kind)
    away = [(s, d) for s, ev, d in judged if p.employee_id in s.enrolled and ev == ELSEWHERE]
    if away:
        s, d = min(away, key=lambda x: (*_time_rank(p, x[0]), x[0].code))
        where = f"{d:.0f} m from" if d is not None else "on a device outside"
        if s.starts_at <= p.at <= s.ends_at:  # elsewhere while the session ran: worth HR's eye
            return Placement(AWAY, note=f"{where} the room of session {s.code} while it ran", distance_m=d)
        return Placement(UNRELATED, note=f"{where} the room of session {s.code}")
    return Placement(UNRELATED, note="not enrolled in a session at this time, and nothing places the punch in its room")


def _redundant(p: Punch, s: Slot, kind: str, why: str) -> Placement:
    return Placement(REDUNDANT, session=s.code, kind=p.kind or kind, note=why)


def _directions(group: list[Punch], s: Slot) -> dict[str, Placement]:
    """Direction and redundancy among one person's punches placed in one session (sorted by time)."""
    out: dict[str, Placement] = {}
    before = [p for p in group if p.at <= s.starts_at]
    after = [p for p in group if p.at >= s.ends_at and p not in before]
    # Arrivals before the start: only the last counts (the time is clipped to the start anyway);
    # departures after the end: only the first.
    arrivals = [p for p in before if p.kind in (None, "in")]
    for p in arrivals[:-1]:
        out[p.key] = _redundant(p, s, "in", f"an earlier arrival before session {s.code} starts")
    departures = [p for p in after if p.kind in (None, "out")]
    for p in departures[1:]:
        out[p.key] = _redundant(p, s, "out", f"a later departure after session {s.code} ends")
    sequence = sorted((p for p in group if p.key not in out), key=lambda p: (p.at, p.key))
    # An arrival before the start followed by another "in" before any "out" was not the session's
    # (back from lunch, then in late); a departure after the end preceded by an "out" neither.
    if len(sequence) >= 2 and sequence[0].at < s.starts_at and sequence[0].kind == "in" and sequence[1].kind == "in":
        out[sequence[0].key] = _redundant(sequence[0], s, "in", f"an arrival before session {s.code}, followed by its check-in")
        sequence = sequence[1:]
    if len(sequence) >= 2 and sequence[-1].at > s.ends_at and sequence[-1].kind == "out" and sequence[-2].kind == "out":
        out[sequence[-1].key] = _redundant(sequence[-1], s, "out", f"a departure after session {s.code}, after its check-out")
        sequence = sequence[:-1]
    # Without directions an odd count cannot pair up. A punch well outside the session's time (at work
    # before it, going home after it) is the one that is not the session's: the farthest is dropped.
    kindless = all(p.kind is None for p in sequence)
    if len(sequence) >= 3 and len(sequence) % 2 and kindless:
        early = (s.starts_at - sequence[0].at).total_seconds()
        late = (sequence[-1].at - s.ends_at).total_seconds()
        if max(early, late) > SLACK.total_seconds():
            stray = sequence[0] if early >= late else sequence[-1]
            out[stray.key] = _redundant(stray, s, "in" if stray is sequence[0] else "out",
                                        f"unpaired, and the farthest outside session {s.code}'s time")
            sequence = [p for p in sequence if p is not stray]
    expected = "in"
    for i, p in enumerate(sequence):
        if p.kind is not None:
            out[p.key] = Placement(ATTACHED, session=s.code, kind=p.kind)
        else:
            ends = i == len(sequence) - 1 and p.at >= s.ends_at
            # A lone punch inside the session: arriving late if in its first half, leaving early if in
            # its second (where "in" would credit the rest of the session to someone who walked past).
            alone = len(sequence) == 1 and s.starts_at < p.at < s.ends_at and p.at - s.starts_at > s.ends_at - p.at
            kind = "out" if ends or alone else expected
            out[p.key] = Placement(ATTACHED, session=s.code, kind=kind, inferred=True)
        expected = "out" if out[p.key].kind == "in" else "in"
    if len(sequence) >= 3 and len(sequence) % 2 and kindless and out[sequence[-1].key].kind == "in":
        # Still odd: the alternation would end on an arrival and credit the rest of the session; the
        # reading that credits less ends it on a departure.
        last = sequence[-1]
        out[last.key] = replace(out[last.key], kind="out", note="an unpaired last punch, read as leaving")
    for p, q in pairwise(sequence):
        if p.kind is None and out[p.key].kind == "out" and out[q.key].kind == "out":
            # An odd count in between: the alternation reads the stray punch as leaving, which credits less.
            out[p.key] = replace(out[p.key], note="an unpaired punch before the check-out, read as leaving")
    return out


def _a_stay(group: list[Punch], s: Slot) -> bool:
    """Two punches at least, one of them an arrival (or without direction) before the session's end."""
    kinds = {p.kind for p in group}
    arrived = any(p.kind != "out" and p.at < s.ends_at for p in group)
    return len(group) >= 2 and arrived and (("in" in kinds and "out" in kinds) or None in kinds)


def place(punches: Iterable[Punch], slots: Sequence[Slot], windows: Windows = Windows()) -> dict[str, Placement]:
    """Every punch's placement, by key."""
    by_person: dict[int, list[Punch]] = {}
    for p in punches:
        by_person.setdefault(p.employee_id, []).append(p)
    result: dict[str, Placement] = {}
    by_code = {s.code: s for s in slots}
    for person in by_person.values():
        groups: dict[tuple[str, str], list[Punch]] = {}
        for p in person:
            placed = _choose(p, slots, windows)
            if placed.session is None:
                result[p.key] = placed
            else:
                groups.setdefault((placed.status, placed.session), []).append(p)
        for (status, code), group in groups.items():
            group.sort(key=lambda p: (p.at, p.key))
            kept: list[Punch] = []
            last_of: dict[str | None, Punch] = {}
            for p in group:
                previous = last_of.get(p.kind)
                if previous is not None and p.at - previous.at <= windows.double_tap:
                    gap = int((p.at - previous.at).total_seconds())
                    result[p.key] = Placement(DOUBLE_TAP, session=code, kind=p.kind, note=f"tapped again {gap} s after {previous.key}")
                    continue
                last_of[p.kind] = p
                kept.append(p)
            if status == WALK_IN and not _a_stay(kept, by_code[code]):
                # One punch of someone not enrolled (leaving work while a session runs in the building)
                # is no walk-in: a walk-in stayed, so it has a check-in and a check-out.
                for p in kept:
                    result[p.key] = Placement(UNRELATED, note=f"not enrolled in session {code}, and no stay there (a single punch)")
                continue
            for key, placement in _directions(kept, by_code[code]).items():
                result[key] = replace(placement, status=status) if placement.status == ATTACHED else placement
    return result
