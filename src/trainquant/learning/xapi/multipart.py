"""multipart/mixed bodies of statements with attachments (Communication 1.5.2), read and written. Pure.

The first part holds the statement(s) as application/json; each further part is one attachment's raw
content, named by its SHA-256 in the ``X-Experience-API-Hash`` header.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from trainquant.learning.xapi.formats import StatementError


@dataclass(frozen=True)
class Part:
    headers: dict[str, str]  # lower-cased names
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip().lower()


def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";")[0].strip().lower()


def boundary_of(content_type: str) -> str:
    for param in content_type.split(";")[1:]:
        name, _, value = param.strip().partition("=")
        boundary = value.strip().removeprefix('"').removesuffix('"') if name.strip().lower() == "boundary" else ""
        if boundary:  # RFC 2046 5.1.1: 1 to 70 characters, so "" is no boundary
            return boundary
    raise StatementError("$", "a multipart/mixed body needs a boundary parameter in its Content-Type")


def _headers(block: bytes, index: int) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.split(b"\r\n"):
        if not line.strip():
            continue
        name, sep, value = line.partition(b":")
        if not sep:
            raise StatementError(f"$.parts[{index}]", f"the header line {line[:80]!r} has no ':'")
        headers[name.strip().decode("latin-1").lower()] = value.strip().decode("latin-1")
    return headers


def parse_multipart(body: bytes, content_type: str) -> list[Part]:
    """The parts of a multipart/mixed body (RFC 2046 5.1), preamble and epilogue ignored."""
    delimiter = b"--" + boundary_of(content_type).encode("latin-1")
    pieces = (b"\r\n" + body).split(b"\r\n" + delimiter)
    if len(pieces) < 3:
        raise StatementError("$", "the multipart body has no parts between its boundaries")
    parts: list[Part] = []
    for index, piece in enumerate(pieces[1:]):
        if piece.startswith(b"--"):
            return parts  # the close delimiter: what follows is the epilogue
        # The delimiter line may end in transport padding before its CRLF.
        line_end = piece.find(b"\r\n")
        if line_end < 0 or piece[:line_end].strip(b" \t"):
            raise StatementError(f"$.parts[{index}]", "a boundary line must end right after the boundary")
        piece = piece[line_end + 2:]
        if piece.startswith(b"\r\n"):  # a part with no headers: all that follows the empty line is content
            head, content = b"", piece[2:]
        else:
            head, sep, content = piece.partition(b"\r\n\r\n")
            if not sep:
                raise StatementError(f"$.parts[{index}]", "a part needs an empty line between its headers and its content")
        parts.append(Part(_headers(head, index), content))
    raise StatementError("$", "the multipart body does not end with its close delimiter (--boundary--)")


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def build_multipart(json_body: bytes, attachments: Sequence[tuple[str, str, bytes]], *, boundary: str) -> tuple[bytes, str]:
    """A multipart/mixed body: the JSON first, then each (sha2, content type, content). Returns the
    body and its Content-Type. ``boundary`` is the caller's random token (this module draws none)."""
    out = bytearray()
    out += f"--{boundary}\r\nContent-Type: application/json\r\n\r\n".encode() + json_body
    for sha2, content_type, content in attachments:
        out += (
            f"\r\n--{boundary}\r\nContent-Type: {content_type}\r\nContent-Transfer-Encoding: binary\r\n"
            f"X-Experience-API-Hash: {sha2}\r\n\r\n"
        ).encode() + content
    out += f"\r\n--{boundary}--".encode()
    return bytes(out), f'multipart/mixed; boundary="{boundary}"'
