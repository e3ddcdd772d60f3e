"""Who sent a check-in record, and the keys that make a repeat recognisable: idempotency keys belong
to their sender (``origin_of``), a rejected record is known by its content (``content_key``)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import orjson

from trainquant.attendance.rules import UNUSABLE
from trainquant.auth.permissions import Principal

# Sources whose sender is the principal (an API key, a logged-in user). Their events from before
# origins were recorded keep the key "<source>:<event id>" (``LegacyEventKey``).
PRINCIPAL_SOURCES = ("api", "qr-page")
PLATFORM_ORIGINS = ("wecom", "dingtalk", "feishu")


def origin_of(source: str, principal: Principal | None, raw: Any) -> str:
    """Who sent a record: the API key or logged-in user (``apikey:<id>``, ``user:<id>``) for the events
    API and the phone page, the terminal (``zkteco:<SN>``) for ZKTeco, else the importer (``wecom`` ...).

    A ZKTeco record's ``device_id`` is the serial its upload was allow-listed by: the converter sets it.
    Without a principal (internal callers) the sender is the bare source.
    """
    if principal is not None and source in PRINCIPAL_SOURCES:
        return f"{principal.kind}:{principal.id}"
    if source == "zkteco" and isinstance(raw, dict) and isinstance(device := raw.get("device_id"), str) and device:
        return f"zkteco:{device}"
    return source


def record_hash(raw: Any) -> str:
    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def dedup_key(origin: str, raw: Any, event_id: str | None) -> str:
    """``<origin>|<event id>``, or ``<origin>|h:<record hash>`` without one. Origins hold no "|"."""
    return f"{origin}|{event_id}" if event_id else f"{origin}|h:{record_hash(raw)}"


def legacy_key(source: str, raw: Any, event_id: str | None) -> str:
    """The key an event of ``source`` had before origins were recorded: ``<source>:<event id>``."""
    return f"{source}:{event_id}"[:160] if event_id else f"{source}:h:{record_hash(raw)}"


def content_key(origin: str, reason_code: str | None, raw: Any) -> str:
    """A rejected record's identity: sender, reason and content. A converter's verdict text
    (``UNUSABLE``) is not content: it names the record's position in its upload."""
    content = {k: v for k, v in raw.items() if k != UNUSABLE} if isinstance(raw, dict) and UNUSABLE in raw else raw
    packed = orjson.dumps([origin, reason_code, content], option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS, default=str)
    return hashlib.sha256(packed).hexdigest()
