"""Video watch coverage: cases worked out by hand, and properties checked against a 1 ms tick count.

Expected values in the example tests are computed by hand (in the comments), never with the code under
test. The reference at the bottom shares nothing with rules.py: integer milliseconds, a bytearray of
ticks, the exclusion rules restated in integer / Fraction arithmetic.
"""

from __future__ import annotations

import itertools
import math
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from trainquant.learning.rules import (
    END_TOLERANCE_S,
    Play,
    Seek,
    coverage,
    learner_coverage,
    one_at_a_time,
    study_seconds,
)
from trainquant.learning.segments import SegmentError, clip, merge, parse_segments, subtract, union_length

T0 = datetime(2026, 9, 8, 6, 0, tzinfo=UTC)
VIDEO = "https://school.example/videos/unit-1"
NO_SEEKS: list[Seek] = []
NOTHING_EXCLUDED = {"hidden": 0.0, "idle": 0.0, "too-fast": 0.0, "implausible": 0.0, "concurrent": 0.0}


def play(
    a: float,
    b: float,
    *,
    at: float = 0.0,
    wall: float | None = None,
    speed: float = 1.0,
    hidden: bool = False,
    idle: bool = False,
    session: str = "tab-1",
    video: str = VIDEO,
) -> Play:
    """Media a..b, starting ``at`` seconds after T0; by default the wall time an honest player takes."""
    wall_s = (b - a) / speed if wall is None else wall
    return Play(
        video=video,
        session=session,
        media_from=a,
        media_to=b,
        wall_start=T0 + timedelta(seconds=at),
        wall_end=T0 + timedelta(seconds=at + wall_s),
        speed=speed,
        hidden=hidden,
        idle=idle,
    )


# --- played-segments -----------------------------------------------------------------------------------


def test_parse_segments_of_the_video_profile():
    assert parse_segments("0.000[.]12.000[,]14.000[.]21.000") == [(0.0, 12.0), (14.0, 21.0)]


def test_parse_segments_keeps_order_and_zero_length_pairs():
    assert parse_segments("14[.]21[,]5[.]5[,]0[.]12") == [(14.0, 21.0), (5.0, 5.0), (0.0, 12.0)]


@pytest.mark.parametrize("text", ["", "   "])
def test_parse_segments_of_nothing_is_empty(text):
    assert parse_segments(text) == []


@pytest.mark.parametrize(
    "text,message",
    [
        ("abc[.]1", "segment 1: start 'abc' is not a number"),
        ("0[.]1[,]2[.]nan", "segment 2: end 'nan' is not a finite number"),
        ("inf[.]1", "segment 1: start 'inf' is not a finite number"),
        ("0[.]1e999", "segment 1: end '1e999' is not a finite number"),
        ("1_000[.]2000", "segment 1: start '1_000' is not a number"),
        ("-1[.]2", "segment 1: start '-1' is negative"),
        ("0[.]12[,]21[.]14", "segment 2: end 14 is before start 21"),
        ("0[.]1[,]", "segment 2 is empty"),
        ("0[.]1[.]2", "segment 1: expected 'start[.]end', got '0[.]1[.]2'"),
        ("12.5", "segment 1: expected 'start[.]end', got '12.5'"),
        ("0[.]", "segment 1: end '' is not a number"),
    ],
)
def test_parse_segments_says_which_part_is_wrong_and_why(text, message):
    with pytest.raises(SegmentError, match=re.escape(message)):
        parse_segments(text)


def test_segment_error_is_a_value_error():
    assert issubclass(SegmentError, ValueError)


# --- intervals -----------------------------------------------------------------------------------------


def test_union_length_counts_overlaps_once():
    assert union_length([(0, 12), (14, 21)]) == 19  # 12 + 7
    assert union_length([(0, 10), (5, 15), (5, 6)]) == 15  # 0..15
    assert union_length([(0, 12)] * 3) == 12
    assert union_length([]) == 0


def test_merge_joins_touching_and_drops_empty():
    assert merge([(5, 10), (0, 5), (7, 7), (20, 20)]) == [(0, 10)]


def test_clip_cuts_to_the_range():
    assert clip([(-5, 5), (8, 40), (50, 60)], 0, 30) == [(0, 5), (8, 30)]


