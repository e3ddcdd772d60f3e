"""The simulated school's check-ins: raw events for every ended session of the training year and every
approved participant, generated from behaviour, with the figures the attendance core must compute kept
as ground truth beside them. Pure: no database, no clock.

What people do (each person and session has its own random stream):

- most come, arriving within a few minutes of the start, and check out at the end;
- some arrive late, some leave early (their ``early_leave_propensity``), some forget to check out (the
  session's missing-checkout policy then decides the figure);
- a teacher whose timetable has a class during a session (a weekly slot, a make-up lesson, or one of the
  make-up lessons generated here and returned in ``CheckinStream.classes`` for the loader to store)
  checks out before the class and back in after it, or (when the class lies inside their stay) does not
  bother to punch at all; either way the class's time never counts;
- some do not come at all (``attendance_propensity``), or are in another session at the same time;
- in a few marketing sessions one consultant signs in (and later out) absent colleagues from their own
  phone within a minute of their own punch: the shared-device proxy pattern. Until HR confirms the case
  the core counts those punches; the people were really absent (``Truth.real_seconds`` is 0);
- one terminal resends a batch it already delivered: every event of it must be answered duplicate.

How each session's check-ins reach the platform (the method must be one the session allows):

- face / fingerprint sessions (training rooms): the room's ZKTeco terminal, one per training venue
  (``DEVICES``; the loader registers them), identifying people by their device PIN — source ``zkteco``;
- geo sessions (meeting rooms): each person's phone with its position (WGS-84 from browsers, GCJ-02 from
  WeCom/DingTalk clients, marked ``coord_system``) — source ``api``;
- the QR-only online sessions (``SIM-PO``): a QR check-in is verified against the live code on the screen
  and must be sent when scanned, so a past year cannot honestly be replayed as QR scans. Their record is
  the online meeting's join/leave log, which HR imports — exactly what the platform's own WeCom import
  makes of a record whose session is not geofenced: method ``manual`` with the platform named in the
  reason, source ``wecom``, sent by an HR principal. ``SIM-OA`` (fingerprint or QR) uses its terminal.
"""

from __future__ import annotations

import hashlib
import math
import random
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from trainquant.attendance import geo
from trainquant.simulate.attendance.stream import (
    Batch,
    CheckinStream,
    ClassSpec,
    DeviceSpec,
    ProxyGroup,
    Truth,
)
from trainquant.simulate.institution.school import SimulatedSchool, department_of
from trainquant.simulate.training.generate import MEASURED_SINCE_DAYS
from trainquant.simulate.training.spec import SessionSpec, TrainingYear

TZ = ZoneInfo("Asia/Shanghai")
CREDIT_TO_END, COUNT_TO_LAST_EVENT = "credit-to-end", "count-to-last-event"
DEFAULT_POLICY = CREDIT_TO_END  # what a session gets when the training year does not say
TERMINAL_METHODS = ("face", "fingerprint")
MEETING_PLATFORM = "企业微信会议"
# How often each thing happens once a person came (the rest attend fully).
P_LATE = 0.10
P_FORGET_CHECKOUT = 0.06
P_STAY_CHECKED_IN = 0.4  # a teacher off to a class mid-session who does not punch out and back in
EARLY_LEAVE_SCALE = 0.6  # times the person's early-leave propensity
SHOW_UP_BONUS = {"teaching": 0.08, "marketing": 0.0, "admin": 0.0}
# From the day the school began to measure its training (MEASURED_SINCE_DAYS before today: the case's
# "before" and "after") people come more often and more of them stay to the end, as the case school
# saw (teachers' participation 75% -> 92%).
MEASURED_SHOW_UP_BONUS = 0.35
MEASURED_LATE_SCALE = 0.25  # times the late arrivals there were before
MEASURED_EARLY_LEAVE_SCALE = 0.2  # times the early leaving there was before
PROXY_SESSIONS = 3  # marketing sessions with a proxy group
MAKE_UP_SESSIONS = 6  # teacher sessions given a make-up lesson in the middle, when the timetable has too few
MAX_BATCH = 10_000


# ---------------------------------------------------------------- interval arithmetic (seconds since epoch)

Span = tuple[int, int]


def _ts(at: datetime) -> int:
    return int(at.timestamp())


