"""Staff record enquiries that came by phone, in person or by message: the same intake as the
website's form, their own branch only, the channel and the recorder kept and shown."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from crm.models import Enquiry, EventKind, Lead, OutboxEmail
from crm.platform.extensions import db
from tests.helpers import form_fields
from tests.staff_helpers import enter_as, make_lead, make_staff


@pytest.fixture
def desk(app):
    people = {
        "agent": make_staff(app, "agent", "bengaluru", name="Anil Agent"),
        "admin": make_staff(app, "admin", None, name="Ada Admin"),
    }
    clients = {role: enter_as(app.test_client(), app, person) for role, person in people.items()}
    return {"people": people, "clients": clients}


def desk_form(client) -> dict[str, str]:
    page = client.get("/staff/leads/new")
    assert page.status_code == 200
    return form_fields(page.get_data(as_text=True), ("action", "/staff/leads/new"))


def record(client, **typed: str):
    fields = desk_form(client)
    fields.update(
        {"name": "Priya Raman", "phone": "98450 11122", "channel": "phone", "consent": "y"}
    )
    fields.update(typed)
    return client.post("/staff/leads/new", data=fields)


def emails(app, lead_id: int) -> list[str]:
    with app.app_context():
        return list(
            db.session.scalars(
                select(OutboxEmail.kind).where(OutboxEmail.lead_id == lead_id).order_by("id")
            )
        )


def test_a_phone_enquiry_becomes_a_lead_with_its_channel_and_recorder(app, desk):
    response = record(desk["clients"]["agent"], message="Knee pain after running.")

    assert response.status_code == 303
    lead_id = int(re.fullmatch(r"/staff/leads/(\d+)", response.headers["Location"]).group(1))
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        enquiry = db.session.scalars(select(Enquiry).where(Enquiry.lead_id == lead_id)).one()
        assert (lead.channel, lead.branch.slug, lead.phone) == (
            "phone",
            "bengaluru",
            "+919845011122",
        )
        assert (enquiry.channel, enquiry.recorded_by_id) == ("phone", desk["people"]["agent"])
        assert enquiry.consent_version == app.config["CONSENT_VERSION"]
        assert [event.kind for event in lead.events][:2] == [EventKind.CREATED, EventKind.ENQUIRY]
    # The branch hears of it; nobody gets an acknowledgement without an address.
    assert emails(app, lead_id) == ["lead_alert"]

    page = desk["clients"]["agent"].get(f"/staff/leads/{lead_id}").get_data(as_text=True)
    assert 'came by <span data-channel="phone">Phone</span>' in page
    assert "recorded by Anil Agent" in page
    inbox = desk["clients"]["agent"].get("/staff/leads").get_data(as_text=True)
    assert '<span data-channel="phone">Phone</span>' in inbox


def test_an_email_address_gets_the_acknowledgement(app, desk):
    response = record(desk["clients"]["agent"], email="priya@example.com", channel="walk_in")
    lead_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert sorted(emails(app, lead_id)) == ["acknowledgement", "lead_alert"]


def test_a_returning_person_joins_their_lead_as_from_the_form(app, desk):
    web_lead = make_lead(app, "bengaluru", phone="+919845011122")
    response = record(desk["clients"]["agent"], channel="whatsapp")
    assert response.headers["Location"] == f"/staff/leads/{web_lead}"
    with app.app_context():
        lead = db.session.get(Lead, web_lead)
        # The lead keeps how the person first came; the new enquiry says how they came now.
        assert lead.channel == "web" and lead.enquiry_count == 2
        assert [enquiry.channel for enquiry in lead.enquiries] == ["web", "whatsapp"]


def test_an_agent_cannot_record_for_another_branch(app, desk):
    fields = desk_form(desk["clients"]["agent"])
    offered = re.findall(
        r'<option[^>]*value="([^"]*)"',
        re.search(
            r'<select[^>]*name="branch".*?</select>',
            desk["clients"]["agent"].get("/staff/leads/new").get_data(as_text=True),
            re.DOTALL,
        ).group(0),
    )
    assert offered == ["bengaluru"]
    fields.update(
        name="Forged", phone="98450 33344", channel="phone", consent="y", branch="hyderabad"
    )
    response = desk["clients"]["agent"].post("/staff/leads/new", data=fields)
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(Lead).where(Lead.name == "Forged")) is None


@pytest.mark.parametrize("channel", ["web", "fax", ""])
def test_a_forged_channel_is_refused(app, desk, channel):
    response = record(desk["clients"]["admin"], branch="hyderabad", channel=channel)
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(Lead).where(Lead.name == "Priya Raman")) is None


def test_consent_is_required(app, desk):
    fields = desk_form(desk["clients"]["agent"])
    fields.update(name="Priya Raman", phone="98450 11122", channel="phone")
    fields.pop("consent", None)
    response = desk["clients"]["agent"].post("/staff/leads/new", data=fields)
    assert response.status_code == 422
    assert "Please ask them first" in response.get_data(as_text=True)


def test_an_admin_records_for_any_branch_and_a_double_submit_is_stored_once(app, desk):
    client = desk["clients"]["admin"]
    fields = desk_form(client)
    fields.update(
        name="Priya Raman", phone="98450 11122", channel="referral", consent="y", branch="hyderabad"
    )
    first = client.post("/staff/leads/new", data=fields)
    again = client.post("/staff/leads/new", data=fields)
    assert first.status_code == again.status_code == 303
    assert first.headers["Location"] == again.headers["Location"]
    with app.app_context():
        assert db.session.scalars(select(Enquiry)).all().__len__() == 1


def test_the_inbox_filters_by_channel(app, desk):
    make_lead(app, "bengaluru", name="Web Person")
    record(desk["clients"]["agent"], name="Desk Person")
    client = desk["clients"]["agent"]
    phone_only = client.get("/staff/leads?channel=phone").get_data(as_text=True)
    web_only = client.get("/staff/leads?channel=web").get_data(as_text=True)
    assert "Desk Person" in phone_only and "Web Person" not in phone_only
    assert "Web Person" in web_only and "Desk Person" not in web_only


def test_the_dashboard_converts_by_channel(app, desk):
    make_lead(app, "bengaluru", name="Web Person")
    record(desk["clients"]["agent"], name="Desk Person")
    record(desk["clients"]["agent"], name="Walk In", phone="98450 77788", channel="walk_in")
    html = desk["clients"]["agent"].get("/staff/").get_data(as_text=True)
    for label in ("Website", "Phone", "Walk-in"):
        row = re.search(rf'<tr data-funnel="channel:{label}">(.*?)</tr>', html)
        assert row is not None, label
        assert re.search(r'data-step="new">(\d+)<', row.group(1)).group(1) == "1"
        assert re.search(r'data-step="attended">(\d+) ', row.group(1)).group(1) == "0"


def test_no_branch_alert_for_someone_a_colleague_already_has(app, desk):
    held = make_lead(app, "bengaluru", phone="+919845011122")
    manager = enter_as(app.test_client(), app, make_staff(app, "manager", "bengaluru"))
    fields = form_fields(
        manager.get(f"/staff/leads/{held}").get_data(as_text=True),
        ("action", f"/staff/leads/{held}/assign"),
    )
    fields["assignee"] = str(desk["people"]["agent"])
    assert manager.post(f"/staff/leads/{held}/assign", data=fields).status_code == 303
    before = emails(app, held)

    record(desk["clients"]["agent"], channel="walk_in")
    unheld = make_lead(app, "bengaluru", phone="+919845099999")
    record(desk["clients"]["agent"], phone="98450 99999", channel="phone")

    assert emails(app, held) == before  # being handled: nobody alerted again
    assert emails(app, unheld).count("lead_alert") == 2  # nobody has them yet: alerted
