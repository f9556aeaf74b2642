"""CSV and XLSX, written batch by batch so memory stays flat whatever the row count.

CSV goes out as it is written: the byte-order mark and header row first (before the query has
returned a row), then one chunk per batch of rows. XLSX is in ``crm.leads.export.xlsx``,
imported on first use: openpyxl takes a noticeable share of a command-line CSV export's
start-up, and most exports are CSV.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from crm.leads.export.rows import HEADER

Batch = list[list[Any]]

BOM = "\ufeff"


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
    from crm.leads.export.xlsx import workbook_chunks

    return workbook_chunks(batches)
