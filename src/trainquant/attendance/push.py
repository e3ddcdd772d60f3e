"""The ZKTeco PUSH ("iclock") server: terminals post their punches here over plain HTTP.

Terminals identify only by serial number, so only serials on the Device allow-list (and active) are
served. Answers are text/plain. An ATTLOG upload is answered ``OK: <n>`` only after its events are
committed; anything else makes the terminal keep the records and send them again, which is harmless
because events are deduplicated on (SN, PIN, device time).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from trainquant.attendance import zkteco
from trainquant.attendance.api import ingest_and_recompute
from trainquant.attendance.models import Device, DeviceCommand
from trainquant.attendance.schemas import MAX_BATCH
from trainquant.config import Settings
from trainquant.deps import AppClock, AppSettings, DbSession, read_body_limited
from trainquant.org.models import Site, Venue

log = logging.getLogger("trainquant.zkteco")
router = APIRouter(prefix="/iclock", tags=["zkteco"])
MAX_BODY = 8 * 1024 * 1024
MAX_COMMANDS_PER_POLL = 20
Serial = Annotated[str, Query(alias="SN", min_length=1, max_length=80)]


def _text(body: str, status: int = 200) -> PlainTextResponse:
    return PlainTextResponse(body, status_code=status)


def _refusal(request: Request, sn: str) -> PlainTextResponse:
    # Nothing is stored for an unknown terminal; the log line is how HR finds a device to register.
    host = request.client.host if request.client else "?"
    log.warning("zkteco: refused %s %s from unregistered or inactive device SN=%s (client %s)", request.method, request.url.path, sn, host)
    return _text(f"UNKNOWN DEVICE {sn}: not on the allow-list", 403)


def _known_device(db: Session, sn: str, now: datetime) -> Device | None:
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


def _decode(body: bytes) -> str:
    try:
        return body.decode("utf-8-sig")
    except UnicodeDecodeError:
        return body.decode("gb18030", errors="replace")  # older firmware writes the local code page


@router.get("/cdata", response_class=PlainTextResponse, summary="ZKTeco handshake: the options the terminal should use")
def handshake(request: Request, db: DbSession, clock: AppClock, settings: AppSettings, sn: Serial):
    now = clock.now()
    device = _known_device(db, sn, now)
    if device is None:
        return _refusal(request, sn)
    zone = device_zone(db, device, settings.default_timezone)
    info = dict(device.info or {})
    info["handshakes"] = int(info.get("handshakes", 0)) + 1
    device.info = info
    return _text(zkteco.handshake_options(sn, attlog_stamp=device.attlog_stamp, operlog_stamp=device.operlog_stamp,
                                          time_zone=zkteco.utc_offset_hours(zone, now)))


@router.post("/cdata", response_class=PlainTextResponse, summary="ZKTeco upload: ATTLOG punches, OPERLOG and other tables")
async def upload(request: Request, db: DbSession, clock: AppClock, settings: AppSettings, sn: Serial,
                 table: Annotated[str, Query(max_length=40)] = "ATTLOG",
                 stamp: Annotated[str | None, Query(alias="Stamp", max_length=32)] = None,
                 op_stamp: Annotated[str | None, Query(alias="OpStamp", max_length=32)] = None):
    # The body first, then the database, off the event loop: on SQLite the first query waits for the
    # write lock, and another terminal's request holding it needs the loop to finish.
    body = await read_body_limited(request, MAX_BODY, what="upload")
    return await run_in_threadpool(_upload, request, db, sn, table.upper(), body, stamp=stamp, op_stamp=op_stamp, now=clock.now(), settings=settings)


def _upload(request: Request, db: Session, sn: str, table: str, body: bytes, *, stamp: str | None, op_stamp: str | None, now: datetime, settings: Settings):
    device = _known_device(db, sn, now)
    if device is None:
        return _refusal(request, sn)
    try:
        if table == "ATTLOG":
            count = _store_attlog(db, device, _decode(body), settings=settings, now=now)
            if stamp:
                device.attlog_stamp = stamp
        else:
            count = _note_other_table(device, table, body, stamp=op_stamp or stamp)
        db.commit()
    except Exception:  # noqa: BLE001 - whatever failed, the terminal must keep the records and resend
        db.rollback()
        log.exception("zkteco: %s upload from %s was not stored; the device will resend", table, sn)
        return _text("ERROR: not stored, send again later")
    return _text(f"OK: {count}")


def _store_attlog(db: Session, device: Device, text: str, *, settings: Settings, now: datetime) -> int:
    events = zkteco.events_for(text, sn=device.device_id, zone=device_zone(db, device, settings.default_timezone))
    for i in range(0, len(events), MAX_BATCH):
        result = ingest_and_recompute(db, events[i : i + MAX_BATCH], source="zkteco", principal=None, now=now, settings=settings)
        if result.rejected:
            reasons = sorted({f"{v.reason_code}" for v in result.results if v.status == "rejected"})
            log.info("zkteco: %s sent %d record(s) that were rejected (%s); they are kept for review", device.device_id, result.rejected, ", ".join(reasons))
    return len(events)


def _note_other_table(device: Device, table: str, body: bytes, *, stamp: str | None) -> int:
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


@router.get("/getrequest", response_class=PlainTextResponse, summary="ZKTeco poll: queued commands for the terminal")
def get_request(request: Request, db: DbSession, clock: AppClock, sn: Serial):
    now = clock.now()
    device = _known_device(db, sn, now)
    if device is None:
        return _refusal(request, sn)
    commands = list(db.scalars(
        select(DeviceCommand).where(DeviceCommand.device_pk == device.id, DeviceCommand.status == "queued")
        .order_by(DeviceCommand.id).limit(MAX_COMMANDS_PER_POLL)
    ))
    if not commands:
        return _text("OK")
    for c in commands:
        c.status, c.sent_at = "sent", now
    return _text("".join(f"C:{c.id}:{c.command}\n" for c in commands))


@router.post("/devicecmd", response_class=PlainTextResponse, summary="ZKTeco: the terminal reports what its commands returned")
async def device_cmd(request: Request, db: DbSession, clock: AppClock, sn: Serial):
    body = _decode(await read_body_limited(request, MAX_BODY, what="upload"))  # before the database, as in ``upload``
    return await run_in_threadpool(_command_returns, request, db, sn, body, clock.now())


def _command_returns(request: Request, db: Session, sn: str, body: str, now: datetime):
    device = _known_device(db, sn, now)
    if device is None:
        return _refusal(request, sn)
    for ret in zkteco.parse_command_returns(body):
        if not ret["ID"].isdigit():
            continue
        cmd = db.get(DeviceCommand, int(ret["ID"]))
        if cmd is None or cmd.device_pk != device.id:
            log.warning("zkteco: %s answered unknown command id %s", sn, ret["ID"])
            continue
        code = ret.get("Return", "")[:16]
        cmd.return_code = code
        cmd.status = "done" if code.lstrip("-").isdigit() and int(code) >= 0 else "failed"
    return _text("OK")
