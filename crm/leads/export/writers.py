"""CSV and XLSX, written batch by batch so memory stays flat whatever the row count.

CSV goes out as it is written: the byte-order mark and header row first (before the query has
returned a row), then one chunk per batch of rows. XLSX is in ``crm.leads.export.xlsx``,
imported on first use: openpyxl takes a noticeable share of a command-line CSV export's
start-up, and most exports are CSV.

A batch arrives as columns (``crm.leads.export.shaping``). The CSV is written here rather than
by the ``csv`` module, which would take a row of cells at a time and look at every character
of every cell: a column is checked for the four characters that make a cell need quotes in
one search over the whole column, and only a column that has one is quoted cell by cell.
The result is byte for byte what ``csv.writer`` writes with its default (Excel) dialect and
``\\r\\n`` line ends: a cell is quoted when it holds a comma, a double quote, a carriage
return or a line feed, and a double quote inside is doubled.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from crm.leads.export.rows import HEADER

Columns = list[Sequence[Any]]

BOM = "\ufeff"
LINE_END = "\r\n"


def csv_chunks(batches: Iterable[Columns]) -> Iterator[bytes]:
    """UTF-8 with a byte-order mark (so Excel reads Indic scripts right), RFC 4180 quoting.

    Every cell of a batch is text (``batch_shaper(..., as_text=True)``).
    """
    yield (BOM + csv_lines([[title] for title in HEADER])).encode("utf-8")
    for columns in batches:
        yield csv_lines(columns).encode("utf-8")


def csv_lines(columns: Columns) -> str:
    """The CSV lines of a batch of text cells given column by column."""
    if not columns or not columns[0]:
        return ""
    quoted = [column if _plain("".join(column)) else _quoted(column) for column in columns]
    return LINE_END.join(map(",".join, zip(*quoted, strict=True))) + LINE_END


def _plain(text: str) -> bool:
    return not ("," in text or '"' in text or "\n" in text or "\r" in text)


def _quoted(column: Sequence[str]) -> list[str]:
    return [
        '"' + cell.replace('"', '""') + '"'
        if "," in cell or '"' in cell or "\n" in cell or "\r" in cell
        else cell
        for cell in column
    ]


def xlsx_chunks(batches: Iterable[Sequence[Sequence[Any]]]) -> Iterator[bytes]:
    """One sheet of typed cells: text as text (never a formula), times as real dates.

    ``batches`` are of rows; ``xlsx_rows`` turns the shaper's columns into them.
    """
    from crm.leads.export.xlsx import workbook_chunks

    return workbook_chunks(batches)


def xlsx_rows(batches: Iterable[Columns]) -> Iterator[list[tuple[Any, ...]]]:
    for columns in batches:
        yield list(zip(*columns, strict=True))
