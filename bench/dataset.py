"""Build a large, migrated SQLite database of leads for the benchmarks (reused if present).

A bulk build (the default) inserts the leads and enquiries with every trigger and secondary
index on those two tables dropped, then puts them back exactly as they were (the SQL saved from
``sqlite_master``) and fills the tables the triggers keep (the text search tables, the status
counts, whatever a later migration adds) with their migrations' backfills. Row by row through
the triggers, a million leads took about an hour; in bulk, a few minutes.

The hook: a migration whose SQLite triggers on ``lead`` or ``enquiry`` write to another table
defines ``SQLITE_BACKFILL``, the list of statements that fill that table from the data already
there, starting from an empty table (what its ``upgrade`` runs on an existing database, before
it creates its triggers). The build empties each table the triggers write (a column kept on
``lead`` or ``enquiry`` itself starts empty from the load) and runs, in revision order, every
backfill that writes to one of them, then puts the triggers back; it refuses to build if a
table the triggers write has no backfill.
tests/test_bench_dataset.py builds a small database both ways (``bulk=False`` keeps every
trigger in place) and compares every table, so the two cannot drift apart.
"""

from __future__ import annotations

import json
import random
import re
import sqlite3
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from alembic.script import ScriptDirectory
from flask_migrate import upgrade

from crm import create_app
from crm.clinic.seed import seed_branches
from crm.platform.extensions import db

NAMES = [
    "Ravi Kumar",
    "Ananya Sharma",
    "శ్రీనివాస్ రెడ్డి",
    "अनन्या शर्मा",
    "Meera Nair",
    "Imran Khan",
    "Joseph D'Souza",
    "Kavya Hegde",
    '=HYPERLINK("x")',
    "Lakshmi Naidu",
]
STATUSES = ["new", "contacted", "appointment_booked", "visited", "lost", "spam"]
SOURCES = ["direct", "google", "instagram", "newsletter"]
# Leads arrive over the 300 days before END; benchmarks read the data as of END, so windows
# such as "the last 30 days" hold the same share of it whatever the day the benchmark runs.
START = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_SECONDS = 300 * 24 * 3600
END = START + timedelta(seconds=SPAN_SECONDS)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
BULK_TABLES = ("lead", "enquiry")
BATCH = 50_000
# The table a statement writes to: at the start of a statement, or of a trigger's body.
_WRITES = re.compile(
    r"""(?:^|;|\bBEGIN\b)\s*
        (?:INSERT(?:\s+OR\s+\w+)?\s+INTO|REPLACE\s+INTO|UPDATE(?:\s+OR\s+\w+)?|DELETE\s+FROM)
        \s+(?:main\.)?["`\[]?(\w+)""",
    re.IGNORECASE | re.VERBOSE,
)


def build(
    path: Path, leads: int, *, branch_share: float = 0.5, seed: int = 7, bulk: bool = True
) -> Path:
    """A database at ``path`` with ``leads`` leads (one enquiry each). Skips work if it exists.

    ``bulk=False`` inserts through the triggers, row by row (slow: the reference that the
    bulk build is tested against)."""
    path = path.resolve()  # Flask-SQLAlchemy would read a relative one from instance/
    marker = path.with_suffix(".done")
    if path.exists() and marker.exists() and marker.read_text() == str(leads):
        migrate(path)  # built before a later migration (a new index): bring it up to date
        return path
    for stale in (path, path.with_suffix(".sqlite3-wal"), path.with_suffix(".sqlite3-shm"), marker):
        stale.unlink(missing_ok=True)
    migrate(path)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench"})
    with app.app_context():
        seed_branches()
        db.engine.dispose()

    started = time.perf_counter()
    rows = _rows(leads, branch_share, seed)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        if bulk:
            _bulk_load(connection, rows)
        else:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=OFF")
            connection.execute("BEGIN")
            for batch in _batches(rows):
                _insert(connection, batch)
            connection.execute("COMMIT")
        connection.execute("ANALYZE")
    finally:
        connection.close()
    marker.write_text(str(leads))
    seconds = time.perf_counter() - started
    print(f"built {leads:,} leads in {seconds:.1f} s at {path}", file=sys.stderr)
    return path


def migrate(path: Path) -> None:
    """Upgrade to the latest migration, then refresh the planner's statistics (as a fresh
    build does) so that a new index is judged on the same footing as the old ones."""
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    connection = sqlite3.connect(path)
    connection.execute("ANALYZE")
    connection.close()


@dataclass
class BulkPlan:
    """What a bulk load sets aside and puts back: the triggers and secondary indexes on the
    bulk-loaded tables (name and SQL, as in ``sqlite_master``), the tables those triggers
    write, and the backfills that fill them again."""

    triggers: list[tuple[str, str]]
    indexes: list[tuple[str, str]]
    derived: list[str]
    backfills: list[str]


