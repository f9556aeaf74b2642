"""Outbox workers as real ``crm outbox send`` processes: concurrency, hangs, crashes, signals."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from crm.mail.outbox import queue_email
from crm.models import EventKind, LeadEvent, OutboxEmail
from crm.platform.database import write_transaction
from crm.platform.extensions import db
from tests.helpers import submit_reach_out
from tests.smtp import (
    GUARD_SECONDS,
    AfterEach,
    HangAfterData,
    MailSettings,
    Received,
    RequireOverlap,
    SilentServer,
    SMTPServer,
    crm_process,
    free_port,
    run_crm,
)


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> MailSettings:
    return MailSettings(database_url=database_url, instance=tmp_path / "worker", port=free_port())


def queue(app, count: int) -> list[str]:
    with app.app_context(), write_transaction() as session:
        emails = [
            queue_email(
                session,
                kind="test",
                to=f"person{number}@example.com",
                subject=f"Message {number}",
                text_body=f"Body {number}",
            )
            for number in range(count)
        ]
        session.flush()
        return [email.message_id for email in emails]


def rows(app) -> list[OutboxEmail]:
    with app.app_context():
        found = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
        db.session.expunge_all()
        return found


def sent_count(output: str) -> int:
    return sum(int(found) for found in re.findall(r"^Sent (\d+),", output, re.M))


def test_two_workers_at_once_send_every_email_exactly_once(app, settings):
    message_ids = queue(app, 120)
    with SMTPServer(RequireOverlap(), port=settings.port) as server:
        workers = [crm_process(settings, "outbox", "send", "--batch", "5") for _ in range(2)]
        outputs = [worker.communicate(timeout=GUARD_SECONDS) for worker in workers]
        received = server.messages
        overlapped = server.handler.overlapped

    for worker, (_stdout, stderr) in zip(workers, outputs, strict=True):
        assert worker.returncode == 0, stderr
    # Both were delivering at the same moment, holding claims side by side...
    assert overlapped
    # ...and each email went out once, each worker sending its share.
    assert Counter(message.message_id for message in received) == Counter(message_ids)
    shares = [sent_count(stdout) for stdout, _stderr in outputs]
    assert sum(shares) == 120 and min(shares) > 0
    assert {(row.status, row.attempts) for row in rows(app)} == {("sent", 1)}


# How long ``crm outbox send`` may take for ``tried`` messages when each send may block on
# the server: a correctness bound on MAIL_TIMEOUT, not a speed goal. Every blocking socket
# operation gives up after MAIL_TIMEOUT; a message meets at most two of them (the connect and
# greeting, then the reply to its DATA), so a worker honouring the timeout spends at most
# 2 x MAIL_TIMEOUT per message tried, plus STARTUP_ALLOWANCE for the process itself (interpreter,
# imports, database) on a slow, busy machine. A timeout that is ignored would instead hold the
# worker until the server gives up (never, here) or GUARD_SECONDS kills it.
MAIL_TIMEOUT = 1
STARTUP_ALLOWANCE = 12.0


def hang_bound(tried: int) -> float:
    return STARTUP_ALLOWANCE + tried * 2 * MAIL_TIMEOUT


def timed_send(settings: MailSettings, **overrides: object):  # type: ignore[no-untyped-def]
    started = time.monotonic()
    finished = run_crm(settings, "outbox", "send", MAIL_TIMEOUT=MAIL_TIMEOUT, **overrides)
    return finished, time.monotonic() - started


def test_a_server_that_never_greets_does_not_hold_the_worker(app, settings):
    queue(app, 3)
    with SilentServer() as silent:
        finished, elapsed = timed_send(settings, MAIL_PORT=silent.port)
    assert finished.returncode == 0, finished.stderr
    # The worst case tries all three (it stops at the first: the server is down for all).
    assert elapsed < hang_bound(tried=3), elapsed
    assert "Sent 0, to retry later 3, failed 0." in finished.stdout
    assert all(row.status == "pending" and row.attempts == 1 for row in rows(app))
    assert all("timed out" in row.last_error for row in rows(app))


def test_a_server_that_hangs_after_the_message_does_not_hold_the_worker(app, settings):
    queue(app, 2)
    handler = HangAfterData()
    with SMTPServer(handler, port=settings.port):
        finished, elapsed = timed_send(settings)
    assert handler.received.is_set()
    assert finished.returncode == 0, finished.stderr
    assert elapsed < hang_bound(tried=2), elapsed
    assert "Sent 0, to retry later 2, failed 0." in finished.stdout
    # The server may have kept the first one: the retry can duplicate it, never lose it.
    assert [(row.status, row.attempts) for row in rows(app)] == [("pending", 1)] * 2
    assert all("timed out" in row.last_error for row in rows(app))


def test_a_worker_killed_mid_send_is_taken_over_after_the_lease_under_the_same_message_id(
    client, app, settings
):
    assert submit_reach_out(client, json=True, email="").status_code == 201
    hung = HangAfterData()
    with SMTPServer(hung, port=settings.port):
        worker = crm_process(settings, "outbox", "send")
        try:
            assert hung.received.wait(GUARD_SECONDS), "the worker never reached the server"
        finally:
            worker.kill()
            worker.communicate(timeout=GUARD_SECONDS)
        first_attempt: Received = hung.messages[0]

    (row,) = rows(app)
    assert (row.status, row.attempts) == ("sending", 1)

    with SMTPServer() as server:
        # Within the lease the row still belongs to the dead worker.
        early = run_crm(settings, "outbox", "send", MAIL_PORT=server.port)
        assert "Sent 0," in early.stdout
        assert server.messages == []
        # Once the lease is over, the next worker takes it and sends it again.
        late = run_crm(settings, "outbox", "send", MAIL_PORT=server.port, OUTBOX_LEASE_SECONDS=0)
        assert "Sent 1, to retry later 0, failed 0." in late.stdout
        (resent,) = server.messages

    assert resent.message_id == first_attempt.message_id == row.message_id
    assert resent.part("plain") == first_attempt.part("plain")
    (row,) = rows(app)
    assert (row.status, row.attempts) == ("sent", 2)
    with app.app_context():
        details = db.session.scalars(
            select(LeadEvent.detail).where(LeadEvent.kind == EventKind.EMAIL)
        ).all()
        assert [detail.get("status") for detail in details] == [None, "sent"]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_looping_worker_stops_cleanly_on_a_signal_and_hands_back_the_rest(app, settings, signum):
    queue(app, 10)
    worker = None

    def stop_the_worker(_received: Received) -> None:
        if worker is not None:
            os.kill(worker.pid, signum)

    with SMTPServer(AfterEach(stop_the_worker), port=settings.port) as server:
        worker = crm_process(
            settings, "outbox", "send", "--loop", "--batch", "10", "--interval", "0.2"
        )
        stdout, stderr = worker.communicate(timeout=GUARD_SECONDS)
        received = server.messages

    assert worker.returncode == 0, stderr
    assert "Sent 1, to retry later 0, failed 0, handed back 9." in stdout
    assert stdout.rstrip().endswith("Stopped. Sent 1 in all.")
    assert len(received) == 1
    states = Counter((row.status, row.attempts) for row in rows(app))
    # The message in flight was finished; the rest wait, due at once, no attempt counted.
    assert states == Counter({("sent", 1): 1, ("pending", 0): 9})


RACED_ROWS = 800
CLAIM_LOOP = """
import sys
from crm import create_app
from crm.mail.worker import claim_due

