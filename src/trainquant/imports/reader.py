"""Turn an uploaded file into a header row and data rows of cell values, refusing what is not a table.

xlsx is read with openpyxl (read-only, cached formula values, first worksheet, merged ranges filled
with their top-left value); csv may be UTF-8 (with or without BOM), GBK/GB18030 as Excel in China
writes it, or UTF-16 ("Unicode text"), separated by comma, semicolon or tab. Row numbers are those the
user sees in Excel: blank rows are skipped but keep their numbers.
"""

from __future__ import annotations

import csv
import io
import re
import warnings
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath

from trainquant.errors import Invalid, PayloadTooLarge
from trainquant.imports.sheetxml import (
    SheetStyle,
    merge_refs,
    reference_rows,
    sheet_rows,
)

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, or an xlsx protected with a password
CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ue000-\uf8ff\ufffd]")
# A workbook inflates to far more than its size; beyond this it is a zip bomb, not a staff list.
MAX_INFLATION = 50
PROGRESS_EVERY = 2000

Progress = Callable[[int], None]


@dataclass
class Table:
    header: list[object]
    header_row: int
    rows: list[tuple[int, list[object]]] = field(default_factory=list)  # (row number as in the file, cells)
    format: str = "csv"


def read_table(content: bytes, filename: str, *, max_bytes: int, max_rows: int, progress: Progress | None = None) -> Table:
    if not content:
        raise Invalid("the file is empty", code="empty-file")
    if len(content) > max_bytes:
        raise PayloadTooLarge(f"the file has {_mb(len(content))}; at most {_mb(max_bytes)} can be imported at once", code="too-large")
    suffix = PurePath(filename or "").suffix.lower()
    if content.startswith(ZIP_MAGIC):
        return _read_xlsx(content, max_bytes=max_bytes, max_rows=max_rows, progress=progress)
    if content.startswith(OLE_MAGIC):
        raise Invalid("this is an old-format (.xls) or password-protected workbook; save it as .xlsx (without a password) or .csv", code="not-a-workbook")
    if suffix in (".xlsx", ".xlsm"):
        raise Invalid(f"{filename!r} is not a valid .xlsx workbook (it is not a zip package)", code="not-a-workbook")
    if suffix in (".xls", ".ods", ".numbers", ".et"):
        raise Invalid(f"{suffix} files are not supported; save the sheet as .xlsx or .csv", code="not-a-workbook")
    return _read_csv(content, max_rows=max_rows, progress=progress)


def _mb(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB"


# ---------------------------------------------------------------- rows shared by both formats


def _is_blank(cells: Iterable[object]) -> bool:
    return all(value is None or (isinstance(value, str) and not value.strip()) for value in cells)


def _collect(numbered_rows: Iterator[tuple[int, list[object]]], *, fmt: str, max_rows: int, progress: Progress | None) -> Table:
    table: Table | None = None
    for number, cells in numbered_rows:
        while cells and (cells[-1] is None or cells[-1] == ""):
            cells.pop()
        if _is_blank(cells):
            continue
        if table is None:
            table = Table(header=cells, header_row=number, format=fmt)
            continue
        table.rows.append((number, cells))
        if len(table.rows) > max_rows:
            raise PayloadTooLarge(f"the file has more than {max_rows} data rows; split it into smaller files", code="too-many-rows")
        if progress is not None and len(table.rows) % PROGRESS_EVERY == 0:
            progress(len(table.rows))
    if table is None:
        raise Invalid("the file has no header row (every row is blank)", code="no-header")
    if progress is not None:
        progress(len(table.rows))
    return table


# ---------------------------------------------------------------- xlsx


def _open_package(content: bytes, max_bytes: int) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(content))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise Invalid(f"the file is not a valid .xlsx workbook ({exc})", code="not-a-workbook") from None
    if "xl/workbook.xml" not in {i.filename for i in infos}:
        raise Invalid("the file is a zip archive but not an Excel workbook (.xlsx)", code="not-a-workbook")
    if any(i.flag_bits & 0x1 for i in infos):
        raise Invalid("the workbook is encrypted; save it without a password", code="not-a-workbook")
    if sum(i.file_size for i in infos) > MAX_INFLATION * max_bytes:
        raise PayloadTooLarge("the workbook unpacks to an implausible size; it cannot be imported", code="too-large")
    return archive


