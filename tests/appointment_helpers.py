"""Booking appointments through the staff pages, as the front desk does."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from icalendar import Calendar
from sqlalchemy import select
from werkzeug.test import TestResponse

from crm.models import Appointment, Branch, Clinician, Lead, OutboxEmail
from crm.platform.database import utcnow
from crm.platform.extensions import db

KOLKATA = ZoneInfo("Asia/Kolkata")


def local_input(moment: datetime) -> str:
    return moment.astimezone(KOLKATA).strftime("%Y-%m-%dT%H:%M")


def soon(days: int = 2, hour: int = 10, minute: int = 0) -> str:
    """A clinic-time moment ``days`` from today, as the form takes it."""
    day = (utcnow().astimezone(KOLKATA) + timedelta(days=days)).date()
    return f"{day.isoformat()}T{hour:02d}:{minute:02d}"


def add_clinician(app: Flask, branch: str, name: str, active: bool = True) -> int:
    with app.app_context():
        branch_id = db.session.scalar(select(Branch.id).where(Branch.slug == branch))
        person = Clinician(branch_id=branch_id, name=name, active=active)
        db.session.add(person)
        db.session.commit()
        return person.id


def add_appointment(
    app: Flask,
    lead_id: int,
    starts_at: datetime,
    status: str = "booked",
    *,
    kind: str = "clinic",
    clinician_id: int | None = None,
    note: str | None = None,
) -> int:
    """An appointment stored as it stands, in the past or with an outcome already: for reports,
    which read what booking, outcomes and time have left behind."""
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        appointment = Appointment(
            lead_id=lead_id,
            branch_id=lead.branch_id,
            starts_at=starts_at,
            minutes=45,
            kind=kind,
            address="1 Test Road" if kind == "home" else None,
            clinician_id=clinician_id,
            note=note,
            status=status,
            uid=f"{uuid.uuid4()}@test.example",
        )
        db.session.add(appointment)
        db.session.commit()
        return appointment.id


def lead_version(app: Flask, lead_id: int) -> int:
    with app.app_context():
        return db.session.get(Lead, lead_id).version


def book(
    client: FlaskClient, app: Flask, token: str, lead_id: int, **fields: object
) -> TestResponse:
    data = {
        "csrf_token": token,
        "version": str(lead_version(app, lead_id)),
        "starts_at": soon(),
        "minutes": "45",
        "kind": "clinic",
        "address": "",
        "clinician": "",
        "note": "",
    }
    data.update({key: str(value) for key, value in fields.items()})
    return client.post(f"/staff/leads/{lead_id}/appointments", data=data)


def appointments_of(app: Flask, lead_id: int) -> list[dict[str, object]]:
    with app.app_context():
        return [
            {
                "id": a.id,
                "starts_at": a.starts_at,
                "minutes": a.minutes,
                "kind": a.kind,
                "address": a.address,
                "note": a.note,
                "status": a.status,
                "sequence": a.sequence,
                "clinician_id": a.clinician_id,
                "uid": a.uid,
            }
            for a in db.session.scalars(
                select(Appointment).where(Appointment.lead_id == lead_id).order_by(Appointment.id)
            )
        ]


def calendar_emails(app: Flask, lead_id: int) -> list[tuple[OutboxEmail, Calendar]]:
    """The lead's emails that carry a calendar file, each with the file parsed by icalendar."""
    with app.app_context():
        emails = db.session.scalars(
            select(OutboxEmail)
            .where(OutboxEmail.lead_id == lead_id, OutboxEmail.ics.is_not(None))
            .order_by(OutboxEmail.id)
        ).all()
        db.session.expunge_all()
    return [(email, Calendar.from_ical(email.ics)) for email in emails]


def the_event(calendar: Calendar):  # type: ignore[no-untyped-def]
    events = calendar.walk("VEVENT")
    assert len(events) == 1
    return events[0]


def next_monday() -> date:
    """A Monday one to two weeks ahead: within the booking horizon, and a known weekday."""
    today = utcnow().astimezone(KOLKATA).date()
    return today + timedelta(days=7 + (7 - today.weekday()) % 7)
