"""The drain's figures (``figure_rows``: NumPy, read by pair) are exactly the reference rules' figures."""

from __future__ import annotations

from datetime import date, time, timedelta

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from tests.integration.attendance.test_ingest_api import START, ev
from trainquant.attendance.checkin.ingest import ingest
from trainquant.attendance.service import _row, figure_rows, figures_for
from trainquant.org.models import WeeklySlot


def _both(db, pairs, settings):
    fast = figure_rows(db, pairs, default_tz=settings.default_timezone)
    reference = {p: _row(a, n) for p, (a, n) in figures_for(db, pairs, default_tz=settings.default_timezone).items()}
    return fast, reference


def test_every_case_of_the_rules_gives_the_reference_figures(db, school, settings, clock):
    t1, t2, s = school["t1"], school["t2"], school["session"]
    local = START + timedelta(hours=8)  # T2 teaches in the middle of the session (Shanghai time)
    db.add(WeeklySlot(employee_id=t2.id, weekday=local.weekday(), start_time=time(local.hour, 30), end_time=time(local.hour + 1, 0),
                      valid_from=date(2026, 1, 1)))
    events = [
        ev(-10, "in"), ev(40, "out"), ev(55, "in"), ev(55, "in", event_id="dup-in"), ev(130, "out"),  # T1: early, away, duplicate in
        ev(5, "in", employee_no="T2"), ev(100.25, "out", employee_no="T2", event_id="frac"),  # T2: a fractional second, teaching
        ev(10, "out", session="CI-2", event_id="t1-o2"),  # T1 in CI-2: out without in
    ]
    ingest(db, events, source="api", principal=None, now=clock.now(), secret_key=settings.secret_key)
    pairs = {(s.id, t1.id), (s.id, t2.id), (school["other"].id, t1.id), (school["other"].id, t2.id)}  # T2 never punched CI-2
    fast, reference = _both(db, pairs, settings)
    assert fast == reference and len(fast) == 4


@hsettings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(-30, 150), st.sampled_from(["in", "out"]), st.sampled_from(["T1", "T2"]), st.booleans()), min_size=1, max_size=12))
def test_any_punches_give_the_reference_figures(db, school, settings, clock, punches):
    nested = db.begin_nested()
    try:
        events = [ev(m + (0.5 if half else 0), kind, employee_no=who, event_id=f"h{i}") for i, (m, kind, who, half) in enumerate(punches)]
        ingest(db, events, source="api", principal=None, now=clock.now(), secret_key=settings.secret_key)
        pairs = {(school["session"].id, school["t1"].id), (school["session"].id, school["t2"].id)}
        fast, reference = _both(db, pairs, settings)
        assert fast == reference
    finally:
        nested.rollback()
