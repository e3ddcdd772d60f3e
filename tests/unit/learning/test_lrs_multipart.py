"""multipart/mixed bodies of statements with attachments (learning/xapi/multipart.py): reading and
writing, by hand-worked bodies (RFC 2046 5.1.1's own sample among them) and a hypothesis round trip."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from trainquant.learning.xapi import StatementError
from trainquant.learning.xapi.multipart import boundary_of, build_multipart, media_type, parse_multipart, sha256_hex

# --- multipart/mixed -----------------------------------------------------------------------------------


def test_sha256_hex_of_known_vectors():
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_build_multipart_bytes():
    body, content_type = build_multipart(b'[{"a":1}]', [("ab12", "text/plain", b"hi")], boundary="b1")
    assert body == (
        b'--b1\r\nContent-Type: application/json\r\n\r\n[{"a":1}]'
        b"\r\n--b1\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: binary\r\nX-Experience-API-Hash: ab12\r\n\r\nhi"
        b"\r\n--b1--"
    )
    assert content_type == 'multipart/mixed; boundary="b1"'


def test_the_rfc_2046_example_with_a_quoted_boundary():
    body = (
        b"This is the preamble.  It is to be ignored, though it\r\n"
        b"is a handy place for composition agents to include an\r\n"
        b"explanatory note to non-MIME conformant readers.\r\n"
        b"\r\n"
        b"--simple boundary\r\n"
        b"\r\n"
        b"This is implicitly typed plain US-ASCII text.\r\n"
        b"It does NOT end with a linebreak.\r\n"
        b"--simple boundary\r\n"
        b"Content-type: text/plain; charset=us-ascii\r\n"
        b"\r\n"
        b"This is explicitly typed plain US-ASCII text.\r\n"
        b"It DOES end with a linebreak.\r\n"
        b"\r\n"
        b"--simple boundary--\r\n"
        b"\r\n"
        b"This is the epilogue.  It is also to be ignored.\r\n"
    )
    parts = parse_multipart(body, 'multipart/mixed; boundary="simple boundary"')
    assert [(p.headers, p.body) for p in parts] == [
        ({}, b"This is implicitly typed plain US-ASCII text.\r\nIt does NOT end with a linebreak."),
        ({"content-type": "text/plain; charset=us-ascii"}, b"This is explicitly typed plain US-ASCII text.\r\nIt DOES end with a linebreak.\r\n"),
    ]
    assert [p.content_type for p in parts] == ["", "text/plain"]


def test_preamble_and_epilogue_are_ignored():
    body = (
        b"a preamble mentioning --b1 and --b1-- mid-line\r\n"
        b"--b1\r\nContent-Type: application/json\r\n\r\n[]"
        b"\r\n--b1--\r\nan epilogue\r\n--b1\r\nContent-Type: text/plain\r\n\r\nnot a part\r\n--b1--"
    )
    parts = parse_multipart(body, "multipart/mixed; boundary=b1")
    assert [(p.headers, p.body) for p in parts] == [({"content-type": "application/json"}, b"[]")]


def test_transport_padding_after_a_boundary():
    body = b"--b1 \t\r\nContent-Type: application/json\r\n\r\n[]\r\n--b1\t\r\nX-Experience-API-Hash: ab\r\n\r\nxy\r\n--b1-- \r\n"
    parts = parse_multipart(body, "multipart/mixed; boundary=b1")
    assert [p.body for p in parts] == [b"[]", b"xy"]


def test_a_longer_boundary_line_is_refused():
    body = b"--b1\r\nContent-Type: application/json\r\n\r\n[]\r\n--b1x\r\n\r\nxy\r\n--b1--"
    with pytest.raises(StatementError) as error:
        parse_multipart(body, "multipart/mixed; boundary=b1")
    assert error.value.path == "$.parts[1]"


@pytest.mark.parametrize(
    "body",
    [
        b"--b1\r\nContent-Type: application/json\r\n\r\n[]\r\n--b1\r\nContent-Type: text/plain\r\n\r\nxy",
        b"--b1\r\nContent-Type: application/json\r\n\r\n[]\r\n--b1\r\nContent-Type: text/plain\r\n\r\nxy\r\n",
    ],
)
def test_a_missing_close_delimiter_is_refused(body):
    with pytest.raises(StatementError) as error:
        parse_multipart(body, "multipart/mixed; boundary=b1")
    assert error.value.path == "$"
    assert "close delimiter" in error.value.message


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"--b1--",
        b"no boundary at all",
        b"--b1\r\nContent-Type: application/json\r\n\r\n[]",
        b"--b1\r\nContent-Type: application/json\r\n\r\n[]\r\n--b1\r\nContent-",
        b"--b1\r\nContent-Type: application/json\r\n\r\n[]\r\n--b1\r\n\r\nxy\r\n--b1",
    ],
)
def test_bodies_without_complete_parts_are_refused(body):
    with pytest.raises(StatementError):
        parse_multipart(body, "multipart/mixed; boundary=b1")


@pytest.mark.parametrize("content_type", ["multipart/mixed", "multipart/mixed; charset=utf-8", "multipart/mixed; boundary=", "multipart/mixed; boundary= "])
def test_a_missing_boundary_parameter_is_refused(content_type):
    with pytest.raises(StatementError):
        parse_multipart(b"--b1\r\nContent-Type: application/json\r\n\r\n[]\r\n--b1--", content_type)


def test_an_empty_quoted_boundary_is_refused():
    with pytest.raises(StatementError):
        boundary_of('multipart/mixed; boundary=""')


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        ('multipart/mixed; boundary="gc0p4Jq0M2Yt08j34c0p"', "gc0p4Jq0M2Yt08j34c0p"),
        ("multipart/mixed; boundary=gc0p4Jq0M2Yt08j34c0p", "gc0p4Jq0M2Yt08j34c0p"),
        ('Multipart/Mixed; charset=utf-8; BOUNDARY="a=b:c"', "a=b:c"),
        ("multipart/mixed;boundary=x1 ; charset=utf-8", "x1"),
    ],
)
def test_boundary_parameter(content_type, boundary):
    assert boundary_of(content_type) == boundary


def test_header_names_are_lower_cased_and_values_kept():
    body = b"--b1\r\nCONTENT-TYPE: Application/JSON; charset=UTF-8\r\nX-Experience-API-Hash:   ABCdef  \r\n\r\n[]\r\n--b1--"
    [part] = parse_multipart(body, "multipart/mixed; boundary=b1")
    assert part.headers == {"content-type": "Application/JSON; charset=UTF-8", "x-experience-api-hash": "ABCdef"}
    assert part.content_type == "application/json"


def test_a_header_line_without_a_colon_is_refused():
    body = b"--b1\r\nContent-Type: application/json\r\n\r\n[]\r\n--b1\r\nContent-Type: text/plain\r\nnot a header\r\n\r\nxy\r\n--b1--"
    with pytest.raises(StatementError) as error:
        parse_multipart(body, "multipart/mixed; boundary=b1")
    assert error.value.path == "$.parts[1]"


@pytest.mark.parametrize(("content_type", "expected"), [(None, ""), ("", ""), ("Multipart/Mixed; boundary=x", "multipart/mixed"), (" application/json ", "application/json")])
def test_media_type(content_type, expected):
    assert media_type(content_type) == expected


@pytest.mark.parametrize(
    ("body", "content"),
    [
        (b"--b1\r\n\r\nline one\r\n\r\nline three\r\n--b1--", b"line one\r\n\r\nline three"),
        (b"--b1\r\n\r\n\r\nafter a blank line\r\n--b1--", b"\r\nafter a blank line"),
    ],
)
def test_a_part_without_headers_keeps_its_content_whole(body, content):
    parts = parse_multipart(body, "multipart/mixed; boundary=b1")
    assert [(p.headers, p.body) for p in parts] == [({}, content)]


def test_round_trip_of_contents_that_look_like_framing():
    contents = [b"", b"\r\n", b"--", b"x--b1--", b"-\r\n--b", b"\r\n\r\nX-Experience-API-Hash: fake\r\n\r\n", b"\r\n--b2\r\n"]
    attachments = [(f"{i:064x}", "application/octet-stream", c) for i, c in enumerate(contents)]
    body, content_type = build_multipart(b"[]", attachments, boundary="b1")
    parts = parse_multipart(body, content_type)
    assert [p.body for p in parts] == [b"[]", *contents]


_BCHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789'()+_,-./:=?"
_PIECES = [b"\r", b"\n", b"\r\n", b"-", b"--", b"\r\n--", b"\r\n\r\n", b":", b" ", b"\x00", b"\xff", b"x"]


@st.composite
def _framing_bytes(draw: st.DrawFn, boundary: bytes) -> bytes:
    """Bytes rich in CRLFs, dashes and pieces of the boundary, none holding the delimiter itself."""
    pieces = [*_PIECES, boundary, boundary[:-1], boundary[1:]]
    content = draw(st.binary(max_size=40) | st.lists(st.sampled_from(pieces), max_size=16).map(b"".join))
    # RFC 2046 5.1.1: CRLF "--" boundary must not occur in a part; a part's content starts a line.
    assume(b"\r\n--" + boundary not in b"\r\n" + content)
    return content


@given(st.data())
@settings(max_examples=300, deadline=None)
def test_build_then_parse_round_trip(data):
    boundary = data.draw(st.text(alphabet=_BCHARS, min_size=1, max_size=20), label="boundary")
    raw = boundary.encode()
    json_body = data.draw(_framing_bytes(raw), label="json")
    contents = data.draw(st.lists(_framing_bytes(raw), max_size=4), label="contents")
    types = ["application/octet-stream", "text/plain; charset=utf-8", "image/png"]
    attachments = [(f"{i:064x}", types[i % 3], content) for i, content in enumerate(contents)]
    body, content_type = build_multipart(json_body, attachments, boundary=boundary)
    parts = parse_multipart(body, content_type)
    assert parts[0].headers == {"content-type": "application/json"}
    assert parts[0].body == json_body
    assert [p.body for p in parts[1:]] == contents
    assert [p.headers for p in parts[1:]] == [
        {"content-type": t, "content-transfer-encoding": "binary", "x-experience-api-hash": h} for h, t, _ in attachments
    ]
