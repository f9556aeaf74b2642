"""PostgreSQL: ``pg_dump`` in custom format, checked by listing it; ``pg_restore`` back."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, Engine

from crm.backup.files import BackupError, private_file

INSTALL_HINT = (
    "Install PostgreSQL's client programs of the server's major version "
    "(Debian/Ubuntu: apt-get install postgresql-client-15; or the PGDG packages), "
    "or point CRM_BACKUP_PG_BIN_DIR at the folder holding them "
    "(e.g. /usr/lib/postgresql/15/bin)."
)
TIMEOUT_SECONDS = 6 * 3600


def tool(name: str, bin_dir: str | None) -> str:
    """The client program: from CRM_BACKUP_PG_BIN_DIR if set, else from the PATH."""
    if bin_dir:
        candidate = Path(bin_dir) / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
        raise BackupError(f"{name} is not in CRM_BACKUP_PG_BIN_DIR ({bin_dir}). {INSTALL_HINT}")
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} was not found on the PATH. {INSTALL_HINT}")
    return found


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """A connection string for the client programs, and an environment with the password
    (in the environment, never on a command line that any user can read in the process list)."""
    env = dict(os.environ)
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    return conninfo, env


def _run(args: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess[str]:
    try:
        result = subprocess.run(  # noqa: S603 (our own arguments, no shell)
            args, env=env, capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as error:
        raise BackupError(f"{what} did not finish in {TIMEOUT_SECONDS // 3600} hours.") from error
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()[-2000:]
        raise BackupError(f"{what} failed: {detail}")
    return result


def dump(url: URL, partial: Path, bin_dir: str | None) -> None:
    """A consistent snapshot (pg_dump reads in one repeatable-read transaction)."""
    pg_dump = tool("pg_dump", bin_dir)
    conninfo, env = _libpq(url)
    private_file(partial)
    _run(
        [pg_dump, "--format=custom", "--compress=6", "--file", str(partial), "--dbname", conninfo],
        env,
        "pg_dump",
    )


def check_archive(path: Path, bin_dir: str | None) -> list[str]:
    """The archive's table of contents; an archive that cannot be listed whole is refused."""
    with open(path, "rb") as handle:
        if not handle.read(5).startswith(b"PGDMP"):
            raise BackupError(
                f"{path} is not a PostgreSQL backup made by `crm db backup` "
                "(a .sqlite3.gz file restores into SQLite)."
            )
    listing = _run([tool("pg_restore", bin_dir), "--list", str(path)], dict(os.environ), "Reading")
    entries = [line for line in listing.stdout.splitlines() if line and not line.startswith(";")]
    if not any("TABLE DATA public lead " in line for line in entries):
        raise BackupError(f"{path} holds no lead table: it is not a backup of this CRM.")
    return entries


def leads_in(engine: Engine) -> int:
    if "lead" not in inspect(engine).get_table_names():
        return 0
    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM lead")).scalar_one())


def restore(engine: Engine, archive: Path, bin_dir: str | None) -> None:
    """Empty the public schema's tables, then restore the archive in one transaction.

    ``--clean --if-exists`` also drops what is not a table before making it again: the
    migrations' trigger functions and extensions (pg_trgm) outlive the tables they serve.
    """
    pg_restore = tool("pg_restore", bin_dir)
    tables = inspect(engine).get_table_names()
    if tables:
        quoted = ", ".join(engine.dialect.identifier_preparer.quote(table) for table in tables)
        with engine.begin() as connection:
            connection.execute(text(f"DROP TABLE IF EXISTS {quoted} CASCADE"))
    engine.dispose()
    conninfo, env = _libpq(engine.url)
    _run(
        [
            pg_restore,
            "--single-transaction",
            "--exit-on-error",
            "--clean",
            "--if-exists",
            "--no-owner",
            "--no-privileges",
            "--dbname",
            conninfo,
            str(archive),
        ],
        env,
        "pg_restore",
    )


def revision(engine: Engine) -> str | None:
    if "alembic_version" not in inspect(engine).get_table_names():
        return None
    with engine.connect() as connection:
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def counts(engine: Engine) -> dict[str, int]:
    names = set(inspect(engine).get_table_names())
    found = {}
    with engine.connect() as connection:
        for table in ("lead", "enquiry"):
            found[table] = (
                int(connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())  # noqa: S608
                if table in names
                else 0
            )
    return found