def test_subtract():
    assert subtract([(0, 30)], [(5, 10), (20, 25)]) == [(0, 5), (10, 20), (25, 30)]
    assert subtract([(0, 10), (20, 30)], [(5, 25)]) == [(0, 5), (25, 30)]  # one cut across two intervals
    assert subtract([(0, 10)], [(0, 10)]) == []
    assert subtract([(0, 10)], []) == [(0, 10)]


@pytest.mark.parametrize("bad", [[(5.0, 1.0)], [(math.nan, 1.0)], [(0.0, math.inf)]])
def test_intervals_must_be_finite_and_ordered(bad):
    with pytest.raises(ValueError):
        union_length(bad)


# --- plays ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"media_from": 10.0, "media_to": 5.0}, "before it starts"),
        ({"media_from": -1.0}, "media_from"),
        ({"media_to": math.nan}, "media_to"),
        ({"speed": 0.0}, "speed"),
        ({"speed": math.inf}, "speed"),
        ({"wall_start": datetime(2026, 9, 8, 6, 0)}, "naive"),
        ({"wall_end": T0 - timedelta(seconds=1)}, "before it starts"),
    ],
)
def test_a_play_that_cannot_be_is_refused(kwargs, message):
    fields = {"video": VIDEO, "session": "s", "media_from": 0.0, "media_to": 10.0, "wall_start": T0, "wall_end": T0 + timedelta(seconds=10)}
    with pytest.raises(ValueError, match=message):
        Play(**(fields | kwargs))


def test_a_seek_needs_an_aware_time():
    with pytest.raises(ValueError, match="naive"):
        Seek(VIDEO, "s", 5.0, 600.0, datetime(2026, 9, 8, 6, 0))


# --- coverage: examples --------------------------------------------------------------------------------


def test_two_segments_on_a_30_s_video():
    c = coverage([play(0, 12), play(14, 21, at=20)], NO_SEEKS, length=30)
    assert c.watched == 19  # 12 + 7
    assert c.ratio == 19 / 30
    assert c.length == 30 and not c.complete
    assert c.excluded == NOTHING_EXCLUDED


def test_rewatching_changes_nothing():
    c = coverage([play(0, 12), play(0, 12, at=100), play(0, 12, at=200), play(14, 21, at=300)], NO_SEEKS, length=30)
    assert c.watched == 19 and c.ratio == 19 / 30


def test_overlapping_plays_count_once():
    c = coverage([play(0, 10), play(5, 15, at=50)], NO_SEEKS, length=30)
    assert c.watched == 15  # 0..15, not 10 + 10


def test_too_fast_play_is_excluded_whole():
    # 0..25 at 2.5x takes 10 s; the max is 2.0.
    c = coverage([play(0, 25, speed=2.5)], NO_SEEKS, length=30)
    assert c.watched == 0 and c.ratio == 0
    assert c.excluded == NOTHING_EXCLUDED | {"too-fast": 25.0}


def test_the_max_speed_itself_is_allowed():
    c = coverage([play(0, 30, speed=2.0)], NO_SEEKS, length=30)  # 15 s of wall time
    assert c.watched == 30 and c.complete


def test_max_speed_is_a_parameter():
    assert coverage([play(0, 30, speed=2.0)], NO_SEEKS, length=30, max_speed=1.5).excluded["too-fast"] == 30


def test_hidden_and_idle_plays_are_excluded():
    c = coverage([play(0, 10), play(10, 20, at=10, hidden=True), play(20, 30, at=20, idle=True)], NO_SEEKS, length=30)
    assert c.watched == 10 and c.ratio == 10 / 30 and not c.complete
    assert c.excluded == NOTHING_EXCLUDED | {"hidden": 10.0, "idle": 10.0}


def test_a_play_excluded_for_two_reasons_is_reported_once():
    c = coverage([play(0, 10, hidden=True, idle=True, speed=3.0)], NO_SEEKS, length=30)
    assert c.excluded == NOTHING_EXCLUDED | {"hidden": 10.0}


def test_a_seek_to_the_end_watches_nothing_it_skipped():
    # Played 0..5, then jumped to the end of a 600 s video.
    seeks = [Seek(VIDEO, "tab-1", 5.0, 600.0, T0 + timedelta(seconds=5))]
    c = coverage([play(0, 5)], seeks, length=600)
    assert c.watched == 5 and c.ratio == 5 / 600 and not c.complete


