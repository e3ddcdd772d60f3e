"""ZKTeco PUSH ("iclock") payloads turned into event dicts for the one ingestion path. Pure: no I/O.

ATTLOG lines are ``PIN<TAB>YYYY-MM-DD HH:MM:SS<TAB>status<TAB>verify<TAB>workcode<TAB>reserved...``;
some firmware separates with spaces (then the date and the time are two tokens). The time is the
device's local wall-clock time and is converted with the device's site time zone.

Mapping decisions (the verify mode is evidence strength, STANDARDS §5; the mode itself is kept in
``evidence``):
- status 0 check-in, 3 break-in, 4 overtime-in -> ``in``; 1 check-out, 2 break-out, 5 overtime-out -> ``out``.
  Any other status (255 "no state key" on some firmware) is refused with a reason, not guessed.
- verify 15 face -> ``face``; 1 fingerprint -> ``fingerprint``; 25 palm (a biometric the terminal
  matched, contactless like a face) -> ``face``; 4 / 2 card -> ``card``; 0 / 3 password -> ``card``:
  a password, like a card, proves possession of something lendable, not presence of the person; any
  other (combined) mode -> ``card``, the weakest device-attested class.

Every line is judged alone: a line that cannot be read becomes an unusable record with its reason and
never fails the upload (the terminal would otherwise resend it, and everything after it, forever).
Numbers are ASCII digits only (``str.isdigit`` also takes "²", which ``int`` refuses); a device time
must lie within 1900-01-01 .. 2199-12-31 (the calendar every request body is held to), so converting
it to UTC cannot overflow. Positions (line numbers) stay out of the dicts but for the reason text: a
record is the same record wherever it stands in an upload, and rejected records are deduplicated by
content.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

from trainquant.attendance.rules import UNUSABLE
from trainquant.ids import MAX_ID

STATUS_KIND = {0: "in", 1: "out", 2: "out", 3: "in", 4: "in", 5: "out"}
STATUS_NAME = {0: "check-in", 1: "check-out", 2: "break-out", 3: "break-in", 4: "overtime-in", 5: "overtime-out"}
VERIFY_METHOD = {0: "card", 1: "fingerprint", 2: "card", 3: "card", 4: "card", 15: "face", 25: "face"}
VERIFY_NAME = {0: "password", 1: "fingerprint", 2: "card", 3: "password", 4: "card", 15: "face", 25: "palm"}
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"
MAX_PIN = 64
EARLIEST = datetime(1900, 1, 1)
LATEST = datetime(2199, 12, 31, 23, 59, 59)
_NUMBER = re.compile(r"-?[0-9]{1,9}")
_TIME = re.compile(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2} [0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2}")  # as strptime reads it, in ASCII
_ID = re.compile(r"[0-9]{1,10}")


@dataclass(frozen=True)
class AttlogRecord:
    line_no: int
    pin: str
    local_time: datetime  # naive: the device's wall clock
    status: int
    verify: int
    workcode: str
    text: str


@dataclass(frozen=True)
class AttlogRejection:
    line_no: int
    text: str
    reason: str


@dataclass
class Attlog:
    records: list[AttlogRecord] = field(default_factory=list)
    rejections: list[AttlogRejection] = field(default_factory=list)


def _fields(line: str) -> list[str]:
    if "\t" in line:
        return [f.strip() for f in line.split("\t")]
    tokens = line.split()
    if len(tokens) >= 3:
        return [tokens[0], f"{tokens[1]} {tokens[2]}", *tokens[3:]]
    return tokens


def ascii_int(value: str) -> int | None:
    """A small integer written in ASCII digits, or None."""
    return int(value) if _NUMBER.fullmatch(value) else None


def parse_id(value: str) -> int | None:
    """A row id sent by a terminal (``ID=`` of a command return), or None if it cannot be one."""
    return int(value) if _ID.fullmatch(value) and int(value) <= MAX_ID else None


def _int(value: str | None, default: int | None) -> int | None:
    if value is None or value == "":
        return default
    return ascii_int(value)


def local_time(text: str) -> datetime | None:
    """``YYYY-MM-DD HH:MM:SS`` in ASCII digits within ``EARLIEST`` .. ``LATEST``, or None."""
    if not _TIME.fullmatch(text):
        return None
    try:
        value = datetime.strptime(text, TIME_FORMAT)
    except ValueError:
        return None
    return value if EARLIEST <= value <= LATEST else None


def parse_line(line_no: int, line: str) -> AttlogRecord | AttlogRejection:
    parts = _fields(line)
    if len(parts) < 2 or not parts[0]:
        return AttlogRejection(line_no, line, f"line {line_no}: expected 'PIN<TAB>YYYY-MM-DD HH:MM:SS<TAB>status<TAB>verify'")
    pin = parts[0]
    if len(pin) > MAX_PIN:
        return AttlogRejection(line_no, line, f"line {line_no}: the PIN is longer than {MAX_PIN} characters")
    if not pin.isprintable():
        return AttlogRejection(line_no, line, f"line {line_no}: the PIN {pin!r} holds unprintable characters")
    local = local_time(parts[1])
    if local is None:
        return AttlogRejection(
            line_no, line, f"line {line_no}: {parts[1][:40]!r} is not a time as YYYY-MM-DD HH:MM:SS between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d}"
        )
    status = _int(parts[2] if len(parts) > 2 else None, 0)
    if status not in STATUS_KIND:
        return AttlogRejection(line_no, line, f"line {line_no}: unknown status {parts[2][:20]!r} (0-5 expected)")
    verify = _int(parts[3] if len(parts) > 3 else None, 0)
    if verify is None:
        return AttlogRejection(line_no, line, f"line {line_no}: verify mode {parts[3][:20]!r} is not a number")
    workcode = parts[4] if len(parts) > 4 else ""
    return AttlogRecord(line_no, pin, local, status, verify, workcode, line)


def parse_attlog(body: str) -> Attlog:
    out = Attlog()
    for line_no, line in enumerate(body.splitlines(), start=1):
        if not line.strip():
            continue
        parsed = parse_line(line_no, line.rstrip("\r"))
        if isinstance(parsed, AttlogRecord):
            out.records.append(parsed)
        else:
            out.rejections.append(parsed)
    return out


def method_for_verify(verify: int) -> str:
    return VERIFY_METHOD.get(verify, "card")


def to_utc(local: datetime, zone: ZoneInfo) -> datetime:
    # fold=0: in a repeated DST hour the earlier instant is taken (China has no DST).
    return local.replace(tzinfo=zone).astimezone(UTC)


def event_id_for(sn: str, pin: str, local: datetime) -> str:
    return f"{sn}:{pin}:{local.strftime(TIME_FORMAT)}"


def to_event(record: AttlogRecord, *, sn: str, zone: ZoneInfo) -> dict:
    return {
        "event_id": event_id_for(sn, record.pin, record.local_time),
        "external_system": "device_pin",
        "external_id": record.pin,
        "kind": STATUS_KIND[record.status],
        "at": to_utc(record.local_time, zone).isoformat(),
        "method": method_for_verify(record.verify),
        "device_id": sn,
        "evidence": {
            "status": record.status, "status_name": STATUS_NAME[record.status], "verify": record.verify,
            "verify_mode": VERIFY_NAME.get(record.verify, f"mode-{record.verify}"), "workcode": record.workcode,
            "device_local_time": record.local_time.strftime(TIME_FORMAT), "time_zone": zone.key,
        },
    }


def unusable_event(rejection: AttlogRejection, *, sn: str) -> dict:
    digest = hashlib.sha256(rejection.text.encode()).hexdigest()[:16]
    return {"event_id": f"{sn}:malformed:{digest}", UNUSABLE: rejection.reason, "text": rejection.text[:500], "device_id": sn}


def events_for(body: str, *, sn: str, zone: ZoneInfo) -> list[dict]:
    """Every non-blank line becomes one dict, in line order: an event, or an unusable record kept with its reason."""
    parsed = parse_attlog(body)
    items: list[tuple[int, dict]] = []
    for r in parsed.records:
        try:
            items.append((r.line_no, to_event(r, sn=sn, zone=zone)))
        except (OverflowError, ValueError):  # a zone's rules at the calendar's edge; the line alone is refused
            items.append((r.line_no, unusable_event(AttlogRejection(r.line_no, r.text, f"line {r.line_no}: the time cannot be converted to UTC"), sn=sn)))
    items += [(r.line_no, unusable_event(r, sn=sn)) for r in parsed.rejections]
    return [d for _, d in sorted(items, key=lambda x: x[0])]


def count_lines(body: str) -> int:
    return sum(1 for line in body.splitlines() if line.strip())


def parse_command_returns(body: str) -> list[dict[str, str]]:
    """``ID=<id>&Return=<code>&CMD=<cmd>`` per line (several commands may be answered at once)."""
    out = []
    for line in body.splitlines():
        if line.strip():
            fields = dict(parse_qsl(line.strip(), keep_blank_values=True))
            if "ID" in fields:
                out.append(fields)
    return out


def utc_offset_hours(zone: ZoneInfo, at: datetime) -> str:
    offset = at.astimezone(zone).utcoffset()
    hours = offset.total_seconds() / 3600 if offset is not None else 0
    return str(int(hours)) if hours == int(hours) else f"{hours:g}"


def handshake_options(sn: str, *, attlog_stamp: str | None, operlog_stamp: str | None, time_zone: str) -> str:
    lines = [
        f"GET OPTION FROM: {sn}",
        f"ATTLOGStamp={attlog_stamp or 0}",
        f"OPERLOGStamp={operlog_stamp or 0}",
        "ErrorDelay=30",
        "Delay=10",
        "TransTimes=00:00;14:05",
        "TransInterval=1",
        "TransFlag=TransData AttLog OpLog",
        f"TimeZone={time_zone}",
        "Realtime=1",
        "Encrypt=None",
    ]
    return "\n".join(lines) + "\n"
