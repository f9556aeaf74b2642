"""The right of access: everything held about a person, from the command line or the lead page,
and the request itself on the record."""

from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from crm.models import Appointment, EventKind, Lead, LeadEvent
from crm.platform.extensions import db
from tests.appointment_helpers import add_appointment, add_clinician
from tests.staff_helpers import csrf_token, enter_as
from tests.test_privacy_erasure import (
    OTHER,
    OTHER_TRACES,
    TARGET,
    TARGET_AGAIN,
    leads_of,
    people,  # noqa: F401  (a fixture, used by every test here)
    snapshot,
)

pytestmark = pytest.mark.usefixtures("people")


def access_events(app) -> list[tuple[str, int | None, dict]]:
    with app.app_context():
        rows = db.session.execute(
            select(Lead.id, LeadEvent.actor_id, LeadEvent.detail)
            .join(Lead, Lead.id == LeadEvent.lead_id)
            .where(LeadEvent.kind == EventKind.ACCESS)
            .order_by(Lead.id)
        ).all()
        return [(f"L-{lead:06d}", actor, detail) for lead, actor, detail in rows]


def target_leads(app) -> list[str]:
    with app.app_context():
        return [lead.reference for lead in leads_of(db.session, "+919845012345")]


def leads_with_phone(app, phone: str) -> list[int]:
    with app.app_context():
        return [lead.id for lead in leads_of(db.session, phone)]


def set_address(app, appointment_id: int, address: str) -> None:
    with app.app_context():
        db.session.execute(
            update(Appointment).where(Appointment.id == appointment_id).values(address=address)
        )
        db.session.commit()


def test_the_command_gives_everything_held_at_every_branch_and_records_it(app, runner, tmp_path):
    [bengaluru, _hyderabad] = target_leads(app)
    [other] = leads_with_phone(app, "+919886054321")
    seen_by = add_clinician(app, "bengaluru", "Dr Kavya Menon")
    visit = datetime(2026, 11, 20, 4, 30, tzinfo=UTC)  # 10:00 in Bengaluru
    booked = [
        (visit, "attended", "clinic", None),
        (visit + timedelta(days=14, hours=6), "booked", "home", "Flat 4B, Lake View Road"),
    ]
    for starts_at, status, kind, address in booked:
        appointment = add_appointment(
            app,
            int(bengaluru[2:]),
            starts_at,
            status,
            kind=kind,
            clinician_id=seen_by,
            note="Staff only: limps on the left",
        )
        if address:
            set_address(app, appointment, address)
    add_appointment(app, other, visit, "no_show", note="Someone else's visit")
    output = tmp_path / "answer.json"
    result = runner.invoke(
        args=["leads", "access", "--phone", "98450 12345", "--output", str(output)]
    )
    assert result.exit_code == 0, result.output
    page = tmp_path / "answer.html"
    for path in (output, page):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(output.read_text())

    references = target_leads(app)
    assert [lead["reference"] for lead in data["leads"]] == references
    assert {lead["clinic"] for lead in data["leads"]} == {"Bengaluru", "Hyderabad"}
    messages = [e["message"] for lead in data["leads"] for e in lead["enquiries"]]
    assert sorted(messages) == sorted([TARGET["message"], *[TARGET_AGAIN["message"]] * 2])
    consent = {e["consent_version"] for lead in data["leads"] for e in lead["enquiries"]}
    assert consent == {app.config["CONSENT_VERSION"]}
    assert {"knee-care"} <= {
        e["campaign"].get("campaign") for lead in data["leads"] for e in lead["enquiries"]
    }
    # The staff's call note about them is theirs to see; who on the staff wrote it is not named.
    timeline = [entry for lead in data["leads"] for entry in lead["timeline"]]
    assert any(entry["note"] == "Spoke to Ishaan Verghese, prefers Kannada" for entry in timeline)
    assert "Ravi Agent" not in output.read_text()
    # Emails sent to either of their addresses, by subject and date; nobody else's.
    recipients = {email["to"].lower() for email in data["emails_sent_to_you"]}
    assert recipients == {TARGET["email"], TARGET_AGAIN["email"]}
    assert all(email["subject"] and email["queued_at"] for email in data["emails_sent_to_you"])
    # Their appointments: when (in the clinic's time), where and how it went; not the staff's
    # note on the booking, nor another person's visits.
    appointments = {lead["reference"]: lead["appointments"] for lead in data["leads"]}
    assert appointments[bengaluru] == [
        {
            "starts_at": starts_at.astimezone(ZoneInfo("Asia/Kolkata")).isoformat(
                timespec="minutes"
            ),
            "minutes": 45,
            "place": "Home visit" if kind == "home" else "At the clinic",
            "address": address,
            "status": status.replace("_", "-").capitalize(),
        }
        for starts_at, status, kind, address in booked
    ]
    assert all(lead["appointments"] == [] for lead in data["leads"][1:])
    for text in (output.read_text(), page.read_text()):
        assert "limps on the left" not in text and "Someone else" not in text
    for needle in [*OTHER_TRACES, OTHER["message"]]:
        assert needle not in output.read_text() and needle not in page.read_text()

    html = page.read_text()
    assert TARGET["message"] in html and "Hyderabad: record" in html
    assert "2026-11-20T10:00+05:30</time> (clinic time), 45 minutes · At the clinic" in html
    assert "Home visit: Flat 4B, Lake View Road · Booked" in html
    assert "Found 2 lead(s)" in result.output
    # The request is on the record of each lead: by the command line, and who ran it.
    events = access_events(app)
    assert [reference for reference, _actor, _detail in events] == references
    for _reference, actor, detail in events:
        assert actor is None and detail["via"] == "cli" and detail["operator"]


