"""Whole days of the simulated school as WeCom, DingTalk and Feishu export them, with the figures the
platform must compute kept beside them as ground truth. Pure: no database, no clock.

One day per platform (the school's last weekdays before today without another session), each with
the same shape:

- everyone punches at work: arriving 08:35-09:05 and leaving 17:50-18:40, after their own session
  (at their campus, inside its rooms' fences: a position cannot tell a commute from a check-in), a
  third also out to lunch and back (12:01-13:01);
- sessions: 09:30-11:30 in 培训室A (lunch falls in its hour after), 14:00-16:00 in 培训室A and in
  培训室B at once (two rooms 14 m apart: fences overlap, enrolment decides) and at the Chaoyang
  campus, 16:30-18:00 in 培训室B (the evening commute falls in it and in its hour after);
- the enrolled come on time, late, leave early, step out and come back, forget to check out, or stay
  away; some taps are doubled within a minute;
- the platforms' verdicts: illegal (DingTalk isLegal N) and missing-punch records (Feishu Lack) on
  punches that would change a figure if they counted (rejected by default); off-site, unusual-device
  and field verdicts on real punches (reviewed by default: they count until HR decides, and they are
  real, so the figure is the truth either way); schedule-time verdicts (accepted);
- a few people not enrolled punch in a session's room: walk-ins, no attendance record.

``Truth.attended_seconds`` is computed here from what each person did (their stay in the room, clipped
to the session; a stay without a check-out runs to the end, the sessions' credit-to-end policy), never
from the events, so a test comparing the platform's figures with it checks the whole import.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from trainquant.attendance import geo
from trainquant.simulate.institution.school import SimulatedSchool
from trainquant.simulate.institution.structure import SITES, VenueSpec

PLATFORMS = ("wecom", "dingtalk", "feishu")
PROGRAM = "SIM-PD"
TZ_OFFSET = timedelta(hours=8)  # the simulated campuses are all in China Standard Time
# (code suffix, campus, room, local start, local end, people enrolled)
SESSION_PLAN = (
    ("AM", "BJ-HD", "培训室A", time(9, 30), time(11, 30), 24),
    ("PA", "BJ-HD", "培训室A", time(14, 0), time(16, 0), 22),
    ("PB", "BJ-HD", "培训室B", time(14, 0), time(16, 0), 22),
    ("PC", "BJ-CY", "培训室", time(14, 0), time(16, 0), 20),
    ("EV", "BJ-HD", "培训室B", time(16, 30), time(18, 0), 20),
)
# These days are recent: the school measures its training by then, and most come and stay (the case's 92%).
BEHAVIOURS = (("full", 0.70), ("late", 0.08), ("early-leave", 0.05), ("steps-out", 0.06), ("forgot-checkout", 0.07), ("absent", 0.04))
P_DOUBLE_TAP = 0.10
P_LUNCH = 0.33
WALK_INS = 3  # per day, in the 14:00 session in 培训室A


@dataclass(frozen=True)
class DaySession:
    code: str
    site: str
    venue: str
    starts_at: datetime  # UTC
    ends_at: datetime
    enrolled: tuple[str, ...]  # employee numbers


@dataclass(frozen=True)
class Truth:
    session_code: str
    employee_no: str
    behaviour: str
    attended_seconds: int


@dataclass(frozen=True)
class PlatformDay:
    platform: str
    day: date
    sessions: tuple[DaySession, ...]
    payload: dict  # what the platform's API answers for the day
    truth: tuple[Truth, ...]  # every enrolled person of every session
    walk_ins: tuple[tuple[str, str], ...]  # (session code, employee number): punches there, no record
    planted: dict[str, int]  # how many records carry each planted trait (illegal, review, double-tap, ...)

    @property
    def records(self) -> int:
        return len(_records(self.platform, self.payload))


def _records(platform: str, payload: dict) -> list[dict]:
    return {"wecom": lambda: payload["checkindata"], "dingtalk": lambda: payload["recordresult"],
            "feishu": lambda: payload["data"]["user_flow_results"]}[platform]()


def _utc(day: date, local: time) -> datetime:
    return datetime.combine(day, local, tzinfo=UTC) - TZ_OFFSET


def _venue(site: str, name: str) -> VenueSpec:
    return next(v for s in SITES if s.code == site for v in s.venues if v.name == name)


def _reference(site: str) -> tuple[float, float]:
    spec = next(s for s in SITES if s.code == site)
    return spec.venues[0].latitude, spec.venues[0].longitude


def platform_days(school: SimulatedSchool, busy_days: set[date] | frozenset[date] = frozenset()) -> tuple[PlatformDay, ...]:
    """One whole day per platform, on the last weekdays before ``school.today`` not in ``busy_days``."""
    days: list[date] = []
    d = school.today - timedelta(days=1)
    while len(days) < len(PLATFORMS):
        if d.weekday() < 5 and d not in busy_days:
            days.append(d)
        d -= timedelta(days=1)
    return tuple(_day(school, platform, day) for platform, day in zip(PLATFORMS, sorted(days), strict=True))


@dataclass
class _Punch:
    employee_no: str
    at: datetime
    kind: str  # in | out (what the person meant; Feishu does not say)
    lat: float
    lng: float
    traits: tuple[str, ...] = ()  # verdict traits planted on this punch
    device: str = ""


def _day(school: SimulatedSchool, platform: str, day: date) -> PlatformDay:
    rng = random.Random(f"{school.seed}:platform-day:{platform}:{day.isoformat()}")
    staff = [e for e in school.employees if e.status == "active" and e.site in {s.code for s in SITES}]
    by_site: dict[str, list[str]] = {}
    for e in staff:
        assert e.site is not None  # filtered above
        by_site.setdefault(e.site, []).append(e.employee_no)
    ext = {e.employee_no: dict(e.external_ids)[platform] for e in staff}
    site_of = {e.employee_no: e.site for e in staff}
    punches: list[_Punch] = []
    planted: dict[str, int] = {}

    def plant(trait: str) -> None:
        planted[trait] = planted.get(trait, 0) + 1

    def at_site(site: str, jitter_m: float = 15.0) -> tuple[float, float]:
        lat, lng = _reference(site)
        return lat + rng.uniform(-jitter_m, jitter_m) / 111_000, lng + rng.uniform(-jitter_m, jitter_m) / 95_000

    def in_room(venue: VenueSpec) -> tuple[float, float]:
        reach = venue.radius_m * 0.4
        return venue.latitude + rng.uniform(-reach, reach) / 111_000, venue.longitude + rng.uniform(-reach, reach) / 95_000

    # Sessions, with disjoint rosters for the sessions at the same time, and nobody who teaches then (a
    # class inside a session never counts: that is the timetable's business, tested elsewhere).
    sessions: list[DaySession] = []
    taken_at: dict[time, set[str]] = {}
    teaching = _classes_on(school, day)
    for suffix, site, room, start, end, size in SESSION_PLAN:
        busy = taken_at.setdefault(start, set())
        pool = [no for no in by_site[site] if no not in busy and not any(a < end and start < b for a, b in teaching.get(no, ()))]
        enrolled = tuple(sorted(rng.sample(pool, min(size, len(pool)))))
        busy.update(enrolled)
        sessions.append(DaySession(f"{PROGRAM}-{platform.upper()}-{suffix}", site, room, _utc(day, start), _utc(day, end), enrolled))
    in_sessions = {no for s in sessions for no in s.enrolled}

    truth: list[Truth] = []
    weights = [w for _, w in BEHAVIOURS]
    for s in sessions:
        venue = _venue(s.site, s.venue)
        length = int((s.ends_at - s.starts_at).total_seconds())
        for no in s.enrolled:
            behaviour = rng.choices([b for b, _ in BEHAVIOURS], weights)[0]
            stay: list[tuple[datetime, datetime | None]] = []
            if behaviour == "absent":
                truth.append(Truth(s.code, no, behaviour, 0))
                continue
            arrive = s.starts_at - timedelta(seconds=rng.randint(60, 10 * 60))
            if behaviour == "late":
                arrive = s.starts_at + timedelta(seconds=rng.randint(5 * 60, 30 * 60))
            leave: datetime | None = s.ends_at + timedelta(seconds=rng.randint(0, 8 * 60))
            if behaviour == "early-leave":
                leave = s.ends_at - timedelta(seconds=rng.randint(10 * 60, 40 * 60))
            if behaviour == "forgot-checkout":
                leave = None
            if behaviour == "steps-out":
                away = s.starts_at + timedelta(seconds=rng.randint(30 * 60, length // 2))
                back = away + timedelta(seconds=rng.randint(10 * 60, 25 * 60))
                stay = [(arrive, away), (back, leave)]
            else:
                stay = [(arrive, leave)]
            for a, b in stay:
                punches.append(_Punch(no, a, "in", *in_room(venue)))
                if b is not None:
                    punches.append(_Punch(no, b, "out", *in_room(venue)))
            attended = 0
            for a, b in stay:
                lo, hi = max(a, s.starts_at), min(b or s.ends_at, s.ends_at)
                attended += max(0, int((hi - lo).total_seconds()))
            truth.append(Truth(s.code, no, behaviour, attended))

    # Walk-ins: people in no session that day punch in and out of the 14:00 session in 培训室A.
    walk_session = next(s for s in sessions if s.code.endswith("-PA"))
    outsiders = sorted(no for no in by_site["BJ-HD"] if no not in in_sessions)
    walk_ins = tuple((walk_session.code, no) for no in rng.sample(outsiders, WALK_INS))
    room_a = _venue("BJ-HD", "培训室A")
    for _, no in walk_ins:
        punches.append(_Punch(no, walk_session.starts_at - timedelta(minutes=3), "in", *in_room(room_a)))
        punches.append(_Punch(no, walk_session.ends_at + timedelta(minutes=2), "out", *in_room(room_a)))

    # The workday's punches: arrival, lunch, departure (after the person's own session, if it runs late).
    last_session_punch: dict[str, datetime] = {}
    for p in punches:
        last_session_punch[p.employee_no] = max(p.at, last_session_punch.get(p.employee_no, p.at))
    for s in sessions:  # a stay without a check-out lasted to the end: going home comes after it
        for t in truth:
            if t.session_code == s.code and t.behaviour != "absent":
                last_session_punch[t.employee_no] = max(last_session_punch[t.employee_no], s.ends_at)
    for no in sorted(ext):
        campus = site_of[no]
        assert campus is not None
        arrive = _utc(day, time(8, 35)) + timedelta(seconds=rng.randint(0, 30 * 60))
        leave = _utc(day, time(17, 50)) + timedelta(seconds=rng.randint(0, 50 * 60))
        if no in last_session_punch:
            leave = max(leave, last_session_punch[no] + timedelta(seconds=rng.randint(5 * 60, 25 * 60)))
        punches.append(_Punch(no, arrive, "in", *at_site(campus)))
        if rng.random() < P_LUNCH:
            out = _utc(day, time(12, 1)) + timedelta(seconds=rng.randint(0, 20 * 60))
            punches.append(_Punch(no, out, "out", *at_site(campus)))
            punches.append(_Punch(no, out + timedelta(seconds=rng.randint(25 * 60, 40 * 60)), "in", *at_site(campus)))
        punches.append(_Punch(no, leave, "out", *at_site(campus)))

    # Verdicts on real punches (they count: reviewed or accepted) and double taps.
    session_punches = [p for p in punches if p.employee_no in in_sessions and any(
        s.starts_at - timedelta(minutes=15) <= p.at <= s.ends_at + timedelta(minutes=10) for s in sessions if p.employee_no in s.enrolled)]
    for p in rng.sample(session_punches, max(1, len(session_punches) // 12)):
        p.traits = ({"wecom": ("非常用设备",), "dingtalk": ("Outside",), "feishu": ("field",)}[platform])
        plant("review")
    for p in rng.sample(session_punches, max(1, len(session_punches) // 15)):
        if not p.traits:
            p.traits = ("schedule",)
            plant("accepted verdict")
    doubles = []
    for p in session_punches:
        if rng.random() < P_DOUBLE_TAP:
            doubles.append(_Punch(p.employee_no, p.at + timedelta(seconds=rng.randint(5, 50)), p.kind, p.lat, p.lng))
            plant("double-tap")
    punches += doubles
    # Records that must not count: an illegal or missing punch that would cut or stretch a stay.
    attended_people = [(t, s) for s in sessions for t in truth if t.session_code == s.code and t.behaviour == "full"]
    for t, s in rng.sample(attended_people, min(4, len(attended_people))):
        venue = _venue(s.site, s.venue)
        if platform == "feishu":
            # Feishu's missing-punch record (Lack) at the scheduled time: not a punch.
            punches.append(_Punch(t.employee_no, s.starts_at + timedelta(minutes=40), "out", *in_room(venue), traits=("lack",)))
        elif platform == "dingtalk":
            punches.append(_Punch(t.employee_no, s.starts_at + timedelta(minutes=30), "out", *in_room(venue), traits=("illegal",)))
        else:
            # WeCom's 未打卡: the platform reporting a missing punch at the scheduled time.
            punches.append(_Punch(t.employee_no, s.starts_at + timedelta(minutes=30), "out", *in_room(venue), traits=("missing",)))
        plant("must-not-count")

    for no in ext:
        device = f"{platform}-phone-{ext[no][-6:]}"
        for p in punches:
            if p.employee_no == no:
                p.device = device + ("-other" if p.traits[:1] in (("非常用设备",),) else "")
    rng.shuffle(punches)
    payload = _payload(platform, punches, ext, rng)
    return PlatformDay(platform, day, tuple(sessions), payload, tuple(truth), walk_ins, planted)


def _classes_on(school: SimulatedSchool, day: date) -> dict[str, list[tuple[time, time]]]:
    """Each teacher's classes on ``day`` (local times): weekly slots valid then, and dated classes."""
    out: dict[str, list[tuple[time, time]]] = {}
    for slot in school.slots:
        if slot.weekday == day.weekday() and slot.valid_from <= day and (slot.valid_to is None or day <= slot.valid_to):
            out.setdefault(slot.employee_no, []).append((slot.start_time, slot.end_time))
    for c in school.classes:
        if c.day == day:
            out.setdefault(c.employee_no, []).append((c.start_time, c.end_time))
    return out