def test_a_later_real_play_of_a_skipped_part_counts():
    seeks = [Seek(VIDEO, "tab-1", 5.0, 600.0, T0 + timedelta(seconds=5))]
    c = coverage([play(0, 5), play(100, 200, at=60)], seeks, length=600)
    assert c.watched == 105  # 5 + 100


def test_seeks_alone_add_nothing():
    seeks = [Seek(VIDEO, "tab-1", 0.0, 600.0, T0), Seek(VIDEO, "tab-1", 600.0, 0.0, T0 + timedelta(seconds=1))]
    c = coverage([], seeks, length=600)
    assert c.watched == 0 and not c.complete


def test_media_past_the_end_is_clipped():
    c = coverage([play(590, 610)], NO_SEEKS, length=600)
    assert c.watched == 10  # 590..600


# The end tolerance: at most END_TOLERANCE_S = 1 s missing in total at the two ends.


def test_end_tolerance_is_one_second():
    assert END_TOLERANCE_S == 1.0


def test_half_a_second_missing_at_the_start_and_0_4_at_the_end_is_complete():
    c = coverage([play(0.5, 29.6)], NO_SEEKS, length=30)  # missing 0.5 + 0.4 = 0.9 s
    assert c.complete and c.ratio < 1


def test_exactly_one_second_missing_in_total_is_complete():
    assert coverage([play(0.5, 29.5)], NO_SEEKS, length=30).complete  # 0.5 + 0.5


def test_one_point_two_seconds_missing_at_the_end_is_not_complete():
    assert not coverage([play(0, 28.8)], NO_SEEKS, length=30).complete


def test_the_tolerance_is_for_both_ends_together():
    # 0.6 s at each end: each alone would fit in a second, together they are 1.2 s.
    assert not coverage([play(0.6, 29.4)], NO_SEEKS, length=30).complete


def test_a_small_gap_in_the_middle_is_not_complete():
    assert not coverage([play(0, 15), play(15.1, 30, at=20)], NO_SEEKS, length=30).complete  # 0.1 s gap
    assert not coverage([play(0, 15), play(15.00001, 30, at=20)], NO_SEEKS, length=30).complete  # 10 µs gap


def test_touching_plays_are_complete():
    c = coverage([play(15, 30, at=100), play(0, 15)], NO_SEEKS, length=30)
    assert c.complete and c.watched == 30 and c.ratio == 1


def test_an_unwatched_short_video_is_not_complete():
    assert not coverage([], NO_SEEKS, length=0.8).complete


# The wall-time plausibility check: media <= wall seconds * speed + 1 s.


def test_ten_minutes_of_video_in_one_minute_of_wall_time_is_implausible():
    c = coverage([play(0, 600, wall=60)], NO_SEEKS, length=600)
    assert c.watched == 0 and not c.complete
    assert c.excluded == NOTHING_EXCLUDED | {"implausible": 600.0}


@pytest.mark.parametrize(
    "media_to,speed,counted",
    [
        (61.0, 1.0, True),  # 60 * 1 + 1
        (61.5, 1.0, False),
        (121.0, 2.0, True),  # 60 * 2 + 1
        (122.0, 2.0, False),
        (31.0, 0.5, True),  # 60 * 0.5 + 1
        (32.0, 0.5, False),
    ],
)
def test_plausibility_boundary_with_a_minute_of_wall_time(media_to, speed, counted):
    c = coverage([play(0, media_to, wall=60, speed=speed)], NO_SEEKS, length=600)
    assert c.watched == (media_to if counted else 0)
    assert c.excluded["implausible"] == (0 if counted else media_to)


def test_wall_time_is_elapsed_time_across_a_dst_change():
    # Paris, 29 March 2026: 01:30 CET to 03:30 CEST is one hour of elapsed time, not two.
    paris = ZoneInfo("Europe/Paris")
    start, end = datetime(2026, 3, 29, 1, 30, tzinfo=paris), datetime(2026, 3, 29, 3, 30, tzinfo=paris)

    def p(media_to: float) -> Play:
        return Play(video=VIDEO, session="s", media_from=0.0, media_to=media_to, wall_start=start, wall_end=end)

    assert coverage([p(5000)], NO_SEEKS, length=7200).excluded["implausible"] == 5000  # 5000 > 3600 + 1
    assert coverage([p(3600)], NO_SEEKS, length=7200).watched == 3600
    assert study_seconds([p(3600)]) == 3600


