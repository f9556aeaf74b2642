"""The benchmarks' bulk-built database holds exactly what inserting the same rows through the
triggers holds: the same schema (triggers and indexes put back as they were), the same rows in
every table, and the same text search index, whatever tables later migrations keep by trigger."""

from __future__ import annotations

import sqlite3
import sys
from pathlib import Path

import pytest

from tests.conftest import BACKEND

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
import dataset

pytestmark = pytest.mark.skipif(BACKEND != "sqlite", reason="the bench databases are SQLite")

LEADS = 1_500
# Columns set from the clock when the build seeds the branches, not from the generated data.
CLOCK_COLUMNS = {("branch", "created_at")}


def fts5_tables(connection: sqlite3.Connection) -> list[str]:
    return [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%USING fts5%'"
        )
    ]


# Tables of counts kept by triggers, and their count columns.
COUNT_TABLES = {"lead_funnel_day": ("leads", "contacted", "booked", "attended")}


def snapshot(path: Path) -> dict[str, object]:
    """Everything a reader can see: schema, each table's rows, each text index's entries (its
    segments' layout, which depends on the order of writes, left out)."""
    connection = sqlite3.connect(path)
    text_indexes = fts5_tables(connection)
    layout = {f"{name}_{shadow}" for name in text_indexes for shadow in ("data", "idx")}
    seen: dict[str, object] = {
        "schema": sorted(
            connection.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
        )
    }
    tables = [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    for table in tables:
        if table in layout:
            continue
        columns = [
            "NULL" if (table, column) in CLOCK_COLUMNS else f'"{column}"'
            for (_, column, *_) in connection.execute(f'PRAGMA table_info("{table}")')
        ]
        query = f'SELECT {", ".join(columns)} FROM "{table}"'  # noqa: S608 (from sqlite_master)
        if table in COUNT_TABLES:
            # A count row that fell to zero (a lead moved on to another page) says nothing:
            # the triggers leave it, a backfill never writes it.
            query += f" WHERE {' OR '.join(f'{c} <> 0' for c in COUNT_TABLES[table])}"
        rows = connection.execute(query).fetchall()
        seen[table] = sorted(rows, key=repr)
    for name in text_indexes:
        connection.execute(
            f"CREATE VIRTUAL TABLE temp.{name}_terms USING fts5vocab(main, {name}, instance)"
        )
        seen[f"{name} entries"] = connection.execute(
            f"SELECT * FROM temp.{name}_terms ORDER BY term, doc, col, offset"  # noqa: S608
        ).fetchall()
        connection.execute(f"INSERT INTO {name} ({name}) VALUES ('integrity-check')")  # noqa: S608
    seen["integrity"] = connection.execute("PRAGMA integrity_check").fetchall()
    seen["sqlite_stat1"] = sorted(
        row
        for row in connection.execute("SELECT * FROM sqlite_stat1")
        if row[0] not in layout and row[0] not in COUNT_TABLES  # zero rows counted there
    )
    connection.close()
    return seen


def test_bulk_build_holds_what_the_triggers_write(tmp_path: Path) -> None:
    through_triggers = snapshot(dataset.build(tmp_path / "rows.sqlite3", LEADS, bulk=False))
    in_bulk = snapshot(dataset.build(tmp_path / "bulk.sqlite3", LEADS))

    assert in_bulk.keys() == through_triggers.keys()
    for name, rows in through_triggers.items():
        assert in_bulk[name] == rows, name
    # The comparison means something: the kept tables are filled.
    assert in_bulk["integrity"] == [("ok",)]
    assert len(in_bulk["lead_search"]) == LEADS
    assert len(in_bulk["enquiry_search"]) == LEADS
    assert sum(leads for _, _, leads in in_bulk["lead_status_count"]) == LEADS


def test_every_table_the_triggers_write_has_a_backfill(tmp_path: Path) -> None:
    path = tmp_path / "schema.sqlite3"
    dataset.migrate(path)
    connection = sqlite3.connect(path)
    plan = dataset.bulk_plan(connection)  # raises when one has none
    connection.close()

    assert {"lead_search", "enquiry_search", "lead_status_count"} <= set(plan.derived)
    assert {name for name, _ in plan.triggers} >= {
        "lead_search_insert",
        "enquiry_search_insert",
        "lead_status_count_insert",
    }


def test_a_trigger_without_a_backfill_stops_the_bulk_build(tmp_path: Path) -> None:
    path = tmp_path / "schema.sqlite3"
    dataset.migrate(path)
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE lead_tally (leads INTEGER)")
    connection.execute(
        "CREATE TRIGGER lead_tally_insert AFTER INSERT ON lead BEGIN"
        " UPDATE lead_tally SET leads = leads + 1; END"
    )

    with pytest.raises(RuntimeError, match="lead_tally"):
        dataset.bulk_plan(connection)
    connection.close()
