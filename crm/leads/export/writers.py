"""CSV and XLSX, written batch by batch so memory stays flat whatever the row count.

CSV goes out as it is written: the byte-order mark and header row first (before the query has
returned a row), then one chunk per batch of rows.

XLSX is a ZIP archive whose directory comes last, and openpyxl assembles it only when the
workbook is saved. In write-only mode openpyxl streams each row to a temporary file on disk,
so memory stays flat; the finished archive is written to an anonymous temporary file and sent
from there in chunks. The download therefore begins once the workbook is complete.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import suppress
from datetime import datetime
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from crm.leads.export.rows import HEADER

Batch = list[list[Any]]

BOM = "\ufeff"
# Excel's limit is 1,048,576 rows a sheet, the header included; more rows continue on a new sheet.
SHEET_ROWS = 1_048_575
DATE_FORMAT = "yyyy-mm-dd hh:mm"
COLUMN_WIDTHS = (10, 17, 24, 16, 28, 12, 20, 18, 18, 20, 17, 17, 9, 30, 30, 16, 16, 18, 50, 24)
SEND_CHUNK = 64 * 1024


def csv_chunks(batches: Iterable[Batch]) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark (so Excel reads Indic scripts right), RFC 4180 quoting."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(HEADER)
    yield _drain(buffer)
    for batch in batches:
        writer.writerows(batch)
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> bytes:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text.encode("utf-8")


def xlsx_chunks(batches: Iterable[Batch]) -> Iterator[bytes]:
    """One sheet of typed cells: text as text (never a formula), times as real dates."""
    workbook = Workbook(write_only=True)
    try:
        sheet = _new_sheet(workbook, 1)
        in_sheet = 0
        for batch in batches:
            for row in batch:
                if in_sheet == SHEET_ROWS:
                    sheet = _new_sheet(workbook, len(workbook.worksheets) + 1)
                    in_sheet = 0
                sheet.append([_cell(sheet, value) for value in row])
                in_sheet += 1
        with tempfile.TemporaryFile() as archive:
            workbook.save(archive)
            archive.seek(0)
            while chunk := archive.read(SEND_CHUNK):
                yield chunk
    finally:
        _discard_unsaved(workbook)


def _new_sheet(workbook: Workbook, number: int) -> WriteOnlyWorksheet:
    sheet = workbook.create_sheet("Leads" if number == 1 else f"Leads ({number})")
    for index, width in enumerate(COLUMN_WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title in HEADER:
        cell = _cell(sheet, title)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    return sheet


def _cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    if isinstance(value, str):
        if not value:
            return None
        # openpyxl refuses control characters; a tab or line break it keeps.
        cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value))
        # Set after the value: openpyxl infers a formula from "=" and an error from "#N/A".
        cell.data_type = "s"
        return cell
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value)
        cell.number_format = DATE_FORMAT
        return cell
    return value


def _discard_unsaved(workbook: Workbook) -> None:
    """An abandoned export must not leave its rows in openpyxl's temporary files until exit.

    openpyxl deletes a sheet's temporary file when the workbook is saved, and otherwise only
    when the process ends: a long-running web worker would keep personal data on disk.
    """
    for sheet in workbook.worksheets:
        writer = getattr(sheet, "_writer", None)
        if writer is None or sheet.closed:
            continue
        with suppress(Exception):
            sheet.close()
        with suppress(OSError, ValueError):
            writer.cleanup()