app = create_app()
with app.app_context():
    print("ready", flush=True)
    sys.stdin.readline()  # everyone starts together, once every process is ready
    while batch := claim_due(2).ids:
        print(*batch, flush=True)
"""


def test_claims_racing_in_many_processes_never_share_a_row(app, settings):
    """The claim alone, with no SMTP in between, so the racing claims really do overlap.

    Enough rows that no one process can claim them all before the others are scheduled, even
    on a busy machine (200 were once all taken by one)."""
    queue(app, RACED_ROWS)
    claimers = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIM_LOOP],
            env=settings.env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    # A process still importing when the others start would find nothing left to claim.
    for claimer in claimers:
        assert claimer.stdout.readline().strip() == "ready"
    for claimer in claimers:
        claimer.stdin.write("go\n")
        claimer.stdin.flush()
    outputs = [claimer.communicate(timeout=GUARD_SECONDS) for claimer in claimers]

    shares = []
    for claimer, (stdout, stderr) in zip(claimers, outputs, strict=True):
        assert claimer.returncode == 0, stderr
        shares.append([int(email_id) for email_id in stdout.split()])
    everything = [email_id for share in shares for email_id in share]
    assert len(everything) == len(set(everything)) == RACED_ROWS
    assert sum(1 for share in shares if share) > 1
    assert {(row.status, row.attempts) for row in rows(app)} == {("sending", 1)}
