"""Backup and restore of a large SQLite database through the real `crm db` commands.

    python bench/backup_bench.py [--leads 1000000]

Builds (or reuses) a benchmark database in bench/results/, then times `crm db backup` and
`crm db restore` into an empty file, as an operator would run them. One JSON line per figure.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from benchkit import RESULTS, emit, note
from dataset import build  # bench/ is on sys.path when this file is run

CRM = str(Path(sys.executable).with_name("crm"))


def crm(database: Path, instance: Path, *args: str) -> float:
    env = {name: value for name, value in os.environ.items() if not name.startswith("CRM_")}
    env.update(
        {
            "CRM_SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
            "CRM_INSTANCE_PATH": str(instance),
            "CRM_SECRET_KEY": "bench",
        }
    )
    started = time.perf_counter()
    result = subprocess.run([CRM, *args], env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"crm {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    note(result.stdout.strip())
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=1_000_000)
    leads = parser.parse_args().leads
    RESULTS.mkdir(parents=True, exist_ok=True)
    database = build(RESULTS / f"backup-{leads}.sqlite3", leads)
    case = {"leads": leads, "database": "sqlite"}
    emit("backup", "database_size", database.stat().st_size / 2**20, "MiB", **case)
    with tempfile.TemporaryDirectory(prefix="crm-backup-bench-") as folder:
        work = Path(folder)
        backup = work / "crm-bench.sqlite3.gz"
        seconds = crm(database, work / "instance", "db", "backup", "--output", str(backup))
        emit("backup", "backup_seconds", seconds, "s", **case)
        emit("backup", "backup_size", backup.stat().st_size / 2**20, "MiB", **case)
        emit(
            "backup",
            "compression_ratio",
            database.stat().st_size / backup.stat().st_size,
            "x",
            **case,
        )
        restored = work / "restored.sqlite3"
        seconds = crm(restored, work / "instance", "db", "restore", str(backup))
        emit("backup", "restore_seconds", seconds, "s", **case)


if __name__ == "__main__":
    main()
