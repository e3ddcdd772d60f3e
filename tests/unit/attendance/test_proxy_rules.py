"""Proxy signals fire exactly on their conditions and never on the honest patterns beside them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trainquant.attendance.proxy import rules as pr

T0 = datetime(2026, 9, 1, 6, 0, tzinfo=UTC)
ROOM = (39.9, 116.4)


def punch(event_id, person, seconds=0, *, method="qr", device=None, session=1, kind="in", step=None, lat=None, lng=None,
          distance=None, fence=50.0, site=1, venue=ROOM, accuracy=None):
    return pr.PunchFact(event_id, person, session, T0 + timedelta(seconds=seconds), kind, method, device, step, lat, lng, accuracy,
                        distance, fence, site, venue[0] if venue else None, venue[1] if venue else None)


@pytest.mark.parametrize(("punches", "cases", "proxied"), [
    # two people, two phones, within 60 s: honest
    ([punch(1, 10, 0, device="P1"), punch(2, 11, 10, device="P2")], 0, ()),
    # one phone, three people within 60 s: the first is the phone's user, the other two are proxied
    ([punch(1, 10, 0, device="P1"), punch(2, 11, 15, device="P1"), punch(3, 12, 30, device="P1")], 1, (11, 12)),
    # one phone, the same person twice (in, then a repeat): honest
    ([punch(1, 10, 0, device="P1"), punch(2, 10, 20, device="P1", kind="out")], 0, ()),
    # one phone, two people 5 minutes apart: not within 60 s
    ([punch(1, 10, 0, device="P1"), punch(2, 11, 300, device="P1")], 0, ()),
    # a face terminal every colleague queues at: never "shared"
    ([punch(i, 10 + i, i * 5, method="face", device="ZK-1") for i in range(1, 6)], 0, ()),
    # a card reader too
    ([punch(i, 10 + i, i * 5, method="card", device="ZK-1") for i in range(1, 4)], 0, ()),
    # geo check-ins from one phone for two people
    ([punch(1, 10, 0, method="geo", device="P9"), punch(2, 11, 59, method="geo", device="P9")], 1, (11,)),
])
def test_shared_device(punches, cases, proxied):
    found = pr.shared_device(punches)
    assert len(found) == cases
    if cases:
        assert found[0].employee_ids == proxied
        assert set(found[0].event_ids) == {p.event_id for p in punches if p.employee_id in proxied}
        assert 0 < found[0].score <= 1


def test_more_people_on_one_phone_scores_higher():
    two = pr.shared_device([punch(1, 10, 0, device="P"), punch(2, 11, 40, device="P")])[0]
    four = pr.shared_device([punch(i, 10 + i, i * 10, device="P") for i in range(4)])[0]
    assert four.score > two.score


@given(st.lists(st.tuples(st.integers(0, 600), st.integers(1, 30)), min_size=1, max_size=30, unique_by=lambda t: t[1]))
def test_one_phone_per_person_never_fires(rows):
    # Everyone on their own phone, at any times: no shared-device case.
    punches = [punch(i, person, sec, device=f"phone-{person}") for i, (sec, person) in enumerate(rows)]
    assert pr.shared_device(punches) == []


@given(st.integers(2, 8), st.integers(0, 59))
def test_a_phone_for_several_people_within_a_minute_always_fires(n, spread):
    punches = [punch(i, 100 + i, min(60, i * spread // max(1, n - 1)), device="P") for i in range(n)]
    found = pr.shared_device(punches)
    assert len(found) == 1 and len(found[0].employee_ids) == n - 1


def test_qr_step_scanned_by_the_whole_room_is_honest():
    room = [punch(i, 10 + i, i, step=77, lat=ROOM[0], lng=ROOM[1] + i * 1e-5, distance=5, accuracy=10) for i in range(20)]
    assert pr.relayed_token(room) == []


def test_qr_step_used_far_outside_the_room_is_relayed():
    room = [punch(1, 10, 0, step=77, lat=ROOM[0], lng=ROOM[1], distance=3, accuracy=10),
            punch(2, 11, 5, step=77, lat=ROOM[0], lng=ROOM[1], distance=4, accuracy=10)]
    home = punch(3, 12, 20, step=77, lat=39.95, lng=116.45, distance=6_900, accuracy=20)
    found = pr.relayed_token([*room, home])
    assert len(found) == 1 and found[0].employee_ids == (12,) and found[0].event_ids == (3,)


def test_qr_without_positions_is_not_evidence():
    assert pr.relayed_token([punch(1, 10, 0, step=5), punch(2, 11, 3, step=5)]) == []


@pytest.mark.parametrize(("second", "minutes", "fires"), [
    ((39.9, 116.4), 1, False),                  # same room
    ((39.905, 116.4), 1, False),                # 550 m: GPS noise / next building
    ((31.23, 121.47), 60, True),                # Beijing -> Shanghai in an hour
    ((39.9, 116.7), 30, False),                 # 25 km in 30 min = 51 km/h
    ((39.9, 116.7), 5, True),                   # 25 km in 5 min
])
def test_impossible_travel(second, minutes, fires):
    a = punch(1, 10, 0, method="face", device="ZK")
    b = punch(2, 10, minutes * 60, method="geo", venue=second)
    found = pr.impossible_travel([a, b])
    assert bool(found) == fires
    if fires:
        assert found[0].event_ids == (2,)  # the geo punch is weaker than the face match


def test_two_sites_within_minutes_without_coordinates():
    a = punch(1, 10, 0, venue=None, site=1)
    b = punch(2, 10, 300, venue=None, site=2)
    assert len(pr.impossible_travel([a, b])) == 1
    assert pr.impossible_travel([a, punch(2, 10, 3600, venue=None, site=2)]) == []


def test_timetable_contradiction():
    cls = [pr.ClassTime(10, T0 - timedelta(minutes=30), T0 + timedelta(minutes=60), "IELTS")]
    during = punch(1, 10, 600)
    changeover = punch(2, 10, 3600 - 120)  # the class's last 2 minutes: a changeover, not a contradiction
    other = punch(3, 11, 600)
    found = pr.timetable_contradiction([during, changeover, other], cls)
    assert [s.event_ids for s in found] == [(1,)]


def test_fingerprints_are_stable():
    ps = [punch(1, 10, 0, device="P"), punch(2, 11, 10, device="P")]
    assert pr.all_signals(ps, []) == pr.all_signals(list(reversed(ps)), [])


def _migration_0025():
    """The revision's own reading of a stored sentence (cases kept before their figures were)."""
    import importlib.util

    from trainquant.migrate import MIGRATIONS

    path = MIGRATIONS / "versions" / "2026-12-05_proxy_case_evidence.py"
    spec = importlib.util.spec_from_file_location("rev_0025", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _every_signal():
    shared = pr.shared_device([punch(1, 10, 0, device="P1"), punch(2, 11, 15, device="P1"), punch(3, 12, 30, device="P1")])
    room = [punch(1, 10, 0, step=77, lat=ROOM[0], lng=ROOM[1], distance=3, accuracy=10),
            punch(2, 11, 5, step=77, lat=ROOM[0], lng=ROOM[1], distance=4, accuracy=10)]
    relayed = pr.relayed_token([*room, punch(3, 12, 20, step=77, lat=39.95, lng=116.45, distance=6_900, accuracy=20)])
    travel = pr.impossible_travel([punch(1, 10, 0, method="face", device="ZK"), punch(2, 10, 3600, method="geo", venue=(31.23, 121.47))])
    instant = pr.impossible_travel([punch(1, 10, 0, method="face", device="ZK"), punch(2, 10, 0, method="geo", venue=(31.23, 121.47))])
    sites = pr.impossible_travel([punch(1, 10, 0, venue=None, site=1), punch(2, 10, 300, venue=None, site=2)])
    classes = [pr.ClassTime(10, T0 - timedelta(minutes=30), T0 + timedelta(minutes=60), "IELTS 口语"),
               pr.ClassTime(11, T0 - timedelta(minutes=30), T0 + timedelta(minutes=60), None)]
    teaching = pr.timetable_contradiction([punch(1, 10, 600), punch(2, 11, 600, kind="out")], classes)
    return [*shared, *relayed, *travel, *instant, *sites, *teaching]


def test_every_signal_keeps_its_figures_and_migration_0025_reads_the_same_out_of_its_sentence():
    signals = _every_signal()
    assert sorted({s.signal for s in signals}) == ["impossible-travel", "relayed-token", "shared-device", "timetable-contradiction"]
    assert len(signals) == 7
    read = _migration_0025().evidence
    for s in signals:
        assert s.evidence, s
        assert read(s.signal, s.detail) == s.evidence, s.detail
    assert read("shared-device", "something else") == {}
    by_hand = next(s for s in signals if s.signal == "shared-device")
    assert by_hand.evidence == {"device": "P1", "people": 3, "seconds": 30}
