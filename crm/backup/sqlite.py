"""SQLite: an online copy through the backup API, checked, gzipped; restored the same way."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

from crm.backup.files import BackupError, private_file

GZIP_MAGIC = b"\x1f\x8b"
SQLITE_MAGIC = b"SQLite format 3\x00"
POSTGRES_MAGIC = b"PGDMP"
CHUNK = 1024 * 1024


def copy_database(source: Path, copy: Path, *, busy_timeout_ms: int) -> None:
    """A consistent copy of the live database at ``copy`` (a new private file).

    One backup step copies every page inside one read transaction: in WAL mode writers go on
    committing meanwhile, and the copy is the database as it was when the step began. (Several
    small steps would restart whenever the site wrote in between, and might never finish.)
    """
    if not source.exists():
        raise BackupError(f"There is no database at {source} to back up.")
    private_file(copy)
    with (
        closing(sqlite3.connect(source, timeout=busy_timeout_ms / 1000)) as live,
        closing(sqlite3.connect(copy)) as target,
    ):
        live.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        live.backup(target)
        # A standalone file: no -wal or -shm beside it when the copy is opened later.
        target.execute("PRAGMA journal_mode = DELETE")


def check_integrity(path: Path) -> None:
    """``PRAGMA integrity_check`` says "ok", or the file is no database to trust."""
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as connection:
            rows = [row[0] for row in connection.execute("PRAGMA integrity_check")]
    except sqlite3.DatabaseError as error:
        raise BackupError(f"{path} is not a readable SQLite database: {error}") from error
    if rows != ["ok"]:
        raise BackupError(f"The integrity check of {path} failed: {'; '.join(rows[:5])}")


def counts(path: Path) -> dict[str, int]:
    """Rows of the tables people ask about, in a database file (missing tables count 0)."""
    found: dict[str, int] = {}
    with closing(sqlite3.connect(path)) as connection:
        listed = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        tables = {row[0] for row in listed}
        for table in ("lead", "enquiry"):
            found[table] = (
                connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]  # noqa: S608
                if table in tables
                else 0
            )
    return found


def revision(path: Path) -> str | None:
    with closing(sqlite3.connect(path)) as connection:
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
    return row[0] if row else None


def compress(source: Path, target: Path) -> None:
    """gzip ``source`` into ``target`` (a new private file)."""
    private_file(target)
    # mtime=0 and no file name: the archive says nothing beyond its contents.
    with (
        open(source, "rb") as raw,
        open(target, "wb") as out,
        gzip.GzipFile(fileobj=out, mode="wb", compresslevel=6, mtime=0, filename="") as packed,
    ):
        shutil.copyfileobj(raw, packed, CHUNK)


def unpack(archive: Path, target: Path) -> None:
    """The database inside a backup (gzipped, or a plain SQLite file) at ``target``."""
    with open(archive, "rb") as handle:
        head = handle.read(16)
    if head.startswith(POSTGRES_MAGIC):
        raise BackupError(
            f"{archive} is a PostgreSQL backup; restore it into a PostgreSQL database "
            "(set CRM_SQLALCHEMY_DATABASE_URI to it)."
        )
    private_file(target)
    try:
        if head.startswith(GZIP_MAGIC):
            with gzip.open(archive, "rb") as packed, open(target, "wb") as out:
                shutil.copyfileobj(packed, out, CHUNK)
        elif head.startswith(SQLITE_MAGIC):
            with open(archive, "rb") as raw, open(target, "wb") as out:
                shutil.copyfileobj(raw, out, CHUNK)
        else:
            raise BackupError(f"{archive} is not a backup made by `crm db backup`.")
    except (OSError, EOFError) as error:
        raise BackupError(f"{archive} cannot be read whole: {error}") from error


def leads_in(path: Path) -> int:
    """How many leads the database at ``path`` holds (0 when it does not exist yet)."""
    if not path.exists() or path.stat().st_size == 0:
        return 0
    return counts(path)["lead"]


def write_into(copy: Path, database: Path, *, busy_timeout_ms: int) -> None:
    """Replace the contents of ``database`` by ``copy`` through the backup API, which takes
    the database's lock and rewrites it whole (its WAL included) in one step."""
    with (
        closing(sqlite3.connect(copy)) as source,
        closing(sqlite3.connect(database, timeout=busy_timeout_ms / 1000)) as target,
    ):
        target.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        source.backup(target)
        target.execute("PRAGMA journal_mode = WAL")
