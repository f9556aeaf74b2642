"""``crm appointments remind``: the day before in the branch's zone, once per appointment and
change, never for cancelled ones; and the emails are right on the wire of a real SMTP server."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from icalendar import Calendar

from crm.leads import appointment_reminders
from tests.appointment_helpers import (
    KOLKATA,
    appointments_of,
    book,
    calendar_emails,
    next_monday,
    the_event,
)
from tests.smtp import HOST
from tests.staff_helpers import csrf_token, enter_as, make_lead, make_staff

MON = next_monday()
TUE = MON + timedelta(days=1)


def at(day, hh_mm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hh_mm), KOLKATA)


@pytest.fixture
def desk(app):
    agent = make_staff(app, "agent", "bengaluru")
    client = enter_as(app.test_client(), app, agent)
    return {"client": client, "token": csrf_token(client)}


def booked(app, desk, when: str, email: str | None = "p@example.com") -> int:
    lead = make_lead(app, email=email)
    assert book(desk["client"], app, desk["token"], lead, starts_at=when).status_code == 303
    return lead


def remind(runner, monkeypatch, now: datetime, *args: str) -> str:
    """The real command, on a clock set to ``now``."""
    monkeypatch.setattr(appointment_reminders, "utcnow", lambda: now.astimezone(KOLKATA))
    result = runner.invoke(args=["appointments", "remind", *args])
    assert result.exit_code == 0, result.output
    return result.output


def reminders(app, lead: int) -> list:
    return [
        (email, calendar)
        for email, calendar in calendar_emails(app, lead)
        if email.kind == "appointment_reminder"
    ]


def test_the_reminder_goes_the_day_before_by_the_branchs_calendar(app, desk, runner, monkeypatch):
    early_monday = booked(app, desk, f"{MON}T00:15")
    monday = booked(app, desk, f"{MON}T10:00")
    tuesday_midnight = booked(app, desk, f"{TUE}T00:00")

    # Sunday 23:59 in Bengaluru: tomorrow is Monday, all of it, and Tuesday not yet.
    output = remind(runner, monkeypatch, at(MON, "00:00") - timedelta(minutes=1))
    assert "Appointment reminders queued: 2;" in output
    assert len(reminders(app, early_monday)) == 1 and len(reminders(app, monday)) == 1
    assert reminders(app, tuesday_midnight) == []

    # Monday 02:00 in Bengaluru is still Sunday in UTC; the clinic's tomorrow is Tuesday.
    output = remind(runner, monkeypatch, at(MON, "02:00"))
    assert "Appointment reminders queued: 1;" in output
    assert len(reminders(app, tuesday_midnight)) == 1
    assert len(reminders(app, monday)) == 1  # once, not again on the day

    [(email, calendar)] = reminders(app, monday)
    assert "A reminder: your appointment is tomorrow." in email.text_body
    assert calendar["METHOD"] == "REQUEST"
    assert the_event(calendar)["SEQUENCE"] == 0


def test_once_per_change_never_when_cancelled_and_a_dry_run_queues_nothing(
    app, desk, runner, monkeypatch
):
    moved = booked(app, desk, f"{TUE}T09:00")
    cancelled = booked(app, desk, f"{TUE}T11:00")
    no_email = booked(app, desk, f"{TUE}T12:00", email=None)
    [gone] = appointments_of(app, cancelled)
    desk["client"].post(
        f"/staff/leads/{cancelled}/appointments/{gone['id']}/cancel",
        data={"csrf_token": desk["token"], "sequence": 0, "reason": "Feeling better"},
    )
    evening = at(MON, "19:00")

    output = remind(runner, monkeypatch, evening, "--dry-run")
    assert "Appointment reminders would be queued: 1; patients without an email address: 1." in (
        output
    )
    assert reminders(app, moved) == []

    assert "queued: 1;" in remind(runner, monkeypatch, evening)
    assert "queued: 0;" in remind(runner, monkeypatch, evening + timedelta(hours=1))
    assert reminders(app, cancelled) == [] and reminders(app, no_email) == []

    # Moved to later the same day after its reminder: the new time is reminded too.
    [appointment] = appointments_of(app, moved)
    desk["client"].post(
        f"/staff/leads/{moved}/appointments/{appointment['id']}/reschedule",
        data={
            "csrf_token": desk["token"],
            "sequence": 0,
            "starts_at": f"{TUE}T15:00",
            "minutes": "45",
            "clinician": "",
        },
    )
    assert "queued: 1;" in remind(runner, monkeypatch, evening + timedelta(hours=2))
    sequences = [the_event(calendar)["SEQUENCE"] for _email, calendar in reminders(app, moved)]
    assert sequences == [0, 1]


@pytest.fixture
def app_config(request) -> dict[str, object]:
    if "smtp_server" not in request.fixturenames:
        return {}
    server = request.getfixturevalue("smtp_server")
    return {"MAIL_SERVER": HOST, "MAIL_PORT": server.port}


def test_the_invitation_arrives_as_text_calendar_with_its_method(app, desk, runner, smtp_server):
    lead = booked(app, desk, f"{MON}T10:00", email="ravi@example.com")
    [appointment] = appointments_of(app, lead)
    desk["client"].post(
        f"/staff/leads/{lead}/appointments/{appointment['id']}/cancel",
        data={"csrf_token": desk["token"], "sequence": 0, "reason": "Travelling"},
    )
    result = runner.invoke(args=["outbox", "send"])
    assert "Sent 4, to retry later 0, failed 0." in result.output, result.output
    sent = [m for m in smtp_server.messages if m.rcpt_tos == ["ravi@example.com"]]
    invites = {}
    for received in sent:
        message = received.message
        assert all(len(line) <= 998 for line in received.data.split(b"\r\n"))
        calendars = [
            part
            for part in message.iter_attachments()
            if part.get_content_type() == "text/calendar"
        ]
        if "appointment" not in str(message["Subject"]).lower():
            assert calendars == []  # the acknowledgement carries none
            continue
        [calendar_part] = calendars
        calendar = Calendar.from_ical(calendar_part.get_content())
        assert calendar_part.get_param("method") == calendar["METHOD"]
        assert calendar_part.get_filename() == "invite.ics"
        assert message.get_body(preferencelist=("plain",)) is not None
        invites[str(calendar["METHOD"])] = the_event(calendar)
    assert set(invites) == {"REQUEST", "CANCEL"}
    assert invites["REQUEST"]["UID"] == invites["CANCEL"]["UID"] == appointment["uid"]
    assert invites["CANCEL"]["SEQUENCE"] > invites["REQUEST"]["SEQUENCE"]
