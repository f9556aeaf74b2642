"""The outbox worker: claim due emails atomically, send them, record what happened.

A claim is a short write transaction that moves due rows to ``sending`` and stamps
``claimed_at``; SMTP happens outside any transaction, and each result is written in its own
short transaction that first checks the claim is still this worker's (``claimed_at`` is the
fence). A worker that dies mid-send leaves its rows in ``sending``; after the lease they are
claimed again and sent under the same Message-ID: a possible duplicate, never a loss.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from crm.mail.compose import compose_now
from crm.mail.outbox import single_line
from crm.mail.outcomes import REQUEUED, DeliveryOutcome, tell_listeners
from crm.mail.transport import (
    Outgoing,
    SendFailure,
    TimeoutConnection,
    build_message,
    describe_failure,
    is_connection_failure,
)
from crm.models import OutboxEmail, OutboxStatus
from crm.platform.database import utcnow, write_transaction
from crm.platform.extensions import db

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    claimed: int = 0
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    # Handed back unsent because the worker was asked to stop.
    released: int = 0
    # Claimed by another worker after our lease ran out; theirs to finish.
    lost: int = 0
    # The mail server could not be reached; the run stops rather than knock again at once.
    server_down: bool = False

    def add(self, other: RunResult) -> None:
        for name in ("claimed", "sent", "retrying", "failed", "released", "lost"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.server_down = self.server_down or other.server_down


def why_mail_cannot_be_sent() -> str | None:
    """What is missing from the configuration for sending, or None; meanwhile emails wait."""
    config = current_app.config
    if not config["MAIL_SERVER"]:
        return "No mail server is configured (set CRM_MAIL_SERVER)"
    if not config["MAIL_DEFAULT_SENDER"]:
        return "No sender is configured (set CRM_MAIL_DEFAULT_SENDER)"
    if config["MAIL_SUPPRESS_SEND"]:
        return "Sending is switched off (CRM_MAIL_SUPPRESS_SEND)"
    return None


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff after the ``attempts``-th failure, capped, with a little jitter.

    The jitter spreads out a queue that failed all at once (a server outage), so the retries
    do not all arrive together when it comes back.
    """
    config = current_app.config
    base = float(config["OUTBOX_RETRY_BASE_SECONDS"])
    delay = min(base * 2 ** max(attempts - 1, 0), float(config["OUTBOX_RETRY_MAX_SECONDS"]))
    return timedelta(seconds=delay * random.uniform(1.0, 1.1))  # noqa: S311 (not a secret)


@dataclass(frozen=True)
class Claim:
    ids: list[int]
    # Stamped on every claimed row; the worker's proof that a row is still its own.
    claimed_at: datetime


def claim_due(batch: int, now: datetime | None = None) -> Claim:
    """Move up to ``batch`` due rows to ``sending`` for this worker.

    Due means pending with its next attempt time reached, or left in ``sending`` past the
    lease by a worker that died. Each claim counts as an attempt, so a message that kills
    every worker that tries it still ends up failed instead of looping forever.
    """
    now = now or utcnow()
    lease = timedelta(seconds=float(current_app.config["OUTBOX_LEASE_SECONDS"]))
    due = or_(
        and_(OutboxEmail.status == OutboxStatus.PENDING, OutboxEmail.next_attempt_at <= now),
        and_(OutboxEmail.status == OutboxStatus.SENDING, OutboxEmail.claimed_at < now - lease),
    )
    pick = (
        select(OutboxEmail.id)
        .where(due)
        .order_by(OutboxEmail.next_attempt_at, OutboxEmail.id)
        .limit(batch)
    )
    with write_transaction() as session:
        if session.get_bind().dialect.name == "postgresql":
            # Rows another worker has locked are skipped, not waited for: workers share the
            # queue instead of queueing behind each other.
            ids = list(session.scalars(pick.with_for_update(skip_locked=True)))
            if not ids:
                return Claim([], now)
            chosen = OutboxEmail.id.in_(ids)
        else:
            # SQLite: BEGIN IMMEDIATE admits one writer, so one UPDATE is the whole claim.
            chosen = OutboxEmail.id.in_(pick)
        claimed = session.scalars(
            update(OutboxEmail)
            .where(chosen)
            .values(
                status=OutboxStatus.SENDING,
                claimed_at=now,
                attempts=OutboxEmail.attempts + 1,
            )
            .returning(OutboxEmail.id)
            .execution_options(synchronize_session=False)
        )
        return Claim(sorted(claimed), now)