def _payload(platform: str, punches: list[_Punch], ext: dict[str, str], rng: random.Random) -> dict:
    records: list[dict[str, Any]] = []
    for i, p in enumerate(punches):
        glat, glng = geo.wgs84_to_gcj02(p.lat, p.lng)
        user = ext[p.employee_no]
        if platform == "wecom":
            exception = {"非常用设备": "非常用设备", "schedule": "时间异常", "missing": "未打卡"}.get(p.traits[0] if p.traits else "", "")
            missing = exception == "未打卡"
            records.append({
                "userid": user, "groupname": "打卡规则", "checkin_type": "上班打卡" if p.kind == "in" else "下班打卡",
                "exception_type": exception, "checkin_time": int(p.at.timestamp()), "location_title": "校区",
                "location_detail": "", "wifiname": "", "wifimac": "", "notes": "", "deviceid": "" if missing else p.device,
                "lat": 0 if missing else round(glat * 1e6), "lng": 0 if missing else round(glng * 1e6),
                "sch_checkin_time": int(p.at.timestamp()),
            })
        elif platform == "dingtalk":
            trait = p.traits[0] if p.traits else ""
            records.append({
                "id": 7_000_000 + i, "userId": user, "checkType": "OnDuty" if p.kind == "in" else "OffDuty",
                "userCheckTime": int(p.at.timestamp() * 1000), "timeResult": "Late" if trait == "schedule" else "Normal",
                "locationResult": "Outside" if trait == "Outside" else "Normal", "sourceType": "USER",
                "isLegal": "N" if trait == "illegal" else "Y", **({"invalidRecordType": "Security"} if trait == "illegal" else {}),
                "userLatitude": round(glat, 6), "userLongitude": round(glng, 6), "userAccuracy": rng.choice((10, 15, 20, 30)),
                "deviceId": p.device,
            })
        else:
            trait = p.traits[0] if p.traits else ""
            records.append({
                "user_id": user, "creator_id": user, "location_name": "校区", "check_time": str(int(p.at.timestamp())), "comment": "",
                "record_id": f"70{i:08d}", "latitude": round(glat, 6), "longitude": round(glng, 6), "ssid": "", "bssid": "",
                "is_field": trait == "field", "is_wifi": False, "type": 0, "device_id": p.device,
                **({"check_result": {"lack": "Lack", "schedule": "Late"}[trait]} if trait in ("lack", "schedule") else {}),
            })
    if platform == "wecom":
        return {"errcode": 0, "errmsg": "ok", "checkindata": records}
    if platform == "dingtalk":
        return {"errcode": 0, "success": True, "recordresult": records, "hasMore": False}
    return {"code": 0, "msg": "success", "data": {"user_flow_results": records}}
