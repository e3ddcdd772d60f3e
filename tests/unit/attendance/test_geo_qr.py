from hypothesis import given
from hypothesis import strategies as st

from trainquant.attendance.checkin import qr
from trainquant.attendance.geo import (
    fence_check,
    gcj02_to_wgs84,
    haversine_m,
    wgs84_to_gcj02,
)

SECRET = "s" * 40


def test_haversine_known_distance():
    # Tiananmen to the Forbidden City's north gate: about 1.9 km.
    assert 1800 < haversine_m(39.9087, 116.3975, 39.9254, 116.3972) < 1900
    assert haversine_m(31.2, 121.4, 31.2, 121.4) == 0


def test_gcj02_offset_is_hundreds_of_metres_and_inverts():
    lat, lng = 39.9590, 116.2981  # Haidian
    glat, glng = wgs84_to_gcj02(lat, lng)
    assert 200 < haversine_m(lat, lng, glat, glng) < 700
    back = gcj02_to_wgs84(glat, glng)
    assert haversine_m(lat, lng, *back) < 0.01


@given(st.floats(18.2, 53.0), st.floats(74.0, 134.5))
def test_gcj02_inverse_everywhere_in_china(lat, lng):
    assert haversine_m(lat, lng, *gcj02_to_wgs84(*wgs84_to_gcj02(lat, lng))) < 0.05


def test_outside_china_is_unchanged():
    assert wgs84_to_gcj02(48.85, 2.35) == (48.85, 2.35)


def test_fence():
    inside, d, reason = fence_check(31.2000, 121.4000, 10, venue_lat=31.2002, venue_lng=121.4, radius_m=50)
    assert inside and d < 30 and reason is None
    inside, d, reason = fence_check(31.2030, 121.4000, 10, venue_lat=31.2, venue_lng=121.4, radius_m=50)
    assert not inside and reason == "outside-geofence" and d > 300
    assert fence_check(31.2, 121.4, 500, venue_lat=31.2, venue_lng=121.4, radius_m=50)[2] == "gps-too-inaccurate"


def test_qr_current_and_previous_step_only():
    t = 1_788_000_000
    token = qr.issue(SECRET, 7, t).encode()
    assert qr.verify(SECRET, token, session_id=7, epoch_seconds=t)[1] is None
    assert qr.verify(SECRET, token, session_id=7, epoch_seconds=t + qr.STEP_SECONDS)[1] is None
    assert qr.verify(SECRET, token, session_id=7, epoch_seconds=t + 3 * qr.STEP_SECONDS)[1] == "qr-expired"
    assert qr.verify(SECRET, token, session_id=8, epoch_seconds=t)[1] == "qr-other-session"
    assert qr.verify("x" * 40, token, session_id=7, epoch_seconds=t)[1] == "qr-forged"
    assert qr.verify(SECRET, "garbage", session_id=7, epoch_seconds=t)[1] == "qr-malformed"
    assert qr.verify(SECRET, token, session_id=7, epoch_seconds=t - 3 * qr.STEP_SECONDS)[1] == "qr-from-the-future"


@given(st.integers(0, 10**6), st.integers(1_700_000_000, 1_900_000_000))
def test_qr_tokens_verify_for_their_own_session(session_id, t):
    token = qr.issue(SECRET, session_id, t)
    assert qr.verify(SECRET, token.encode(), session_id=session_id, epoch_seconds=t) == (token.step, None)