def _minus(spans: list[Span], cuts: list[Span]) -> list[Span]:
    out = []
    for a, b in spans:
        pieces = [(a, b)]
        for c, d in cuts:
            nxt = []
            for p, q in pieces:
                if d <= p or c >= q:
                    nxt.append((p, q))
                    continue
                if p < c:
                    nxt.append((p, c))
                if d < q:
                    nxt.append((d, q))
            pieces = nxt
        out += pieces
    return sorted(s for s in out if s[1] > s[0])


def _clip(spans: list[Span], lo: int, hi: int) -> list[Span]:
    merged: list[list[int]] = []
    for a, b in sorted((max(a, lo), min(b, hi)) for a, b in spans):
        if b <= a:
            continue
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [(a, b) for a, b in merged]


def _length(spans: list[Span]) -> int:
    return sum(b - a for a, b in spans)


def expected(stays: list[Span], forgot: bool, window: Span, classes: list[Span], policy: str) -> tuple[int, int | None, int | None]:
    """The figures the punches of ``stays`` (an in and an out each; the last out missing when ``forgot``) must give:
    stays clipped to the session, closed per ``policy`` when open, minus the person's classes."""
    ws, we = window
    recorded = list(stays)
    if forgot and recorded:
        a, _ = recorded[-1]
        recorded[-1] = (a, max(a, we) if policy == CREDIT_TO_END else a)  # the open stay ends at its own punch
    in_room = _clip(recorded, ws, we)
    present = _minus(in_room, _clip(classes, ws, we))
    if not present:
        return 0, None, None
    return _length(present), in_room[0][0] - ws, we - in_room[-1][1]


# ---------------------------------------------------------------- the generator


def _digest(*parts: object) -> str:
    return hashlib.sha1(":".join(map(str, parts)).encode()).hexdigest()[:12]


