"""What an appointment tells the patient: an email with a calendar file (.ics) on booking, on a
change, on cancellation and the day before; and the same words for WhatsApp.

The email goes to the address the person gave. Nobody has proven it is theirs, so it carries
our words and the appointment's facts (written by staff), never text the visitor typed.

The email and its calendar file are in the language the person last wrote to us in
(``patient_locale``); the WhatsApp text is for staff to send and stays in English, as staff
pages do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.utils import parseaddr

from flask import current_app
from icalendar import Calendar, Event, vCalAddress, vText
from sqlalchemy.orm import Session

from crm.clinic.branches import branch_zone
from crm.leads.language import local_moment, patient_locale
from crm.mail.compose import render_message
from crm.mail.outbox import queue_message
from crm.models import Appointment, AppointmentKind, Branch, EmailKind, Lead, OutboxEmail
from crm.platform.contact import display_branch_phone
from crm.platform.i18n import N_, gettext

# change -> (email kind, subject start, calendar METHOD)
CHANGES = {
    "booked": (EmailKind.APPOINTMENT_BOOKED, N_("Your appointment is booked"), "REQUEST"),
    "rescheduled": (EmailKind.APPOINTMENT_RESCHEDULED, N_("Your appointment has moved"), "REQUEST"),
    "cancelled": (EmailKind.APPOINTMENT_CANCELLED, N_("Your appointment is cancelled"), "CANCEL"),
    "reminder": (
        EmailKind.APPOINTMENT_REMINDER,
        N_("Reminder: your appointment tomorrow"),
        "REQUEST",
    ),
}


@dataclass(frozen=True)
class Facts:
    """The appointment as the patient reads it, in the branch's time zone."""

    when: str
    day: str
    time: str
    minutes: int
    place: str
    clinician: str | None
    branch: Branch
    phone: str
    cancelled: bool


def facts(appointment: Appointment, branch: Branch) -> Facts:
    local = appointment.starts_at.astimezone(branch_zone(branch))
    if appointment.kind == AppointmentKind.HOME:
        # Translators: follows "Where:" in the appointment email.
        place = gettext("a home visit at %(address)s", address=appointment.address)
    else:
        place = f"{current_app.config['CLINIC_NAME']} {branch.city}, {branch.address}"
    # In the locale being written: the patient's inside ``patient_locale``, else English.
    moment = local_moment(local)
    return Facts(
        when=moment.when,
        day=moment.day,
        time=moment.time,
        minutes=appointment.minutes,
        place=" ".join(place.split()),
        clinician=appointment.clinician.name if appointment.clinician else None,
        branch=branch,
        phone=display_branch_phone(branch.phone),
        cancelled=appointment.status == "cancelled",
    )


def whatsapp_text(appointment: Appointment, branch: Branch, *, reminder: bool = False) -> str:
    """The message staff send from the clinic's phone: date, time, place, how to change it."""
    about = facts(appointment, branch)
    clinic = f"{current_app.config['CLINIC_NAME']} {branch.city}"
    if about.cancelled:
        return (
            f"Hello from {clinic}. Your appointment on {about.when} is cancelled. "
            f"To book another time, call or message us on {about.phone}."
        )
    opening = "A reminder of your appointment" if reminder else "Your appointment is booked"
    with_whom = f" with {about.clinician}" if about.clinician else ""
    return (
        f"Hello from {clinic}. {opening}: {about.when} ({about.minutes} minutes){with_whom}, "
        f"{about.place}. To reschedule or cancel, call or message us on {about.phone}."
    )


def calendar_file(appointment: Appointment, branch: Branch, method: str, now: datetime) -> str:
    """The RFC 5545 file: a stable UID, the SEQUENCE of this version, the branch's zone."""
    zone = branch_zone(branch)
    about = facts(appointment, branch)
    clinic = f"{current_app.config['CLINIC_NAME']} {branch.city}"
    calendar = Calendar()
    calendar.add("prodid", f"-//{current_app.config['CLINIC_NAME']}//Appointments//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = Event()
    event.add("uid", appointment.uid)
    event.add("sequence", appointment.sequence)
    event.add("dtstamp", now)
    event.add("dtstart", appointment.starts_at.astimezone(zone))
    event.add("dtend", appointment.ends_at.astimezone(zone))
    event.add("summary", gettext("Physiotherapy appointment, %(clinic)s", clinic=clinic))
    event.add("location", about.place)
    # The email's own sentence and its "With" label, so they read the same in the calendar.
    description = gettext(
        "To reschedule or cancel, call or message us on %(phone)s.", phone=about.phone
    )
    if about.clinician:
        description += f" {gettext('With')} {about.clinician}."
    event.add("description", description)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{_organizer_address(branch)}")
    organizer.params["cn"] = vText(clinic)
    event.add("organizer", organizer)
    if appointment.lead.email:
        attendee = vCalAddress(f"mailto:{appointment.lead.email}")
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        event.add("attendee", attendee)
    calendar.add_component(event)
    calendar.add_missing_timezones()
    # Time zones first: some calendar programs read the event before they look further.
    calendar.subcomponents.sort(key=lambda part: part.name != "VTIMEZONE")
    return calendar.to_ical().decode()


def _organizer_address(branch: Branch) -> str:
    sender = current_app.config["MAIL_DEFAULT_SENDER"] or ""
    _name, address = parseaddr(sender if isinstance(sender, str) else sender[1])
    return branch.notification_email or address


def queue_appointment_email(
    session: Session, appointment: Appointment, lead: Lead, change: str, now: datetime
) -> OutboxEmail | None:
    """The patient's email about this change, in the caller's transaction and the person's
    language; none without an email address (or once the person's data was erased)."""
    if not lead.email or lead.erased_at is not None:
        return None
    with patient_locale(lead):
        return _queue_in_locale(session, appointment, lead, change, now)


def _queue_in_locale(
    session: Session, appointment: Appointment, lead: Lead, change: str, now: datetime
) -> OutboxEmail:
    kind, subject, method = CHANGES[change]
    branch = lead.branch
    about = facts(appointment, branch)
    message = render_message(
        "appointment",
        f"{gettext(subject)}: {about.day}, {about.time}",
        change=change,
        about=about,
        branch=branch,
    )
    return queue_message(
        session,
        message,
        kind=kind,
        to=lead.email,
        reply_to=branch.notification_email or None,
        lead_id=lead.id,
        ics=calendar_file(appointment, branch, method, now),
    )
