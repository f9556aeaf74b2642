"""The right of access: everything held about a person, from the command line or the lead page,
and the request itself on the record."""

from __future__ import annotations

import json
import stat

import pytest
from sqlalchemy import select

from crm.models import EventKind, Lead, LeadEvent
from crm.platform.extensions import db
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


def test_the_command_gives_everything_held_at_every_branch_and_records_it(app, runner, tmp_path):
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
    assert data["appointments"]["held"] is False
    for needle in [*OTHER_TRACES, OTHER["message"]]:
        assert needle not in output.read_text() and needle not in page.read_text()

    html = page.read_text()
    assert TARGET["message"] in html and "Hyderabad: record" in html
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
    assert "We answer\n      within 30 days" in page
