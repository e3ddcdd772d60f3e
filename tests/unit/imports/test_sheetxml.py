"""The fast worksheet scan must read exactly what openpyxl's read-only worksheet reads (the reference)."""

from __future__ import annotations

from datetime import datetime, time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.imports.files import sheet_xml_workbook, xlsx_bytes
from trainquant.imports.reader import read_table, reference_table

LIMITS = {"max_bytes": 10**8, "max_rows": 10**6}


def both(content: bytes):
    fast = read_table(content, "x.xlsx", **LIMITS)
    ref = reference_table(content, **LIMITS)
    return fast, ref


def assert_same(content: bytes) -> None:
    fast, ref = both(content)
    assert (fast.header_row, fast.header, fast.rows) == (ref.header_row, ref.header, ref.rows)


# Text a cell may hold in XML (no control characters, which XML 1.0 cannot carry).
cell_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from(list("<>&\"' \t\n")), max_size=12)
cell = st.one_of(
    st.none(), cell_text, st.integers(-(10**12), 10**12), st.floats(allow_nan=False, allow_infinity=False, width=32), st.booleans(),
    st.datetimes(min_value=datetime(1950, 1, 1), max_value=datetime(2100, 1, 1)).map(lambda d: d.replace(microsecond=0)),
    st.times().map(lambda t: t.replace(microsecond=0)),
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(cell, min_size=1, max_size=6), min_size=1, max_size=8), st.booleans())
def test_random_sheets_read_the_same(rows, write_only):
    rows = [["工号", "姓名"], *rows]  # a header, so the table is never empty
    assert_same(xlsx_bytes(rows, write_only=write_only))


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.integers(2, 6), st.integers(1, 4), st.integers(0, 2), st.integers(0, 2)), max_size=3, unique_by=lambda t: t[:2]))
def test_merged_ranges_fill_the_same(spans):
    rows = [["h1", "h2", "h3", "h4", "h5", "h6"]] + [[f"r{r}c{c}" for c in range(1, 7)] for r in range(2, 10)]
    taken: set[tuple[int, int]] = set()
    refs = []
    for row, col, down, right in spans:
        area = {(r, c) for r in range(row, row + down + 1) for c in range(col, col + right + 1)}
        if area & taken:
            continue
        taken |= area
        refs.append(f"{chr(64 + col)}{row}:{chr(64 + col + right)}{row + down}")
    assert_same(xlsx_bytes(rows, merges=refs))


@pytest.mark.parametrize(
    "sheet_data,after,prefix",
    [
        # Another writer's namespace prefix, attributes in another order or quoted with ', cells and rows without r.
        ('<x:row r="1"><x:c s="0" r="A1" t="inlineStr"><x:is><x:t>工号</x:t></x:is></x:c></x:row>'
         "<x:row><x:c t='inlineStr'><x:is><x:t>T&amp;1</x:t></x:is></x:c><x:c><x:v>7</x:v></x:c></x:row>", "", "x"),
        # Rich text with phonetic guides, booleans, errors, a formula's text result, exponent numbers, &#...; references.
        ('<row r="1"><c r="A1" t="inlineStr"><is><r><t>工</t></r><r><t xml:space="preserve">号 </t></r><rPh sb="0" eb="1"><t>gong</t></rPh></is></c>'
         '<c r="B1" t="inlineStr"><is><t>&#x59D3;&#21517;</t></is></c></row>'
         '<row r="4" spans="1:5"><c r="A4" t="b"><v>0</v></c><c r="B4" t="e"><f>1/0</f><v>#DIV/0!</v></c><c r="C4" t="str"><f>A1</f><v>a&lt;b</v></c>'
         '<c r="E4"><v>1.5E3</v></c><c r="F4" t="n"><v>-0.25</v></c></row><row r="5"/><row r="6"><c r="C6" t="inlineStr"><is><t/></is></c></row>',
         '<mergeCells count="1"><mergeCell ref="A4:A6"/></mergeCells>', ""),
        # Empty values and a self-closing cell with a style only.
        ('<row r="1"><c r="A1" t="inlineStr"><is><t>a</t></is></c><c r="B1" s="0"/><c r="C1"><v></v></c><c r="D1" t="inlineStr"><is><t>d</t></is></c></row>', "", ""),
        # An ISO date cell.
        ('<row r="1"><c r="A1" t="inlineStr"><is><t>日期</t></is></c></row><row r="2"><c r="A2" t="d"><v>2026-09-01T08:30:00</v></c></row>', "", ""),
    ],
)
def test_other_writers_xml(sheet_data, after, prefix):
    assert_same(sheet_xml_workbook(sheet_data, after=after, prefix=prefix))


def test_shared_strings_dates_and_times_as_excel_stores_them():
    rows = [["工号", "入职日期", "开始时间", "时薪"], ["T001", datetime(2024, 9, 1), time(18, 30), 80.5], ["T001", datetime(2024, 9, 2), time(9), 80]]
    content = xlsx_bytes(rows)  # normal mode: shared strings and date/time number formats
    fast, _ref = both(content)
    assert fast.rows[0][1] == ["T001", datetime(2024, 9, 1), time(18, 30), 80.5]
    assert_same(content)


def test_a_sheet_with_no_rows():
    content = sheet_xml_workbook("")
    for reader in (lambda c: read_table(c, "x.xlsx", **LIMITS), lambda c: reference_table(c, **LIMITS)):
        with pytest.raises(Exception, match="no header row"):
            reader(content)