def send_batch(batch: int, stop: threading.Event | None = None) -> RunResult:
    """Claim one batch and send it over one SMTP connection."""
    result = RunResult()
    claim = claim_due(batch)
    result.claimed = len(claim.ids)
    if not claim.ids:
        return result
    timeout = float(current_app.config["MAIL_TIMEOUT"])
    remaining = list(claim.ids)
    with TimeoutConnection(timeout) as connection:
        while remaining:
            if stop is not None and stop.is_set():
                result.released += _release(remaining, claim.claimed_at)
                break
            email = _renew_claim(remaining.pop(0), claim.claimed_at)
            if email is None:
                result.lost += 1
                continue
            try:
                connection.send(build_message(_composed(email)))
            except Exception as error:
                if not isinstance(error, OSError):
                    log.exception("outbox %s: unexpected error while sending", email.id)
                failure = describe_failure(error)
                _record_failure(email, failure, result)
                if is_connection_failure(error):
                    # Everything else in the batch would meet the same closed door.
                    result.server_down = True
                    for email_id in remaining:
                        other = _renew_claim(email_id, claim.claimed_at)
                        if other is None:
                            result.lost += 1
                        else:
                            _record_failure(other, failure, result)
                    remaining.clear()
                    connection.discard()
                continue
            if _mark_sent(email):
                result.sent += 1
                log.info("outbox %s (%s) sent", email.id, email.kind)
            else:
                result.lost += 1
    return result


def drain(batch: int, stop: threading.Event | None = None) -> RunResult:
    """Send everything due now, batch after batch; stops early if the server is down."""
    total = RunResult()
    try:
        while stop is None or not stop.is_set():
            result = send_batch(batch, stop)
            total.add(result)
            if result.claimed == 0 or result.server_down:
                break
    finally:
        # A long-running worker should not keep every row it ever loaded in the session.
        db.session.remove()
    return total


def waiting_count() -> int:
    """Emails not yet delivered (pending, or being sent right now)."""
    return db.session.scalar(
        select(func.count(OutboxEmail.id)).where(
            OutboxEmail.status.in_([OutboxStatus.PENDING, OutboxStatus.SENDING])
        )
    )


def requeue_failed(
    email_ids: list[int] | None = None, *, actor_id: int | None = None, lead_id: int | None = None
) -> int:
    """Give failed emails (these ids, or all; of one lead if given) fresh attempts, due now."""
    now = utcnow()
    with write_transaction() as session:
        query = select(OutboxEmail.id, OutboxEmail.lead_id, OutboxEmail.kind).where(
            OutboxEmail.status == OutboxStatus.FAILED
        )
        if email_ids is not None:
            query = query.where(OutboxEmail.id.in_(email_ids))
        if lead_id is not None:
            query = query.where(OutboxEmail.lead_id == lead_id)
        rows = session.execute(query.with_for_update()).all()
        if not rows:
            return 0
        session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id.in_([row.id for row in rows]))
            .values(status=OutboxStatus.PENDING, attempts=0, next_attempt_at=now)
            .execution_options(synchronize_session=False)
        )
        for row in rows:
            outcome = DeliveryOutcome(
                row.id, row.lead_id, row.kind, REQUEUED, now, actor_id=actor_id
            )
            tell_listeners(session, outcome)
        return len(rows)


# --- Writes, each its own short transaction, each checking the claim is still ours ----------


def _mine(email_id: int, claimed_at: datetime) -> ColumnElement[bool]:
    return and_(
        OutboxEmail.id == email_id,
        OutboxEmail.status == OutboxStatus.SENDING,
        OutboxEmail.claimed_at == claimed_at,
    )


