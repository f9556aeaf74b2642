"""The benchmarks' SQLite data on PostgreSQL: a throwaway cluster, migrated, the rows copied in.

PostgreSQL is production; building its data lead by lead would take as long as the SQLite
build, so the built SQLite file is copied table by table (``COPY``), with triggers off (the
kept counts are copied as they are), then ``VACUUM ANALYZE`` as after a restore. ``times``
repeats the leads and their enquiries in SQL (new ids, phones, emails and submission tokens
as ``dataset.build`` would give lead number ``n``), so a 100,000-lead build makes a million.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from benchkit import PROJECT, note
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from crm import create_app
from crm.platform.extensions import db


@contextmanager
def postgres_cluster() -> Iterator[object]:
    """A cluster on loopback, as the tests start one; stopped and removed afterwards."""
    sys.path.insert(0, str(PROJECT))
    from tests.pgcluster import PostgresCluster

    cluster = PostgresCluster()
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


def copied(cluster: object, source: Path, leads: int, times: int = 1) -> str:
    """A new database in ``cluster`` holding ``source``'s rows (``leads`` leads), ``times`` over."""
    name = f"bench_{leads}_x{times}"
    admin = create_engine(cluster.url(), isolation_level="AUTOCOMMIT")  # type: ignore[attr-defined]
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        connection.execute(text(f"CREATE DATABASE {name}"))
    admin.dispose()
    url = cluster.url(name)  # type: ignore[attr-defined]
    started = time.perf_counter()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench"})
    with app.app_context():
        upgrade()
        tables = [table.name for table in db.metadata.sorted_tables]
        db.engine.dispose()
    engine = create_engine(url)
    with engine.connect() as connection:
        raw = connection.connection.dbapi_connection
        with raw.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")  # no triggers, no FK checks
            cursor.execute("SET TIME ZONE 'UTC'")  # SQLite's datetimes are UTC, without a zone
            # Indexes are built after the rows, as a restore builds them: row by row, a GIN
            # index with a short pending list (migration e2c8a4f6b913) is slow to fill.
            indexes = cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' "
                "AND indexname NOT IN (SELECT conname FROM pg_constraint)"
            ).fetchall()
            for index, _definition in indexes:
                cursor.execute(f'DROP INDEX "{index}"')
            _copy_tables(source, cursor, tables)
            if times > 1:
                _repeat(cursor, leads, times)
            cursor.execute("SET maintenance_work_mem = '256MB'")
            for _index, definition in indexes:
                cursor.execute(definition)
            for table in tables:
                _restart_ids(cursor, table)
        raw.commit()
    engine.dispose()
    vacuum = create_engine(url, isolation_level="AUTOCOMMIT")
    with vacuum.connect() as connection:
        connection.execute(text("VACUUM ANALYZE"))
    vacuum.dispose()
    total = leads * times
    note(f"copied {total:,} leads into PostgreSQL in {time.perf_counter() - started:.1f} s")
    return url


def _copy_tables(source: Path, cursor: object, tables: list[str]) -> None:
    lite = sqlite3.connect(source)
    try:
        for table in tables:
            columns = [row[1] for row in lite.execute(f'PRAGMA table_info("{table}")')]
            if not columns:
                continue
            names = ", ".join(f'"{column}"' for column in columns)
            rows = lite.execute(f'SELECT {names} FROM "{table}"')  # noqa: S608
            with cursor.copy(f'COPY "{table}" ({names}) FROM STDIN') as copy:  # type: ignore[attr-defined]
                for row in rows:
                    copy.write_row(row)
    finally:
        lite.close()


def _repeat(cursor: object, leads: int, times: int) -> None:
    """The leads ``times`` over: copy k holds lead ``id + k * leads`` as the build would."""
    run = cursor.execute  # type: ignore[attr-defined]
    lead_columns = _columns(cursor, "lead")
    enquiry_columns = _columns(cursor, "enquiry")
    new_id = "(id + k * {leads})"
    lead_values = {
        "id": new_id,
        "phone": f"'+9198' || lpad({new_id}::text, 8, '0')",
        "email": (
            f"CASE WHEN email IS NULL THEN NULL ELSE 'person' || {new_id} || '@example.com' END"
        ),
    }
    new_lead = "(lead_id + k * {leads})"
    enquiries = run("SELECT max(id) FROM enquiry").fetchone()[0] or 0
    enquiry_values = {
        "id": f"(id + k * {enquiries})",
        "lead_id": new_lead,
        "phone": f"'+9198' || lpad({new_lead}::text, 8, '0')",
        "email": (
            f"CASE WHEN email IS NULL THEN NULL ELSE 'person' || {new_lead} || '@example.com' END"
        ),
        "submission_token": f"'bench-' || lpad({new_lead}::text, 9, '0')",
    }
    for table, columns, values in (
        ("lead", lead_columns, lead_values),
        ("enquiry", enquiry_columns, enquiry_values),
    ):
        names = ", ".join(f'"{column}"' for column in columns)
        chosen = ", ".join(values.get(column, f'"{column}"') for column in columns)
        run(
            f'INSERT INTO "{table}" ({names}) SELECT {chosen.format(leads=leads)} '  # noqa: S608
            f'FROM "{table}", generate_series(1, {times - 1}) AS k WHERE "{table}".id <= %s',
            (leads if table == "lead" else enquiries,),
        )
    run("UPDATE lead_status_count SET leads = leads * %s", (times,))


def _restart_ids(cursor: object, table: str) -> None:
    """The table's id sequence past the copied ids, so that new rows get new ones."""
    if "id" not in _columns(cursor, table):
        return
    run = cursor.execute  # type: ignore[attr-defined]
    sequence = run("SELECT pg_get_serial_sequence(%s, 'id')", (f'"{table}"',)).fetchone()[0]
    if sequence is not None:
        run(f'SELECT setval(%s, max(id)) FROM "{table}" HAVING count(*) > 0', (sequence,))  # noqa: S608


def _columns(cursor: object, table: str) -> list[str]:
    rows = cursor.execute(  # type: ignore[attr-defined]
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
        "ORDER BY ordinal_position",
        (table,),
    ).fetchall()
    return [row[0] for row in rows]