class _Builder:
    def __init__(self, school: SimulatedSchool, year: TrainingYear, seed: int):
        self.school, self.year, self.seed = school, year, seed
        self.measured_since = datetime.combine(school.today - timedelta(days=MEASURED_SINCE_DAYS), time.min, TZ).astimezone(UTC)
        self.kind_of = {d.code: d.kind for d in school.departments}
        self.emp = {e.employee_no: e for e in school.employees}
        self.pin = {e.employee_no: dict(e.external_ids).get("device_pin") for e in school.employees}
        self.sites = {s.code: s for s in school.sites}
        self.devices = {}
        for site in school.sites:
            for i, v in enumerate(site.venues, start=1):
                if v.use == "training_room":
                    self.devices[(site.code, v.name)] = DeviceSpec(f"SIM-ZK-{site.code}-{i:02d}", site.code, v.name, f"{site.name}{v.name}人脸/指纹机")
        self.cutoff = datetime.combine(year.today, time(0), TZ).astimezone(UTC)
        self.classes: list[ClassSpec] = []
        self.busy: dict[str, list[Span]] = {}  # where each person already is (stays in sessions)
        self.truth: dict[tuple[str, str], Truth] = {}
        self.terminal: list[dict] = []
        self.phone: list[dict] = []
        self.meeting: list[dict] = []
        self.proxy_groups: list[ProxyGroup] = []

    def rng(self, *parts) -> random.Random:
        return random.Random(":".join(["trainquant-checkins", str(self.seed), *map(str, parts)]))

    # -- timetable

    def timetable(self, no: str, s: SessionSpec) -> list[Span]:
        """The person's classes that touch the session's day, in UTC seconds."""
        day = s.starts_at.astimezone(TZ).date()
        site = self.emp[no].site
        zone = ZoneInfo(self.sites[site].timezone) if site is not None and site in self.sites else TZ
        out = []
        for slot in self._slots.get(no, ()):
            if slot.weekday == day.weekday() and slot.valid_from <= day and (slot.valid_to is None or day <= slot.valid_to):
                out.append((_ts(datetime.combine(day, slot.start_time, zone)), _ts(datetime.combine(day, slot.end_time, zone))))
        for c in self._dated.get(no, ()):
            if c.day == day:
                out.append((_ts(datetime.combine(c.day, c.start_time, zone)), _ts(datetime.combine(c.day, c.end_time, zone))))
        for c in self.classes:
            if c.employee_no == no and c.starts_at.astimezone(TZ).date() == day:
                out.append((_ts(c.starts_at), _ts(c.ends_at)))
        return sorted(out)

    # -- events

    def event(self, s: SessionSpec, no: str, kind: str, at: int, rng: random.Random, *, via: str, phone: str | None = None) -> dict:
        when = datetime.fromtimestamp(at, TZ)
        e: dict[str, Any]
        if via == "terminal":
            assert s.site is not None and s.venue is not None, s.code  # via(): a terminal is in a venue, and a venue at a site
            device = self.devices[(s.site, s.venue)]
            method = next(m for m in s.checkin_methods if m in TERMINAL_METHODS)
            e = {"event_id": f"{device.device_id}-{self.pin[no]}-{at}", "external_system": "device_pin", "external_id": self.pin[no],
                 "session": s.code, "kind": kind, "at": when.isoformat(), "method": method, "device_id": device.device_id}
            self.terminal.append(e)
        elif via == "phone":
            assert s.site is not None, s.code  # via(): a phone check-in is at a venue, and a venue at a site
            v = next(v for v in self.sites[s.site].venues if v.name == s.venue)
            dist, bearing = rng.uniform(0, v.radius_m * 0.6), rng.uniform(0, 360)
            lat = v.latitude + dist * math.cos(math.radians(bearing)) / 111_000
            lng = v.longitude + dist * math.sin(math.radians(bearing)) / (111_000 * math.cos(math.radians(v.latitude)))
            system = "gcj02" if rng.random() < 0.4 else "wgs84"
            if system == "gcj02":
                lat, lng = geo.wgs84_to_gcj02(lat, lng)
            e = {"event_id": f"sim-geo-{_digest(self.seed, s.code, no, kind, at)}", "employee_no": no, "session": s.code, "kind": kind,
                 "at": when.isoformat(), "method": "geo", "device_id": phone or f"phone-{_digest('phone', no)}",
                 "lat": round(lat, 7), "lng": round(lng, 7), "accuracy_m": round(rng.uniform(5, min(25, v.radius_m * 0.3)), 1),
                 "coord_system": system}
            self.phone.append(e)
        else:
            e = {"event_id": f"sim-meet-{_digest(self.seed, s.code, no, kind, at)}", "employee_no": no, "session": s.code, "kind": kind,
                 "at": when.isoformat(), "method": "manual",
                 "reason": f"imported from {MEETING_PLATFORM} attendance log: {'joined' if kind == 'in' else 'left'} the meeting",
                 "evidence": {"platform": MEETING_PLATFORM}}
            self.meeting.append(e)
        return e

    def via(self, s: SessionSpec) -> str:
        if any(m in TERMINAL_METHODS for m in s.checkin_methods) and s.venue:
            return "terminal"
        if "geo" in s.checkin_methods and s.venue:
            return "phone"
        return "meeting"

    # -- behaviour

    def stays(self, s: SessionSpec, no: str, kind: str, classes: list[Span], rng: random.Random) -> tuple[str, list[Span], bool]:
        """What the person did: a behaviour, their stays in the room (UTC seconds) and whether they forgot to check out."""
        t = self.school.truth.employees[no]
        ws, we = _ts(s.starts_at), _ts(s.ends_at)
        length = we - ws
        measured = s.starts_at >= self.measured_since
        show_up = t.attendance_propensity + SHOW_UP_BONUS[kind] + (MEASURED_SHOW_UP_BONUS if measured else 0.0)
        if rng.random() >= min(0.99, show_up):
            return "absent", [], False
        late = P_LATE * (MEASURED_LATE_SCALE if measured else 1.0)
        early = EARLY_LEAVE_SCALE * t.early_leave_propensity * (MEASURED_EARLY_LEAVE_SCALE if measured else 1.0)
        behaviour = "full"
        arrive = ws + rng.randint(-600, 240)
        leave = we + rng.randint(0, 360)
        forgot = False
        u = rng.random()
        if u < late:
            behaviour, arrive = "late", ws + rng.randint(8 * 60, min(45 * 60, length // 3))
        elif u < late + early:
            behaviour, leave = "early-leave", we - rng.randint(15 * 60, min(60 * 60, length // 2))
        elif u < late + early + P_FORGET_CHECKOUT and self.via(s) != "meeting":
            behaviour, forgot = "forgot-checkout", True
            leave = we - rng.randint(0, 20 * 60)  # they really left about the end, but never punched out
        stays = [(arrive, leave)]
        touching = [(a, b) for a, b in classes if a < leave and b > arrive]
        margin = 600
        if touching and all(b + margin < arrive or a - margin > leave or (arrive < a - margin and b + margin < leave) for a, b in touching) \
                and rng.random() < P_STAY_CHECKED_IN:
            # Off to teach without punching out: the punches say present, the timetable says teaching.
            return "teaches-while-checked-in", stays, forgot
        if touching:
            # Off to teach: out a few minutes before each class, back a few minutes after it.
            cuts = [(a - rng.randint(60, 300), b + rng.randint(120, 480)) for a, b in touching]
            stays = _minus(stays, cuts)
            behaviour = "leaves-for-class" if stays else "teaching"
            if forgot and stays and stays[-1][1] < leave:
                forgot = False  # they checked out to go to the class; the stay before it is closed
        return behaviour, stays, forgot

    def make_up_lessons(self, teacher_sessions: list[tuple[SessionSpec, list[str]]]) -> None:
        """Make-up lessons in the middle of a few teacher sessions, when the timetable itself gives fewer than
        ``MAKE_UP_SESSIONS`` sessions with someone who has to leave for a class."""
        natural = sum(1 for s, people in teacher_sessions if any(self._overlaps(s, no) for no in people))
        need = max(4, MAKE_UP_SESSIONS - natural)
        rng = self.rng("make-up")
        candidates = [(s, people) for s, people in teacher_sessions if s.ends_at - s.starts_at >= timedelta(hours=2)]
        for s, people in rng.sample(candidates, min(need, len(candidates))):
            free = sorted(no for no in people if not self.timetable(no, s))
            if not free:
                continue
            no = max(free, key=lambda n: (self.school.truth.employees[n].attendance_propensity, n))  # one who will come
            start = s.starts_at + timedelta(minutes=rng.choice((30, 40, 45)))
            self.classes.append(ClassSpec(no, start, start + timedelta(minutes=rng.choice((45, 60))), "补课：一对一答疑", self.emp[no].site))

    def _overlaps(self, s: SessionSpec, no: str) -> bool:
        ws, we = _ts(s.starts_at), _ts(s.ends_at)
        return any(a < we and b > ws for a, b in self.timetable(no, s))

    # -- the year

    def build(self) -> None:
        self._slots: dict[str, list] = {}
        for slot in self.school.slots:
            self._slots.setdefault(slot.employee_no, []).append(slot)
        self._dated: dict[str, list] = {}
        for c in self.school.classes:
            self._dated.setdefault(c.employee_no, []).append(c)
        ended = sorted((s for s in self.year.sessions if s.ends_at <= self.cutoff), key=lambda s: (s.starts_at, s.code))
        approved: dict[str, list[str]] = {}
        for e in self.year.enrolments:
            if e.status == "approved":
                approved.setdefault(e.session_code, []).append(e.employee_no)
        kind_of_no = {no: self.kind_of[department_of(self.emp[no])] for no in self.emp}
        self.make_up_lessons([(s, sorted(approved.get(s.code, []))) for s in ended
                              if approved.get(s.code) and all(kind_of_no[n] == "teaching" for n in approved[s.code])])
        geo_sessions = [s for s in ended if self.via(s) == "phone" and len(approved.get(s.code, [])) >= 6]
        proxy_at = {s.code for s in self.rng("proxy").sample(geo_sessions, min(PROXY_SESSIONS, len(geo_sessions)))}
        self.policy = {s.code: getattr(s, "missing_checkout_policy", DEFAULT_POLICY) for s in ended}
        for s in ended:
            people = sorted(approved.get(s.code, []))
            if not people:
                continue
            done: dict[str, tuple[str, list[Span], bool]] = {}
            for no in people:
                rng = self.rng("behaviour", s.code, no)
                ws, we = _ts(s.starts_at), _ts(s.ends_at)
                if any(a < we + 1800 and b > ws - 1800 for a, b in self.busy.get(no, ())):
                    done[no] = ("elsewhere", [], False)  # in another session at the time
                    continue
                done[no] = self.stays(s, no, kind_of_no[no], self.timetable(no, s), rng)
            proxied: dict[str, list[int]] = {}
            if s.code in proxy_at:
                proxied = self.proxy(s, done)
            self.emit(s, done, proxied, kind_of_no)

    def proxy(self, s: SessionSpec, done: dict[str, tuple[str, list[Span], bool]]) -> dict[str, list[int]]:
        """One present consultant signs in and out two or three absent colleagues from their phone."""
        rng = self.rng("proxy", s.code)
        present = [no for no, (b, st, f) in done.items() if b == "full" and len(st) == 1]
        absent = [no for no, (b, _, _) in done.items() if b == "absent"]
        if not present:
            return {}
        want = rng.randint(2, 3)
        if len(absent) < want:  # the group's friends skip together; make enough of them skip
            others = [no for no in sorted(done) if no not in present[:1] and done[no][0] in ("full", "late")]
            absent += rng.sample(others, min(want - len(absent), len(others)))
        signer, group = present[0], sorted(rng.sample(absent, min(want, len(absent))))
        if not group:
            return {}
        arrive, leave = done[signer][1][0]
        out: dict[str, list[int]] = {}
        gaps_in = sorted(rng.sample(range(8, 55), len(group)))
        gaps_out = sorted(rng.sample(range(8, 55), len(group)))
        for no, gi, go in zip(group, gaps_in, gaps_out, strict=True):
            done[no] = ("proxied", [], False)
            out[no] = [arrive + gi, leave + go]
        self.proxy_groups.append(ProxyGroup(s.code, f"phone-{_digest('phone', signer)}", signer, tuple(group)))
        return out

    def emit(self, s: SessionSpec, done: dict, proxied: dict[str, list[int]], kind_of_no: dict[str, str]) -> None:
        ws, we = _ts(s.starts_at), _ts(s.ends_at)
        via, policy = self.via(s), self.policy[s.code]
        for no in sorted(done):
            behaviour, stays, forgot = done[no]
            rng = self.rng("punch", s.code, no)
            classes = self.timetable(no, s)
            for i, (a, b) in enumerate(stays):
                self.event(s, no, "in", a, rng, via=via)
                if not (forgot and i == len(stays) - 1):
                    self.event(s, no, "out", b, rng, via=via)
            if stays:
                self.busy.setdefault(no, []).append((stays[0][0], stays[-1][1]))
            if no in proxied:
                signer_phone = self.proxy_groups[-1].phone
                t_in, t_out = proxied[no]
                self.event(s, no, "in", t_in, rng, via=via, phone=signer_phone)
                self.event(s, no, "out", t_out, rng, via=via, phone=signer_phone)
                got = expected([(t_in, t_out)], False, (ws, we), classes, policy)
            else:
                got = expected(stays, forgot, (ws, we), classes, policy)
            real = _length(_minus(_clip(stays, ws, we), _clip(classes, ws, we)))
            self.truth[(s.code, no)] = Truth(s.code, no, kind_of_no[no], behaviour, we - ws, *got, real_seconds=real)

    def batches(self) -> tuple[Batch, ...]:
        out: list[Batch] = []
        for source, events, manual in (("zkteco", self.terminal, False), ("api", self.phone, False), ("wecom", self.meeting, True)):
            ordered = sorted(events, key=lambda e: (datetime.fromisoformat(e["at"]), e["event_id"]))
            for i in range(0, len(ordered), MAX_BATCH):
                out.append(Batch(source, tuple(ordered[i : i + MAX_BATCH]), manual=manual))
        # A terminal that lost the server's answer sends one afternoon's log again.
        if self.terminal:
            rng = self.rng("resend")
            by_day: dict[tuple[str, str], list[dict]] = {}
            for e in self.terminal:
                by_day.setdefault((e["device_id"], e["at"][:10]), []).append(e)
            busy = sorted(k for k, v in by_day.items() if len(v) >= 10) or sorted(by_day)
            pick = rng.choice(busy)
            out.append(Batch("zkteco", tuple(sorted(by_day[pick], key=lambda e: e["event_id"])), resent=True))
        return tuple(out)

    def stream(self) -> CheckinStream:
        self.build()
        return CheckinStream(
            seed=self.seed, devices=tuple(self.devices.values()), classes=tuple(self.classes), batches=self.batches(),
            truth=self.truth, proxy_groups=tuple(self.proxy_groups), policy=self.policy,
        )


def generate_checkins(school: SimulatedSchool, year: TrainingYear, seed: int | None = None) -> CheckinStream:
    """The check-ins of ``year``'s ended sessions, with their ground truth (deterministic per seed; the year's by default)."""
    return _Builder(school, year, year.seed if seed is None else seed).stream()
