"""A database that fails a write for real: one of its tables taken out of reach, then put back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import text

from crm.platform.extensions import db

# Every accepted submission records a LeadEvent in the same transaction as its Lead and
# Enquiry, and nothing reads that table on the way: without it the write fails half-way.
TIMELINE_TABLE = "lead_event"


def _rename(app: Flask, old: str, new: str) -> None:
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))


@contextmanager
def table_out_of_reach(app: Flask, table: str = TIMELINE_TABLE) -> Iterator[None]:
    """While inside, every statement on ``table`` fails as it would on a damaged database
    (SQLite and PostgreSQL both refuse it); afterwards the table is back as it was."""
    hidden = f"{table}_out_of_reach"
    _rename(app, table, hidden)
    try:
        yield
    finally:
        _rename(app, hidden, table)
