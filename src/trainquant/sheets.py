"""xlsx workbooks for every list's export button: a sheet per table, a bold header row, headers and
sheet names as msgids translated into the reader's language when written. Write-only (rows stream
out), and text never becomes a formula."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from fastapi.responses import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill

from trainquant.i18n import gettext_ as _

BOLD = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def add_sheet(wb: Workbook, title: str, headers: Sequence[str], rows: Iterable[Sequence]) -> None:
    ws = wb.create_sheet(_(title)[:31])
    header = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=_(h))
        cell.font, cell.fill = BOLD, HEADER_FILL
        header.append(cell)
    ws.append(header)
    for row in rows:
        cells = []
        for value in row:
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # names typed by people never become formulas
            cells.append(cell)
        ws.append(cells)


def workbook_bytes(wb: Workbook) -> bytes:
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def attachment(data: bytes, name: str, *, fallback: str = "export") -> Response:
    """A workbook as a download named ``name``.xlsx (RFC 5987 for the non-ASCII part)."""
    return Response(data, media_type=XLSX,
                    headers={"Content-Disposition": f"attachment; filename={fallback}.xlsx; filename*=UTF-8''{quote(name)}.xlsx"})