def test_coverage_is_of_one_video():
    with pytest.raises(ValueError, match="one video"):
        coverage([play(0, 10), play(0, 10, video="other")], NO_SEEKS, length=30)
    with pytest.raises(ValueError, match="one video"):
        coverage([play(0, 10)], [Seek("other", "s", 0.0, 5.0, T0)], length=30)


@pytest.mark.parametrize("length", [0.0, -1.0, math.nan, math.inf])
def test_length_must_be_positive_and_finite(length):
    with pytest.raises(ValueError, match="length"):
        coverage([], NO_SEEKS, length=length)


# --- study time: examples ------------------------------------------------------------------------------


def test_two_overlapping_tabs_count_once():
    # Tab A plays 0..600 from T0, tab B another video from T0 + 300 s to T0 + 900 s: 900 s, not 1200.
    plays = [play(0, 600, session="A"), play(0, 600, at=300, session="B", video="other")]
    assert study_seconds(plays) == 900


def test_study_time_excludes_hidden_idle_too_fast_and_implausible_plays():
    plays = [
        play(0, 600, session="A"),  # 600 s
        play(0, 600, at=1000, session="B", hidden=True),
        play(0, 600, at=2000, session="B", idle=True),
        play(0, 600, at=3000, speed=2.5),
        play(0, 600, at=4000, wall=60),
    ]
    assert study_seconds(plays) == 600


def test_study_time_is_not_the_span():
    assert study_seconds([play(0, 60), play(60, 120, at=120)]) == 120  # 0..60 and 120..180


def test_no_plays_no_study_time():
    assert study_seconds([]) == 0


# --- the independent reference: integer milliseconds -------------------------------------------------


@dataclass(frozen=True)
class Spec:
    from_ms: int
    to_ms: int
    at_ms: int
    wall_ms: int
    speed: float
    flag: str  # "", "hidden" or "idle"
    session: str


def to_play(s: Spec) -> Play:
    return Play(
        video=VIDEO,
        session=s.session,
        media_from=s.from_ms / 1000,
        media_to=s.to_ms / 1000,
        wall_start=T0 + timedelta(milliseconds=s.at_ms),
        wall_end=T0 + timedelta(milliseconds=s.at_ms + s.wall_ms),
        speed=s.speed,
        hidden=s.flag == "hidden",
        idle=s.flag == "idle",
    )


def ref_reason(s: Spec, max_speed: float = 2.0) -> str | None:
    if s.flag:
        return s.flag
    if s.speed > max_speed:
        return "too-fast"
    if Fraction(s.to_ms - s.from_ms) > Fraction(s.wall_ms) * Fraction(s.speed) + 1000:
        return "implausible"
    return None


def ref_ticks(specs: list[Spec], length_ms: int) -> bytearray:
    ticks = bytearray(length_ms)  # tick t is the millisecond [t, t + 1)
    for s in specs:
        if ref_reason(s) is None:
            for t in range(max(0, s.from_ms), min(s.to_ms, length_ms)):
                ticks[t] = 1
    return ticks


def ref_complete(ticks: bytearray) -> bool:
    # Missing milliseconds are forgiven inside the first and the last 1,000 only, 1,000 at most in all.
    if not any(ticks):
        return False
    n = len(ticks)
    missing = [t for t, v in enumerate(ticks) if not v]
    return all(t < 1000 or t >= n - 1000 for t in missing) and len(missing) <= 1000


def ref_excluded_ms(specs: list[Spec], length_ms: int) -> dict[str, int]:
    out = {"hidden": 0, "idle": 0, "too-fast": 0, "implausible": 0}
    for s in specs:
        reason = ref_reason(s)
        if reason is not None:
            out[reason] += max(0, min(s.to_ms, length_ms) - max(0, s.from_ms))
    return out


def ref_study_ms(specs: list[Spec]) -> int:
    counted = [s for s in specs if ref_reason(s) is None]
    if not counted:
        return 0
    ticks = bytearray(max(s.at_ms + s.wall_ms for s in counted))
    for s in counted:
        for t in range(s.at_ms, s.at_ms + s.wall_ms):
            ticks[t] = 1
    return sum(ticks)


