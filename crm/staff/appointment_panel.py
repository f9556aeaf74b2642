"""The lead page's Appointments panel: its read model, built with the rest of the page in
crm/staff/lead_page.py ``build_lead_page`` and shown by templates/staff/lead/_appointments.html.

Forms an action refused come back through the page's ``submitted`` forms under the names
``book``, ``reschedule:<id>`` and ``cancel:<id>``, so they keep what was typed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask_wtf import FlaskForm

from crm.clinic.branches import branch_zone
from crm.leads.appointment_mail import whatsapp_text
from crm.leads.appointment_queries import lead_appointments
from crm.leads.appointments import BOOKABLE
from crm.leads.clinicians import clinicians_of
from crm.models import Appointment, Lead
from crm.staff.appointment_forms import (
    BookAppointmentForm,
    CancelForm,
    OutcomeForm,
    RescheduleForm,
)
from crm.staff.forms import choices


def reschedule_key(appointment_id: int) -> str:
    return f"reschedule:{appointment_id}"


def cancel_key(appointment_id: int) -> str:
    return f"cancel:{appointment_id}"


def clinician_choices(branch_id: int, keep: int | None = None) -> list[tuple[str, str]]:
    """The branch's active clinicians, plus a retired one still on the appointment (``keep``)."""
    people = [c for c in clinicians_of(branch_id) if c.active or c.id == keep]
    return choices([(str(c.id), c.name) for c in people], "Anyone (not decided)")


def _own_ids(form: FlaskForm, prefix: str) -> FlaskForm:
    """Several appointment forms share the lead page: each field gets an id of its own."""
    for field in form:
        field.id = f"{prefix}-{field.name}"
        field.label.field_id = field.id
    return form


@dataclass(frozen=True)
class AppointmentActions:
    """The forms of one booked appointment, and whether its time has come (attended/no-show)."""

    reschedule: RescheduleForm
    cancel: CancelForm
    outcome: OutcomeForm
    started: bool
    whatsapp: str


@dataclass(frozen=True)
class AppointmentItem:
    appointment: Appointment
    actions: AppointmentActions | None


@dataclass(frozen=True)
class AppointmentPanel:
    items: list[AppointmentItem]
    book: BookAppointmentForm | None
    zone: str


def _actions(
    lead: Lead, appointment: Appointment, submitted: dict[str, FlaskForm], now: datetime
) -> AppointmentActions:
    zone = branch_zone(lead.branch)
    key = f"appt{appointment.id}"
    reschedule = submitted.get(reschedule_key(appointment.id)) or RescheduleForm(
        formdata=None,
        sequence=appointment.sequence,
        starts_at=appointment.starts_at.astimezone(zone).replace(tzinfo=None),
        minutes=appointment.minutes,
        clinician=str(appointment.clinician_id or ""),
    )
    reschedule.clinician.choices = clinician_choices(lead.branch_id, appointment.clinician_id)
    cancel = submitted.get(cancel_key(appointment.id)) or CancelForm(
        formdata=None, sequence=appointment.sequence
    )
    return AppointmentActions(
        reschedule=_own_ids(reschedule, f"{key}-move"),
        cancel=_own_ids(cancel, f"{key}-cancel"),
        outcome=OutcomeForm(formdata=None, sequence=appointment.sequence),
        started=appointment.starts_at <= now,
        whatsapp=whatsapp_text(appointment, lead.branch),
    )


def build_appointment_panel(
    lead: Lead, submitted: dict[str, FlaskForm], now: datetime
) -> AppointmentPanel:
    """The lead's appointments, latest first, with the actions each allows, and the booking
    form while the lead can be booked. An erased person's appointments are listed, not acted on."""
    zone = branch_zone(lead.branch)
    open_to_change = lead.erased_at is None
    items = [
        AppointmentItem(
            appointment=appointment,
            actions=_actions(lead, appointment, submitted, now)
            if appointment.is_booked and open_to_change
            else None,
        )
        for appointment in lead_appointments(lead)
    ]
    book = None
    if open_to_change and lead.status in BOOKABLE:
        tomorrow = (now.astimezone(zone) + timedelta(days=1)).date()
        book = submitted.get("book") or BookAppointmentForm(
            formdata=None, starts_at=datetime.combine(tomorrow, time(10, 0))
        )
        book.version.data = lead.version  # a re-shown form carries the latest version
        book.clinician.choices = clinician_choices(lead.branch_id)
        _own_ids(book, "book")
    return AppointmentPanel(items=items, book=book, zone=str(zone))
