"""Build a large, migrated SQLite database of leads for the benchmarks (reused if present)."""

from __future__ import annotations

import random
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

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


def build(path: Path, leads: int, *, branch_share: float = 0.5, seed: int = 7) -> Path:
    """A database at ``path`` with ``leads`` leads (one enquiry each). Skips work if it exists."""
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

    rng = random.Random(seed)
    started = time.perf_counter()
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=OFF")

    def rows():
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

    batch = []
    for row in rows():
        batch.append(row)
        if len(batch) == 50_000:
            _insert(connection, batch)
            batch.clear()
    if batch:
        _insert(connection, batch)
    connection.commit()
    connection.execute("ANALYZE")
    connection.close()
    marker.write_text(str(leads))
    print(f"built {leads:,} leads in {time.perf_counter() - started:.1f} s at {path}")
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


def _insert(connection: sqlite3.Connection, batch: list[tuple]) -> None:
    connection.executemany(
        "INSERT INTO lead (id, branch_id, name, phone, email, interest, source, status,"
        " lost_reason, created_at, updated_at, last_enquiry_at, first_response_at,"
        " enquiry_count, version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,1,1)",
        batch,
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