def _renew_claim(email_id: int, claimed_at: datetime) -> Outgoing | None:
    """Restart the lease just before sending, so a long batch does not outlive its claim.

    Returns None if the row is no longer ours: another worker claimed it after our lease ran
    out, and will finish it.
    """
    now = utcnow()
    with write_transaction() as session:
        renewed = session.execute(
            update(OutboxEmail)
            .where(_mine(email_id, claimed_at))
            .values(claimed_at=now)
            .execution_options(synchronize_session=False)
        )
        if renewed.rowcount != 1:
            return None
        email = session.execute(
            select(
                OutboxEmail.id,
                OutboxEmail.lead_id,
                OutboxEmail.kind,
                OutboxEmail.to_address,
                OutboxEmail.subject,
                OutboxEmail.text_body,
                OutboxEmail.html_body,
                OutboxEmail.reply_to,
                OutboxEmail.message_id,
                OutboxEmail.attempts,
                OutboxEmail.ics,
                OutboxEmail.compose,
            ).where(OutboxEmail.id == email_id)
        ).one()
        return Outgoing(**email._asdict(), claimed_at=now)


def _composed(email: Outgoing) -> Outgoing:
    """The row with its bodies, rendered now if it was queued to be composed when sent.

    Rendered in a read of its own, after the claim's write transaction: not while holding the
    write lock. The bodies are not stored: the next attempt renders them again.
    """
    if email.compose is None or email.text_body:
        return email
    try:
        message = compose_now(db.session, email.kind, email.lead_id, email.compose)
    finally:
        db.session.rollback()
    # The subject too: what was stored when queued is for staff pages, this is what is sent.
    return replace(
        email,
        subject=single_line(message.subject, 255),
        text_body=message.text_body,
        html_body=message.html_body,
    )


def _mark_sent(email: Outgoing) -> bool:
    now = utcnow()
    with write_transaction() as session:
        done = _finish(
            session,
            email,
            status=OutboxStatus.SENT,
            sent_at=now,
            last_error=None,
        )
        if done:
            _tell(session, email, OutboxStatus.SENT, now)
        return done


def _record_failure(email: Outgoing, failure: SendFailure, result: RunResult) -> None:
    """Retry later with backoff, or give up: after the last attempt, or at once if permanent."""
    now = utcnow()
    final = failure.permanent or email.attempts >= int(current_app.config["OUTBOX_MAX_ATTEMPTS"])
    with write_transaction() as session:
        if final:
            done = _finish(
                session,
                email,
                status=OutboxStatus.FAILED,
                last_error=failure.reason,
            )
            if done:
                _tell(session, email, OutboxStatus.FAILED, now)
        else:
            done = _finish(
                session,
                email,
                status=OutboxStatus.PENDING,
                last_error=failure.reason,
                next_attempt_at=now + retry_delay(email.attempts),
            )
    if not done:
        result.lost += 1
    elif final:
        result.failed += 1
        log.warning(
            "outbox %s (%s) failed after %s attempts: %s",
            email.id,
            email.kind,
            email.attempts,
            failure.reason,
        )
    else:
        result.retrying += 1
        log.warning(
            "outbox %s (%s) attempt %s failed, will retry: %s",
            email.id,
            email.kind,
            email.attempts,
            failure.reason,
        )


def _release(email_ids: list[int], claimed_at: datetime) -> int:
    """Hand unsent rows back at once (the worker is stopping); the claim was no attempt."""
    with write_transaction() as session:
        released = session.execute(
            update(OutboxEmail)
            .where(
                OutboxEmail.id.in_(email_ids),
                OutboxEmail.status == OutboxStatus.SENDING,
                OutboxEmail.claimed_at == claimed_at,
            )
            .values(
                status=OutboxStatus.PENDING,
                attempts=OutboxEmail.attempts - 1,
            )
            .execution_options(synchronize_session=False)
        )
        return released.rowcount


def _finish(session: Session, email: Outgoing, **values: Any) -> bool:
    finished = session.execute(
        update(OutboxEmail)
        .where(_mine(email.id, email.claimed_at))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    return finished.rowcount == 1


def _tell(session: Session, email: Outgoing, status: OutboxStatus, now: datetime) -> None:
    outcome = DeliveryOutcome(
        email.id, email.lead_id, email.kind, str(status), now, attempts=email.attempts
    )
    tell_listeners(session, outcome)