SPEEDS = [0.5, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0]
lengths_ms = st.integers(1_000, 40_000)


@st.composite
def specs_for(draw: st.DrawFn, length_ms: int, flags: list[str] | None = None) -> Spec:
    start = draw(st.integers(0, length_ms + 2_000))
    duration = draw(st.one_of(st.integers(0, 3_000), st.integers(0, length_ms + 2_000)))
    speed = draw(st.sampled_from(SPEEDS))
    honest_wall = math.ceil(Fraction(duration) / Fraction(speed))
    # Mostly what an honest player reports; sometimes a wall time that may not hold the media.
    wall = draw(st.one_of(st.just(honest_wall), st.just(honest_wall), st.integers(0, 2 * honest_wall + 2_000)))
    flag = draw(st.sampled_from(flags if flags is not None else ["", "", "", "hidden", "idle"]))
    return Spec(start, start + duration, draw(st.integers(0, 120_000)), wall, speed, flag, draw(st.sampled_from(["A", "B", "C"])))


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[int, list[Spec]]:
    length_ms = draw(lengths_ms)
    # Some runs start with a full watch, so that `complete` is True often enough to be tested.
    full, gap = draw(st.booleans()), draw(st.booleans())
    base: list[Spec] = [Spec(0, length_ms, 0, length_ms, 1.0, "", "A")] if full else []
    # ... and some then open a gap by leaving out a slice of it.
    if full and gap:
        cut = draw(st.integers(0, length_ms))
        width = draw(st.integers(0, 1_500))
        base = [Spec(0, cut, 0, cut, 1.0, "", "A"), Spec(min(cut + width, length_ms), length_ms, 0, length_ms, 1.0, "", "B")]
    return length_ms, base + draw(st.lists(specs_for(length_ms), max_size=10))


@settings(deadline=None)
@given(scenarios())
def test_coverage_matches_the_millisecond_tick_reference(scenario):
    length_ms, specs = scenario
    c = coverage([to_play(s) for s in specs], NO_SEEKS, length=length_ms / 1000)
    ticks = ref_ticks(specs, length_ms)
    assert c.watched == pytest.approx(sum(ticks) / 1000, abs=1e-9)
    assert c.ratio == pytest.approx(sum(ticks) / length_ms, abs=1e-12)
    assert c.complete == ref_complete(ticks)
    expected = ref_excluded_ms(specs, length_ms)
    assert c.excluded.keys() == expected.keys() | {"concurrent"}
    for reason, ms in expected.items():
        assert c.excluded[reason] == pytest.approx(ms / 1000, abs=1e-9)
    assert c.excluded["concurrent"] == 0.0  # one video's coverage alone never cuts for concurrency


@settings(deadline=None)
@given(scenarios(), st.randoms(use_true_random=False))
def test_coverage_and_study_time_do_not_depend_on_order(scenario, rnd: random.Random):
    length_ms, specs = scenario
    plays = [to_play(s) for s in specs]
    shuffled = rnd.sample(plays, len(plays))
    assert coverage(shuffled, NO_SEEKS, length=length_ms / 1000) == coverage(plays, NO_SEEKS, length=length_ms / 1000)
    assert study_seconds(shuffled) == study_seconds(plays)


@given(scenarios())
def test_watched_never_exceeds_the_length(scenario):
    length_ms, specs = scenario
    c = coverage([to_play(s) for s in specs], NO_SEEKS, length=length_ms / 1000)
    assert 0 <= c.watched <= c.length
    assert 0 <= c.ratio <= 1
    assert all(v >= 0 for v in c.excluded.values())


@given(scenarios(), st.data())
def test_rewatching_a_covered_range_never_raises_coverage(scenario, data):
    length_ms, specs = scenario
    counted = [s for s in specs if ref_reason(s) is None]
    assume(counted)
    base = data.draw(st.sampled_from(counted))
    lo = data.draw(st.integers(base.from_ms, base.to_ms))
    hi = data.draw(st.integers(lo, base.to_ms))
    again = Spec(lo, hi, data.draw(st.integers(0, 200_000)), hi - lo, 1.0, "", data.draw(st.sampled_from(["A", "D"])))
    before = coverage([to_play(s) for s in specs], NO_SEEKS, length=length_ms / 1000)
    after = coverage([to_play(s) for s in [*specs, again]], NO_SEEKS, length=length_ms / 1000)
    assert after.watched <= before.watched
    assert (after.watched, after.ratio, after.complete) == (before.watched, before.ratio, before.complete)


