"""Taking and restoring backups of the app's own database (whichever kind it is)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from alembic.script import ScriptDirectory
from flask import Flask

from crm.backup import postgres, sqlite
from crm.backup.files import (
    BackupError,
    backup_folder,
    backup_name,
    private_folder,
    prune,
    publish,
    size_label,
)
from crm.platform.extensions import db


@dataclass(frozen=True)
class BackupReport:
    path: Path
    size: int
    seconds: float
    counts: dict[str, int] | None  # rows in the copy (SQLite; a dump is not opened to count)
    removed: list[Path] = field(default_factory=list)

    def lines(self) -> list[str]:
        held = (
            f", {_count(self.counts['lead'], 'lead')} and "
            f"{_count(self.counts['enquiry'], 'enquiry', 'enquiries')}"
            if self.counts is not None
            else ""
        )
        lines = [
            f"Backup written: {self.path} ({size_label(self.size)}{held}; "
            f"checked whole; {self.seconds:.1f} s)."
        ]
        if self.removed:
            names = ", ".join(path.name for path in self.removed)
            lines.append(f"Removed {len(self.removed)} older: {names}.")
        return lines


@dataclass(frozen=True)
class RestoreReport:
    counts: dict[str, int]
    revision: str | None
    head: str | None
    replaced_leads: int

    @property
    def needs_upgrade(self) -> bool:
        return self.revision != self.head

    def lines(self) -> list[str]:
        lines = [
            f"Restored {_count(self.counts['lead'], 'lead')} and "
            f"{_count(self.counts['enquiry'], 'enquiry', 'enquiries')}"
            + (
                f" (replacing {_count(self.replaced_leads, 'lead')})."
                if self.replaced_leads
                else "."
            )
        ]
        if self.needs_upgrade:
            lines.append(
                f"The backup's schema is at revision {self.revision or 'none'}; this version of "
                f"the CRM expects {self.head}. Run `crm db upgrade` now, before starting the site."
            )
        return lines


def take_backup(app: Flask, *, output: Path | None = None, keep: int | None = None) -> BackupReport:
    """Back the database up to ``output`` or a new time-named file in the backup folder;
    then keep only the newest ``keep`` backups of that folder."""
    started = time.perf_counter()
    engine = db.engine
    dialect = engine.dialect.name
    if dialect not in ("sqlite", "postgresql"):
        raise BackupError(f"Backups of {dialect} databases are not supported.")
    final = output if output is not None else backup_folder(app) / backup_name(dialect)
    private_folder(final.parent)
    partial = final.with_name(f".{final.name}.partial")
    copy = final.with_name(f".{final.name}.copy")
    counts = None
    try:
        if dialect == "sqlite":
            sqlite.copy_database(
                Path(str(engine.url.database)),
                copy,
                busy_timeout_ms=app.config["DATABASE_LOCK_TIMEOUT_MS"],
            )
            sqlite.check_integrity(copy)
            counts = sqlite.counts(copy)
            sqlite.compress(copy, partial)
        else:
            bin_dir = app.config.get("BACKUP_PG_BIN_DIR")
            postgres.dump(engine.url, partial, bin_dir)
            postgres.check_archive(partial, bin_dir)
        publish(partial, final)
    finally:
        copy.unlink(missing_ok=True)
        partial.unlink(missing_ok=True)
    removed = prune(final.parent, keep) if keep else []
    return BackupReport(
        path=final,
        size=final.stat().st_size,
        seconds=time.perf_counter() - started,
        counts=counts,
        removed=removed,
    )


def restore_backup(app: Flask, archive: Path, *, force: bool = False) -> RestoreReport:
    """Replace the database by the backup; refused while it holds leads, unless ``force``."""
    engine = db.engine
    dialect = engine.dialect.name
    db.session.remove()
    if dialect == "sqlite":
        database = Path(str(engine.url.database))
        engine.dispose()
        unpacked = database.with_name(f".{database.name}.restoring")
        unpacked.unlink(missing_ok=True)
        try:
            sqlite.unpack(archive, unpacked)
            sqlite.check_integrity(unpacked)
            replaced = _refuse_unless_forced(sqlite.leads_in(database), force)
            sqlite.write_into(
                unpacked, database, busy_timeout_ms=app.config["DATABASE_LOCK_TIMEOUT_MS"]
            )
        finally:
            unpacked.unlink(missing_ok=True)
        counts, revision = sqlite.counts(database), sqlite.revision(database)
    elif dialect == "postgresql":
        bin_dir = app.config.get("BACKUP_PG_BIN_DIR")
        postgres.check_archive(archive, bin_dir)
        replaced = _refuse_unless_forced(postgres.leads_in(engine), force)
        postgres.restore(engine, archive, bin_dir)
        counts, revision = postgres.counts(engine), postgres.revision(engine)
        engine.dispose()
    else:
        raise BackupError(f"Restoring into {dialect} databases is not supported.")
    return RestoreReport(counts=counts, revision=revision, head=_head(app), replaced_leads=replaced)


def _refuse_unless_forced(leads: int, force: bool) -> int:
    if leads and not force:
        raise BackupError(
            f"The database holds {_count(leads, 'lead')}; restoring would replace them all. "
            "Restore into an empty database, or pass --force if replacing them is what you want "
            "(take a backup of it first)."
        )
    return leads


def _head(app: Flask) -> str | None:
    directory = app.extensions["migrate"].directory
    return ScriptDirectory(str(directory)).get_current_head()


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number:,} {singular if number == 1 else (plural or singular + 's')}"
