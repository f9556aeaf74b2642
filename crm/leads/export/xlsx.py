"""XLSX, written batch by batch so memory stays flat whatever the row count.

XLSX is a ZIP archive whose directory comes last, and openpyxl assembles it only when the
workbook is saved. In write-only mode openpyxl streams each row to a temporary file on disk,
so memory stays flat; the finished archive is written to an anonymous temporary file and sent
from there in chunks. The download therefore begins once the workbook is complete.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from contextlib import suppress
from datetime import datetime
from itertools import chain, repeat
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from openpyxl.worksheet.page import PageMargins
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from crm.leads.export.rows import HEADER

# Excel's limit is 1,048,576 rows a sheet, the header included; more rows continue on a new sheet.
SHEET_ROWS = 1_048_575
DATE_FORMAT = "yyyy-mm-dd hh:mm"
# In characters. Text longer than its column wraps inside the cell instead of running on to the
# right, which printed as page after page of one message.
COLUMN_WIDTHS = {
    "Reference": 10,
    "Created (branch time)": 16,
    "Name": 22,
    "Phone": 17,
    "Email": 26,
    "Branch": 11,
    "Interest": 18,
    "Status": 13,
    "Lost reason": 16,
    "Assignee": 16,
    "First response at (branch time)": 16,
    "Next follow-up (branch time)": 16,
    "Enquiries": 9,
    "First source page": 24,
    "Last source page": 24,
    "UTM source (first enquiry)": 14,
    "UTM medium (first enquiry)": 14,
    "UTM campaign (first enquiry)": 16,
    "Latest message": 60,
    "Other phones": 20,
    "Next appointment (branch time)": 16,
    "Next appointment kind": 13,
    "Next appointment clinician": 18,
    "Appointments attended": 11,
    "No-shows": 9,
}
DEFAULT_WIDTH = 16
WIDTHS = tuple(COLUMN_WIDTHS.get(title, DEFAULT_WIDTH) for title in HEADER)
WRAP = Alignment(wrap_text=True, vertical="top")
SEND_CHUNK = 64 * 1024


def workbook_chunks(batches: Iterable[list[list[Any]]]) -> Iterator[bytes]:
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
                widths = chain(WIDTHS, repeat(DEFAULT_WIDTH))  # never runs out before the row
                sheet.append(
                    [_cell(sheet, value, width) for value, width in zip(row, widths, strict=False)]
                )
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
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    _print_layout(sheet)
    bold = Font(bold=True)
    header = []
    for title in HEADER:
        cell = _cell(sheet, title, 0)  # a title wraps rather than being cut off
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    return sheet


def _print_layout(sheet: WriteOnlyWorksheet) -> None:
    """Printed (or saved as PDF): landscape A4, every column on one page across, as many pages
    down as the rows need, the header row on each page and page numbers at the foot."""
    sheet.page_setup.orientation = Worksheet.ORIENTATION_LANDSCAPE
    sheet.page_setup.paperSize = Worksheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0  # no limit: as many pages down as needed
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = "1:1"
    sheet.print_options.gridLines = True
    sheet.oddFooter.center.text = "Page &P of &N"
    sheet.page_margins = PageMargins(left=0.4, right=0.4, top=0.5, bottom=0.6)


def _cell(sheet: WriteOnlyWorksheet, value: Any, width: int) -> Any:
    if isinstance(value, str):
        if not value:
            return None
        # openpyxl refuses control characters; a tab or line break it keeps.
        cell = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value))
        # Set after the value: openpyxl infers a formula from "=" and an error from "#N/A".
        # A string cell is never a formula, so the text is stored exactly as it was typed.
        cell.data_type = "s"
        if len(value) > width or "\n" in value:
            cell.alignment = WRAP
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
