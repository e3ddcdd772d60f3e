"""WeCom / DingTalk / Feishu check-in exports and sign-in sheets turned into event dicts for the one
ingestion path. Pure: no I/O; zones and session days come in as parameters.

Decisions:
- Who: the platform's user id, resolved through ExternalId (system wecom / dingtalk / feishu); sheets
  carry the employee number (工号).
- Kind: WeCom 上班打卡 -> in, 下班打卡 -> out, 外出打卡 (a field punch: "I am here") -> in, and like
  every punch with coordinates it must then lie inside the session's geofence. DingTalk OnDuty -> in,
  OffDuty -> out. Feishu flows carry no direction (``kind`` None): ``placing`` infers it among the
  punches placed in one session, never over the day.
- The platform's own verdicts (``verdicts``): each is a code ``<platform>.<field>.<value>`` kept in
  the event's evidence (``platform_verdict``) beside TrainQuant's, and the school's policy
  (``decide``: reject, review or accept; defaults in ``VERDICT_POLICY``) says what each does.
- Method: ``geo`` when coordinates are present (GCJ-02 on all three platforms, converted by ingest
  before the fence check); otherwise ``manual`` with a reason naming the platform — the platform, not
  TrainQuant, verified the punch, and only HR (attendance:manage) can import. The service turns ``geo``
  into ``manual`` when the session does not fence by geo; coordinates are kept as evidence either way.
- Not a punch: WeCom exception 未打卡 and DingTalk timeResult NotSigned are the platform reporting a
  missing punch (the time is the scheduled one); they are kept as rejected ("malformed"), never accepted.
- Dedup: DingTalk id/recordId and Feishu record_id; WeCom has no record id, so userid + checkin_time +
  checkin_type; sheet rows: employee + session + kind + time, so a re-uploaded or renamed sheet repeats.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from trainquant.attendance.rules import UNUSABLE
from trainquant.imports.rules import local_datetime

WECOM_KIND = {"上班打卡": "in", "下班打卡": "out", "外出打卡": "in"}
DINGTALK_KIND = {"OnDuty": "in", "OffDuty": "out"}
PLATFORM_NAME = {"wecom": "WeCom 企业微信", "dingtalk": "DingTalk 钉钉", "feishu": "Feishu 飞书"}
MAX_DEVICE_ID = 80

REJECT, REVIEW, ACCEPT = "reject", "review", "accept"
ACTIONS = (REJECT, REVIEW, ACCEPT)  # strongest first: a punch gets the strongest of its verdicts' actions
# What the platforms' verdicts do by default. Never silent about an illegal or off-site punch: what
# the platform calls illegal, or a record of a missing punch, is rejected; off-site, unusual device,
# field punch, or a punch somebody else made (a manager's correction, an approval, the system) goes to
# HR's review; a punch merely early or late against the workday's schedule is accepted (the session's
# own times decide lateness). "<platform>.<field>.*" covers the field's other values; a verdict no
# entry covers is reviewed.
VERDICT_POLICY: dict[str, str] = {
    "dingtalk.isLegal.N": REJECT,
    "dingtalk.invalidRecordType.*": REJECT,
    "dingtalk.timeResult.*": ACCEPT,
    "dingtalk.locationResult.*": REVIEW,
    "dingtalk.sourceType.*": REVIEW,
    "wecom.exception_type.时间异常": ACCEPT,
    "wecom.exception_type.*": REVIEW,
    "feishu.is_field.true": REVIEW,
    "feishu.is_wifi.true": ACCEPT,
    "feishu.check_result.Early": ACCEPT,
    "feishu.check_result.Late": ACCEPT,
    "feishu.check_result.NoNeedCheck": ACCEPT,
    "feishu.check_result.*": REJECT,  # Lack (缺卡), Todo: not a punch
}
VERDICT_FIELDS = {
    "dingtalk": ("isLegal", "invalidRecordType", "timeResult", "locationResult", "sourceType"),
    "wecom": ("exception_type",),
    "feishu": ("is_field", "is_wifi", "check_result"),
}
# Values that are no verdict at all: the platform says the punch is ordinary.
_ORDINARY = {
    ("dingtalk", "isLegal"): {"Y", ""}, ("dingtalk", "invalidRecordType"): {""}, ("dingtalk", "timeResult"): {"Normal", ""},
    ("dingtalk", "locationResult"): {"Normal", ""}, ("dingtalk", "sourceType"): {"ATM", "BEACON", "DING_ATM", "USER", "FACE", ""},
    ("feishu", "check_result"): {"Normal", ""},
}


def verdicts(source: str, record: dict) -> list[str]:
    """The platform's verdicts on one record, as policy codes, in a stable order."""
    codes: list[str] = []
    for name in VERDICT_FIELDS[source]:
        value = record.get(name)
        if value is None or isinstance(value, (dict, list)):
            continue
        if source == "wecom":
            parts = [x.strip() for x in str(value).replace("；", ";").replace("，", ";").replace(",", ";").split(";")]
            codes += [f"wecom.{name}.{x}"[:80] for x in parts if x and x != "未打卡"]
        elif source == "feishu" and name in ("is_field", "is_wifi"):
            if value is True or str(value).lower() == "true":
                codes.append(f"feishu.{name}.true")
        else:
            text = str(value).strip()
            if text not in _ORDINARY.get((source, name), {""}):
                codes.append(f"{source}.{name}.{text}"[:80])
    return codes


