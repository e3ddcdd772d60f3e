"""Stream one worksheet's XML into rows of cell values, several times faster than openpyxl's reader.

openpyxl still opens the package (manifest, workbook, shared strings, styles); only the cells are
scanned here, with one regular expression per cell instead of an element tree, because reading was
most of the time of a large import. ``tests/unit/imports/test_sheetxml.py`` checks that it returns
what openpyxl's read-only worksheet returns (``reference_rows``) for every kind of cell.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import IO

from openpyxl.utils.cell import column_index_from_string
from openpyxl.utils.datetime import from_excel, from_ISO8601

CHUNK = 1 << 20
OVERLAP = 1024
_SHEET_DATA = re.compile(rb"<(\w+:)?sheetData\b[^>]*?(/?)>")
# A row start, or a whole cell with its usual attributes (r, s, t, in Excel's order) picked out, and
# the two commonest bodies captured directly: a plain <v>value</v> and a plain inline string.
_TOKEN = re.compile(
    rb"<(?:\w+:)?row(?=[\s/>])([^>]*)>"
    rb"|<(?:\w+:)?c(?=[\s/>])(?:\s+r=\"([A-Z]{1,3})\d+\")?(?:\s+s=\"(\d+)\")?(?:\s+t=\"(\w+)\")?([^>]*?)"
    rb"(?:/>|><v>([^<]*)</v></c>|><is><t>([^<]*)</t></is></c>|>(.*?)</(?:\w+:)?c>)",
    re.S,
)
_ATTR = re.compile(rb"""(?:^|\s)(r|s|t)\s*=\s*(["'])(.*?)\2""", re.S)
_ROW_NUMBER = re.compile(rb"""(?:^|\s)r\s*=\s*["'](\d+)["']""")
_VALUE = re.compile(rb"<(?:\w+:)?v(?:\s[^>]*)?>(.*?)</(?:\w+:)?v>", re.S)
_PHONETIC = re.compile(rb"<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", re.S)
_INLINE_TEXT = re.compile(rb"<(?:\w+:)?t(?:\s[^>]*)?>(.*?)</(?:\w+:)?t>", re.S)
_CELL_REF = re.compile(rb"([A-Z]{1,3})(\d+)")
MERGE_REF = re.compile(rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=[\"']([A-Z]+[0-9]+(?::[A-Z]+[0-9]+)?)[\"']")
_columns: dict[bytes, int] = {}


@dataclass(frozen=True)
class SheetStyle:
    shared_strings: list
    date_formats: frozenset[int]
    timedelta_formats: frozenset[int]
    epoch: datetime


def _column(letters: bytes) -> int:
    col = _columns.get(letters)
    if col is None:
        col = _columns[letters] = column_index_from_string(letters.decode())
    return col


def _text(raw: bytes) -> str:
    text = raw.decode("utf-8")
    return html.unescape(text) if "&" in text else text  # the five XML entities and &#...; references


def _number(raw: bytes, style: int, fmt: SheetStyle) -> object:
    text = raw.decode()
    value: int | float = float(text) if ("." in text or "E" in text or "e" in text) else int(text)
    if style in fmt.date_formats:
        try:
            return from_excel(value, fmt.epoch, timedelta=style in fmt.timedelta_formats)
        except (OverflowError, ValueError):
            return "#VALUE!"  # as openpyxl: a date serial out of range reads as an Excel error
    return value


def _cell_value(kind: bytes | None, style: int, body: bytes | None, fmt: SheetStyle) -> object:
    if body is None:
        return None
    if kind == b"inlineStr":
        if body.startswith(b"<is><t>") and body.endswith(b"</t></is>") and body.count(b"<") == 4:
            return _text(body[7:-9])  # the plain case, as openpyxl's write-only mode writes it
        if b"<is" not in body and b":is" not in body:
            return None  # as openpyxl: an inline-string cell without its <is> is empty (lxml's writer makes these for "")
        if b"rPh" in body:
            body = _PHONETIC.sub(b"", body)  # phonetic guides are not part of the text
        return _text(b"".join(_INLINE_TEXT.findall(body)))
    if body.startswith(b"<v>"):
        end = body.find(b"</v>", 3)
        raw = body[3:end] if end >= 0 else b""
    else:
        m = _VALUE.search(body)
        raw = m.group(1) if m else b""
    if not raw:
        return None
    if kind is None or kind == b"n":
        return _number(raw, style, fmt)
    if kind == b"s":
        return fmt.shared_strings[int(raw)]
    if kind == b"b":
        return bool(int(raw))
    if kind == b"d":
        return from_ISO8601(raw.decode())
    return _text(raw)  # str (a formula's text result), e (an Excel error such as #N/A)


def _data_section(fh: IO[bytes], merges: list[bytes]) -> Iterator[bytes]:
    """The bytes inside <sheetData>, in pieces that end after a complete row; then the merged ranges."""
    buf = b""
    close = None
    while close is None:
        chunk = fh.read(CHUNK)
        if not chunk:
            return  # a sheet without <sheetData>: no rows (reported as a file without a header)
        buf += chunk
        m = _SHEET_DATA.search(buf)
        if m is None:
            buf = buf[-256:]
            continue
        if m.group(2):  # <sheetData/>: no rows at all
            return
        prefix = m.group(1) or b""
        close, end_row = b"</" + prefix + b"sheetData>", b"</" + prefix + b"row>"
        buf = buf[m.end() :]
    while True:
        stop = buf.find(close)
        if stop >= 0:
            yield buf[:stop]
            merges.extend(merge_refs(fh, buf[stop:]))
            return
        cut = buf.rfind(end_row)
        if cut >= 0:
            cut += len(end_row)
            yield buf[:cut]
            buf = buf[cut:]
        chunk = fh.read(CHUNK)
        if not chunk:
            raise ValueError("the sheet data ends early (the file is cut short)")
        buf += chunk


def merge_refs(fh: IO[bytes], start: bytes = b"") -> list[bytes]:
    """The ``ref`` of every <mergeCell/> in the rest of the stream (they follow the sheet data).

    A match starting in the last OVERLAP bytes of a buffer is left for the next one, which begins there.
    """
    refs: list[bytes] = []
    carry = start
    while True:
        chunk = fh.read(CHUNK)
        buf = carry + chunk
        limit = len(buf) if not chunk else max(0, len(buf) - OVERLAP)
        if b"mergeCell" in buf:
            refs.extend(m.group(1) for m in MERGE_REF.finditer(buf) if m.start() < limit)
        if not chunk:
            return refs
        carry = buf[limit:]


def sheet_rows(fh: IO[bytes], fmt: SheetStyle, merges: list[bytes]) -> Iterator[tuple[int, list[object]]]:
    """(row number, cell values) for every row element, in order, values as openpyxl gives them.

    The merged ranges (``A2:A5``) that follow the rows are appended to ``merges`` once all rows are read.
    """
    number = 0
    cells: list[object] | None = None
    col = 0
    columns, shared, dates = _columns, fmt.shared_strings, fmt.date_formats
    for piece in _data_section(fh, merges):
        for m in _TOKEN.finditer(piece):
            attrs, letters, style, kind, rest, plain, inline, body = m.groups()
            if attrs is not None:  # a new row
                if cells is not None:
                    yield number, cells
                found = _ROW_NUMBER.search(attrs)
                number = int(found.group(1)) if found else number + 1
                cells, col = [], 0
                continue
            if rest and b"=" in rest:
                letters, style, kind = _odd_attributes(m.group(0))
            col = (columns.get(letters) or _column(letters)) if letters else col + 1
            # The common cases inline (this loop is most of the time of a large import), the rest in _cell_value.
            if plain:
                if kind is None or kind == b"n":
                    value = _number(plain, int(style), fmt) if style and int(style) in dates else _cast(plain)
                elif kind == b"s":
                    value = shared[int(plain)]
                else:
                    value = _cell_value(kind, int(style) if style else 0, b"<v>" + plain + b"</v>", fmt)
            elif inline is not None:
                value = _text(inline) if kind == b"inlineStr" else None  # as openpyxl: <is> counts only for t="inlineStr"
            elif plain is not None:  # <v></v>
                value = None
            else:
                value = _cell_value(kind, int(style) if style else 0, body, fmt)
            if cells is None:
                cells = []
            if value is None:
                continue
            if len(cells) < col:
                cells.extend([None] * (col - len(cells)))
            cells[col - 1] = value
    if cells is not None:
        yield number, cells


def _cast(raw: bytes) -> int | float:
    return float(raw) if (b"." in raw or b"E" in raw or b"e" in raw) else int(raw)


def _odd_attributes(tag: bytes) -> tuple[bytes | None, bytes | None, bytes | None]:
    # Attributes in another order, quoted with ', or with extras (cm, vm, ph) between them.
    head = tag.split(b">", 1)[0]
    attrs = {k: v for k, _q, v in _ATTR.findall(head)}
    ref = _CELL_REF.fullmatch(attrs.get(b"r", b""))
    return (ref.group(1) if ref else None), attrs.get(b"s"), attrs.get(b"t")


def reference_rows(sheet: object) -> Iterator[tuple[int, list[object]]]:
    """The same rows through openpyxl's own ReadOnlyWorksheet: the reference the fast scan must match."""
    for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):  # type: ignore[attr-defined]
        cells = list(values)
        while cells and cells[-1] is None:
            cells.pop()
        yield number, cells
