"""What staff see of email: each email's state on the lead page, and warnings on the dashboard."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from crm.models import EventKind, LeadEvent, OutboxEmail
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.smtp import free_port
from tests.staff_helpers import csrf_token, enter_as, make_lead, make_staff


@pytest.fixture
def app_config():
    # Nothing listens on this port: every attempt fails; one attempt is all it gets.
    return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": free_port(), "OUTBOX_MAX_ATTEMPTS": 1}


@pytest.fixture
def desk(app):
    agent = make_staff(app, "agent", "bengaluru", name="Bala Agent")
    client = enter_as(app.test_client(), app, agent)
    lead = make_lead(app, email="visitor@example.com")
    return {"client": client, "agent": agent, "lead": lead}


def emails_section(client, lead_id) -> str:
    html = client.get(f"/staff/leads/{lead_id}").get_data(as_text=True)
    return html.split('id="emails-title"')[1].split('id="timeline-title"')[0]


def test_the_lead_page_shows_each_email_and_its_state(app, desk, runner):
    section = emails_section(desk["client"], desk["lead"])
    assert section.count("Waiting to be sent") == 2
    assert "Alert to the branch" in section and "bengaluru@physiotattva.example" in section
    assert "Acknowledgement to the visitor" in section and "visitor@example.com" in section

    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    section = emails_section(desk["client"], desk["lead"])
    assert section.count("Could not be sent") == 2
    assert section.count("Send again") == 2
    assert "The mail server said:" in section
    page = desk["client"].get(f"/staff/leads/{desk['lead']}").get_data(as_text=True)
    assert "Email failed: the branch alert." in page


def test_a_failed_email_can_be_sent_again_from_the_lead_page(app, desk, runner):
    runner.invoke(args=["outbox", "send"])
    with app.app_context():
        email_id = db.session.scalar(select(OutboxEmail.id).where(OutboxEmail.kind == "lead_alert"))
    token = csrf_token(desk["client"])
    response = desk["client"].post(
        f"/staff/leads/{desk['lead']}/emails/{email_id}/retry", data={"csrf_token": token}
    )
    assert response.status_code == 303
    with app.app_context():
        email = db.session.get(OutboxEmail, email_id)
        assert (email.status, email.attempts) == ("pending", 0)
        event = db.session.scalars(
            select(LeadEvent).where(LeadEvent.kind == EventKind.EMAIL).order_by(LeadEvent.id.desc())
        ).first()
        assert event.detail["status"] == "requeued" and event.actor_id == desk["agent"]
    again = desk["client"].post(
        f"/staff/leads/{desk['lead']}/emails/{email_id}/retry", data={"csrf_token": token}
    )
    assert again.status_code == 422
    assert "Only an email that could not be sent" in again.get_data(as_text=True)


def test_another_branchs_email_cannot_be_retried(app, desk, runner):
    other = make_lead(app, "hyderabad", email="someone@example.com")
    runner.invoke(args=["outbox", "send"])
    with app.app_context():
        email_id = db.session.scalar(select(OutboxEmail.id).where(OutboxEmail.lead_id == other))
    token = csrf_token(desk["client"])
    # their lead is not found; our lead with their email's id finds no such failed email
    for lead, status in ((other, 404), (desk["lead"], 422)):
        response = desk["client"].post(
            f"/staff/leads/{lead}/emails/{email_id}/retry", data={"csrf_token": token}
        )
        assert response.status_code == status
    with app.app_context():
        assert db.session.get(OutboxEmail, email_id).status == "failed"


def test_the_dashboard_warns_about_failed_and_stale_mail(app, desk, runner):
    assert "data-mail-warning" not in desk["client"].get("/staff/").get_data(as_text=True)
    with app.app_context():
        db.session.execute(update(OutboxEmail).values(created_at=utcnow() - timedelta(minutes=20)))
        db.session.commit()
    html = desk["client"].get("/staff/").get_data(as_text=True)
    assert "data-mail-warning" in html
    runner.invoke(args=["outbox", "send"])
    html = desk["client"].get("/staff/").get_data(as_text=True)
    warning = html.split("data-mail-warning>")[1].split("</p>")[0]
    assert "could not be sent" in warning.lower() or "failed" in warning.lower()


def test_the_dashboard_counts_only_the_mail_of_the_branch_it_shows(app, desk, runner):
    other = make_lead(app, "hyderabad", email="someone@example.com")
    runner.invoke(args=["outbox", "send"])  # nothing listens: every email fails
    with app.app_context():
        failed = db.session.scalars(
            select(OutboxEmail.lead_id).where(OutboxEmail.status == "failed")
        )
        assert set(failed) == {desk["lead"], other}
        db.session.execute(
            update(OutboxEmail).where(OutboxEmail.lead_id == desk["lead"]).values(status="sent")
        )
        db.session.commit()

    # Only Hyderabad's mail failed: Bengaluru's agent is not told about it, the admin is.
    assert "data-mail-warning" not in desk["client"].get("/staff/").get_data(as_text=True)
    admin = enter_as(app.test_client(), app, make_staff(app, "admin", None, name="Ada Admin"))
    assert "data-mail-warning" in admin.get("/staff/").get_data(as_text=True)
    hyderabad = enter_as(
        app.test_client(), app, make_staff(app, "agent", "hyderabad", name="Hari Agent")
    )
    assert "data-mail-warning" in hyderabad.get("/staff/").get_data(as_text=True)
