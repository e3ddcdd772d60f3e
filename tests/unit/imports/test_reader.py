"""Reading uploads into a header and numbered rows: csv encodings and delimiters, xlsx details, refusals."""

from __future__ import annotations

import io
import random
import zipfile
from datetime import datetime

import pytest

from tests.unit.imports.files import csv_bytes, patch_sheet, xlsx_bytes
from trainquant.errors import Invalid, PayloadTooLarge
from trainquant.imports.reader import decode_text, read_table, sniff_delimiter

LIMITS = {"max_bytes": 20 * 1024 * 1024, "max_rows": 1000}
ROWS = [["工号", "姓名", "部门"], ["T001", "李雷", "雅思组"], ["T002", "韩梅梅", "市场部"]]


def read(content: bytes, filename: str = "staff.csv", **limits):
    return read_table(content, filename, **{**LIMITS, **limits})


@pytest.mark.parametrize(
    "encoding,bom,delimiter",
    [("utf-8", False, ","), ("utf-8", True, ","), ("gbk", False, ","), ("gb18030", False, ";"), ("utf-8", True, "\t"), ("utf-16", False, "\t")],
)
def test_csv_encodings_and_delimiters_read_the_same(encoding, bom, delimiter):
    table = read(csv_bytes(ROWS, encoding=encoding, bom=bom, delimiter=delimiter))
    assert table.header == ROWS[0]
    assert table.rows == [(2, ROWS[1]), (3, ROWS[2])]


def test_blank_rows_are_skipped_but_keep_their_numbers():
    content = csv_bytes([[], ["", " "], *ROWS[:2], ["", ""], [], ROWS[2]])
    table = read(content)
    assert table.header_row == 3
    assert [n for n, _ in table.rows] == [4, 7]


def test_a_quoted_line_break_is_one_row_as_in_excel():
    table = read('工号,备注\r\nT001,"两行\n文字"\r\nT002,x\r\n'.encode())
    assert table.rows == [(2, ["T001", "两行\n文字"]), (3, ["T002", "x"])]


@pytest.mark.parametrize(
    "first_line,delimiter", [("a,b,c", ","), ("a;b;c", ";"), ("a\tb\tc", "\t"), ("工号", ","), ("a;b,c;d", ";"), ("\n\nx\ty", "\t")]
)
def test_delimiter_sniffing(first_line, delimiter):
    assert sniff_delimiter(first_line) == delimiter


@pytest.mark.parametrize(
    "content,code",
    [
        (b"", "empty-file"),
        (b"\r\n \r\n,,\r\n", "no-header"),
        (b"\x00\x01\x02binary", "not-a-table"),
        ("工号\n\x07bell".encode(), "not-a-table"),
        (bytes([0x81, 0x20, 0xFF, 0xFE, 0x80]) * 3, "not-a-table"),
    ],
)
def test_refusals_carry_a_code(content, code):
    with pytest.raises(Invalid) as exc:
        read(content)
    assert exc.value.code == code and exc.value.message


def test_ten_megabytes_of_random_bytes_are_refused_quickly():
    junk = random.Random(1).randbytes(10 * 1024 * 1024)
    for name in ("junk.csv", "junk.xlsx", "junk.bin"):
        with pytest.raises(Invalid):
            read(junk, name)


@pytest.mark.parametrize(
    "content,name,fragment",
    [
        (b"PK\x03\x04not really a zip", "x.xlsx", "not a valid .xlsx"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "old.xls", ".xls"),
        (b"hello", "x.xlsx", "not a valid .xlsx"),
        (b"hello", "x.ods", "not supported"),
    ],
)
def test_files_that_are_not_workbooks(content, name, fragment):
    with pytest.raises(Invalid, match=fragment):
        read(content, name)


def test_a_zip_that_is_not_a_workbook():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", "hi")
    with pytest.raises(Invalid, match="not an Excel workbook"):
        read(buf.getvalue(), "x.xlsx")


def test_a_workbook_with_broken_sheet_xml():
    broken = patch_sheet(xlsx_bytes(ROWS), lambda xml: xml[: len(xml) * 2 // 3])
    with pytest.raises(Invalid, match="cannot be read"):
        read(broken, "x.xlsx")


def test_a_workbook_with_broken_shared_strings():
    content = xlsx_bytes(ROWS)
    with zipfile.ZipFile(io.BytesIO(content)) as z:
        assert "xl/workbook.xml" in z.namelist()
    broken = patch_sheet(content, lambda xml: b"<nonsense", member="xl/workbook.xml")
    with pytest.raises(Invalid):
        read(broken, "x.xlsx")


def test_too_large_and_too_many_rows():
    with pytest.raises(PayloadTooLarge) as exc:
        read(csv_bytes(ROWS), max_bytes=10)
    assert exc.value.code == "too-large"
    many = [["工号"]] + [[f"T{i}"] for i in range(20)]
    for content, name in ((csv_bytes(many), "a.csv"), (xlsx_bytes(many), "a.xlsx")):
        with pytest.raises(PayloadTooLarge) as exc:
            read(content, name, max_rows=10)
        assert exc.value.code == "too-many-rows"
    assert len(read(csv_bytes(many), max_rows=20).rows) == 20


def test_a_zip_bomb_is_refused_by_its_unpacked_size():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"0" * 10_000_000)
    assert len(buf.getvalue()) < 20_000
    with pytest.raises(PayloadTooLarge, match="implausible"):
        read(buf.getvalue(), "bomb.xlsx", max_bytes=20_000)


def test_xlsx_first_sheet_formulas_merges_and_types():
    content = xlsx_bytes(
        [["工号", "姓名", "部门", "时薪", "入职日期"], ["T001", "李雷", "雅思组", None, datetime(2024, 9, 1)], ["T002", "韩梅梅", None, None, None],
         [None, None, None, None, None], ["T003", "王芳", None, 88, None]],
        merges=["C2:C5"],
        formulas={"D2": ("40*3", 120), "D3": ('"9"&"9"', "99")},
        extra_sheets=2,
    )
    table = read(content, "staff.xlsx")
    assert table.format == "xlsx" and table.header == ["工号", "姓名", "部门", "时薪", "入职日期"]
    assert table.rows == [
        (2, ["T001", "李雷", "雅思组", 120, datetime(2024, 9, 1)]),
        (3, ["T002", "韩梅梅", "雅思组", "99"]),
        (5, ["T003", "王芳", "雅思组", 88]),  # row 4 is blank in the sheet: the merged range does not fill it
    ]


def test_xlsx_with_a_wrong_declared_size_is_read_in_full():
    content = patch_sheet(xlsx_bytes(ROWS), lambda xml: xml.replace(b'<dimension ref="A1:C3"', b'<dimension ref="A1:A1"'))
    assert len(read(content, "x.xlsx").rows) == 2


def test_an_xlsx_uploaded_with_a_csv_name_is_still_a_workbook():
    assert read(xlsx_bytes(ROWS), "staff.csv").format == "xlsx"


def test_decode_prefers_utf8_then_gbk():
    assert decode_text("工号".encode()) == "工号"
    assert decode_text("\ufeff工号".encode()) == "工号"
    assert decode_text("工号".encode("gbk")) == "工号"
    assert decode_text("𠀀".encode("gb18030")) == "𠀀"


def test_a_sheet_longer_than_one_read_chunk():
    rows = [["工号", "姓名"]] + [[f"T{i:05d}", "名字" * 10] for i in range(8000)]
    table = read(xlsx_bytes(rows, write_only=True), "big.xlsx", max_rows=10000)
    assert table.rows[-1] == (8001, rows[-1]) and len(table.rows) == 8000
