"""The patient's emails go out in the language of their latest enquiry, through a real SMTP
server: the acknowledgement, the appointment's booking, move, cancellation and reminder, and the
calendar file; dates written the way that language writes them, digits 0-9. Staff emails stay
in English.

The words come from the Telugu catalogue, which translators write: the expected text is read
from crm/translations/te/LC_MESSAGES/messages.po, so these tests hold the catalogue and the
code to each other.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from urllib.parse import quote

import pytest
from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from icalendar import Calendar

from crm import PROJECT_ROOT
from crm.leads import appointment_reminders
from tests.appointment_helpers import KOLKATA, appointments_of, book, next_monday
from tests.helpers import VALID_FIELDS, form_fields
from tests.smtp import HOST, Received, SMTPServer, deliver
from tests.staff_helpers import csrf_token, enter_as, make_lead, make_staff

CATALOGUE = PROJECT_ROOT / "crm" / "translations" / "te" / "LC_MESSAGES" / "messages.po"
TELUGU_LETTERS = re.compile("[\u0c00-\u0c7f]")
INDIC_DIGITS = re.compile("[\u0966-\u096f\u0ce6-\u0cef\u0c66-\u0c6f]")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
MON = next_monday()
TUE = MON + timedelta(days=1)
CLINIC = "Physiotattva"


@pytest.fixture
def app_config(smtp_server: SMTPServer) -> dict[str, object]:
    return {"MAIL_SERVER": HOST, "MAIL_PORT": smtp_server.port}


@pytest.fixture(scope="module")
def telugu() -> Catalog:
    if not CATALOGUE.exists():
        pytest.fail(f"There is no Telugu catalogue at {CATALOGUE.relative_to(PROJECT_ROOT)} yet.")
    if not CATALOGUE.with_suffix(".mo").exists():
        pytest.fail("The Telugu catalogue is not compiled: run `make translations`.")
    with CATALOGUE.open("rb") as source:
        return read_po(source, locale="te")


def translated(catalogue: Catalog, msgid: str, **values: object) -> str:
    message = catalogue.get(msgid)
    assert message is not None, f"{msgid!r} is not in the Telugu catalogue"
    assert message.string and not message.fuzzy, f"{msgid!r} has no Telugu translation"
    assert TELUGU_LETTERS.search(message.string), f"{msgid!r} is not in Telugu"
    return message.string % values if values else message.string


def words(text: str) -> str:
    return " ".join(text.split())


def reads(body: str, catalogue: Catalog, msgid: str) -> None:
    """``body`` has the Telugu of ``msgid``: each of its pieces between placeholders."""
    for piece in PLACEHOLDER.split(translated(catalogue, msgid)):
        if piece.strip():
            assert words(piece) in words(body), (msgid, piece)


def to(messages: list[Received], address: str) -> list[Received]:
    return [message for message in messages if message.rcpt_tos == [address]]


def calendar_of(email: Received) -> Calendar:
    part = next(p for p in email.message.walk() if p.get_content_type() == "text/calendar")
    return Calendar.from_ical(part.get_payload(decode=True).decode())


def appointment_emails(messages: list[Received], address: str) -> list[Received]:
    """The appointment's emails (each with its calendar file), in the order they were sent."""
    return [
        message
        for message in to(messages, address)
        if any(p.get_content_type() == "text/calendar" for p in message.message.walk())
    ]


def telugu_date(day) -> str:  # type: ignore[no-untyped-def]
    return format_date(day, "full", locale="te")


# --- Dates, whatever the catalogue holds ---------------------------------------------------


@pytest.fixture
def desk(app):
    agent = make_staff(app, "agent", "bengaluru", name="Bala Agent")
    client = enter_as(app.test_client(), app, agent)
    return {"client": client, "token": csrf_token(client)}


def telugu_lead(app, email: str = "lakshmi@example.com") -> int:
    """Someone who wrote first in English, then in Telugu: Telugu is what they read."""
    lead = make_lead(app, phone="+919845077777", email=email)
    again = make_lead(app, phone="+919845077777", email=email, language="te")
    assert again == lead
    return lead


def test_an_appointment_is_dated_in_telugu_with_western_digits(app, desk, runner, smtp_server):
    lead = telugu_lead(app)
    response = book(desk["client"], app, desk["token"], lead, starts_at=f"{MON}T16:30")
    assert response.status_code == 303
    staff_page = desk["client"].get(f"/staff/leads/{lead}").get_data(as_text=True)
    # The WhatsApp text staff send from the clinic's phone stays in English, as staff pages do.
    assert quote(f"{MON:%A %d %B %Y}, 16:30", safe="") in staff_page

    [email] = appointment_emails(deliver(runner, smtp_server), "lakshmi@example.com")
    subject = str(email.message["Subject"])
    assert telugu_date(MON) in subject and "4:30 PM" in subject
    body = email.part("plain")
    assert telugu_date(MON) in body
    assert not INDIC_DIGITS.search(subject + body)
    [event] = calendar_of(email).walk("VEVENT")
    assert event.decoded("DTSTART") == datetime.combine(MON, time(16, 30), KOLKATA)


