"""Backup files: where they go, what they are called, who may read them, which are kept."""

from __future__ import annotations

import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask

# crm-20261101T023000.123456Z.sqlite3.gz / crm-20261101T023000.123456Z.pgdump: names sort by time.
BACKUP_NAME = re.compile(r"^crm-\d{8}T\d{6}\.\d{6}Z\.(?:sqlite3\.gz|pgdump)$")
SUFFIXES = {"sqlite": ".sqlite3.gz", "postgresql": ".pgdump"}


class BackupError(RuntimeError):
    """The backup or restore cannot be done; the message says why and what to do."""


def backup_folder(app: Flask) -> Path:
    """``CRM_BACKUP_DIR``, or ``backups`` in the instance folder."""
    configured = app.config.get("BACKUP_DIR")
    return Path(configured) if configured else Path(app.instance_path) / "backups"


def backup_name(dialect: str, now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    return f"crm-{stamp}{SUFFIXES[dialect]}"


def backup_files(folder: Path) -> list[Path]:
    """The backups in ``folder``, oldest first (other files are never touched)."""
    if not folder.is_dir():
        return []
    return sorted(path for path in folder.iterdir() if BACKUP_NAME.match(path.name))


def newest_backup_age(folder: Path, now: float | None = None) -> float | None:
    """Seconds since the newest backup in ``folder`` was written; None when there is none."""
    files = backup_files(folder)
    if not files:
        return None
    try:
        written = files[-1].stat().st_mtime
    except OSError:
        return None
    return max(0.0, (time.time() if now is None else now) - written)


def backup_health(app: Flask) -> dict[str, int | None]:
    """For /healthz: how old the newest backup in the backup folder is (None: there is none)."""
    age = newest_backup_age(backup_folder(app))
    return {"newest_age_seconds": None if age is None else int(age)}


def prune(folder: Path, keep: int) -> list[Path]:
    """Remove the oldest backups beyond the newest ``keep``; returns what was removed."""
    if keep < 1:
        raise ValueError("keep at least one backup")
    removed = []
    for path in backup_files(folder)[:-keep]:
        path.unlink(missing_ok=True)
        removed.append(path)
    return removed


def private_folder(folder: Path) -> None:
    """The folder, created readable by its owner only if it is new (an existing one is kept)."""
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)


def private_file(path: Path) -> None:
    """An empty file only its owner can read, which must not exist yet (never overwrite)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as error:
        raise BackupError(f"{path} already exists; choose another file.") from error
    os.close(fd)


def publish(partial: Path, final: Path) -> None:
    """Give a finished file its name in one step, durably: a crash leaves no half backup."""
    with open(partial, "rb") as handle:
        os.fsync(handle.fileno())
    if final.exists():
        partial.unlink()
        raise BackupError(f"{final} already exists; choose another file.")
    os.replace(partial, final)
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def size_label(size: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size} {unit}" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return f"{size} bytes"
