"""Request bodies as JSON: how deep they nest, read before parsing, and parsing them with a 422 that
says what is wrong. Shared by the web layer (``deps``) and the services that verify a body's bytes
before they parse it (signed webhooks)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import orjson

from trainquant.errors import Invalid

# Deeper JSON than any request body needs; orjson itself parses 1,024 levels, serialises only 255.
MAX_JSON_DEPTH = 64
_NOT_STRUCTURE = bytes(range(256)).translate(None, b'"[]{}')

_STRING = re.compile(rb'"[^"]*"')


def json_depth(body: bytes) -> int:
    """How deeply the JSON text nests arrays and objects, read from the bytes without parsing them (and
    without recursion): the highest running count of brackets outside strings. Invalid JSON gives some
    number; the parser refuses it afterwards."""
    if b"\\" in body:
        # Escapes: within a run of backslashes, pairs are escaped backslashes (left to right, as JSON
        # reads them); an escaped quote then neither opens nor closes a string. Other escapes (\n, \u...)
        # hold no quote or bracket.
        body = body.replace(b"\\\\", b"").replace(b'\\"', b"")
    skeleton = body.translate(None, _NOT_STRUCTURE)
    # Two adjacent quotes enclose no bracket (or only what lies between two strings: nothing), and
    # dropping them leaves every bracket on its side of every string; what remains is rare.
    skeleton = skeleton.replace(b'""', b"")
    if b'"' in skeleton:
        skeleton = _STRING.sub(b"", skeleton)
    if not skeleton:
        return 0
    brackets = np.frombuffer(skeleton, dtype=np.uint8)
    steps = np.where((brackets == ord("[")) | (brackets == ord("{")), 1, -1)
    return int(np.cumsum(steps).max())


def parse_json(body: bytes, *, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """A body already read (a signed webhook's, whose bytes are checked first) parsed as JSON: a 422
    before parsing when it nests deeper than ``max_depth``, a 422 naming what is wrong when it is not JSON."""
    depth = json_depth(body)
    if depth > max_depth:
        raise Invalid(f"the body nests {depth} levels deep; at most {max_depth} are accepted")
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise Invalid(f"the body is not valid JSON: {exc}") from None