@given(st.data())
def test_a_hidden_idle_or_too_fast_play_never_changes_coverage(data):
    length_ms, specs = data.draw(scenarios())
    extra = data.draw(specs_for(length_ms, flags=["hidden", "idle", ""]))
    if not extra.flag:  # the third kind: played faster than allowed
        extra = Spec(extra.from_ms, extra.to_ms, extra.at_ms, extra.wall_ms, data.draw(st.sampled_from([2.5, 3.0, 16.0])), "", extra.session)
    before = coverage([to_play(s) for s in specs], NO_SEEKS, length=length_ms / 1000)
    after = coverage([to_play(s) for s in [*specs, extra]], NO_SEEKS, length=length_ms / 1000)
    assert (after.watched, after.ratio, after.complete) == (before.watched, before.ratio, before.complete)
    assert study_seconds([to_play(s) for s in [*specs, extra]]) == study_seconds([to_play(s) for s in specs])


@given(st.data())
def test_adding_a_counted_play_never_lowers_coverage(data):
    length_ms, specs = data.draw(scenarios())
    extra = data.draw(specs_for(length_ms, flags=[""]))
    before = coverage([to_play(s) for s in specs], NO_SEEKS, length=length_ms / 1000)
    after = coverage([to_play(s) for s in [*specs, extra]], NO_SEEKS, length=length_ms / 1000)
    assert after.watched >= before.watched
    assert after.complete or not before.complete


def test_watching_a_sliver_near_the_start_keeps_a_complete_video_complete():
    # 2 ms missing at the start is forgiven; watching 0-1 ms of it leaves a 1 ms hole near the start,
    # still inside the first second: still complete (found by the property above).
    assert coverage([play(0.002, 1.0)], NO_SEEKS, length=1.0).complete
    assert coverage([play(0.002, 1.0), play(0.0, 0.001)], NO_SEEKS, length=1.0).complete
    # A hole of 0.1 s at 1.5 s into a 60 s video is in the middle: not complete.
    assert not coverage([play(0, 1.5), play(1.6, 60)], NO_SEEKS, length=60).complete


@settings(deadline=None)
@given(scenarios())
def test_study_time_matches_the_reference_and_never_exceeds_the_wall_span(scenario):
    _, specs = scenario
    plays = [to_play(s) for s in specs]
    seconds = study_seconds(plays)
    assert seconds == pytest.approx(ref_study_ms(specs) / 1000, abs=1e-9)
    if plays:
        span = (max(p.wall_end for p in plays) - min(p.wall_start for p in plays)).total_seconds()
        assert 0 <= seconds <= span
    else:
        assert seconds == 0


@given(st.lists(st.tuples(st.integers(0, 10_000_000), st.integers(0, 10_000_000)).map(sorted), max_size=8))
def test_played_segments_round_trip_at_millisecond_precision(pairs):
    text = "[,]".join(f"{a / 1000:.3f}[.]{b / 1000:.3f}" for a, b in pairs)
    assert parse_segments(text) == [(a / 1000, b / 1000) for a, b in pairs]


@given(
    st.lists(st.tuples(st.integers(0, 5_000), st.integers(0, 2_000)), max_size=8),
    st.lists(st.tuples(st.integers(0, 5_000), st.integers(0, 2_000)), max_size=8),
)
def test_union_and_subtract_match_a_tick_set(kept, cut):
    a = [(s / 1000, (s + w) / 1000) for s, w in kept]
    b = [(s / 1000, (s + w) / 1000) for s, w in cut]
    ticks_a = {t for s, w in kept for t in range(s, s + w)}
    ticks_b = {t for s, w in cut for t in range(s, s + w)}
    assert union_length(a) == pytest.approx(len(ticks_a) / 1000, abs=1e-9)
    assert union_length(subtract(a, b)) == pytest.approx(len(ticks_a - ticks_b) / 1000, abs=1e-9)


# --- one thing at a time ----------------------------------------------------------------------------------

LECTURE = "https://school.example/videos/lecture"
OTHER = "https://school.example/videos/other"