def test_staff_emails_about_a_telugu_enquiry_stay_in_english(app, client, runner, smtp_server):
    page = client.get("/te/contact").get_data(as_text=True)
    fields = form_fields(page) | VALID_FIELDS | {"email": "lakshmi@example.com"}
    assert client.post("/te/leads", data=fields).status_code == 303
    [alert] = to(deliver(runner, smtp_server), "bengaluru@physiotattva.example")
    assert str(alert.message["Subject"]) == "New enquiry at Bengaluru: Ravi Kumar"
    assert not TELUGU_LETTERS.search(alert.part("plain"))


# --- Words, from the Telugu catalogue ------------------------------------------------------


def test_the_acknowledgement_goes_out_in_telugu(app, client, runner, smtp_server, telugu):
    page = client.get("/te/contact").get_data(as_text=True)
    fields = form_fields(page) | VALID_FIELDS | {"email": "lakshmi@example.com"}
    assert client.post("/te/leads", data=fields).status_code == 303

    [thanks] = to(deliver(runner, smtp_server), "lakshmi@example.com")
    assert str(thanks.message["Subject"]) == translated(
        telugu, "We have your message, %(clinic)s %(city)s", clinic=CLINIC, city="Bengaluru"
    )
    text, html = thanks.part("plain"), thanks.part("html")
    for msgid in (
        "Hello,",
        "Thank you for writing to %(clinic)s %(city)s. We have your message.",
        "Opening hours",
        "With best wishes,",
    ):
        reads(text, telugu, msgid)
    assert '<html lang="te-IN">' in html
    reads(html, telugu, "Hello,")


def test_an_enquiry_taken_at_the_desk_in_telugu_is_acknowledged_in_telugu(
    app, desk, runner, smtp_server, telugu
):
    page = desk["client"].get("/staff/leads/new").get_data(as_text=True)
    fields = form_fields(page, ("action", "/staff/leads/new")) | {
        "name": "Lakshmi Devi",
        "phone": "98450 11122",
        "email": "lakshmi@example.com",
        "channel": "phone",
        "language": "te",
        "consent": "y",
    }
    assert desk["client"].post("/staff/leads/new", data=fields).status_code == 303
    [thanks] = to(deliver(runner, smtp_server), "lakshmi@example.com")
    reads(str(thanks.message["Subject"]), telugu, "We have your message, %(clinic)s %(city)s")
    reads(thanks.part("plain"), telugu, "Hello,")


def test_appointment_emails_and_calendar_go_out_in_telugu(
    app, desk, runner, smtp_server, monkeypatch, telugu
):
    lead = telugu_lead(app)
    client, token = desk["client"], desk["token"]
    assert book(client, app, token, lead, starts_at=f"{TUE}T10:00").status_code == 303
    [appointment] = appointments_of(app, lead)
    base = f"/staff/leads/{lead}/appointments/{appointment['id']}"
    moved = client.post(
        f"{base}/reschedule",
        data={
            "csrf_token": token,
            "sequence": 0,
            "starts_at": f"{TUE}T11:00",
            "minutes": "45",
            "clinician": "",
        },
    )
    assert moved.status_code == 303
    # The evening before, the reminder (the command line: no page, no request language).
    evening = datetime.combine(MON, time(19, 0), KOLKATA)
    monkeypatch.setattr(appointment_reminders, "utcnow", lambda: evening)
    assert runner.invoke(args=["appointments", "remind"]).exit_code == 0
    cancelled = client.post(
        f"{base}/cancel", data={"csrf_token": token, "sequence": 1, "reason": "Travelling"}
    )
    assert cancelled.status_code == 303

    emails = appointment_emails(deliver(runner, smtp_server), "lakshmi@example.com")
    expected = [
        ("Your appointment is booked", "Your appointment is booked."),
        ("Your appointment has moved", "Your appointment has moved to a new time."),
        ("Reminder: your appointment tomorrow", "A reminder: your appointment is tomorrow."),
        (
            "Your appointment is cancelled",
            "Your appointment at %(clinic)s %(city)s on %(when)s is cancelled. "
            "The calendar file attached removes it from your calendar.",
        ),
    ]
    assert len(emails) == len(expected)
    for email, (subject, sentence) in zip(emails, expected, strict=True):
        assert str(email.message["Subject"]).startswith(translated(telugu, subject) + ":")
        assert telugu_date(TUE) in str(email.message["Subject"])
        reads(email.part("plain"), telugu, sentence)
        reads(email.part("plain"), telugu, "With best wishes,")
        assert '<html lang="te-IN">' in email.part("html")
        [event] = calendar_of(email).walk("VEVENT")
        assert str(event["SUMMARY"]) == translated(
            telugu, "Physiotherapy appointment, %(clinic)s", clinic=f"{CLINIC} Bengaluru"
        )
        reads(
            str(event["DESCRIPTION"]),
            telugu,
            "To reschedule or cancel, call or message us on %(phone)s.",
        )
