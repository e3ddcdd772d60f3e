"""ZKTeco ATTLOG parsing and mapping: pure, no database."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from trainquant.attendance.checkin.schemas import EventIn
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