def test_four_windows_playing_four_quarters_watch_one_quarter():
    # A 3600 s lecture, four visible windows started together, each on its own quarter for 900 s: the
    # wall time is 900 s, so one quarter was watched (the first window's, the tie broken by session).
    plays = [play(q * 900, q * 900 + 900, session=f"tab-{q}", video=LECTURE) for q in range(4)]
    c = learner_coverage(plays, lengths={LECTURE: 3600})[LECTURE]
    assert c.watched == 900 and c.ratio == 0.25 and not c.complete
    assert c.excluded["concurrent"] == 2700


def test_a_later_play_keeps_what_runs_after_the_earlier_one_ended():
    # Lecture 0-600 from t=0 (ends t=600); the other video 0-300 from t=400 (ends t=700): its first 200 s
    # ran beside the lecture and are cut, 200 s to 300 s of it stays.
    lecture = play(0, 600, video=LECTURE)
    other = play(0, 300, at=400, video=OTHER)
    got = learner_coverage([other, lecture], lengths={LECTURE: 600, OTHER: 300})
    assert got[LECTURE].watched == 600 and got[LECTURE].complete and got[LECTURE].excluded["concurrent"] == 0
    assert got[OTHER].watched == pytest.approx(100) and got[OTHER].excluded["concurrent"] == pytest.approx(200)


def test_a_hidden_tab_never_takes_the_time_of_a_visible_one():
    hidden = play(0, 600, video=OTHER, hidden=True)
    visible = play(0, 600, at=10, video=LECTURE)
    got = learner_coverage([hidden, visible], lengths={LECTURE: 600, OTHER: 600})
    assert got[LECTURE].watched == 600 and got[LECTURE].excluded["concurrent"] == 0
    assert got[OTHER].watched == 0 and got[OTHER].excluded["hidden"] == 600


def test_plays_one_after_another_lose_nothing():
    plays = [play(0, 300, video=LECTURE), play(300, 600, at=300, video=LECTURE), play(0, 60, at=600, video=OTHER)]
    kept, cut = one_at_a_time(plays)
    assert cut == {} and sorted(kept, key=lambda p: p.wall_start) == sorted(plays, key=lambda p: p.wall_start)


@st.composite
def learner_plays(draw):
    """Integer-second plays of two videos at 1x, honest wall times, some overlapping in wall time."""
    out = []
    for i in range(draw(st.integers(1, 6))):
        a = draw(st.integers(0, 50))
        b = draw(st.integers(a, 60))
        at = draw(st.integers(0, 80))
        out.append((draw(st.sampled_from([LECTURE, OTHER])), f"tab-{i}", a, b, at))
    return out


@given(learner_plays(), st.randoms())
@settings(max_examples=300)
def test_one_at_a_time_matches_a_tick_reference_and_never_overlaps(specs, rnd):
    # Reference, sharing nothing with rules.py: whole seconds of wall time, each given to the play that
    # began first (ties by video, session, media) among those running; media second = from + offset.
    owner: dict[int, tuple] = {}
    for spec in sorted(specs, key=lambda s: (s[4], s[0], s[1], s[2], s[3])):
        _video, _session, a, b, at = spec
        for t in range(at, at + (b - a)):
            owner.setdefault(t, spec)
    watched: dict[str, set[int]] = {LECTURE: set(), OTHER: set()}
    for t, (video, _session, a, _b, at) in owner.items():
        watched[video].add(a + (t - at))
    plays = [play(a, b, at=at, session=session, video=video) for video, session, a, b, at in specs]
    rnd.shuffle(plays)
    got = learner_coverage(plays, lengths={LECTURE: 60, OTHER: 60})
    for video in (LECTURE, OTHER):
        assert got[video].watched == pytest.approx(len(watched[video]), abs=1e-6)
        total = sum(b - a for v, _s, a, b, _at in specs if v == video)
        kept = sum(1 for owned in owner.values() if owned[0] == video)
        assert got[video].excluded["concurrent"] == pytest.approx(total - kept, abs=1e-6)
    kept_plays, _ = one_at_a_time(plays)
    spans = sorted((p.wall_start, p.wall_end) for p in kept_plays if p.wall_end > p.wall_start)
    assert all(earlier[1] <= later[0] for earlier, later in itertools.pairwise(spans))
