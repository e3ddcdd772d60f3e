"""A scripted ZKTeco terminal speaking PUSH over HTTP: handshake, ATTLOG batches, polling, commands."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from tests.conftest import make_department, make_employee, make_site
from tests.integration.training.conftest import make_program, make_session
from trainquant.attendance.checkin import service as checkin
from trainquant.attendance.models import (
    AttendanceRecord,
    CheckinEvent,
    Device,
    DeviceCommand,
)
from trainquant.org.models import ExternalId
from trainquant.training.models import Enrolment

LATER = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)  # 18:00 in Shanghai, after the session
SN = "ZK-001"


@pytest.fixture
def terminal(db, client, clock):
    clock.at = LATER
    dep = make_department(db, code="TEACH")
    site = make_site(db, code="SH", timezone="Asia/Shanghai")
    t1 = make_employee(db, employee_no="T1", department=dep, site=site)
    t2 = make_employee(db, employee_no="T2", department=dep, site=site, name="李四")
    t3 = make_employee(db, employee_no="T3", department=dep, site=site, name="王五")
    db.add_all([ExternalId(employee_id=t1.id, system="device_pin", external_id="1001"),
                ExternalId(employee_id=t2.id, system="device_pin", external_id="1002")])
    session = make_session(db, program=make_program(db, code="CI"), code="CI-1", starts_at=datetime(2026, 9, 1, 6, 0, tzinfo=UTC), hours=2, site=site)
    session.venue_id = site.venues[0].id
    session.checkin_methods = ["face", "fingerprint", "card"]
    db.add(Device(device_id=SN, kind="zkteco", site_id=site.id, venue_id=site.venues[0].id, active=True, info={}))
    db.add(Device(device_id="ZK-OFF", kind="zkteco", site_id=site.id, active=False, info={}))
    # A terminal's punches are placed in a session by time and room: only its enrolled count.
    db.add_all([Enrolment(session_id=session.id, employee_id=t.id, status="approved", source="hr", created_at=LATER, updated_at=LATER)
                for t in (t1, t2, t3)])
    db.commit()
    return {"session": session, "t1": t1, "t3": t3}


def cdata(client, body: str | bytes, *, sn: str = SN, table: str = "ATTLOG", stamp: str = "1", **extra):
    return client.post("/iclock/cdata", params={"SN": sn, "table": table, "Stamp": stamp, **extra}, content=body,
                       headers={"Content-Type": "text/plain"})


def events(db, **where):
    stmt = select(CheckinEvent).order_by(CheckinEvent.id)
    for k, v in where.items():
        stmt = stmt.where(getattr(CheckinEvent, k) == v)
    return list(db.scalars(stmt))


BATCH = "1001\t2026-09-01 14:00:00\t0\t15\t0\t0\n1002 2026-09-01 14:02:00 0 1 0 0\n1001\t2026-09-01 16:00:00\t1\t15\t0\t0\n"


def test_handshake_gives_options_with_the_site_zone_and_stored_stamp(client, terminal, db):
    resp = client.get("/iclock/cdata", params={"SN": SN, "options": "all"})
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/plain")
    lines = resp.text.splitlines()
    assert lines[0] == f"GET OPTION FROM: {SN}"
    assert {"ATTLOGStamp=0", "TimeZone=8", "Realtime=1", "Encrypt=None", "Delay=10", "ErrorDelay=30"} <= set(lines)
    assert cdata(client, BATCH, stamp="9876").text == "OK: 3"
    assert "ATTLOGStamp=9876" in client.get("/iclock/cdata", params={"SN": SN, "options": "all"}).text
    device = db.scalar(select(Device).where(Device.device_id == SN))
    db.refresh(device)
    assert device.last_seen_at == LATER and device.attlog_stamp == "9876"


def test_attlog_tabs_and_spaces_converted_with_the_site_zone_and_resend_is_harmless(client, terminal, db):
    assert cdata(client, BATCH).text == "OK: 3"
    stored = events(db)
    assert [(e.employee_ref, e.kind, e.at, e.method, e.verdict) for e in stored] == [
        ("device_pin:1001", "in", datetime(2026, 9, 1, 6, 0, tzinfo=UTC), "face", "accepted"),
        ("device_pin:1002", "in", datetime(2026, 9, 1, 6, 2, tzinfo=UTC), "fingerprint", "accepted"),
        ("device_pin:1001", "out", datetime(2026, 9, 1, 8, 0, tzinfo=UTC), "face", "accepted"),
    ]
    assert stored[0].dedup_key == "zkteco:ZK-001|ZK-001:1001:2026-09-01 14:00:00" and (stored[0].source, stored[0].origin) == ("zkteco", "zkteco:ZK-001")
    assert stored[0].session_id == terminal["session"].id  # resolved by time and the device's room
    rec = db.scalar(select(AttendanceRecord).where(AttendanceRecord.employee_id == terminal["t1"].id))
    assert rec.attended_seconds == 7200
    # The terminal did not get (or lost) the answer and sends the same batch again.
    assert cdata(client, BATCH).text == "OK: 3"
    assert db.scalar(select(func.count(CheckinEvent.id))) == 3


def test_malformed_lines_are_kept_rejected_and_the_rest_lands(client, terminal, db):
    body = "1001\t2026-09-01 14:00:00\t0\t15\nthis is not a record\n1002\t2026-09-31 14:00:00\t0\t1\n1002\t2026-09-01 14:05:00\t0\t1\n"
    assert cdata(client, body).text == "OK: 4"
    stored = events(db)
    assert [(e.verdict, e.reason_code) for e in stored] == [("accepted", None), ("rejected", "malformed"), ("rejected", "malformed"), ("accepted", None)]
    assert stored[1].reason.startswith("line 2:") and stored[2].reason.startswith("line 3:")
    assert stored[1].raw["text"] == "this is not a record"


def test_unknown_pin_is_kept_and_accepted_once_hr_adds_the_pin(client, terminal, db):
    line = "1003\t2026-09-01 14:01:00\t0\t15\n"
    assert cdata(client, line).text == "OK: 1"
    (first,) = events(db)
    assert (first.verdict, first.reason_code) == ("rejected", "unknown-employee")
    assert first.reason == "no employee with device_pin id '1003'" and first.raw["external_id"] == "1003"
    # Sent again before the PIN is registered (elsewhere in a bigger upload): a repeat, not a second row.
    assert cdata(client, "1001\t2026-09-01 14:00:00\t0\t15\n" + line).text == "OK: 2"
    assert [(e.verdict, e.reason_code) for e in events(db)] == [("rejected", "unknown-employee"), ("accepted", None)]
    db.add(ExternalId(employee_id=terminal["t3"].id, system="device_pin", external_id="1003"))
    db.commit()
    assert cdata(client, line).text == "OK: 1"
    assert [(e.verdict, e.employee_ref) for e in events(db)] == [("rejected", "device_pin:1003"), ("accepted", "device_pin:1001"), ("accepted", "device_pin:1003")]


@pytest.mark.parametrize("sn", ["ZK-STRANGER", "ZK-OFF"])
def test_unknown_or_inactive_serial_is_refused_and_nothing_stored(client, terminal, db, sn, caplog):
    resp = cdata(client, BATCH, sn=sn)
    assert resp.status_code == 403 and resp.headers["content-type"].startswith("text/plain") and not resp.text.startswith("OK")
    assert client.get("/iclock/cdata", params={"SN": sn, "options": "all"}).status_code == 403
    assert client.get("/iclock/getrequest", params={"SN": sn}).status_code == 403
    assert db.scalar(select(func.count(CheckinEvent.id))) == 0
    assert db.scalar(select(func.count(Device.id)).where(Device.device_id == "ZK-STRANGER")) == 0
    assert any(sn in r.getMessage() for r in caplog.records)


def test_other_tables_are_accepted_and_counted(client, terminal, db):
    oplog = "OPLOG 4\t0\t2026-09-01 14:00:00\t0\t0\t0\t0\nUSER PIN=1001\tName=Li\n"
    assert cdata(client, oplog, table="OPERLOG", stamp=None, OpStamp="55").text == "OK: 2"
    assert cdata(client, b"\xff\xd8\xff\xe0binary photo", table="ATTPHOTO").text.startswith("OK")
    device = db.scalar(select(Device).where(Device.device_id == SN))
    db.refresh(device)
    assert device.operlog_stamp == "55" and device.info["operlog_records"] == 2
    assert db.scalar(select(func.count(CheckinEvent.id))) == 0


def test_polling_hands_out_queued_commands_once_and_records_the_return(client, terminal, db):
    assert client.get("/iclock/getrequest", params={"SN": SN}).text == "OK"
    device = db.scalar(select(Device).where(Device.device_id == SN))
    cmd = DeviceCommand(device_pk=device.id, command="DATA QUERY USERINFO", created_at=LATER)
    db.add(cmd)
    db.commit()
    assert client.get("/iclock/getrequest", params={"SN": SN}).text == f"C:{cmd.id}:DATA QUERY USERINFO\n"
    assert client.get("/iclock/getrequest", params={"SN": SN}).text == "OK"
    resp = client.post("/iclock/devicecmd", params={"SN": SN}, content=f"ID={cmd.id}&Return=0&CMD=DATA\n")
    assert resp.text == "OK"
    db.refresh(cmd)
    assert (cmd.status, cmd.return_code, cmd.sent_at) == ("done", "0", LATER)


def test_a_failure_is_not_answered_ok_so_the_terminal_resends(client, terminal, db, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    working = checkin.ingest_and_recompute
    monkeypatch.setattr(checkin, "ingest_and_recompute", broken)
    resp = cdata(client, BATCH, stamp="77")
    assert resp.status_code < 500 and not resp.text.startswith("OK")
    assert db.scalar(select(func.count(CheckinEvent.id))) == 0
    device = db.scalar(select(Device).where(Device.device_id == SN))
    db.refresh(device)
    assert device.attlog_stamp is None
    monkeypatch.setattr(checkin, "ingest_and_recompute", working)
    assert cdata(client, BATCH, stamp="77").text == "OK: 3"


def test_a_100_mb_body_is_refused(client, terminal, db):
    resp = cdata(client, b"1" * (100 * 1024 * 1024))
    assert resp.status_code == 413
    assert db.scalar(select(func.count(CheckinEvent.id))) == 0


def test_a_body_without_declared_size_is_cut_off_too(client, terminal):
    def chunks():
        for _ in range(9):
            yield b"1" * (1024 * 1024)

    resp = client.post("/iclock/cdata", params={"SN": SN, "table": "ATTLOG"}, content=chunks())
    assert resp.status_code == 413


# ---------------------------------------------------------------- a bad line never blocks the terminal


def test_a_line_that_cannot_be_read_is_refused_alone_and_the_upload_answered_ok(client, terminal, db):
    """A status "²" (str.isdigit takes it, int refuses it) or a time at the calendar's edge made the
    whole upload ERROR: the terminal resent it forever and every later punch waited behind it."""
    body = ("1001\t2026-09-01 14:00:00\t0\t15\n1002\t2026-09-01 14:01:00\t²\t1\n1002\t0001-01-01 00:00:00\t0\t1\n"
            "1002\t9999-12-31 23:59:59\t0\t1\n1002\t2026-09-01 14:02:00\t0\t1\n")
    assert cdata(client, body).text == "OK: 5"
    assert [(e.verdict, e.reason_code, e.employee_ref) for e in events(db)] == [
        ("accepted", None, "device_pin:1001"), ("rejected", "malformed", None), ("rejected", "malformed", None),
        ("rejected", "malformed", None), ("accepted", None, "device_pin:1002"),
    ]
    assert "unknown status" in events(db)[1].reason and "not a time" in events(db)[2].reason


JUNK_LINE = st.one_of(
    st.text(max_size=40),
    st.tuples(
        st.sampled_from(["1001", "1002", "9", "x", "²", "10\x0001"]),
        st.one_of(st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")), st.text(max_size=20)),
        st.one_of(st.text(max_size=4), st.sampled_from(["0", "1", "²", "٣", "99999999999999999999"])),
        st.one_of(st.text(max_size=4), st.sampled_from(["15", "²", "-1"])),
    ).map("\t".join),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(junk=st.lists(JUNK_LINE, min_size=1, max_size=6))
def test_arbitrary_lines_in_an_upload_never_fail_it_nor_lose_its_good_lines(client, terminal, db, junk):
    body = "\n".join([BATCH.splitlines()[0], *junk, *BATCH.splitlines()[1:]])
    resp = cdata(client, body)
    assert resp.status_code == 200 and resp.text.startswith("OK"), resp.text
    keys = set(db.scalars(select(CheckinEvent.dedup_key).where(CheckinEvent.verdict == "accepted")))
    for line in BATCH.splitlines():
        pin, at = line.replace("\t", " ").split(" ")[:2], line.replace("\t", " ").split(" ")[2]
        assert f"zkteco:{SN}|{SN}:{pin[0]}:{pin[1]} {at}" in keys


def test_a_command_return_with_an_id_no_database_can_hold_is_logged_and_answered_ok(client, terminal, db, caplog):
    body = "ID=12345678901234567890123&Return=0&CMD=DATA\nID=2147483648&Return=0\nID=²&Return=²\n"  # 2**31: past PostgreSQL's integer
    resp = client.post("/iclock/devicecmd", params={"SN": SN}, content=body)
    assert (resp.status_code, resp.text) == (200, "OK")
    logged = [r.getMessage() for r in caplog.records]
    assert all(any(f"unknown command id '{i}'" in m for m in logged) for i in ("12345678901234567890123", "2147483648", "²"))


def test_a_command_return_code_in_odd_digits_is_a_failure_not_an_error(client, terminal, db):
    device = db.scalar(select(Device).where(Device.device_id == SN))
    cmd = DeviceCommand(device_pk=device.id, command="INFO", created_at=LATER, status="sent")
    db.add(cmd)
    db.commit()
    assert client.post("/iclock/devicecmd", params={"SN": SN}, content=f"ID={cmd.id}&Return=²&CMD=INFO\n").text == "OK"
    db.refresh(cmd)
    assert (cmd.status, cmd.return_code) == ("failed", "²")


# ---------------------------------------------------------------- junk cannot grow the database without bound


def test_random_bytes_from_a_registered_terminal_store_at_most_the_hourly_allowance_then_nothing(client, terminal, db, app, caplog):
    """1 MB of random bytes stored 27,575 rejected rows, and as many again at every resend."""
    from trainquant.attendance.models import RejectionsPerHour

    app.state.settings = app.state.settings.model_copy(update={"rejected_per_source_per_hour": 300})
    junk = random.Random(7).randbytes(1024 * 1024)
    assert cdata(client, junk).text.startswith("OK: ")  # the terminal moves on
    stored = db.scalar(select(func.count(CheckinEvent.id)))
    assert 0 < stored <= 300
    assert any("not stored" in r.getMessage() and f"zkteco:{SN}" in r.getMessage() for r in caplog.records)
    assert cdata(client, junk).text.startswith("OK: ")
    assert db.scalar(select(func.count(CheckinEvent.id))) == stored
    (hour,) = db.scalars(select(RejectionsPerHour))
    assert (hour.origin, hour.hour, hour.stored) == (f"zkteco:{SN}", LATER.replace(minute=0), stored) and hour.refused > 1000
    # Good punches still land, and the allowance belongs to this terminal alone.
    assert cdata(client, BATCH).text == "OK: 3"
    assert db.scalar(select(func.count(CheckinEvent.id)).where(CheckinEvent.verdict == "accepted")) == 3


def test_a_terminal_punch_of_someone_not_enrolled_is_a_walk_in_not_an_attendance_record(client, terminal, db):
    """Placed by time and the terminal's room, a punch belongs to a session only for its enrolled."""
    db.execute(Enrolment.__table__.delete().where(Enrolment.employee_id == terminal["t1"].id))
    db.commit()
    assert cdata(client, "1001\t2026-09-01 14:00:00\t0\t15\n1002\t2026-09-01 14:02:00\t0\t1\n").text == "OK: 2"
    assert [(e.verdict, e.reason_code, e.session_id) for e in events(db)] == [
        ("rejected", "walk-in", terminal["session"].id), ("accepted", None, terminal["session"].id)]
    assert db.scalar(select(AttendanceRecord).where(AttendanceRecord.employee_id == terminal["t1"].id)) is None