def policy_key_problem(key: str) -> str | None:
    """Why a school's policy key cannot name a verdict, or None."""
    platform, _, rest = key.partition(".")
    name, _, value = rest.partition(".")
    if platform not in VERDICT_FIELDS or name not in VERDICT_FIELDS[platform] or not value:
        fields = "; ".join(f"{p}.{{{', '.join(f)}}}.<value>" for p, f in VERDICT_FIELDS.items())
        return f"{key!r} names no platform verdict; keys are {fields} (or .* for every value)"
    return None


def decide(codes: list[str], overrides: Mapping[str, str] | None = None) -> tuple[str, list[str]]:
    """The action for a punch with these verdicts (the strongest among them), and the verdicts that gave it."""
    policy = {**VERDICT_POLICY, **(overrides or {})}
    actions = []
    for code in codes:
        platform, name = code.split(".", 2)[:2]
        field_wide = f"{platform}.{name}.*"
        actions.append((policy.get(code) or policy.get(field_wide) or REVIEW, code))
    if not actions:
        return ACCEPT, []
    strongest = min(ACTIONS.index(a) for a, _ in actions)
    return ACTIONS[strongest], [c for a, c in actions if ACTIONS.index(a) == strongest]


class PayloadError(ValueError):
    """The payload as a whole is not what the platform's API returns."""


def _records(payload: Any, *path: str) -> list[Any]:
    if isinstance(payload, list):
        return payload
    node = payload
    for key in path:
        if not isinstance(node, dict) or key not in node:
            raise PayloadError(f"expected the platform's answer with {'.'.join(path)} (a list of records), or the list itself")
        node = node[key]
    if not isinstance(node, list):
        raise PayloadError(f"{'.'.join(path)} must be a list of records")
    return node


