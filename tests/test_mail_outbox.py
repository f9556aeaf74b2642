"""The outbox worker against a real SMTP server: delivery, outages, retries and failures."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from crm.leads.email_status import emails_for_lead
from crm.mail.outbox import queue_email
from crm.mail.status import outbox_health
from crm.models import EventKind, Lead, LeadEvent, OutboxEmail
from crm.platform.database import utcnow, write_transaction
from crm.platform.extensions import db
from tests.helpers import submit_reach_out
from tests.smtp import HOST, RefusingRecipient, SMTPServer, free_port


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def app_config(smtp_port: int) -> dict[str, object]:
    return {"MAIL_SERVER": HOST, "MAIL_PORT": smtp_port, "MAIL_TIMEOUT": 5}


def outbox(app) -> list[OutboxEmail]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).all()
        db.session.expunge_all()
        return rows


def email_events(app, lead_id: int) -> list[dict]:
    with app.app_context():
        return [
            event.detail
            for event in db.session.scalars(
                select(LeadEvent)
                .where(LeadEvent.lead_id == lead_id, LeadEvent.kind == EventKind.EMAIL)
                .order_by(LeadEvent.id)
            )
        ]


def only_lead_id(app) -> int:
    with app.app_context():
        return db.session.scalars(select(Lead.id)).one()


def send(runner, *args: str):
    result = runner.invoke(args=["outbox", "send", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def make_due(app) -> None:
    """As if the backoff had run out: every waiting email is due now."""
    with app.app_context(), write_transaction() as session:
        session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.status == "pending")
            .values(next_attempt_at=utcnow() - timedelta(seconds=1))
        )


def test_an_accepted_submission_delivers_the_alert_and_the_acknowledgement(
    client, runner, app, smtp_port
):
    with SMTPServer(port=smtp_port) as server:
        response = submit_reach_out(
            client,
            "/branches/hyderabad",
            json=True,
            name="Ravi Kumar",
            branch="hyderabad",
            message="Lower back pain for two weeks.\nMornings are worst.",
        )
        assert response.status_code == 201
        assert server.messages == []  # the request never talks to SMTP

        result = send(runner)
        assert result.exit_code == 0
        assert "Sent 2, to retry later 0, failed 0." in result.output
        received = server.messages

    lead_id = only_lead_id(app)
    rows = {row.kind: row for row in outbox(app)}
    assert len(received) == 2
    by_recipient = {tuple(message.rcpt_tos): message for message in received}
    assert set(by_recipient) == {("hyderabad@physiotattva.example",), ("ravi@example.com",)}

    alert = by_recipient[("hyderabad@physiotattva.example",)]
    assert alert.mail_from == "no-reply@clinic.test"
    headers = alert.message
    assert headers["Subject"] == "New enquiry at Hyderabad: Ravi Kumar"
    assert headers["To"] == "hyderabad@physiotattva.example"
    assert headers["From"] == "Clinic <no-reply@clinic.test>"
    assert headers["Message-ID"] == rows["lead_alert"].message_id
    assert headers["Auto-Submitted"] == "auto-generated"
    text = alert.part("plain")
    assert "Ravi Kumar" in text
    assert "+91 98450 12345" in text
    assert "Back pain" in text
    assert "Lower back pain for two weeks.\nMornings are worst." in text
    assert f"http://clinic.test/staff/leads/{lead_id}" in text
    html = alert.part("html")
    assert f'href="http://clinic.test/staff/leads/{lead_id}"' in html
    assert "Ravi Kumar" in html

    thanks = by_recipient[("ravi@example.com",)]
    assert thanks.message["Subject"] == "We have your message, Physiotattva Hyderabad"
    assert thanks.message["To"] == "ravi@example.com"
    assert thanks.message["Message-ID"] == rows["acknowledgement"].message_id
    text = thanks.part("plain")
    assert text.startswith("Hello,")
    assert "Ravi" not in text  # nothing the visitor typed is mailed to the address they typed
    assert "+91 40 4567 8900" in text  # the branch's phone
    assert "Sunday" in text and "09:00-13:00" in text  # its hours
    assert "privacy@physiotattva.example" in text and "erased" in text
    assert "Lower back pain" not in text  # the visitor's message is not mailed back
    assert "+91 40 4567 8900" in thanks.part("html")

    assert {row.status for row in rows.values()} == {"sent"}
    assert all(row.attempts == 1 and row.sent_at is not None for row in rows.values())
    sent_events = [event for event in email_events(app, lead_id) if "status" in event]
    assert sorted((event["kind"], event["status"]) for event in sent_events) == [
        ("acknowledgement", "sent"),
        ("lead_alert", "sent"),
    ]
    assert {event["outbox_id"] for event in sent_events} == {row.id for row in rows.values()}

    again = send(runner)
    assert "Sent 0" in again.output
    assert len(server.messages) == 2


@pytest.mark.parametrize(
    ("app_config", "missing"),
    [
        ({"MAIL_SERVER": None}, "No mail server is configured (set CRM_MAIL_SERVER)"),
        (
            {"MAIL_SERVER": HOST, "MAIL_DEFAULT_SENDER": None},
            "No sender is configured (set CRM_MAIL_DEFAULT_SENDER)",
        ),
    ],
    ids=["no-server", "no-sender"],
)
def test_without_a_mail_server_emails_wait_and_the_worker_says_so(client, runner, app, missing):
    assert submit_reach_out(client, json=True).status_code == 201
    result = send(runner)
    assert result.exit_code == 0
    assert f"{missing}, so nothing was sent: 2 emails wait in the outbox." in result.output
    assert [(row.status, row.attempts) for row in outbox(app)] == [("pending", 0)] * 2

    looping = runner.invoke(args=["outbox", "send", "--loop"])
    assert looping.exit_code == 1
    assert missing in looping.output
    assert [(row.status, row.attempts) for row in outbox(app)] == [("pending", 0)] * 2


def test_an_unreachable_server_loses_nothing_and_delivers_once_back(client, runner, app, smtp_port):
    response = submit_reach_out(client, json=True)
    assert response.status_code == 201 and response.get_json()["ok"] is True
    lead_id = only_lead_id(app)

    before = utcnow()
    result = send(runner)
    assert result.exit_code == 0
    assert "Sent 0, to retry later 2, failed 0." in result.output
    assert "could not be reached" in result.output
    waiting = outbox(app)
    assert [(row.status, row.attempts) for row in waiting] == [("pending", 1)] * 2
    for row in waiting:
        assert "refused" in row.last_error.lower()
        # Backoff: not before the first retry delay (60 s) has passed.
        assert row.next_attempt_at >= before + timedelta(seconds=60)
    with app.app_context():
        assert db.session.get(Lead, lead_id) is not None
        states = emails_for_lead(lead_id)
        assert [(s.kind, s.status, s.attempts, s.retrying) for s in states] == [
            ("lead_alert", "pending", 1, True),
            ("acknowledgement", "pending", 1, True),
        ]
        assert outbox_health().pending == 2
    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.get_json()["outbox"]["pending"] == 2

    with SMTPServer(port=smtp_port) as server:
        # Still backing off: a worker run now leaves them alone.
        assert "Sent 0, to retry later 0" in send(runner).output
        assert server.messages == []

        make_due(app)
        assert "Sent 2, to retry later 0, failed 0." in send(runner).output
        received = server.messages

    rows = outbox(app)
    assert [(row.status, row.attempts) for row in rows] == [("sent", 2)] * 2
    assert sorted(message.message_id for message in received) == sorted(
        row.message_id for row in rows
    )
    statuses = [event.get("status") for event in email_events(app, lead_id)]
    assert statuses == [None, None, "sent", "sent"]  # queued twice, then sent twice


def test_after_the_last_attempt_an_email_is_failed_visibly_and_can_be_retried(
    client, runner, app, smtp_port
):
    app.config["OUTBOX_MAX_ATTEMPTS"] = 2
    assert submit_reach_out(client, json=True, email="").status_code == 201
    lead_id = only_lead_id(app)

    assert "to retry later 1" in send(runner).output
    make_due(app)
    assert "Sent 0, to retry later 0, failed 1." in send(runner).output
    (row,) = outbox(app)
    assert (row.status, row.attempts) == ("failed", 2)
    assert "refused" in row.last_error.lower()
    assert email_events(app, lead_id)[-1] == {
        "outbox_id": row.id,
        "kind": "lead_alert",
        "status": "failed",
        "attempts": 2,
    }
    with app.app_context():
        (state,) = emails_for_lead(lead_id)
        assert state.failed and state.status_label == "Could not be sent"
        health = outbox_health()
        assert (health.pending, health.failed) == (0, 1)
        assert health.warning == "1 email could not be sent (see the lead pages for the reason)."
    assert client.get("/healthz").get_json()["outbox"]["failed"] == 1

    # Nothing more happens to a failed email on its own...
    with SMTPServer(port=smtp_port) as server:
        make_due(app)
        assert "Sent 0" in send(runner).output
        # ...until someone queues it again.
        requeued = runner.invoke(args=["outbox", "retry", "--all-failed"])
        assert "Queued again: 1 email." in requeued.output
        assert "Sent 1, to retry later 0, failed 0." in send(runner).output
        assert [message.rcpt_tos for message in server.messages] == [
            ["bengaluru@physiotattva.example"]
        ]
    (row,) = outbox(app)
    assert (row.status, row.attempts) == ("sent", 1)
    assert [event.get("status") for event in email_events(app, lead_id)][-2:] == [
        "requeued",
        "sent",
    ]


def test_a_recipient_refused_for_good_fails_at_once_without_repeating_the_address(
    client, runner, app, smtp_port
):
    handler = RefusingRecipient("nobody@example.com")
    with SMTPServer(handler, port=smtp_port) as server:
        assert submit_reach_out(client, json=True, email="nobody@example.com").status_code == 201
        result = send(runner)
        assert "Sent 1, to retry later 0, failed 1." in result.output
        assert [message.rcpt_tos for message in server.messages] == [
            ["bengaluru@physiotattva.example"]
        ]
    rows = {row.kind: row for row in outbox(app)}
    assert rows["lead_alert"].status == "sent"
    refused = rows["acknowledgement"]
    assert (refused.status, refused.attempts) == ("failed", 1)
    assert refused.last_error.startswith("SMTP 550: 5.1.1")
    assert "Recipient address rejected" in refused.last_error
    assert "nobody" not in refused.last_error


def test_a_stored_recipient_that_is_not_one_address_never_reaches_the_server(
    runner, app, smtp_port
):
    with app.app_context(), write_transaction() as session:
        queue_email(
            session,
            kind="test",
            to="staff@clinic.test\r\nBcc: evil@attacker.example",
            subject="Hello\r\nBcc: evil@attacker.example",
            text_body="body",
        )
        queue_email(session, kind="test", to="staff@clinic.test", subject="Fine", text_body="ok")
    with SMTPServer(port=smtp_port) as server:
        assert "Sent 1, to retry later 0, failed 1." in send(runner).output
        assert [message.rcpt_tos for message in server.messages] == [["staff@clinic.test"]]
    bad, good = outbox(app)
    assert (bad.status, bad.last_error) == (
        "failed",
        "the recipient is not one plain email address",
    )
    assert good.status == "sent"


def test_healthz_reports_the_backlog_and_answers_200(client, app):
    assert submit_reach_out(client, json=True).status_code == 201
    with app.app_context(), write_transaction() as session:
        session.execute(update(OutboxEmail).values(created_at=utcnow() - timedelta(minutes=20)))
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["outbox"]["pending"] == 2
    assert body["outbox"]["failed"] == 0
    assert body["outbox"]["oldest_pending_age_seconds"] >= 20 * 60
    assert "waiting to be sent, the oldest for 20 minutes" in body["outbox"]["warning"]


def test_each_failed_attempt_waits_twice_as_long_as_the_last(client, runner, app):
    assert submit_reach_out(client, json=True).status_code == 201  # nothing listens: all fail
    delays = []
    for attempt in (1, 2, 3, 4):
        make_due(app)
        tried_at = utcnow()
        assert "to retry later 2" in send(runner).output
        rows = outbox(app)
        assert [row.attempts for row in rows] == [attempt, attempt]
        delays.append(min(row.next_attempt_at - tried_at for row in rows).total_seconds())
    # 60 s after the first failure, then 120, 240, 480: each with up to 10% jitter on top.
    for attempt, delay in enumerate(delays, start=1):
        expected = 60 * 2 ** (attempt - 1)
        assert expected <= delay <= expected * 1.1 + 5, (attempt, delays)
