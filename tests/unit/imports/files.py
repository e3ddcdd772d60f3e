"""Build import files in memory for the tests: xlsx (with cached formula values, merged cells, any sheet
XML) and csv in any encoding. Nothing binary is committed; every test makes what it needs."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable, Sequence
from xml.sax.saxutils import escape

from openpyxl import Workbook

SHEET = "xl/worksheets/sheet1.xml"


def xlsx_bytes(
    rows: Iterable[Sequence[object]],
    *,
    merges: Iterable[str] = (),
    formulas: dict[str, tuple[str, object]] | None = None,
    write_only: bool = False,
    extra_sheets: int = 0,
) -> bytes:
    """An xlsx of ``rows`` on its first sheet. ``formulas`` maps a cell (D4) to (formula, cached value):
    openpyxl writes formulas without a value, so the sheet XML is patched as Excel would have saved it."""
    wb = Workbook(write_only=write_only)
    ws = wb.create_sheet("data") if write_only else wb.active
    for row in rows:
        ws.append(list(row))
    if not write_only:
        for ref in merges:
            first = ws[ref.split(":")[0]].value
            ws.merge_cells(ref)
            ws[ref.split(":")[0]] = first
        for ref, (formula, _cached) in (formulas or {}).items():
            ws[ref] = "=" + formula
    for i in range(extra_sheets):
        other = wb.create_sheet(f"other{i}")
        other.append(["not", "this", "sheet"])
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    if formulas:
        data = patch_sheet(data, lambda xml: _cache_formulas(xml, formulas))
    return data


def _cache_formulas(xml: bytes, formulas: dict[str, tuple[str, object]]) -> bytes:
    for ref, (formula, cached) in formulas.items():
        kind = ' t="str"' if isinstance(cached, str) else (' t="b"' if isinstance(cached, bool) else "")
        value = escape(cached) if isinstance(cached, str) else str(int(cached) if isinstance(cached, bool) else cached)
        cell = f'<c r="{ref}"{kind}><f>{escape(formula)}</f><v>{value}</v></c>'.encode()
        xml, n = re.subn(rb'<c r="' + ref.encode() + rb'"[^>]*?(?:/>|>.*?</c>)', cell, xml, count=1, flags=re.S)
        assert n == 1, f"no cell {ref} in the sheet"
    return xml


def patch_sheet(data: bytes, change, *, member: str = SHEET) -> bytes:
    """Rewrite one member of the zip package (the first sheet unless told)."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            content = src.read(info.filename)
            if info.filename == member:
                content = change(content)
            dst.writestr(info, content)
    return out.getvalue()


def sheet_xml_workbook(sheet_data: str, *, after: str = "", prefix: str = "") -> bytes:
    """An xlsx whose first sheet is exactly the given <sheetData> content (rows as another writer wrote them)."""
    p = f"{prefix}:" if prefix else ""
    ns = f'xmlns{":" + prefix if prefix else ""}="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    xml = f'<?xml version="1.0" encoding="UTF-8"?><{p}worksheet {ns}><{p}sheetData>{sheet_data}</{p}sheetData>{after}</{p}worksheet>'
    return patch_sheet(xlsx_bytes([["placeholder"]]), lambda _old: xml.encode())


def csv_bytes(rows: Iterable[Sequence[object]], *, encoding: str = "utf-8", delimiter: str = ",", bom: bool = False) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    data = buf.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data
