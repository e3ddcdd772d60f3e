"""Signed webhooks: how a system signs what it sends us, and how we check it. Pure.

The signature is HMAC-SHA256 with the connector's secret over ``<timestamp>.<body>`` (the timestamp
in unix seconds, the body byte for byte), sent as ``X-TQ-Signature: sha256=<hex>`` beside
``X-TQ-Timestamp``. A delivery is taken only inside the replay window (``REPLAY_WINDOW_S`` either
side of our clock): an old signed request captured on the way cannot be played back later, and a
replay inside the window is recognised by its signature and answered as a repeat. After a rotation
the previous secret still verifies until its grace period ends, so a sender can switch without a
gap.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence

REPLAY_WINDOW_S = 300
SCHEME = "sha256="


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-TQ-Signature`` value for this body at this time."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SCHEME + mac.hexdigest()


def check(secrets: Sequence[str], timestamp_header: str | None, signature_header: str | None, body: bytes, *, now: float,
          window_s: int = REPLAY_WINDOW_S) -> str | None:
    """Why the delivery is not to be taken (a reason code), or None when one of ``secrets`` signed it
    inside the window."""
    if not timestamp_header or not signature_header:
        return "signature-missing"
    text = timestamp_header.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 12:
        return "timestamp-invalid"
    timestamp = int(text)
    if abs(now - timestamp) > window_s:
        return "timestamp-outside-window"
    given = signature_header.strip()
    if not given.startswith(SCHEME):
        return "signature-invalid"
    if any(hmac.compare_digest(sign(secret, timestamp, body), given) for secret in secrets):
        return None
    return "signature-invalid"