def bulk_plan(connection: sqlite3.Connection) -> BulkPlan:
    """The plan for a bulk load into this (migrated, empty) database; raises ``RuntimeError``
    when a trigger writes a table that no migration backfills, since the bulk build could not
    then hold what the triggers would have written."""
    on_bulk_tables = (
        "SELECT name, sql FROM sqlite_master WHERE type = ? AND sql IS NOT NULL"
        " AND tbl_name IN (SELECT value FROM json_each(?)) ORDER BY rowid"
    )
    tables = json.dumps(BULK_TABLES)
    triggers = connection.execute(on_bulk_tables, ("trigger", tables)).fetchall()
    # An index behind a constraint (sql IS NULL) goes with its table and stays.
    indexes = connection.execute(on_bulk_tables, ("index", tables)).fetchall()
    written = sorted({table for _, sql in triggers for table in writes(sql)})
    backfills = [
        statement
        for statement in migration_backfills()
        if (tables := writes(statement)) and tables <= set(written)
    ]
    filled = {table for statement in backfills for table in writes(statement)}
    if missing := sorted(set(written) - filled):
        raise RuntimeError(
            f"triggers write {', '.join(missing)} but no migration defines a SQLITE_BACKFILL"
            " that fills it: add one (see bench/dataset.py)"
        )
    # A trigger may keep columns of the loaded tables themselves (a lead's first page, from
    # its enquiries): those rows are not emptied, their backfill sets the columns.
    derived = [table for table in written if table not in BULK_TABLES]
    return BulkPlan(triggers, indexes, derived, backfills)


def migration_backfills() -> list[str]:
    """Every migration's ``SQLITE_BACKFILL`` statements, oldest migration first."""
    scripts = reversed(list(ScriptDirectory(str(MIGRATIONS)).walk_revisions()))
    return [
        statement
        for script in scripts
        for statement in getattr(script.module, "SQLITE_BACKFILL", [])
    ]


def writes(sql: str) -> set[str]:
    """The tables a statement (or a trigger's body) inserts into, updates or deletes from."""
    return {table.lower() for table in _WRITES.findall(sql)}


def _bulk_load(connection: sqlite3.Connection, rows: Iterator[tuple]) -> None:
    plan = bulk_plan(connection)
    # Nothing to recover: an interrupted build leaves no marker and is built again.
    connection.execute("PRAGMA journal_mode=OFF")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-1000000")  # KiB: the indexes sort in memory
    connection.execute("PRAGMA temp_store=MEMORY")
    connection.execute("BEGIN")
    for name, _ in plan.triggers:
        connection.execute(f'DROP TRIGGER "{name}"')
    for name, _ in plan.indexes:
        connection.execute(f'DROP INDEX "{name}"')
    started = time.perf_counter()
    for batch in _batches(rows):
        _insert(connection, batch)
    _progress("rows inserted", started)
    for _, sql in plan.indexes:
        connection.execute(sql)
    _progress(f"{len(plan.indexes)} indexes created", started)
    for table in plan.derived:
        connection.execute(f'DELETE FROM "{table}"')  # noqa: S608 (a name from sqlite_master)
    # Before the triggers are back, as each migration's upgrade runs it: a backfill that
    # updates a loaded table must not set off the triggers that keep the other tables.
    for statement in plan.backfills:
        connection.execute(statement)
    _progress(f"{', '.join(plan.derived)} filled", started)
    for _, sql in plan.triggers:
        connection.execute(sql)
    connection.execute("COMMIT")
    _progress("committed", started)
    connection.execute("PRAGMA journal_mode=WAL")


def _progress(step: str, started: float) -> None:
    elapsed = time.perf_counter() - started
    print(f"  {step} at {elapsed:.1f} s ({time.process_time():.1f} s of CPU)", file=sys.stderr)


def _rows(leads: int, branch_share: float, seed: int) -> Iterator[tuple]:
    rng = random.Random(seed)
    for index in range(1, leads + 1):
        created = START + timedelta(seconds=rng.randrange(SPAN_SECONDS))
        stamp = created.strftime("%Y-%m-%d %H:%M:%S.%f")
        branch = 1 if rng.random() < branch_share else 2
        status = rng.choice(STATUSES)
        yield (
            index,
            branch,
            rng.choice(NAMES),
            f"+9198{index:08d}",
            f"person{index}@example.com" if index % 3 else None,
            "back_pain",
            rng.choice(SOURCES),
            status,
            "price" if status == "lost" else None,
            stamp,
            stamp,
            stamp,
            stamp if status != "new" else None,
        )


def _batches(rows: Iterator[tuple]) -> Iterator[list[tuple]]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _insert(connection: sqlite3.Connection, batch: list[tuple]) -> None:
    connection.executemany(
        "INSERT INTO lead (id, branch_id, name, phone, email, interest, source, status,"
        " lost_reason, created_at, updated_at, last_enquiry_at, first_response_at,"
        " first_response_minutes, enquiry_count, version)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,1,1)",
        # Answered the moment it came (first_response_at is created_at): 0 working minutes,
        # the figure change_lead_status would have written.
        [(*row, None if row[12] is None else 0.0) for row in batch],
    )
    connection.executemany(
        "INSERT INTO enquiry (lead_id, name, phone, email, interest, message, source_page,"
        " utm_source, utm_medium, utm_campaign, consent_version, consented_at, submission_token,"
        " created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
        [
            (
                row[0],
                row[2],
                row[3],
                row[4],
                "back_pain",
                "Lower back pain, please call after 6 pm.",
                "/blog/acupressure-points-for-back-pain",
                None if row[6] == "direct" else row[6],
                "cpc" if row[6] == "google" else None,
                None,
                "2026-11-01",
                row[9],
                f"bench-{row[0]:09d}",
                row[9],
            )
            for row in batch
        ],
    )