def test_an_address_given_only_on_an_enquiry_finds_the_person(app, runner):
    result = runner.invoke(args=["leads", "access", "--email", " Ishaan.SECOND@example.org"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    # The second address is on an enquiry of the Bengaluru lead and on the Hyderabad lead.
    assert [lead["reference"] for lead in data["leads"]] == target_leads(app)


def test_nobody_found_is_an_answer_too_and_changes_nothing(app, runner):
    with app.app_context():
        before = snapshot(db.session)
    result = runner.invoke(args=["leads", "access", "--phone", "99999 00000"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["leads"] == [] and data["emails_sent_to_you"] == []
    with app.app_context():
        assert snapshot(db.session) == before
    unclear = runner.invoke(args=["leads", "access"])
    assert unclear.exit_code == 2 and "Give exactly one of" in unclear.output


def test_only_an_admin_gets_the_copy_on_the_lead_page(app, people):  # noqa: F811
    [bengaluru, _hyderabad] = target_leads(app)
    lead_id = int(bengaluru[2:])
    agent = enter_as(app.test_client(), app, people["agent"])
    assert "The person's own data" not in agent.get(f"/staff/leads/{lead_id}").get_data(
        as_text=True
    )
    refused = agent.post(
        f"/staff/leads/{lead_id}/access",
        data={"csrf_token": csrf_token(agent), "format": "json"},
    )
    assert refused.status_code == 403
    admin = enter_as(app.test_client(), app, people["admin"])
    assert admin.get(f"/staff/leads/{lead_id}/access").status_code == 405
    assert admin.post(f"/staff/leads/{lead_id}/access", data={"format": "json"}).status_code == 400
    assert access_events(app) == []


def test_an_admin_downloads_the_json_and_opens_the_page_each_recorded(app, people):  # noqa: F811
    references = target_leads(app)
    lead_id = int(references[0][2:])
    admin = enter_as(app.test_client(), app, people["admin"])
    assert "The person's own data" in admin.get(f"/staff/leads/{lead_id}").get_data(as_text=True)

    download = admin.post(
        f"/staff/leads/{lead_id}/access", data={"csrf_token": csrf_token(admin), "format": "json"}
    )
    assert download.status_code == 200
    assert download.mimetype == "application/json"
    assert download.headers["Cache-Control"] == "no-store"
    assert download.headers["Content-Disposition"] == (
        f'attachment; filename="personal-data-{references[0]}.json"'
    )
    assert [lead["reference"] for lead in download.get_json()["leads"]] == references

    page = admin.post(
        f"/staff/leads/{lead_id}/access", data={"csrf_token": csrf_token(admin), "format": "html"}
    )
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert page.headers["Cache-Control"] == "no-store"
    assert TARGET["message"] in page.get_data(as_text=True)

    events = access_events(app)
    assert sorted((ref, actor, detail["format"]) for ref, actor, detail in events) == sorted(
        (ref, people["admin"], fmt) for ref in references for fmt in ("json", "html")
    )
    timeline = admin.get(f"/staff/leads/{lead_id}").get_data(as_text=True)
    assert "A copy of the person&#39;s data was given to them on request." in timeline


def test_the_privacy_notice_says_how_to_ask_for_a_copy_and_how_long_it_takes(client):
    page = client.get("/privacy").get_data(as_text=True)
    assert 'id="access">Getting a copy of your data</h2>' in page
    assert "We answer within 30 days" in page  # one paragraph, one translatable sentence run
