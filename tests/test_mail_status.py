"""What the staff pages are told about email: per lead, and the outbox as a whole."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from crm.leads.email_status import emails_for_lead
from crm.mail.outbox import queue_email
from crm.mail.status import outbox_health
from crm.models import Lead, OutboxEmail
from crm.platform.database import write_transaction
from crm.platform.extensions import db
from tests.helpers import submit_reach_out

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def add(status: str, created: datetime, *, claimed: datetime | None = None, **values) -> int:
    with write_transaction() as session:
        email = queue_email(session, kind="test", to="x@example.com", subject="S", text_body="B")
        session.flush()
        session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == email.id)
            .values(status=status, created_at=created, claimed_at=claimed, **values)
        )
        return email.id


def test_a_quiet_outbox_has_no_warning(app_ctx):
    health = outbox_health(NOW)
    assert (health.pending, health.failed, health.oldest_pending_age_seconds) == (0, 0, None)
    assert health.warning is None
    add("sent", NOW - timedelta(days=1))
    add("pending", NOW - timedelta(minutes=14))
    health = outbox_health(NOW)
    assert (health.pending, health.failed) == (1, 0)
    assert health.oldest_pending_age_seconds == 14 * 60
    assert health.warning is None


def test_mail_waiting_over_fifteen_minutes_warns(app_ctx):
    add("pending", NOW - timedelta(minutes=5))
    add("sending", NOW - timedelta(minutes=16), claimed=NOW - timedelta(minutes=1))
    health = outbox_health(NOW)
    assert health.pending == 2
    assert health.oldest_pending_at == NOW - timedelta(minutes=16)
    assert health.oldest_pending_age_seconds == 16 * 60
    assert health.warning == (
        "2 emails waiting to be sent, the oldest for 16 minutes: check that the outbox worker "
        "is running and the mail server is reachable."
    )
    assert health.as_dict() == {
        "pending": 2,
        "failed": 0,
        "oldest_pending_age_seconds": 960,
        "warning": health.warning,
    }


def test_recent_failures_warn_and_old_ones_are_only_counted(app_ctx):
    add("failed", NOW - timedelta(days=30), claimed=NOW - timedelta(days=29))
    health = outbox_health(NOW)
    assert (health.failed, health.recent_failed, health.warning) == (1, 0, None)

    add("failed", NOW - timedelta(days=10), claimed=NOW - timedelta(hours=2))
    add("pending", NOW - timedelta(hours=3))
    health = outbox_health(NOW)
    assert (health.failed, health.recent_failed) == (2, 1)
    assert health.warning == (
        "1 email could not be sent (see the lead pages for the reason); 1 email waiting to be "
        "sent, the oldest for 3 hours: check that the outbox worker is running and the mail "
        "server is reachable."
    )


def test_emails_for_lead_lists_each_email_and_its_state(client, app):
    assert submit_reach_out(client, json=True).status_code == 201
    with app.app_context():
        lead_id = db.session.scalars(select(Lead.id)).one()
        alert, thanks = db.session.scalars(select(OutboxEmail.id).order_by(OutboxEmail.id))
        with write_transaction() as session:
            session.execute(
                update(OutboxEmail)
                .where(OutboxEmail.id == alert)
                .values(status="sent", attempts=1, sent_at=NOW, last_error="SMTP 451: try later")
            )
            session.execute(
                update(OutboxEmail)
                .where(OutboxEmail.id == thanks)
                .values(status="failed", attempts=3, last_error="SMTP 550: 5.1.1 no such user")
            )
        states = emails_for_lead(lead_id)
        assert emails_for_lead(lead_id + 1) == []

    assert [state.id for state in states] == [alert, thanks]
    sent, failed = states
    assert (sent.kind, sent.kind_label) == ("lead_alert", "Alert to the branch")
    assert sent.recipient == "bengaluru@physiotattva.example"
    assert sent.subject == "New enquiry at Bengaluru: Ravi Kumar"
    assert (sent.status, sent.status_label, sent.attempts) == ("sent", "Sent", 1)
    assert sent.sent_at == NOW and sent.created_at.tzinfo is not None
    assert sent.last_error is None  # an old hiccup is no news once it went out
    assert sent.next_attempt_at is None and not sent.failed

    assert (failed.kind_label, failed.recipient) == (
        "Acknowledgement to the visitor",
        "ravi@example.com",
    )
    assert failed.failed and failed.status_label == "Could not be sent"
    assert (failed.attempts, failed.last_error) == (3, "SMTP 550: 5.1.1 no such user")
