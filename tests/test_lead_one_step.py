"""The lead page's one-step form: the call (or message), a note, a new status and the next
follow-up, in one submit and one transaction, each on the timeline."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.clinic.branches import branch_zone
from crm.models import EventKind, FollowUp, Lead
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.helpers import form_fields
from tests.staff_helpers import enter_as, lead_state, make_lead, make_staff


@pytest.fixture
def agent(app):
    person = make_staff(app, "agent", "bengaluru", name="Anil Agent")
    return {"id": person, "client": enter_as(app.test_client(), app, person)}


def log(client, lead_id: int, **typed: str):
    page = client.get(f"/staff/leads/{lead_id}").get_data(as_text=True)
    fields = form_fields(page, ("action", f"/staff/leads/{lead_id}/log"))
    fields.update(typed)
    return client.post(f"/staff/leads/{lead_id}/log", data=fields)


def tomorrow_local(app, hour: int = 10) -> str:
    with app.app_context():
        zone = branch_zone(None)
    day = (utcnow().astimezone(zone) + timedelta(days=1)).date()
    return f"{day.isoformat()}T{hour:02d}:00"


def kinds(app, lead_id: int) -> list[str]:
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        return [event.kind for event in sorted(lead.events, key=lambda e: e.id)]


def test_call_note_status_and_follow_up_in_one_submit(app, agent):
    lead_id = make_lead(app, "bengaluru")
    before = kinds(app, lead_id)

    response = log(
        agent["client"],
        lead_id,
        outcome="answered",
        note="Wants an evening slot.",
        status="contacted",
        follow_up_at=tomorrow_local(app, 18),
    )

    assert response.status_code == 303
    assert kinds(app, lead_id)[len(before) :] == [
        EventKind.CALL,
        EventKind.STATUS,
        EventKind.FOLLOW_UP,
    ]
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        assert lead.status == "contacted" and lead.first_response_at is not None
        follow_up = db.session.scalars(select(FollowUp).where(FollowUp.lead_id == lead_id)).one()
        assert follow_up.assignee_id == agent["id"]
        assert follow_up.due_at.astimezone(branch_zone(None)).hour == 18
        call = next(event for event in lead.events if event.kind == EventKind.CALL)
        assert call.detail == {"outcome": "answered", "note": "Wants an evening slot."}
    page = agent["client"].get(f"/staff/leads/{lead_id}").get_data(as_text=True)
    assert "Call: answered." in page


def test_a_refused_part_saves_nothing(app, agent):
    lead_id = make_lead(app, "bengaluru")
    before = lead_state(app, lead_id)

    # Lost without a reason: the call and the follow-up are not saved either.
    response = log(
        agent["client"],
        lead_id,
        outcome="answered",
        note="Not interested.",
        status="lost",
        lost_reason="",
        follow_up_at=tomorrow_local(app),
    )

    assert response.status_code == 422
    assert lead_state(app, lead_id) == before
    with app.app_context():
        assert db.session.scalars(select(FollowUp)).all() == []


def test_a_message_sent_with_no_status_keeps_the_status(app, agent):
    lead_id = make_lead(app, "bengaluru")
    response = log(agent["client"], lead_id, outcome="message_sent", note="Sent the address.")
    assert response.status_code == 303
    assert lead_state(app, lead_id)["status"] == "new"
    page = agent["client"].get(f"/staff/leads/{lead_id}").get_data(as_text=True)
    assert "Message sent." in page


def test_a_stale_page_is_refused(app, agent):
    lead_id = make_lead(app, "bengaluru")
    page = agent["client"].get(f"/staff/leads/{lead_id}").get_data(as_text=True)
    fields = form_fields(page, ("action", f"/staff/leads/{lead_id}/log"))
    log(agent["client"], lead_id, outcome="answered", status="contacted")
    fields.update(outcome="no_answer", status="lost", lost_reason="not_interested")
    response = agent["client"].post(f"/staff/leads/{lead_id}/log", data=fields)
    assert response.status_code == 409
    assert lead_state(app, lead_id)["status"] == "contacted"


def test_a_booking_on_the_first_answered_call_passes_through_contacted(app, agent):
    lead_id = make_lead(app, "bengaluru")
    response = log(agent["client"], lead_id, outcome="answered", status="appointment_booked")
    assert response.status_code == 303
    assert lead_state(app, lead_id)["status"] == "appointment_booked"
    page = agent["client"].get(f"/staff/leads/{lead_id}").get_data(as_text=True)
    assert "Status: New → Contacted." in page
    assert "Status: Contacted → Appointment booked." in page


def test_a_booking_without_an_answered_call_is_refused_whole(app, agent):
    lead_id = make_lead(app, "bengaluru")
    before = lead_state(app, lead_id)
    response = log(agent["client"], lead_id, outcome="no_answer", status="appointment_booked")
    assert response.status_code == 422
    assert lead_state(app, lead_id) == before
