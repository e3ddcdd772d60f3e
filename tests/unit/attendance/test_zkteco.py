"""ZKTeco ATTLOG parsing and mapping: pure, no database."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from trainquant.attendance.checkin.schemas import EventIn, validate_event
from trainquant.attendance.devices import zkteco
from trainquant.attendance.rules import UNUSABLE

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_tab_and_space_lines_parse_the_same():
    tabbed = zkteco.parse_line(1, "1002\t2026-09-01 14:00:00\t0\t15\t\t0\t0")
    spaced = zkteco.parse_line(1, "1002 2026-09-01 14:00:00 0 15 0 0")
    assert isinstance(tabbed, zkteco.AttlogRecord) and isinstance(spaced, zkteco.AttlogRecord)
    assert (tabbed.pin, tabbed.local_time, tabbed.status, tabbed.verify) == ("1002", datetime(2026, 9, 1, 14), 0, 15)
    assert (spaced.pin, spaced.local_time, spaced.status, spaced.verify) == ("1002", datetime(2026, 9, 1, 14), 0, 15)


@pytest.mark.parametrize(("status", "kind"), [(0, "in"), (1, "out"), (2, "out"), (3, "in"), (4, "in"), (5, "out")])
def test_status_to_kind(status, kind):
    rec = zkteco.parse_line(1, f"7\t2026-09-01 14:00:00\t{status}\t1")
    assert zkteco.to_event(rec, sn="SN1", zone=SHANGHAI)["kind"] == kind


@pytest.mark.parametrize(("verify", "method"), [(15, "face"), (1, "fingerprint"), (4, "card"), (25, "face"), (0, "card"), (7, "card")])
def test_verify_to_method(verify, method):
    assert zkteco.method_for_verify(verify) == method


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("1002", "expected"),
        ("1002\t2026-13-01 14:00:00\t0\t1", "not a time"),
        ("1002\tyesterday\t0\t1", "not a time"),
        ("1002\t2026-09-01 14:00:00\t9\t1", "unknown status"),
        ("1002\t2026-09-01 14:00:00\tx\t1", "unknown status"),
        ("1002\t2026-09-01 14:00:00\t0\tface", "verify mode"),
    ],
)
def test_malformed_lines_are_rejected_with_their_line_number(line, fragment):
    got = zkteco.parse_line(4, line)
    assert isinstance(got, zkteco.AttlogRejection)
    assert got.reason.startswith("line 4:") and fragment in got.reason


def test_a_batch_keeps_good_lines_around_bad_ones_in_order():
    body = "1\t2026-09-01 14:00:00\t0\t1\r\n\r\ngarbage\n2 2026-09-01 14:01:00 1 15\n"
    events = zkteco.events_for(body, sn="SN1", zone=SHANGHAI)
    assert [e.get("external_id") for e in events] == ["1", None, "2"]
    assert events[1][UNUSABLE].startswith("line 3:")
    assert zkteco.count_lines(body) == 3


def test_device_local_time_is_converted_with_the_site_zone():
    rec = zkteco.parse_line(1, "1002\t2026-09-01 14:00:00\t0\t15")
    event = zkteco.to_event(rec, sn="ZK-9", zone=SHANGHAI)
    assert datetime.fromisoformat(event["at"]) == datetime(2026, 9, 1, 6, 0, tzinfo=UTC)
    assert event["event_id"] == "ZK-9:1002:2026-09-01 14:00:00"
    assert event["evidence"]["verify_mode"] == "face"
    EventIn.model_validate(event)  # the dict is what the one ingestion path takes


def test_handshake_and_command_returns():
    text = zkteco.handshake_options("SN1", attlog_stamp="99", operlog_stamp=None, time_zone=zkteco.utc_offset_hours(SHANGHAI, datetime(2026, 9, 1, tzinfo=UTC)))
    lines = text.splitlines()
    assert lines[0] == "GET OPTION FROM: SN1"
    assert {"ATTLOGStamp=99", "OPERLOGStamp=0", "TimeZone=8", "Realtime=1", "TransFlag=TransData AttLog OpLog"} <= set(lines)
    assert zkteco.utc_offset_hours(ZoneInfo("Asia/Kolkata"), datetime(2026, 9, 1, tzinfo=UTC)) == "5.5"
    got = zkteco.parse_command_returns("ID=5&Return=0&CMD=DATA\nID=6&Return=-1002&CMD=INFO\n\n")
    assert [(r["ID"], r["Return"]) for r in got] == [("5", "0"), ("6", "-1002")]


# ---------------------------------------------------------------- one bad line never fails the upload


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        ("1002\t2026-09-01 14:00:00\t²\t1", "unknown status"),  # "²".isdigit() is True, int("²") raises
        ("1002\t2026-09-01 14:00:00\t0\t²", "verify mode"),
        ("1002\t２０２６-09-01 14:00:00\t0\t1", "not a time"),  # full-width digits: strptime would take them
        ("1002\t0001-01-01 00:00:00\t0\t1", "not a time"),  # before 1900: no UTC conversion at the calendar's edge
        ("1002\t9999-12-31 23:59:59\t0\t1", "not a time"),
        ("1002\t2026-09-01 14:00:00\t99999999999999999999\t1", "unknown status"),
        ("10\x0002\t2026-09-01 14:00:00\t0\t1", "unprintable"),  # a text column cannot hold NUL (PostgreSQL)
    ],
)
def test_lines_a_terminal_never_sends_are_refused_alone(line, fragment):
    got = zkteco.parse_line(2, line)
    assert isinstance(got, zkteco.AttlogRejection) and got.reason.startswith("line 2:") and fragment in got.reason


def test_a_time_at_the_calendars_edge_becomes_an_unusable_record_not_an_error():
    body = "1001\t2026-09-01 14:00:00\t0\t15\n1001\t0001-01-01 00:00:00\t0\t15\n1001\t2026-09-01 14:00:00\t²\t15\n1002\t2026-09-01 16:00:00\t1\t15\n"
    events = zkteco.events_for(body, sn="SN1", zone=SHANGHAI)
    assert [e.get("external_id") for e in events] == ["1001", None, None, "1002"]
    assert [e[UNUSABLE][:7] for e in events if UNUSABLE in e] == ["line 2:", "line 3:"]


def test_ids_and_codes_are_ascii_integers_a_database_can_hold():
    assert zkteco.parse_id("42") == 42 and zkteco.parse_id(str(2**31 - 1)) == 2**31 - 1
    assert [zkteco.parse_id(v) for v in ("9" * 23, str(2**31), "²", "-1", "", " 4", "４")] == [None] * 7
    assert [zkteco.ascii_int(v) for v in ("0", "-1002", "²", "1.5", "x")] == [0, -1002, None, None, None]


def test_a_record_carries_no_position_so_a_resend_elsewhere_in_an_upload_is_the_same_record():
    first = zkteco.events_for("1001\t2026-09-01 14:00:00\t0\t15\ngarbage\n", sn="SN1", zone=SHANGHAI)
    later = zkteco.events_for("\n\n1002\t2026-09-01 14:05:00\t0\t15\ngarbage\n1001\t2026-09-01 14:00:00\t0\t15\n", sn="SN1", zone=SHANGHAI)
    assert first[0] == later[2]
    assert {k: v for k, v in first[1].items() if k != UNUSABLE} == {k: v for k, v in later[1].items() if k != UNUSABLE}


GOOD = ["1001\t2026-09-01 14:00:00\t0\t15\t0\t0", "1002 2026-09-01 14:02:00 0 1 0 0", "1001\t2026-09-01 16:00:00\t1\t15\t0\t0"]
# Junk: any text, and near-misses of a record (any time on the calendar, odd digits, any field text).
field = st.one_of(st.text(max_size=8), st.integers(-10, 300).map(str), st.sampled_from(["²", "٣", "４", "1.5", "-", ""]))
near_miss = st.tuples(
    st.one_of(st.text(min_size=1, max_size=70), st.integers(0, 99999).map(str)),
    st.one_of(st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")), st.text(max_size=20)),
    field, field, field,
).map("\t".join)
junk_line = st.one_of(st.text(max_size=60), near_miss)


def _essentials(event: dict) -> tuple:
    return event["event_id"], event["external_id"], event["kind"], event["at"], event["method"]


@settings(max_examples=300, deadline=None)
@given(junk=st.lists(junk_line, max_size=8), places=st.lists(st.integers(0, 20), min_size=8, max_size=8))
def test_arbitrary_lines_mixed_into_an_upload_never_fail_it_and_never_lose_a_good_line(junk, places):
    lines = list(GOOD)
    for text, at in zip(junk, places, strict=False):
        lines.insert(at % (len(lines) + 1), text)
    events = zkteco.events_for("\n".join(lines), sn="SN1", zone=SHANGHAI)  # never raises
    found = {_essentials(e) for e in events if UNUSABLE not in e}
    for good in GOOD:
        assert _essentials(zkteco.to_event(zkteco.parse_line(1, good), sn="SN1", zone=SHANGHAI)) in found
    for e in events:
        # Every dict is an unusable record with its reason, or an event the one ingestion path can judge.
        if UNUSABLE not in e:
            with contextlib.suppress(ValidationError):
                validate_event(e)
