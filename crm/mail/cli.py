"""``crm outbox send|retry``."""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.exc import SQLAlchemyError

from crm.mail.worker import (
    RunResult,
    drain,
    requeue_failed,
    waiting_count,
    why_mail_cannot_be_sent,
)
from crm.platform.extensions import db

log = logging.getLogger(__name__)


@click.group("outbox", cls=AppGroup)
def outbox_group() -> None:
    """Send the emails waiting in the outbox."""


@outbox_group.command("send")
@click.option("--loop", is_flag=True, help="Keep running, sending new emails as they arrive.")
@click.option("--batch", type=click.IntRange(min=1), help="Emails claimed at a time.")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    help="With --loop: seconds between looks at the outbox (default OUTBOX_POLL_SECONDS).",
)
@with_appcontext
def send_command(loop: bool, batch: int | None, interval: float | None) -> None:
    """Send every email that is due; --loop keeps doing so until SIGTERM or Ctrl-C."""
    config = current_app.config
    batch = batch or int(config["OUTBOX_BATCH_SIZE"])
    interval = interval or float(config["OUTBOX_POLL_SECONDS"])
    missing = why_mail_cannot_be_sent()
    if missing:
        waiting = waiting_count()
        note = (
            f"{missing}, so nothing was sent: "
            f"{waiting} email{' waits' if waiting == 1 else 's wait'} in the outbox."
        )
        if loop:
            raise click.ClickException(note)
        click.echo(note, err=True)
        return
    _show_worker_logs()

    with _stop_on_signals() as stop:
        if not loop:
            _report(drain(batch, stop))
            return
        click.echo(f"Sending from the outbox every {interval:g}s (batch {batch}); Ctrl-C stops.")
        total = RunResult()
        while not stop.is_set():
            try:
                result = drain(batch, stop)
            except SQLAlchemyError:
                # The database restarting or locked for long should not end the worker.
                log.exception("outbox worker: database error; trying again shortly")
                db.session.remove()
            else:
                total.add(result)
                if result.claimed:
                    _report(result)
            stop.wait(interval)
        click.echo(f"Stopped. Sent {total.sent} in all.")


@outbox_group.command("retry")
@click.option("--id", "email_ids", type=int, multiple=True, help="A failed email (repeatable).")
@click.option("--all-failed", is_flag=True, help="Every failed email.")
@with_appcontext
def retry_command(email_ids: tuple[int, ...], all_failed: bool) -> None:
    """Queue failed emails again (after fixing what made them fail)."""
    if not email_ids and not all_failed:
        raise click.UsageError("Name the emails with --id, or pass --all-failed.")
    count = requeue_failed(None if all_failed else list(email_ids))
    click.echo(f"Queued again: {count} email{'' if count == 1 else 's'}.")


def _report(result: RunResult) -> None:
    parts = [f"Sent {result.sent}", f"to retry later {result.retrying}", f"failed {result.failed}"]
    if result.released:
        parts.append(f"handed back {result.released}")
    if result.lost:
        parts.append(f"taken over by another worker {result.lost}")
    click.echo(", ".join(parts) + ".")
    if result.server_down:
        click.echo("The mail server could not be reached; the emails will be retried.", err=True)


def _show_worker_logs() -> None:
    """Per-email lines (ids, kinds and SMTP replies, never addresses or bodies) on stderr."""
    logger = logging.getLogger("crm.mail")
    if not logger.handlers and not logging.getLogger().handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False  # Flask's handler on "crm" would print each line again


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """SIGTERM and SIGINT finish the email being sent, hand back the rest, then exit cleanly."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def request_stop(_signum: int, _frame: object) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
