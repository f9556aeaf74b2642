"""Where one ``POST /leads`` spends its time, in process: a profile, flushes and statements.

    .venv/bin/python bench/intake_profile.py [--requests 300] [--top 25]

Runs the real app on a fresh, migrated SQLite file (WAL, as served), posts valid submissions
from a new person each time through the test client, and prints to stderr the functions with
the most cumulative time, then JSON lines: the mean time per request, ORM flushes and SQL
statements per request, and the time spent inside the write transaction.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import tempfile
import time
import uuid
from pathlib import Path

from benchkit import emit, note
from flask_migrate import upgrade
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from crm import create_app
from crm.clinic.seed import seed_branches
from crm.intake.spam import sign_shown_at
from crm.platform import database
from crm.platform.extensions import db

BENCH = "intake_profile"


def make_app(folder: Path):  # type: ignore[no-untyped-def]
    os.environ["CRM_INSTANCE_PATH"] = str(folder / "instance")
    app = create_app(
        {
            "SECRET_KEY": "bench",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'crm.sqlite3'}",
            "WTF_CSRF_ENABLED": False,
            "FORM_MIN_FILL_SECONDS": 0,
            "RATELIMIT_ENABLED": False,
            "MAIL_DEFAULT_SENDER": "Clinic <no-reply@clinic.test>",
        }
    )
    with app.app_context():
        upgrade()
        seed_branches()
    return app


def form(number: int, shown_at: str) -> dict[str, str]:
    phone = f"+9198{number:08d}"
    return {
        "shown_at": shown_at,
        "name": "Ravi Kumar",
        "branch": "bengaluru",
        "interest": "back_pain",
        "message": "Lower back pain for two weeks.",
        "consent": "y",
        "phone": phone,
        "email": f"p{phone[1:]}@example.com",
        "submission_token": uuid.uuid4().hex,
    }


class Counters:
    """Flushes and statements, and wall time inside write transactions."""

    def __init__(self) -> None:
        self.flushes = 0
        self.statements = 0
        self.in_write = 0.0

    def install(self, app) -> None:  # type: ignore[no-untyped-def]
        event.listen(Session, "before_flush", self._flush)
        with app.app_context():
            event.listen(db.engine, "before_cursor_execute", self._statement)
        original = database.write_transaction.__wrapped__  # type: ignore[attr-defined]
        counters = self

        def timed():  # type: ignore[no-untyped-def]
            started = time.perf_counter()
            try:
                yield from original()
            finally:
                counters.in_write += time.perf_counter() - started

        from contextlib import contextmanager

        patched = contextmanager(timed)
        for module in _importers_of_write_transaction():
            module.write_transaction = patched

    def _flush(self, *_args: object) -> None:
        self.flushes += 1

    def _statement(self, _connection: object, _cursor: object, statement: str, *_: object) -> None:
        self.statements += 1
        if os.environ.get("SHOW_SQL") and self.statements <= 40:
            note(" ".join(statement.split())[:160])


def _importers_of_write_transaction() -> list[object]:
    import sys

    return [
        module
        for module in list(sys.modules.values())
        if getattr(module, "write_transaction", None) is database.write_transaction
    ]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="intake-profile-") as folder:
        app = make_app(Path(folder))
        client = app.test_client()
        with app.test_request_context():
            shown_at = sign_shown_at()
        headers = {"Accept": "application/json"}
        for number in range(50):  # warm up: templates compiled, statements cached
            assert (
                client.post("/leads", data=form(number, shown_at), headers=headers).status_code
                == 201
            )
        counters = Counters()
        counters.install(app)
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        for number in range(1000, 1000 + args.requests):
            response = client.post("/leads", data=form(number, shown_at), headers=headers)
            assert response.status_code == 201, response.get_data(as_text=True)
        profile.disable()
        elapsed = time.perf_counter() - started
        # The same again without the profiler, for the times.
        counters.in_write = 0.0
        started = time.perf_counter()
        for number in range(5000, 5000 + args.requests):
            response = client.post("/leads", data=form(number, shown_at), headers=headers)
            assert response.status_code == 201
        with app.app_context():
            filtered = db.session.scalar(
                text("SELECT count(*) FROM enquiry WHERE filtered_reason IS NOT NULL")
            )
        if filtered:
            raise SystemExit(f"{filtered} submissions were filtered as automated")
        plain = time.perf_counter() - started
    out = io.StringIO()
    pstats.Stats(profile, stream=out).sort_stats("cumulative").print_stats(args.top)
    note(out.getvalue())
    count = args.requests
    note(f"profiled {elapsed / count * 1000:.2f} ms/request")
    emit(BENCH, "request_ms", plain / count * 1000, "ms")
    emit(BENCH, "write_transaction_ms", counters.in_write / count * 1000, "ms")
    emit(BENCH, "flushes_per_request", counters.flushes / (2 * count), "flushes")
    emit(BENCH, "statements_per_request", counters.statements / (2 * count), "statements")


if __name__ == "__main__":
    main()
