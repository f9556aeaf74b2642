"""Spam defence on the public form: fill time, links, known spammers, rate limits, release."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from crm.intake.spam import sign_shown_at
from crm.models import Enquiry, Lead, LeadStatus, OutboxEmail
from crm.platform.extensions import db
from tests.helpers import submit_reach_out
from tests.staff_helpers import csrf_token, enter_as, lead_state, make_staff


@pytest.fixture
def app_config():
    return {"FORM_MIN_FILL_SECONDS": 3}


def shown(app, seconds_ago: float) -> str:
    """A form rendered this long ago, as the page would have signed it."""
    with app.test_request_context():
        return sign_shown_at(time.time() - seconds_ago)


def rows(app) -> dict[str, int]:
    with app.app_context():
        return {
            model.__tablename__: db.session.scalar(select(func.count()).select_from(model))
            for model in (Lead, Enquiry, OutboxEmail)
        }


def test_a_person_who_takes_their_time_is_a_lead(client, app):
    response = submit_reach_out(client, json=True, shown_at=shown(app, 40))
    assert response.status_code == 201
    with app.app_context():
        lead = db.session.scalar(select(Lead))
        assert lead.status == LeadStatus.NEW
    assert rows(app) == {"lead": 1, "enquiry": 1, "outbox_email": 2}


@pytest.mark.parametrize(
    ("shown_at", "reason"),
    [
        ("fresh", "too_fast"),
        ("", "unsigned_form"),
        ("forged.signature", "unsigned_form"),
    ],
)
def test_too_fast_or_unsigned_forms_are_kept_aside_and_nobody_is_alerted(
    client, app, shown_at, reason
):
    value = shown(app, 1) if shown_at == "fresh" else shown_at
    response = submit_reach_out(client, json=True, shown_at=value)
    assert response.status_code == 201  # the sender learns nothing
    with app.app_context():
        lead = db.session.scalar(select(Lead))
        assert lead.status == LeadStatus.SPAM
        assert db.session.scalar(select(Enquiry.filtered_reason)) == reason
    assert rows(app) == {"lead": 1, "enquiry": 1, "outbox_email": 0}


def test_too_many_links_is_a_clear_refusal(client, app):
    message = "see http://a.example and https://b.example and www.c.example"
    response = submit_reach_out(client, json=True, message=message, shown_at=shown(app, 30))
    assert response.status_code == 422
    assert response.get_json()["errors"]["message"] == [
        "Please include no more than 2 links; we will ask for anything else on the phone."
    ]
    assert rows(app) == {"lead": 0, "enquiry": 0, "outbox_email": 0}
    two = "my report: https://drive.example/x and http://lab.example/y"
    assert (
        submit_reach_out(client, json=True, message=two, shown_at=shown(app, 30)).status_code == 201
    )


def test_filtered_leads_stay_out_of_the_inbox_and_staff_can_review_and_release(client, app):
    submit_reach_out(client, json=True, shown_at=shown(app, 1), name="Hasty Person")
    manager = make_staff(app, "manager", "bengaluru", name="Bina Manager")
    staff = enter_as(app.test_client(), app, manager)
    assert "Hasty Person" not in staff.get("/staff/leads").get_data(as_text=True)
    assert 'data-figure="new-waiting">0<' in staff.get("/staff/").get_data(as_text=True)
    review = staff.get("/staff/leads?status=spam").get_data(as_text=True)
    assert "Hasty Person" in review
    with app.app_context():
        lead_id = db.session.scalar(select(Lead.id))
    page = staff.get(f"/staff/leads/{lead_id}").get_data(as_text=True)
    assert "sent faster than a person could fill in the form" in page

    response = staff.post(
        f"/staff/leads/{lead_id}/release",
        data={"csrf_token": csrf_token(staff), "version": lead_state(app, lead_id)["version"]},
    )
    assert response.status_code == 303
    assert lead_state(app, lead_id)["status"] == LeadStatus.NEW
    assert "Hasty Person" in staff.get("/staff/leads").get_data(as_text=True)
    with app.app_context():
        kinds = sorted(db.session.scalars(select(OutboxEmail.kind)))
    assert kinds == ["acknowledgement", "lead_alert"]


def test_staff_marking_spam_teaches_the_intake(client, app):
    assert submit_reach_out(client, json=True, shown_at=shown(app, 30)).status_code == 201
    agent = make_staff(app, "agent", "bengaluru", name="Bala Agent")
    staff = enter_as(app.test_client(), app, agent)
    with app.app_context():
        lead_id = db.session.scalar(select(Lead.id))
    staff.post(
        f"/staff/leads/{lead_id}/status",
        data={"csrf_token": csrf_token(staff), "status": "spam", "version": 1},
    )
    assert lead_state(app, lead_id)["status"] == LeadStatus.SPAM
    before = rows(app)

    # The same phone writes again (a week later, say): kept aside on the spam lead, no alerts.
    again = submit_reach_out(client, json=True, shown_at=shown(app, 30), message="BUY NOW")
    assert again.status_code == 201
    after = rows(app)
    assert after["lead"] == before["lead"]
    assert after["enquiry"] == before["enquiry"] + 1
    assert after["outbox_email"] == before["outbox_email"]
    with app.app_context():
        latest = db.session.scalars(select(Enquiry).order_by(Enquiry.id.desc())).first()
        assert (latest.lead_id, latest.filtered_reason) == (lead_id, "known_spam")
    # The same email with another phone is recognised too; another branch is not affected.
    by_email = submit_reach_out(client, json=True, shown_at=shown(app, 30), phone="99000 11223")
    assert by_email.status_code == 201
    assert rows(app)["lead"] == before["lead"]
    elsewhere = submit_reach_out(client, json=True, shown_at=shown(app, 30), branch="hyderabad")
    assert elsewhere.status_code == 201
    with app.app_context():
        assert (
            db.session.scalar(select(func.count(Lead.id)).where(Lead.status == LeadStatus.NEW)) == 1
        )


def test_honeypot_stores_nothing_even_with_a_good_fill_time(client, app):
    response = submit_reach_out(client, website="http://x.example", shown_at=shown(app, 30))
    assert response.status_code == 303
    assert rows(app) == {"lead": 0, "enquiry": 0, "outbox_email": 0}
