"""Signed webhooks (``integrations/connectors/rules.py``): HMAC-SHA256 over '<timestamp>.' + body."""

from __future__ import annotations

import hashlib
import hmac

from hypothesis import given
from hypothesis import strategies as st

from trainquant.integrations.connectors.rules import REPLAY_WINDOW_S, check, sign

NOW = 1_800_000_000


def reference(secret: str, timestamp: int, body: bytes) -> str:
    """What a sender computes, written out independently of ``sign``."""
    return "sha256=" + hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


@given(st.text(min_size=1, max_size=40), st.binary(max_size=300), st.integers(-REPLAY_WINDOW_S, REPLAY_WINDOW_S))
def test_a_body_signed_inside_the_window_is_taken_and_any_change_is_refused(secret, body, skew):
    ts = NOW + skew
    assert sign(secret, ts, body) == reference(secret, ts, body)
    assert check([secret], str(ts), reference(secret, ts, body), body, now=NOW) is None
    assert check([secret], str(ts), reference(secret, ts, body), body + b"x", now=NOW) == "signature-invalid"
    assert check([secret + "x"], str(ts), reference(secret, ts, body), body, now=NOW) == "signature-invalid"
    assert check([secret], str(ts + 1), reference(secret, ts, body), body, now=NOW) in ("signature-invalid", "timestamp-outside-window")


def test_old_or_missing_or_malformed_signatures_are_refused_with_their_reason():
    body = b'{"records": []}'
    old = NOW - REPLAY_WINDOW_S - 1
    assert check(["s"], str(old), reference("s", old, body), body, now=NOW) == "timestamp-outside-window"
    assert check(["s"], None, reference("s", NOW, body), body, now=NOW) == "signature-missing"
    assert check(["s"], "12ab", reference("s", NOW, body), body, now=NOW) == "timestamp-invalid"
    assert check(["s"], str(NOW), reference("s", NOW, body).removeprefix("sha256="), body, now=NOW) == "signature-invalid"


def test_after_a_rotation_either_secret_verifies():
    body = b"{}"
    assert check(["new", "old"], str(NOW), reference("old", NOW, body), body, now=NOW) is None
    assert check(["new"], str(NOW), reference("old", NOW, body), body, now=NOW) == "signature-invalid"
