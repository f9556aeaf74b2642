"""Backups that restore: ``crm db backup`` and ``crm db restore`` on SQLite and PostgreSQL.

A backup is one private file in the backup folder (``CRM_BACKUP_DIR``, by default
``instance/backups``), named by the UTC time it was taken: ``crm-<time>.sqlite3.gz`` (a copy
made with SQLite's online backup API, checked with ``PRAGMA integrity_check``, gzipped) or
``crm-<time>.pgdump`` (``pg_dump``'s custom format, checked by reading its table of contents).
"""

from __future__ import annotations

from crm.backup.files import (
    BackupError,
    backup_files,
    backup_folder,
    backup_health,
    newest_backup_age,
    prune,
)
from crm.backup.run import BackupReport, RestoreReport, restore_backup, take_backup

__all__ = [
    "BackupError",
    "BackupReport",
    "RestoreReport",
    "backup_files",
    "backup_folder",
    "backup_health",
    "newest_backup_age",
    "prune",
    "restore_backup",
    "take_backup",
]
