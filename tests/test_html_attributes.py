"""Attribute values HTML constrains, checked without Java (tests/test_html_valid.py runs the Nu
Html Checker over every page): machine-readable times, the sign-in's autofill hint, and what
date inputs show back after a value that did not parse."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update

from crm.leads import workflow
from crm.models import Lead, StaffUser
from crm.platform.extensions import db
from tests.helpers import form_fields
from tests.staff_helpers import PASSWORD, csrf_token, enter_as, make_lead, make_staff

# HTML's "valid global date and time string": at most three digits of a second's fraction.
GLOBAL_DATE_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:\d\d)")


def datetimes(html: str) -> list[str]:
    return re.findall(r'<time datetime="([^"]*)"', html)


def input_tag(html: str, name: str) -> str:
    found = re.search(rf'<input [^>]*name="{name}"[^>]*>', html)
    assert found, f"no input named {name}"
    return found.group(0)


def test_times_on_the_inbox_and_lead_page_are_valid_and_exact_to_the_second(app):
    # A stored time with microseconds, as every time the app stamps has.
    enquired = datetime(2026, 12, 2, 4, 11, 56, 101750, tzinfo=UTC)
    lead = make_lead(app, at=enquired)
    manager = make_staff(app, "manager", "bengaluru")
    with app.app_context():
        db.session.execute(update(Lead).where(Lead.id == lead).values(last_enquiry_at=enquired))
        db.session.commit()
        workflow.add_note(db.session.get(StaffUser, manager), lead, "Called back.")
    client = enter_as(app.test_client(), app, manager)

    inbox = datetimes(client.get("/staff/leads").get_data(as_text=True))
    assert inbox == ["2026-12-02T04:11:56+00:00"]
    page = datetimes(client.get(f"/staff/leads/{lead}").get_data(as_text=True))
    assert "2026-12-02T04:11:56+00:00" in page  # the enquiry and the "created" event
    assert len(page) >= 3  # the note's event too
    for value in page:
        assert GLOBAL_DATE_TIME.fullmatch(value), value
        stamped = datetime.fromisoformat(value)
        assert stamped.microsecond == 0 and stamped.utcoffset() == timedelta(0)


def test_the_sign_in_email_field_is_a_username_for_password_managers(client):
    html = client.get("/staff/login").get_data(as_text=True)
    tag = input_tag(html, "email")
    # "username" pairs the field with the password in password managers; HTML allows it on a
    # text input, not on type=email, so the email keyboard comes from inputmode instead.
    assert 'autocomplete="username"' in tag and 'inputmode="email"' in tag
    assert 'type="text"' in tag and 'type="email"' not in tag
    assert 'autocapitalize="none"' in tag
    assert 'autocomplete="current-password"' in input_tag(html, "password")


def test_a_sign_in_with_the_text_field_still_works(app):
    person = make_staff(app, "agent", "bengaluru", email="bala@clinic.example")
    client = app.test_client()
    fields = form_fields(client.get("/staff/login").get_data(as_text=True), ("method", "post"))
    fields.update(email="  Bala@Clinic.example ", password=PASSWORD)
    response = client.post("/staff/login", data=fields)
    assert response.status_code in (302, 303), response.status_code
    with app.app_context():
        assert db.session.scalar(select(StaffUser.last_login_at).where(StaffUser.id == person))


def test_date_inputs_show_only_what_they_understood(app):
    manager = make_staff(app, "manager", "bengaluru")
    client = enter_as(app.test_client(), app, manager)
    html = client.get("/staff/leads?since=not-a-date&until=2026-1-5").get_data(as_text=True)
    assert 'value=""' in input_tag(html, "since")  # a browser would blank it too
    assert 'value="2026-01-05"' in input_tag(html, "until")  # the form type=date accepts

    lead = make_lead(app)
    response = client.post(
        f"/staff/leads/{lead}/follow-ups",
        data={"csrf_token": csrf_token(client), "due_at": "tomorrow morning"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value=""' in input_tag(html, "due_at")
    assert '<p class="field-error" id="due_at-error">Please choose when to follow up.</p>' in html
