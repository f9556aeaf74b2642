"""Databases to restore into, and the settings a `crm` process needs to back one up."""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tests.conftest import BACKEND


def pg_bin_dir() -> str | None:
    """The running cluster's own client programs: pg_dump refuses a newer server."""
    if BACKEND != "postgres":
        return None
    from tests.pgcluster import _binary

    return str(Path(_binary("pg_ctl")).resolve().parent)


def backup_config(folder: Path) -> dict[str, object]:
    return {"BACKUP_DIR": str(folder), "BACKUP_PG_BIN_DIR": pg_bin_dir()}


def crm_env(database_url: str, instance: Path, backups: Path) -> dict[str, str]:
    env = {name: value for name, value in os.environ.items() if not name.startswith("CRM_")}
    env.update(
        {
            "CRM_SQLALCHEMY_DATABASE_URI": database_url,
            "CRM_INSTANCE_PATH": str(instance),
            "CRM_SECRET_KEY": "test-secret-key",
            "CRM_BACKUP_DIR": str(backups),
        }
    )
    if pg_bin_dir():
        env["CRM_BACKUP_PG_BIN_DIR"] = pg_bin_dir() or ""
    return env


def database_factory(databases, tmp_path: Path) -> Iterator:  # type: ignore[no-untyped-def]
    """For a fixture: a factory of empty databases of the suite's kind, dropped at the end."""
    created: list[str] = []

    def make(name: str) -> str:
        if BACKEND != "postgres":
            return f"sqlite:///{tmp_path / f'{name}.sqlite3'}"
        database = f"{name}_{uuid.uuid4().hex[:8]}"
        admin = create_engine(databases.cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{database}"'))
        admin.dispose()
        created.append(database)
        return databases.cluster.url(database)

    yield make
    if created:
        admin = create_engine(databases.cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            for database in created:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()


def integrity_ok(database_url: str) -> bool:
    """SQLite's own check of every page and index; PostgreSQL: every index valid."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        with closing(sqlite3.connect(str(url.database))) as connection:
            return [row[0] for row in connection.execute("PRAGMA integrity_check")] == ["ok"]
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            invalid = connection.execute(
                text("SELECT count(*) FROM pg_index WHERE NOT indisvalid OR NOT indisready")
            ).scalar_one()
            indexes = connection.execute(
                text("SELECT count(*) FROM pg_indexes WHERE schemaname = 'public'")
            ).scalar_one()
        return invalid == 0 and indexes > 0
    finally:
        engine.dispose()


def column(database_url: str, sql: str) -> list:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql)).scalars())
    finally:
        engine.dispose()
