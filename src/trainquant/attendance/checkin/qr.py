"""Rotating QR tokens (pure): session id + time step + HMAC, in the manner of RFC 6238.

The room's screen shows a new token every ``STEP_SECONDS``; the current and the previous step are
accepted, so a token photographed and sent to an absent colleague is stale within a minute, and
each person can use a token of a session only once (checked against stored events).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from trainquant.ids import MAX_ID

STEP_SECONDS = 20
ACCEPTED_STEPS_BACK = 1


@dataclass(frozen=True)
class QrToken:
    session_id: int
    step: int
    mac: str

    def encode(self) -> str:
        return f"tq1.{self.session_id}.{self.step}.{self.mac}"


def session_key(secret_key: str, session_id: int) -> bytes:
    return hmac.new(secret_key.encode(), f"qr-session:{session_id}".encode(), hashlib.sha256).digest()


def step_at(epoch_seconds: float) -> int:
    return int(epoch_seconds // STEP_SECONDS)


def _mac(key: bytes, session_id: int, step: int) -> str:
    digest = hmac.new(key, f"{session_id}:{step}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:15]).decode()


def issue(secret_key: str, session_id: int, epoch_seconds: float) -> QrToken:
    step = step_at(epoch_seconds)
    return QrToken(session_id, step, _mac(session_key(secret_key, session_id), session_id, step))


_NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII digits: ``isdigit`` also takes "²", which ``int`` refuses


def session_id_of(token: str) -> int | None:
    """The session id a token names, without checking anything else; None if it names none."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != "tq1" or not _NUMBER.fullmatch(parts[1]):
        return None
    return int(parts[1]) if int(parts[1]) <= MAX_ID else None


def verify(secret_key: str, token: str, *, session_id: int, epoch_seconds: float) -> tuple[int | None, str | None]:
    """(the token's step, None) when valid for this session now; (None, reason code) otherwise."""
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != "tq1" or not _NUMBER.fullmatch(parts[1]) or not _NUMBER.fullmatch(parts[2]):
        return None, "qr-malformed"
    sid, step, mac = int(parts[1]), int(parts[2]), parts[3]
    if sid != session_id:
        return None, "qr-other-session"
    if not hmac.compare_digest(_mac(session_key(secret_key, sid), sid, step), mac):
        return None, "qr-forged"
    now_step = step_at(epoch_seconds)
    if step > now_step:
        return None, "qr-from-the-future"
    if now_step - step > ACCEPTED_STEPS_BACK:
        return None, "qr-expired"
    return step, None
