"""A backup taken while visitors keep writing restores whole, with every answered enquiry.

The app runs under gunicorn on the suite's database; 200 enquiries arrive from 8 visitors at
once, and `crm db backup` runs as its own process part-way through. The restored copy must
pass the integrity check and hold every enquiry whose 201 arrived before the backup started.
"""

from __future__ import annotations

import subprocess
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.backupkit import backup_config, column, crm_env, database_factory, integrity_ok
from tests.conftest import make_app
from tests.loadkit import GUARD_SECONDS, Gunicorn, Visitor, phones
from tests.smtp import crm_executable
from tests.test_migrations import _drift

pytestmark = pytest.mark.load
TOTAL = 200
CLIENTS = 8
BACKUP_AFTER = 60  # answered enquiries before the backup starts
# Visitors pause between sends so that the load outlasts the start of a `crm` process and the
# copy is taken mid-stream (pacing only: nothing is asserted about time).
PAUSE_SECONDS = 0.15


@pytest.fixture
def new_database(databases, tmp_path):
    yield from database_factory(databases, tmp_path)


def test_a_backup_during_200_enquiries_restores_every_answered_one(
    database_url, tmp_path, new_database
):
    backups = tmp_path / "backups"
    answered: list[str] = []
    lock = threading.Lock()
    numbers = phones(TOTAL, start=500)

    with Gunicorn(database_url, tmp_path / "instance", workers=2) as server:
        visitors = [Visitor(server.base) for _ in range(CLIENTS)]
        for visitor in visitors:
            visitor.open_page()

        def run(index: int) -> None:
            visitor = visitors[index]
            for phone in numbers[index::CLIENTS]:
                created = visitor.answers[201]
                token = visitor.send(phone, retries_on_503=0)
                if visitor.answers[201] > created:  # this one was answered 201
                    with lock:
                        answered.append(token)
                time.sleep(PAUSE_SECONDS)

        with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
            futures = [pool.submit(run, index) for index in range(CLIENTS)]
            deadline = time.monotonic() + GUARD_SECONDS
            while len(answered) < BACKUP_AFTER and time.monotonic() < deadline:
                time.sleep(0.01)
            with lock:
                before = set(answered)
            made = subprocess.run(
                [crm_executable(), "db", "backup"],
                env=crm_env(database_url, tmp_path / "cli", backups),
                capture_output=True,
                text=True,
                timeout=GUARD_SECONDS,
                check=False,
            )
            with lock:
                during = len(answered) - len(before)
            for future in futures:
                future.result(timeout=GUARD_SECONDS)

    assert made.returncode == 0, made.stderr
    assert len(before) >= BACKUP_AFTER
    # The site went on answering, and never had to refuse anyone for a busy database.
    answers = sum((visitor.answers for visitor in visitors), start=type(visitors[0].answers)())
    assert dict(answers) == {201: TOTAL}
    assert len(answered) == TOTAL
    [backup] = list(backups.iterdir())

    target_url = new_database("restored")
    target = make_app(target_url, **backup_config(backups))
    restored = target.test_cli_runner().invoke(args=["db", "restore", str(backup)])
    assert restored.exit_code == 0, restored.output
    assert integrity_ok(target_url)
    assert _drift(target) == []
    tokens = set(column(target_url, "SELECT submission_token FROM enquiry"))
    assert before <= tokens
    # A consistent copy: whatever it holds, each enquiry came with its lead and nothing twice.
    assert len(tokens) == len(column(target_url, "SELECT id FROM lead"))
    assert len(tokens) <= TOTAL
    print(f"backup began after {len(before)} answers, {during} more came while it ran; ")
    print(f"the copy holds {len(tokens)} of {TOTAL}")