def _hash(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()[:24]


def _unusable(source: str, record: Any, reason: str, index: int) -> dict:
    return {"event_id": f"{source}-unusable:{_hash(record)}", UNUSABLE: f"record {index + 1}: {reason}", "record": record}


def _epoch(value: Any, *, millis: bool = False) -> datetime | None:
    if isinstance(value, bool) or value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    try:
        return datetime.fromtimestamp(number / 1000 if millis else number, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _coords(lat: Any, lng: Any, *, scale: float = 1.0) -> tuple[float, float] | None:
    try:
        la, lo = float(lat) / scale, float(lng) / scale
    except (TypeError, ValueError):
        return None
    if la == 0 and lo == 0:  # "no location" (a Wi-Fi or machine punch)
        return None
    if not (-90 <= la <= 90 and -180 <= lo <= 180):
        return None
    return la, lo


def _event(source: str, *, event_id: str, user: str, kind: str | None, at: datetime, coords: tuple[float, float] | None,
           accuracy: Any, device: Any, note: str, evidence: dict) -> dict:
    event: dict[str, Any] = {
        "event_id": f"{event_id}"[:120],
        "external_system": source,
        "external_id": user,
        "kind": kind,
        "at": at.isoformat(),
        "method": "geo" if coords else "manual",
        "reason": f"imported from {PLATFORM_NAME[source]}" + (f": {note}" if note else ""),
        "evidence": {k: v for k, v in evidence.items() if v not in (None, "", [])},
    }
    if coords:
        event.update(lat=coords[0], lng=coords[1], coord_system="gcj02")
        try:
            if accuracy not in (None, "") and 0 <= float(accuracy) <= 100_000:
                event["accuracy_m"] = float(accuracy)
        except (TypeError, ValueError):
            pass
    if device not in (None, ""):
        event["device_id"] = str(device).strip()[:MAX_DEVICE_ID]
    event["reason"] = event["reason"][:300]
    return event


def _user(record: dict, *keys: str) -> str | None:
    for key in keys:
        value = record.get(key)
        if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip()[:80]
    return None


def wecom_events(payload: Any) -> list[dict]:
    if isinstance(payload, dict) and payload.get("errcode") not in (None, 0):
        raise PayloadError(f"WeCom answered errcode {payload.get('errcode')}: {payload.get('errmsg')}")
    out = []
    for i, r in enumerate(_records(payload, "checkindata")):
        if not isinstance(r, dict):
            out.append(_unusable("wecom", r, "not an object", i))
            continue
        user, at, kind = _user(r, "userid"), _epoch(r.get("checkin_time")), WECOM_KIND.get(str(r.get("checkin_type", "")).strip())
        exception = str(r.get("exception_type") or "")
        if user is None or at is None or kind is None:
            out.append(_unusable("wecom", r, "needs userid, checkin_time (unix s) and checkin_type 上班打卡/下班打卡/外出打卡", i))
        elif "未打卡" in exception:
            out.append(_unusable("wecom", r, f"WeCom reports a missing punch (未打卡) for {user}, not a check-in", i))
        else:
            out.append(_event(
                "wecom", event_id=f"wecom:{user}:{r.get('checkin_time')}:{str(r.get('checkin_type')).strip()}", user=user, kind=kind,
                at=at, coords=_coords(r.get("lat"), r.get("lng"), scale=1e6), accuracy=None, device=r.get("deviceid"),
                note=str(r.get("checkin_type")),
                evidence={"checkin_type": r.get("checkin_type"), "exception_type": exception, "location_title": r.get("location_title"),
                          "location_detail": r.get("location_detail"), "wifiname": r.get("wifiname"), "wifimac": r.get("wifimac"),
                          "groupname": r.get("groupname"), "notes": r.get("notes"), "sch_checkin_time": r.get("sch_checkin_time"),
                          "platform_verdict": verdicts("wecom", r)},
            ))
    return out


def dingtalk_events(payload: Any) -> list[dict]:
    if isinstance(payload, dict) and payload.get("errcode") not in (None, 0):
        raise PayloadError(f"DingTalk answered errcode {payload.get('errcode')}: {payload.get('errmsg')}")
    out = []
    for i, r in enumerate(_records(payload, "recordresult")):
        if not isinstance(r, dict):
            out.append(_unusable("dingtalk", r, "not an object", i))
            continue
        user, at = _user(r, "userId", "userid"), _epoch(r.get("userCheckTime"), millis=True)
        kind = DINGTALK_KIND.get(str(r.get("checkType", "")))
        record_id = _user(r, "id", "recordId")
        if user is None or at is None or kind is None:
            out.append(_unusable("dingtalk", r, "needs userId, userCheckTime (epoch ms) and checkType OnDuty/OffDuty", i))
        elif r.get("timeResult") == "NotSigned":
            out.append(_unusable("dingtalk", r, f"DingTalk reports a missing punch (NotSigned) for {user}, not a check-in", i))
        else:
            out.append(_event(
                "dingtalk", event_id=f"dingtalk:{record_id or _hash(user, r.get('userCheckTime'), kind)}", user=user, kind=kind, at=at,
                coords=_coords(r.get("userLatitude"), r.get("userLongitude")), accuracy=r.get("userAccuracy"), device=r.get("deviceId"),
                note=str(r.get("sourceType") or ""),
                evidence={"sourceType": r.get("sourceType"), "timeResult": r.get("timeResult"), "locationResult": r.get("locationResult"),
                          "isLegal": r.get("isLegal"), "invalidRecordType": r.get("invalidRecordType"), "recordId": record_id,
                          "platform_verdict": verdicts("dingtalk", r)},
            ))
    return out


def feishu_events(payload: Any) -> list[dict]:
    if isinstance(payload, dict) and payload.get("code") not in (None, 0):
        raise PayloadError(f"Feishu answered code {payload.get('code')}: {payload.get('msg')}")
    records = _records(payload, "data", "user_flow_results") if not isinstance(payload, dict) or "data" in payload else _records(payload, "user_flow_results")
    out = []
    for i, r in enumerate(records):
        if not isinstance(r, dict):
            out.append(_unusable("feishu", r, "not an object", i))
            continue
        user, at = _user(r, "user_id", "employee_id"), _epoch(r.get("check_time"))
        if user is None or at is None:
            out.append(_unusable("feishu", r, "needs user_id and check_time (unix s)", i))
            continue
        record_id = _user(r, "record_id", "idempotent_id")
        out.append(_event(
            "feishu", event_id=f"feishu:{record_id or _hash(user, r.get('check_time'))}", user=user, kind=None, at=at,
            coords=_coords(r.get("latitude"), r.get("longitude")), accuracy=None, device=r.get("device_id"),
            note=str(r.get("location_name") or ""),
            evidence={"type": r.get("type"), "location_name": r.get("location_name"), "is_field": r.get("is_field"), "is_wifi": r.get("is_wifi"),
                      "check_result": r.get("check_result"), "ssid": r.get("ssid"), "bssid": r.get("bssid"), "record_id": record_id,
                      "platform_verdict": verdicts("feishu", r)},
        ))
    return out


# ---------------------------------------------------------------- sign-in sheets

SHEET_ALIASES = {
    "employee_no": ("工号", "员工编号", "员工号", "employeeno", "employee", "empno", "staffno"),
    "name": ("姓名", "name"),
    "session": ("场次", "场次编号", "场次代码", "session", "sessioncode"),
    "in": ("签到时间", "签到", "checkin", "checkintime", "signin", "in"),
    "out": ("签退时间", "签退", "checkout", "checkouttime", "signout", "out"),
}
SessionLookup = Callable[[str | None], tuple[ZoneInfo, date | None]]  # session code -> (site zone, local day)


def _norm(header: object) -> str:
    return "".join(ch for ch in str(header or "").strip().lower() if ch not in " _-/")


def sheet_columns(header: list[object]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = _norm(cell)
        for field, aliases in SHEET_ALIASES.items():
            if key in aliases and field not in found:
                found[field] = index
    missing = [f for f in ("employee_no",) if f not in found]
    if missing or ("in" not in found and "out" not in found):
        raise PayloadError("the sheet needs the columns 工号 (employee_no) and 签到时间 and/or 签退时间 (check-in / check-out); 场次 (session) is optional")
    return found


sheet_time = local_datetime  # a sheet cell as an aware UTC time, local to the session's site when it has no offset


def _cell(cells: list[object], columns: dict[str, int], field: str) -> object:
    index = columns.get(field)
    return cells[index] if index is not None and index < len(cells) else None


def _text_cell(value: object) -> str | None:
    if value is None:
        return None
    text = (str(int(value)) if isinstance(value, float) and value.is_integer() else str(value)).strip()
    return text or None


def sheet_events(header: list[object], rows: list[tuple[int, list[object]]], *, lookup: SessionLookup, filename: str) -> list[dict]:
    columns = sheet_columns(header)
    out: list[dict] = []
    for number, cells in rows:
        employee_no = _text_cell(_cell(cells, columns, "employee_no"))
        session = _text_cell(_cell(cells, columns, "session"))
        zone, day = lookup(session)
        produced = 0
        problems = []
        for kind in ("in", "out"):
            raw = _cell(cells, columns, kind)
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue
            at = sheet_time(raw, zone, day)
            if at is None:
                problems.append(f"{'签到' if kind == 'in' else '签退'} {raw!s:.40} is not a date and time")
                continue
            if employee_no is None:
                continue
            event = {
                "event_id": f"sheet:{employee_no}:{session or '-'}:{kind}:{at.isoformat()}"[:120],
                "employee_no": employee_no, "kind": kind, "at": at.isoformat(), "method": "manual",
                "reason": f"sign-in sheet {filename}, row {number}"[:300],
                "evidence": {"row": number, "file": filename[:120], "name": _text_cell(_cell(cells, columns, "name")), "zone": zone.key},
            }
            if session:
                event["session"] = session
            out.append(event)
            produced += 1
        if employee_no is None:
            problems.insert(0, "no 工号 (employee_no)")
        elif not produced and not problems:
            problems.append("neither 签到时间 nor 签退时间 is filled in")
        if problems:
            out.append({"event_id": f"sheet-unusable:{_hash(filename, number, cells)}", UNUSABLE: f"row {number}: {'; '.join(problems)}",
                        "row": number, "cells": [_text_cell(c) for c in cells]})
    return out
