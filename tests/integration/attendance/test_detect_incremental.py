"""Proxy detection of new events only (``signals_for_events``, the drain's and ``?wait``'s) records the
same cases as detecting over the whole sessions after every batch."""

from __future__ import annotations

from datetime import date, time, timedelta

from sqlalchemy import select

from tests.conftest import make_site
from tests.integration.attendance.test_review_api import START, event, review_school  # noqa: F401 (fixture "school" here, not conftest's)
from tests.integration.training.conftest import make_program, make_session
from trainquant.attendance.checkin.ingest import ingest
from trainquant.attendance.models import Device, ProxyCase
from trainquant.attendance.proxy import service as review
from trainquant.org.models import WeeklySlot


def _batches(venue):
    geo = {"method": "geo", "device_id": "PHONE-1", "lat": venue.latitude, "lng": venue.longitude, "accuracy_m": 10}
    return [
        [event("T1", 0, "in", **geo), event("T3", 2, "in")],
        # The phone's cluster grows across batches; T3 punches 55 km away a few minutes after the room.
        [event("T2", 0.25, "in", **geo), event("T3", 0.5, "in", **geo, event_id="t3-geo"), event("T3", 6, "in", session="CI-FAR", device_id="ZK-FAR")],
        [event(no, 120, "out") for no in ("T1", "T2")] + [event("T1", 75, "in", event_id="t1-teaching")],
    ]


def _cases(db, first_id: int) -> set[tuple]:
    """The cases, with event ids counted from the run's first event (PostgreSQL's sequences do not roll back)."""
    rel = lambda i: int(i) - first_id  # noqa: E731
    ids_in = {"shared-device": (2,), "impossible-travel": (0, 1), "timetable-contradiction": (0,)}
    out = set()
    for c in db.scalars(select(ProxyCase)):
        parts = c.fingerprint.split(":")
        for k in ids_in.get(c.signal, ()):
            parts[k] = str(rel(parts[k]))
        out.add((c.signal, ":".join(parts), tuple(rel(i) for i in c.event_ids), tuple(c.employee_ids), c.score))
    return out


def test_new_events_only_give_the_cases_of_whole_session_detection(db, school, settings, clock):
    t1 = school["people"][0]
    far = make_site(db, code="FAR", venues=1)
    far.venues[0].latitude += 0.5  # ~55 km north
    other = make_session(db, program=make_program(db, code="FX"), code="CI-FAR", starts_at=START, hours=2, site=far)
    other.venue_id, other.checkin_methods = far.venues[0].id, ["face"]
    db.add(Device(device_id="ZK-FAR", kind="zkteco", venue_id=far.venues[0].id, site_id=far.id, active=True))
    local = START + timedelta(hours=8)  # T1 teaches from 75 min into the session (Shanghai time)
    db.add(WeeklySlot(employee_id=t1.id, weekday=local.weekday(), start_time=time(local.hour + 1, 10), end_time=time(local.hour + 1, 50),
                      valid_from=date(2026, 1, 1)))
    db.flush()
    got = {}
    for way in ("whole sessions", "new events"):
        nested = db.begin_nested()
        first_id = None
        for batch in _batches(school["venue"]):
            outcome = ingest(db, batch, source="api", principal=None, now=clock.now(), secret_key=settings.secret_key)
            first_id = min(outcome.stored_ids) if first_id is None else first_id
            if way == "whole sessions":
                review.detect(db, {s for s, _ in outcome.affected}, clock.now(), default_tz=settings.default_timezone)
            else:
                signals = review.signals_for_events(db, review.id_ranges(outcome.stored_ids), default_tz=settings.default_timezone)
                review.record_signals(db, signals, clock.now())
        got[way] = _cases(db, first_id)
        nested.rollback()
    kinds = {c[0] for c in got["whole sessions"]}
    assert kinds == {"shared-device", "impossible-travel", "timetable-contradiction"}, got
    assert got["new events"] == got["whole sessions"]
