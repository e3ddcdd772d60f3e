"""ZKTeco PUSH use cases: what a terminal's handshake, upload, poll and command returns do.

Each use case runs in a unit of work of its own and answers the text the terminal reads. An ATTLOG
upload is answered ``OK: <n>`` only after its events are committed; anything else makes the terminal
keep the records and send them again, which is harmless because events are deduplicated on
(SN, PIN, device time).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from trainquant.attendance.checkin import service as checkin
from trainquant.attendance.checkin.schemas import MAX_BATCH
from trainquant.attendance.devices import zkteco
from trainquant.attendance.models import Device, DeviceCommand
from trainquant.config import Settings
from trainquant.db import unit_of_work
from trainquant.org.models import Site, Venue

log = logging.getLogger("trainquant.zkteco")
MAX_COMMANDS_PER_POLL = 20


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    status: int = 200


def refusal(sn: str, *, what: str, client: str) -> Reply:
    # Nothing is stored for an unknown terminal; the log line is how HR finds a device to register.
    log.warning("zkteco: refused %s from unregistered or inactive device SN=%s (client %s)", what, sn, client)
    return Reply(f"UNKNOWN DEVICE {sn}: not on the allow-list", 403)


def known_device(db: Session, sn: str, now: datetime) -> Device | None:
    device = db.scalar(select(Device).where(Device.device_id == sn))
    if device is None or not device.active:
        return None
    device.last_seen_at = now
    return device


def device_zone(db: Session, device: Device, default_tz: str) -> ZoneInfo:
    site_id = device.site_id
    if site_id is None and device.venue_id is not None:
        site_id = db.scalar(select(Venue.site_id).where(Venue.id == device.venue_id))
    name = db.scalar(select(Site.timezone).where(Site.id == site_id)) if site_id is not None else None
    try:
        return ZoneInfo(name or default_tz)
    except (ZoneInfoNotFoundError, ValueError):
        log.error("zkteco: site %s has an unknown time zone %r; using %s", site_id, name, default_tz)
        return ZoneInfo(default_tz)


def decode(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode("gb18030", errors="replace")  # older firmware writes the local code page


def handshake(factory: sessionmaker[Session], sn: str, *, now: datetime, settings: Settings, client: str) -> Reply:
    with unit_of_work(factory) as db:
        device = known_device(db, sn, now)
        if device is None:
            return refusal(sn, what="handshake", client=client)
        zone = device_zone(db, device, settings.default_timezone)
        info = dict(device.info or {})
        info["handshakes"] = int(info.get("handshakes", 0)) + 1
        device.info = info
        return Reply(zkteco.handshake_options(sn, attlog_stamp=device.attlog_stamp, operlog_stamp=device.operlog_stamp,
                                              time_zone=zkteco.utc_offset_hours(zone, now)))


def upload(
    factory: sessionmaker[Session], sn: str, table: str, body: bytes, *, stamp: str | None, op_stamp: str | None,
    now: datetime, settings: Settings, client: str,
) -> Reply:
    try:
        with unit_of_work(factory) as db:
            device = known_device(db, sn, now)
            if device is None:
                return refusal(sn, what=f"{table} upload", client=client)
            if table == "ATTLOG":
                count = store_attlog(db, device, decode(body), settings=settings, now=now)
                if stamp:
                    device.attlog_stamp = stamp
            else:
                count = note_other_table(device, table, body, stamp=op_stamp or stamp)
    except Exception:  # whatever failed, the terminal must keep the records and resend
        log.exception("zkteco: %s upload from %s was not stored; the device will resend", table, sn)
        return Reply("ERROR: not stored, send again later")
    return Reply(f"OK: {count}")


def store_attlog(db: Session, device: Device, text: str, *, settings: Settings, now: datetime) -> int:
    events = zkteco.events_for(text, sn=device.device_id, zone=device_zone(db, device, settings.default_timezone))
    for i in range(0, len(events), MAX_BATCH):
        result = checkin.ingest_and_recompute(db, events[i : i + MAX_BATCH], source="zkteco", principal=None, now=now, settings=settings)
        if result.rejected:
            reasons = sorted({f"{v.reason_code}" for v in result.results if v.status == "rejected"})
            log.info("zkteco: %s sent %d record(s) that were rejected (%s); they are kept for review", device.device_id, result.rejected, ", ".join(reasons))
    return len(events)


def note_other_table(device: Device, table: str, body: bytes, *, stamp: str | None) -> int:
    # OPERLOG (operations, user records), ATTPHOTO (pictures) ...: accepted so the terminal moves on,
    # only counted. Photos are binary, so records are not counted by lines for them.
    count = body.count(b"\n") + (1 if body and not body.endswith(b"\n") else 0) if table != "ATTPHOTO" else 1
    info = dict(device.info or {})
    key = f"{table.lower()}_records"
    info[key] = int(info.get(key, 0)) + count
    device.info = info
    if table == "OPERLOG" and stamp:
        device.operlog_stamp = stamp
    return count


def poll(factory: sessionmaker[Session], sn: str, *, now: datetime, client: str) -> Reply:
    """Hand out the queued commands (at most ``MAX_COMMANDS_PER_POLL``), marking them sent."""
    with unit_of_work(factory) as db:
        device = known_device(db, sn, now)
        if device is None:
            return refusal(sn, what="poll", client=client)
        commands = list(db.scalars(
            select(DeviceCommand).where(DeviceCommand.device_pk == device.id, DeviceCommand.status == "queued")
            .order_by(DeviceCommand.id).limit(MAX_COMMANDS_PER_POLL)
        ))
        if not commands:
            return Reply("OK")
        for c in commands:
            c.status, c.sent_at = "sent", now
        return Reply("".join(f"C:{c.id}:{c.command}\n" for c in commands))


def command_returns(factory: sessionmaker[Session], sn: str, body: bytes, *, now: datetime, client: str) -> Reply:
    with unit_of_work(factory) as db:
        device = known_device(db, sn, now)
        if device is None:
            return refusal(sn, what="command returns", client=client)
        # Answered OK whatever the body holds: a return the server cannot use is logged, not resent.
        for ret in zkteco.parse_command_returns(decode(body)):
            command_id = zkteco.parse_id(ret["ID"])
            cmd = db.get(DeviceCommand, command_id) if command_id is not None else None
            if cmd is None or cmd.device_pk != device.id:
                log.warning("zkteco: %s answered unknown command id %r", sn, ret["ID"][:40])
                continue
            code = ret.get("Return", "")[:16]
            number = zkteco.ascii_int(code)
            cmd.return_code = code
            cmd.status = "done" if number is not None and number >= 0 else "failed"
        return Reply("OK")
