"""Which session each record is about, and whether it may count there: time, method, device, fence,
QR code, enrolment. Only rows still accepted are judged; each check rejects with a reason code."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from trainquant.attendance import geo
from trainquant.attendance.checkin import qr
from trainquant.attendance.checkin.rows import Row, SessionInfo, live_rows, session_infos
from trainquant.attendance.models import CheckinEvent, Device
from trainquant.auth.permissions import Principal
from trainquant.db import chunks, select_in
from trainquant.org.models import Venue
from trainquant.training.models import Enrolment, TrainingSession

WALK_IN = "walk-in"  # the reason code of a punch whose owner is not enrolled in its session
EARLY_MARGIN = timedelta(hours=2)  # a punch this long before the start or after the end still belongs
FUTURE_TOLERANCE = timedelta(minutes=5)
QR_CLOCK_TOLERANCE = timedelta(minutes=2)
BIOMETRIC = ("face", "fingerprint", "card")
CHUNK = 900


def resolve_sessions(db: Session, rows: list[Row]) -> dict[int, SessionInfo]:
    live = live_rows(rows)
    codes = sorted({e["session"] for _, e in live if e["session"]})
    by_code: dict[str, SessionInfo] = {}
    for chunk in chunks(codes, CHUNK):
        for s in session_infos(db, TrainingSession.code.in_(chunk)):
            by_code[s.code] = s
    unresolved = [e for _, e in live if not e["session"]]
    nearby: list[SessionInfo] = []
    if unresolved:
        lo = min(e["at"] for e in unresolved) - EARLY_MARGIN
        hi = max(e["at"] for e in unresolved) + EARLY_MARGIN
        nearby = session_infos(db, TrainingSession.starts_at <= hi, TrainingSession.ends_at >= lo)
    devices = _devices(db, {e["device_id"] for e in unresolved if e["device_id"]})
    for r, e in live:
        if e["session"]:
            r.session = by_code.get(e["session"])
            if r.session is None:
                r.reject("unknown-session", f"no session with code {e['session']!r}")
            continue
        at = e["at"]
        venue_id = devices[e["device_id"]][1] if e["device_id"] in devices else None
        candidates = [
            s for s in nearby
            if s.starts_at - EARLY_MARGIN <= at <= s.ends_at + EARLY_MARGIN and (venue_id is None or s.venue_id == venue_id)
        ]
        if len(candidates) > 1:
            # Prefer the session whose window contains the punch, then the nearest start.
            candidates.sort(key=lambda s: (not (s.starts_at <= at <= s.ends_at), abs((s.starts_at - at).total_seconds())))
        if not candidates:
            r.reject("session-unresolved", "no session at this time and place; send the session code")
        else:
            r.session, r.by_time = candidates[0], True
    return {r.session.id: r.session for r, _ in live if r.session is not None}


def _devices(db: Session, ids: set[str | None]) -> dict[str, tuple[bool, int | None]]:
    """device id -> (active, venue id)."""
    found = select_in(db, Device.__table__, "device_id", ("device_id", "active", "venue_id"), [i for i in ids if i])
    return {device_id: (bool(active), venue_id) for device_id, active, venue_id in found}


def verify(
    db: Session, rows: list[Row], sessions: dict[int, SessionInfo], *, principal: Principal | None, now: datetime, secret_key: str, walk_ins: bool
) -> None:
    live = live_rows(rows)
    devices = _devices(db, {e["device_id"] for _, e in live if e["device_id"]})
    venue_ids = {s.venue_id for s in sessions.values() if s.venue_id}
    venues = {v.id: v for v in db.scalars(select(Venue).where(Venue.id.in_(sorted(venue_ids))))} if venue_ids else {}
    latest = now + FUTURE_TOLERANCE
    enrolled = _enrolled(db, [(r, e) for r, e in live if walk_ins or r.by_time])
    used_qr = used_qr_steps(db, [r for r, e in live if e["method"] == "qr" and r.session is not None and r.employee_id])
    for r, e in live:
        s = r.session
        assert s is not None  # resolve_sessions gave every live row its session, or rejected it
        if s.status == "cancelled":
            r.reject("session-cancelled", f"session {s.code} was cancelled")
            continue
        if e["at"] > latest:
            r.reject("in-the-future", "the time is in the future; check the device clock")
            continue
        if not (s.starts_at - EARLY_MARGIN <= e["at"] <= s.ends_at + EARLY_MARGIN):
            r.reject("outside-session-time", f"{e['at'].isoformat()} is not within session {s.code}'s time")
            continue
        if (walk_ins or r.by_time) and (s.id, r.employee_id) not in enrolled:
            # Not an attendance record: HR accepts it as a walk-in (enrolling the person) or dismisses it.
            r.reject(WALK_IN, f"not enrolled in session {s.code}: a walk-in for HR to accept or dismiss")
            continue
        allowed = s.checkin_methods
        if e["method"] != "manual" and allowed and e["method"] not in allowed:
            r.reject("method-not-allowed", f"session {s.code} accepts {', '.join(allowed)}, not {e['method']}")
            continue
        if e["method"] == "manual":
            if principal is None or not principal.can("attendance:manage"):
                r.reject("manual-not-allowed", "manual entries are made by HR only")
                continue
            if not e["reason"]:
                r.reject("manual-needs-reason", "a manual entry needs a reason")
                continue
        if e["method"] in BIOMETRIC:
            active, dev_venue = devices.get(e["device_id"] or "", (False, None))
            if not active:
                r.reject("unknown-device", f"device {e['device_id']!r} is not on the allow-list")
                continue
            if dev_venue and s.venue_id and dev_venue != s.venue_id:
                r.reject("device-elsewhere", f"device {e['device_id']} is not in session {s.code}'s room")
                continue
        if e["lat"] is not None:
            lat, lng = (geo.gcj02_to_wgs84(e["lat"], e["lng"]) if e["coord_system"] == "gcj02" else (e["lat"], e["lng"]))
            r.lat, r.lng = lat, lng
            venue = venues.get(s.venue_id) if s.venue_id else None
            if venue is not None:
                inside, r.distance_m, code = geo.fence_check(lat, lng, e["accuracy_m"], venue_lat=venue.latitude, venue_lng=venue.longitude, radius_m=venue.radius_m)
                if not inside and e["method"] == "geo":
                    assert code is not None  # fence_check names the reason whenever the point is not inside
                    r.reject(code, f"{r.distance_m:.0f} m from {venue.name} (fence {venue.radius_m:.0f} m)")
                    continue
        if e["method"] == "geo":
            if e["lat"] is None:
                r.reject("geo-missing", "a geofenced check-in needs lat and lng")
                continue
            if not s.venue_id:
                r.reject("no-venue", f"session {s.code} has no room to fence")
                continue
        if e["method"] == "qr":
            if not e["qr_token"]:
                r.reject("qr-missing", "a QR check-in needs the qr_token")
                continue
            step, code = qr.verify(secret_key, e["qr_token"], session_id=s.id, epoch_seconds=now.timestamp())
            if step is None:
                assert code is not None  # qr.verify names the reason whenever the token is not valid
                r.reject(code, "the QR code is not valid for this session now; scan the code on the screen again")
                continue
            if abs(e["at"] - now) > QR_CLOCK_TOLERANCE:
                r.reject("clock-skew", "a QR check-in must be sent when scanned")
                continue
            use = (s.id, r.employee_id, step, e["kind"])
            if use in used_qr:
                r.reject("qr-reused", "this QR code was already used by you for this session")
                continue
            used_qr.add(use)
            r.qr_step = step


def _enrolled(db: Session, live: list[tuple[Row, dict[str, Any]]]) -> set[tuple[int, int]]:
    """(session id, employee id) of the approved enrolments among these rows' sessions and people."""
    pairs = {(r.session.id, r.employee_id) for r, _ in live if r.session is not None and r.employee_id is not None}
    if not pairs:
        return set()
    found: set[tuple[int, int]] = set()
    for chunk in chunks(sorted(pairs), 400):
        found.update((s, e) for s, e in db.execute(
            select(Enrolment.session_id, Enrolment.employee_id).where(tuple_(Enrolment.session_id, Enrolment.employee_id).in_(chunk), Enrolment.status == "approved")
        ))
    return found


def used_qr_steps(db: Session, rows: list[Row]) -> set[tuple]:
    """The QR steps already used by these rows' people in their sessions (rows with both, as the callers give)."""
    if not rows:
        return set()
    sessions = sorted({r.session.id for r in rows if r.session is not None})
    people = sorted({r.employee_id for r in rows if r.employee_id is not None})
    q = select(CheckinEvent.session_id, CheckinEvent.employee_id, CheckinEvent.qr_step, CheckinEvent.kind).where(
        CheckinEvent.session_id.in_(sessions), CheckinEvent.employee_id.in_(people), CheckinEvent.verdict == "accepted", CheckinEvent.qr_step.is_not(None)
    )
    return {tuple(x) for x in db.execute(q).all()}
