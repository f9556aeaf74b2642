"""Every enquiry records its language: the page's for the website's form, staff's choice at the
desk; and a database from before keeps working, its enquiries English."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select

from crm.models import Enquiry, Lead
from crm.platform.extensions import db
from tests.helpers import VALID_FIELDS, form_fields
from tests.staff_helpers import enter_as, make_lead, make_staff

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
# The revision before enquiry.language, whatever it is called.
BEFORE = ScriptDirectory(str(MIGRATIONS)).get_revision("d4b7e2a9c158").down_revision
FORM_ACTION = re.compile(
    r'<form[^>]*data-reach-out[^>]*action="([^"]+)"|<form[^>]*action="([^"]+)"[^>]*data-reach-out'
)


def send_form_from(client, page: str, *, json: bool = False, **typed: str):
    """Fill in the reach-out form on ``page`` and send it where the page's form sends it."""
    html = client.get(page).get_data(as_text=True)
    action = next(group for group in FORM_ACTION.search(html).groups() if group).split("#")[0]
    fields = form_fields(html) | VALID_FIELDS | typed
    headers = {"Accept": "application/json"} if json else {}
    return action, client.post(action, data=fields, headers=headers)


def only_enquiry(app) -> Enquiry:
    with app.app_context():
        enquiry = db.session.scalars(select(Enquiry)).one()
        db.session.expunge(enquiry)
        return enquiry


def test_a_form_sent_from_a_telugu_page_is_a_telugu_enquiry(client, app):
    action, response = send_form_from(client, "/te/contact")
    assert action == "/te/leads"
    assert response.status_code == 303
    enquiry = only_enquiry(app)
    assert (enquiry.language, enquiry.consent_version) == ("te", app.config["CONSENT_VERSION"])


def test_with_javascript_too(client, app):
    action, response = send_form_from(client, "/hi/", json=True)
    assert (action, response.status_code) == ("/hi/leads", 201)
    assert only_enquiry(app).language == "hi"


def test_an_english_page_makes_an_english_enquiry(client, app):
    action, response = send_form_from(client, "/contact")
    assert (action, response.status_code) == ("/leads", 303)
    assert only_enquiry(app).language == "en"


@pytest.fixture
def agent(app):
    person = make_staff(app, "agent", "bengaluru", name="Anil Agent")
    return enter_as(app.test_client(), app, person)


def desk_fields(agent) -> dict[str, str]:
    page = agent.get("/staff/leads/new").get_data(as_text=True)
    fields = form_fields(page, ("action", "/staff/leads/new"))
    fields.update(name="Lakshmi Devi", phone="98450 11122", channel="walk_in", consent="y")
    return fields


def test_the_desk_records_the_language_staff_choose(app, agent):
    page = agent.get("/staff/leads/new").get_data(as_text=True)
    assert '<label for="language">Prefers</label>' in page
    assert '<option selected value="en">English</option>' in page
    assert '<option value="te">Telugu</option>' in page
    # The words to read out, in each language, marked as such for screen readers.
    assert '<q lang="te-IN">నేను ఇక్కడ ఇచ్చే వివరాలను' in page

    response = agent.post("/staff/leads/new", data=desk_fields(agent) | {"language": "te"})
    assert response.status_code == 303
    enquiry = only_enquiry(app)
    assert (enquiry.language, enquiry.channel) == ("te", "walk_in")


def test_the_desk_defaults_to_english_and_refuses_a_language_it_did_not_offer(app, agent):
    refused = agent.post("/staff/leads/new", data=desk_fields(agent) | {"language": "ta"})
    assert refused.status_code == 422
    with app.app_context():
        assert db.session.scalars(select(Enquiry)).all() == []
    assert agent.post("/staff/leads/new", data=desk_fields(agent)).status_code == 303
    assert only_enquiry(app).language == "en"


def test_upgrading_keeps_existing_enquiries_english_and_searchable(app):
    before = make_lead(app, "bengaluru", name="Old Enquirer", message="Shoulder stiffness")
    with app.app_context():
        downgrade(revision=BEFORE)
        columns = {column["name"] for column in inspect(db.engine).get_columns("enquiry")}
        assert "language" not in columns
        upgrade()
        db.session.remove()
        assert db.session.scalars(select(Enquiry.language)).all() == ["en"]
    after = make_lead(app, "bengaluru", name="New Enquirer", message="Ankle sprain", language="kn")
    with app.app_context():
        assert db.session.get(Lead, after).enquiries[0].language == "kn"

    # The text search's triggers on enquiry survived: old and new messages are found.
    manager = enter_as(app.test_client(), app, make_staff(app, "manager", "bengaluru"))
    for word, lead_id in (("stiffness", before), ("sprain", after)):
        found = manager.get("/staff/leads", query_string={"q": word}).get_data(as_text=True)
        assert f'href="/staff/leads/{lead_id}"' in found, word