def _read_xlsx(content: bytes, *, max_bytes: int, max_rows: int, progress: Progress | None) -> Table:
    from openpyxl.reader.excel import ExcelReader
    from openpyxl.styles.stylesheet import apply_stylesheet

    _open_package(content, max_bytes).close()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about styles and extensions it skips
            # The package through openpyxl, as load_workbook(read_only=True) does it, but without its
            # read-only worksheets, which would scan a sheet that declares no size once just to size it.
            book = ExcelReader(io.BytesIO(content), read_only=True, data_only=True)
            book.read_manifest()
            book.read_strings()
            book.read_workbook()
            apply_stylesheet(book.archive, book.wb)
            paths = [rel.target for _sheet, rel in book.parser.find_sheets() if "chartsheet" not in rel.Type and rel.target in book.valid_files]
    except Exception as exc:  # noqa: BLE001 - a hostile or broken file can fail anywhere inside openpyxl
        raise Invalid(f"the file is not a valid .xlsx workbook ({type(exc).__name__}: {exc})", code="not-a-workbook") from None
    if not paths:
        raise Invalid("the workbook has no worksheet", code="not-a-workbook")
    style = SheetStyle(book.shared_strings, frozenset(book.wb._date_formats), frozenset(book.wb._timedelta_formats), book.wb.epoch)
    merges: list[bytes] = []
    rows: list[tuple[int, list[object]]] = []
    try:
        with book.archive.open(paths[0]) as fh:
            for number, cells in sheet_rows(fh, style, merges):
                if cells:
                    rows.append((number, cells))
                    if len(rows) > max_rows + 1:  # + the header; _collect words the refusal
                        break
        return _collect(_fill_merged(iter(rows), _boundaries(merges)), fmt="xlsx", max_rows=max_rows, progress=progress)
    except (Invalid, PayloadTooLarge):
        raise
    except Exception as exc:  # noqa: BLE001 - broken sheet XML surfaces as many exception types
        raise Invalid(f"the worksheet cannot be read ({type(exc).__name__}: {exc})") from None
    finally:
        book.archive.close()


def reference_table(content: bytes, *, max_bytes: int, max_rows: int) -> Table:
    """The same table through openpyxl's load_workbook and ReadOnlyWorksheet: what the fast scan must match."""
    from openpyxl import load_workbook

    with _open_package(content, max_bytes) as archive, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        try:
            sheet = workbook.worksheets[0]
            sheet.reset_dimensions()
            with archive.open(sheet._worksheet_path.lstrip("/")) as fh:
                merges = merge_refs(fh)
            return _collect(_fill_merged(reference_rows(sheet), _boundaries(merges)), fmt="xlsx", max_rows=max_rows, progress=None)
        finally:
            workbook.close()


def _boundaries(refs: list[bytes]) -> list[tuple[int, int, int, int]]:
    from openpyxl.utils.cell import range_boundaries

    out = []
    for ref in dict.fromkeys(refs):
        min_col, min_row, max_col, max_row = range_boundaries(ref.decode())
        out.append((min_col, min_row, max_col or min_col, max_row or min_row))
    return out


def _fill_merged(rows: Iterator[tuple[int, Sequence[object]]], merges: list[tuple[int, int, int, int]]) -> Iterator[tuple[int, list[object]]]:
    starts: dict[int, list[tuple[int, int, int, int]]] = {}
    for min_col, min_row, max_col, max_row in merges:
        starts.setdefault(min_row, []).append((min_col, min_row, max_col, max_row))
    active: list[tuple[tuple[int, int, int, int], object]] = []
    for number, values in rows:
        cells = list(values)
        if not starts and not active:
            yield number, cells
            continue
        for rng in starts.pop(number, ()):
            active.append((rng, cells[rng[0] - 1] if rng[0] <= len(cells) else None))
        active = [(rng, v) for rng, v in active if rng[3] >= number]
        if _is_blank(cells):
            yield number, []  # blank in the sheet stays blank, even where a merged range crosses it
            continue
        for (min_col, _r, max_col, _m), value in active:
            if len(cells) < max_col:
                cells.extend([None] * (max_col - len(cells)))
            for c in range(min_col - 1, max_col):
                cells[c] = value
        yield number, cells


# ---------------------------------------------------------------- csv


def decode_text(content: bytes) -> str:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            text = content.decode("utf-16")
        except UnicodeDecodeError:
            raise Invalid("the file starts like UTF-16 text but is not") from None
    elif b"\x00" in content:
        raise Invalid("the file is binary data, not a .csv or .xlsx table", code="not-a-table")
    else:
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise Invalid("the file is neither an .xlsx workbook nor text in UTF-8 or GBK", code="not-a-table")
    bad = CONTROL_CHARS.search(text)
    if bad:
        raise Invalid(f"the file is not a text table (it contains the control character U+{ord(bad.group()):04X})", code="not-a-table")
    return text


def sniff_delimiter(text: str) -> str:
    first = next((line for line in text.splitlines() if line.strip()), "")
    counts = {d: first.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] else ","


def _read_csv(content: bytes, *, max_rows: int, progress: Progress | None) -> Table:
    text = decode_text(content)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))

    def numbered() -> Iterator[tuple[int, list[object]]]:
        number = 0
        try:
            for number, record in enumerate(reader, start=1):  # number is read in the handler
                yield number, list(record)
        except csv.Error as exc:
            raise Invalid(f"row {number + 1} cannot be read as CSV ({exc})") from None

    return _collect(numbered(), fmt="csv", max_rows=max_rows, progress=progress)
