"""The app under gunicorn with four workers, on the suite's database (SQLite, or PostgreSQL).

2,000 enquiries from 32 clients at once, then faults during load: mail refusing, mail hanging,
the database held by another process, the mail worker killed mid-send. Nothing may be lost,
and what staff see must be true. Counts and guards bound the run; no timing is asserted.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import make_app
from tests.dblock import locked_by_another_process
from tests.loadkit import Gunicorn, load, request
from tests.smtp import (
    SENDER,
    MailSettings,
    RecordingHandler,
    SilentServer,
    SMTPServer,
    crm_process,
    free_port,
    run_crm,
)
from tests.staff_helpers import enter_as, make_staff

pytestmark = pytest.mark.load
GUARD = 300


def scalar(database_url: str, sql: str) -> Any:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text(sql)).scalar()
    finally:
        engine.dispose()


def column(database_url: str, sql: str) -> list[Any]:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return list(connection.execute(text(sql)).scalars())
    finally:
        engine.dispose()


def table_counts(database_url: str) -> dict[str, int]:
    return {
        table: scalar(database_url, f"SELECT count(*) FROM {table}")  # noqa: S608 (fixed names)
        for table in ("lead", "enquiry", "lead_event", "outbox_email")
    }


def test_2000_submissions_from_32_clients_are_each_stored_exactly_once(database_url, tmp_path):
    with Gunicorn(database_url, tmp_path / "instance", workers=4) as server:
        answers, tokens, retried = load(server.base, total=2000, clients=32)

    assert answers == Counter({201: 2000})  # no 5xx, and nothing needed sending twice
    assert retried == 0
    assert len(set(tokens)) == 2000
    assert table_counts(database_url) == {
        "lead": 2000,
        "enquiry": 2000,
        "lead_event": 2000 * 4,  # created, enquiry, two emails queued
        "outbox_email": 2000 * 2,
    }
    assert scalar(database_url, "SELECT count(DISTINCT submission_token) FROM enquiry") == 2000
    assert scalar(database_url, "SELECT count(DISTINCT phone) FROM lead") == 2000


class HangOnce(RecordingHandler):
    """Delivers normally, except that the n-th message is held, unanswered, until released."""

    def __init__(self, at: int) -> None:
        super().__init__()
        self.at = at
        self.hanging = threading.Event()
        self.release = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.record(session, envelope)
        with self.lock:
            position = len(self.messages)
        if position == self.at:
            self.hanging.set()
            while not self.release.is_set():
                await asyncio.sleep(0.05)
            return "451 4.3.0 try again later"
        return "250 2.0.0 Message accepted for delivery"


def wait_for(condition, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + GUARD
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.25)
    raise AssertionError(f"gave up waiting: {what}")


def test_faults_during_load_lose_nothing_and_staff_see_the_truth(database_url, tmp_path):
    port = free_port()
    instance = tmp_path / "instance"
    fast_retries = {
        "OUTBOX_RETRY_BASE_SECONDS": 1,
        "OUTBOX_RETRY_MAX_SECONDS": 2,
        "OUTBOX_LEASE_SECONDS": 4,
        "MAIL_TIMEOUT": 1,
    }
    settings = MailSettings(database_url, instance, port)
    web_env = {
        "CRM_MAIL_SERVER": "127.0.0.1",
        "CRM_MAIL_PORT": str(port),
        "CRM_MAIL_DEFAULT_SENDER": SENDER,
        "CRM_DATABASE_LOCK_TIMEOUT_MS": "500",
    }
    all_answers: Counter = Counter()
    with Gunicorn(database_url, instance, workers=4, extra=web_env) as server:
        worker = crm_process(
            settings, "outbox", "send", "--loop", "--interval", "0.5", **fast_retries
        )

        # 1. The mail server refuses connections: visitors are answered, mail waits.
        answers, _tokens, _ = load(server.base, total=150, clients=16, start=0)
        all_answers.update(answers)
        status, _headers, body = request(server.base, "GET", "/healthz")
        outbox = json.loads(body)["outbox"]
        assert status == 200
        assert outbox["pending"] == 300 and outbox["failed"] == 0

        # 2. The mail server accepts and never speaks; meanwhile another process holds the
        #    database for two seconds, longer than a request will wait for it.
        with SilentServer(port), ThreadPoolExecutor(max_workers=1) as pool:
            with locked_by_another_process(database_url):
                traffic = pool.submit(load, server.base, 150, 16, start=150)
                time.sleep(2)
            answers, _tokens, retried = traffic.result(timeout=GUARD)
        all_answers.update(answers)
        assert answers[503] > 0  # the held database turned some visitors away...
        assert answers[503] == retried  # ...every one of them sent the form again...
        assert scalar(database_url, "SELECT count(*) FROM enquiry") == 300  # ...and stored once

        # 3. A real mail server; the worker is killed while a message is in flight.
        handler = HangOnce(at=40)
        with SMTPServer(handler, port=port) as smtp:
            assert handler.hanging.wait(GUARD), "the worker never reached the 40th message"
            worker.kill()
            worker.wait(timeout=30)
            handler.release.set()
            answers, _tokens, _ = load(server.base, total=100, clients=8, start=300)
            all_answers.update(answers)
            worker = crm_process(
                settings, "outbox", "send", "--loop", "--interval", "0.5", **fast_retries
            )
            wait_for(
                lambda: (
                    scalar(database_url, "SELECT count(*) FROM outbox_email WHERE status <> 'sent'")
                    == 0
                ),
                "every email sent",
            )
            received = smtp.messages
        worker.terminate()
        worker.wait(timeout=30)

    # Nothing lost: every visitor got a 201 in the end, each enquiry is stored once.
    assert all_answers[201] == 400
    assert set(all_answers) <= {201, 503}
    assert table_counts(database_url)["enquiry"] == 400
    assert scalar(database_url, "SELECT count(DISTINCT submission_token) FROM enquiry") == 400
    # Every email reached the server at least once, under its own stable Message-ID; the only
    # repeats are those the killed worker had claimed and could not report.
    stored_ids = set(column(database_url, "SELECT message_id FROM outbox_email"))
    delivered = Counter(message.message_id for message in received)
    assert set(delivered) == stored_ids
    assert len(stored_ids) == 800
    assert sum(delivered.values()) - len(delivered) <= 20

    # What staff see is the truth: all sent, no warning, every lead waiting for a call.
    app = make_app(database_url)
    staff = enter_as(app.test_client(), app, make_staff(app, "admin", None, name="Ada Admin"))
    dashboard = staff.get("/staff/").get_data(as_text=True)
    assert "data-mail-warning" not in dashboard
    assert 'data-figure="new-waiting">400<' in dashboard
    lead_page = staff.get("/staff/leads/1").get_data(as_text=True)
    emails = lead_page.split('id="emails-title"')[1].split('id="timeline-title"')[0]
    assert emails.count(">Sent</span>") == 2
    health = json.loads(staff.get("/healthz").get_data(as_text=True))["outbox"]
    assert (health["pending"], health["failed"]) == (0, 0)
    assert run_crm(settings, "outbox", "send").returncode == 0
