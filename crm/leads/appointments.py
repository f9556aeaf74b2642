"""Appointments: book, reschedule, cancel, and after the time attended or no-show.

Each operation takes the acting staff member, reads the lead through the branch scope (an
out-of-scope lead or appointment is simply not found), records a LeadEvent for each change,
queues the patient's email with its calendar file, and commits once. Booking carries the lead's
version; changes to an appointment carry the appointment's sequence, so a change made from a
page that is out of date is refused rather than applied to something the person did not see.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.clinic.branches import branch_zone, opening_spans
from crm.leads.appointment_mail import queue_appointment_email
from crm.leads.followups import add_follow_up
from crm.leads.operations import (
    StaleLead,
    WorkflowError,
    clean_note,
    lead_for_update,
    record_event,
)
from crm.leads.pipeline import SystemMove, change_lead_status
from crm.leads.queries import LeadNotFound
from crm.mail.outbox import message_id_domain
from crm.models import (
    WEEKDAYS,
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Branch,
    Clinician,
    EventKind,
    Lead,
    LeadStatus,
    StaffUser,
)
from crm.platform.contact import clean_text, unsafe_characters
from crm.platform.database import utcnow, write_transaction

DEFAULT_MINUTES = 45
MIN_MINUTES = 10
MAX_MINUTES = 240
ADDRESS_MAX = 500
REASON_MAX = 300
# A time typed a few minutes ago ("now, at the desk") is fine; earlier is a typo.
PAST_GRACE = timedelta(minutes=15)
HORIZON = timedelta(days=366)
BOOKABLE = frozenset({LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.APPOINTMENT_BOOKED})


class AppointmentClash(WorkflowError):
    """The clinician already has an appointment at an overlapping time."""


__all__ = [
    "DEFAULT_MINUTES",
    "AppointmentClash",
    "book_appointment",
    "cancel_appointment",
    "mark_attended",
    "mark_no_show",
    "reschedule_appointment",
]


# --- Operations ----------------------------------------------------------------------------------


def book_appointment(
    actor: StaffUser,
    lead_id: int,
    *,
    starts_at: datetime,
    minutes: int,
    kind: str,
    address: str | None,
    clinician_id: int | None,
    note: str | None,
    expected_version: int | None,
) -> Appointment:
    now = utcnow()
    kind = _kind(kind)
    address = _address(kind, address)
    note = clean_note(note)
    _check_time(starts_at, minutes, now)
    with write_transaction() as session:
        lead = lead_for_update(session, actor, lead_id, expected_version)
        if lead.status not in BOOKABLE:
            raise WorkflowError("Appointments are for open leads; reopen the lead first.")
        clinician = _clinician_for(session, lead.branch_id, clinician_id)
        _refuse_clash(session, lead.branch, clinician, starts_at, minutes, None)
        appointment = Appointment(
            lead_id=lead.id,
            branch_id=lead.branch_id,
            starts_at=starts_at,
            minutes=minutes,
            kind=kind,
            address=address,
            clinician_id=clinician.id if clinician else None,
            note=note,
            status=AppointmentStatus.BOOKED,
            uid=f"appointment-{uuid.uuid4().hex}@{message_id_domain()}",
            sequence=0,
            created_by_id=actor.id,
            created_at=now,
            updated_at=now,
        )
        session.add(appointment)
        session.flush()
        _record(session, actor, lead, appointment, "booked", now, {"note": note})
        if lead.status == LeadStatus.APPOINTMENT_BOOKED:
            lead.version += 1  # the lead's page changed: a form from before is out of date
            lead.updated_at = now
        else:
            _move_lead(session, actor, lead, LeadStatus.APPOINTMENT_BOOKED, SystemMove.BOOK, now)
        queue_appointment_email(session, appointment, lead, "booked", now)
    return appointment


def reschedule_appointment(
    actor: StaffUser,
    lead_id: int,
    appointment_id: int,
    *,
    starts_at: datetime,
    minutes: int,
    clinician_id: int | None,
    expected_sequence: int | None,
) -> Appointment:
    now = utcnow()
    _check_time(starts_at, minutes, now)
    with write_transaction() as session:
        lead, appointment = _for_update(session, actor, lead_id, appointment_id, expected_sequence)
        _must_be_booked(appointment, "rescheduled")
        clinician = _clinician_for(session, lead.branch_id, clinician_id, keep=appointment)
        unchanged = (
            appointment.starts_at == starts_at
            and appointment.minutes == minutes
            and appointment.clinician_id == (clinician.id if clinician else None)
        )
        if unchanged:
            raise WorkflowError("That is the appointment's time already.")
        _refuse_clash(session, lead.branch, clinician, starts_at, minutes, appointment.id)
        before = {
            "from": appointment.starts_at.isoformat(),
            "from_minutes": appointment.minutes,
            "from_clinician": appointment.clinician.name if appointment.clinician else None,
        }
        appointment.starts_at = starts_at
        appointment.minutes = minutes
        appointment.clinician_id = clinician.id if clinician else None
        appointment.clinician = clinician
        _changed(appointment, lead, now)
        _record(session, actor, lead, appointment, "rescheduled", now, before)
        queue_appointment_email(session, appointment, lead, "rescheduled", now)
    return appointment


def cancel_appointment(
    actor: StaffUser,
    lead_id: int,
    appointment_id: int,
    reason: str | None,
    *,
    expected_sequence: int | None,
) -> Appointment:
    reason = clean_note(reason, required="Please say why it is cancelled.", limit=REASON_MAX)
    now = utcnow()
    with write_transaction() as session:
        lead, appointment = _for_update(session, actor, lead_id, appointment_id, expected_sequence)
        _must_be_booked(appointment, "cancelled")
        appointment.status = AppointmentStatus.CANCELLED
        appointment.cancel_reason = reason
        _changed(appointment, lead, now)
        _record(session, actor, lead, appointment, "cancelled", now, {"reason": reason})
        if _nothing_else_booked(session, lead, appointment):
            _move_lead(session, actor, lead, LeadStatus.CONTACTED, SystemMove.CANCEL_BOOKING, now)
        queue_appointment_email(session, appointment, lead, "cancelled", now)
    return appointment


def mark_attended(
    actor: StaffUser, lead_id: int, appointment_id: int, *, expected_sequence: int | None
) -> Appointment:
    now = utcnow()
    with write_transaction() as session:
        lead, appointment = _for_update(session, actor, lead_id, appointment_id, expected_sequence)
        _must_be_booked(appointment, "marked attended")
        _must_have_started(appointment, now)
        appointment.status = AppointmentStatus.ATTENDED
        appointment.updated_at = now
        _record(session, actor, lead, appointment, "attended", now, {})
        if lead.status == LeadStatus.APPOINTMENT_BOOKED:
            _move_lead(session, actor, lead, LeadStatus.VISITED, None, now)
        else:
            lead.updated_at = now
    return appointment


def mark_no_show(
    actor: StaffUser, lead_id: int, appointment_id: int, *, expected_sequence: int | None
) -> Appointment:
    """The patient did not come: back to contacted, and a call on the next opening day."""
    now = utcnow()
    with write_transaction() as session:
        lead, appointment = _for_update(session, actor, lead_id, appointment_id, expected_sequence)
        _must_be_booked(appointment, "marked as a no-show")
        _must_have_started(appointment, now)
        appointment.status = AppointmentStatus.NO_SHOW
        appointment.updated_at = now
        _record(session, actor, lead, appointment, "no_show", now, {})
        if _nothing_else_booked(session, lead, appointment):
            _move_lead(session, actor, lead, LeadStatus.CONTACTED, SystemMove.NO_SHOW, now)
        if lead.is_open:
            zone = branch_zone(lead.branch)
            day = appointment.starts_at.astimezone(zone).strftime("%d %b")
            add_follow_up(
                session,
                actor,
                lead,
                next_opening(lead.branch, now),
                lead.assignee_id,
                f"Did not come on {day}: call to book again.",
                now,
            )
        lead.updated_at = now
    return appointment


def next_opening(branch: Branch, after: datetime) -> datetime:
    """When the branch first opens on a day after ``after``'s (in the branch's zone).

    A branch with no opening hours recorded is taken to open at 10:00 the next day.
    """
    zone = branch_zone(branch)
    day = after.astimezone(zone).date()
    for offset in range(1, 8):
        candidate = day + timedelta(days=offset)
        spans = opening_spans(branch, WEEKDAYS[candidate.weekday()])
        if spans:
            return datetime.combine(candidate, min(spans)[0], zone)
    return datetime.combine(day + timedelta(days=1), datetime.min.time(), zone) + timedelta(
        hours=10
    )


# --- Shared steps --------------------------------------------------------------------------------


def _move_lead(
    session: Session,
    actor: StaffUser,
    lead: Lead,
    target: LeadStatus,
    move: SystemMove | None,
    now: datetime,
) -> None:
    """The one place appointments change a lead's status: attended is a pipeline move;
    booking, cancelling and a no-show are the named system moves (``SYSTEM_MOVES``)."""
    change_lead_status(session, actor, lead, target, now=now, move=move)


def _for_update(
    session: Session,
    actor: StaffUser,
    lead_id: int,
    appointment_id: int,
    expected_sequence: int | None,
) -> tuple[Lead, Appointment]:
    lead = lead_for_update(session, actor, lead_id, None)
    appointment = session.scalar(
        select(Appointment)
        .where(Appointment.id == appointment_id, Appointment.lead_id == lead.id)
        .with_for_update()
    )
    if appointment is None:
        raise LeadNotFound(appointment_id)
    if expected_sequence is not None and appointment.sequence != expected_sequence:
        raise StaleLead(
            "Someone else changed this appointment while you had it open, so your change was "
            "not made. The page now shows the latest version; please check it and try again."
        )
    return lead, appointment


def _kind(kind: str) -> AppointmentKind:
    try:
        return AppointmentKind(kind)
    except ValueError as error:
        raise WorkflowError("Please choose the clinic or a home visit.") from error


def _address(kind: AppointmentKind, address: str | None) -> str | None:
    if kind == AppointmentKind.CLINIC:
        return None  # a clinic visit is at the branch
    address = clean_text(address, multiline=True)
    if not address:
        raise WorkflowError("A home visit needs the visit address.")
    if unsafe_characters(address, multiline=True):
        raise WorkflowError("Please remove invisible or control characters from the address.")
    if len(address) > ADDRESS_MAX:
        raise WorkflowError(f"Please keep the address under {ADDRESS_MAX} characters.")
    return address


def _check_time(starts_at: datetime, minutes: int, now: datetime) -> None:
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise WorkflowError(f"Please choose between {MIN_MINUTES} and {MAX_MINUTES} minutes.")
    if starts_at < now - PAST_GRACE:
        raise WorkflowError("Please choose a time in the future for the appointment.")
    if starts_at > now + HORIZON:
        raise WorkflowError("Please choose a time within the next year.")


def _clinician_for(
    session: Session, branch_id: int, clinician_id: int | None, keep: Appointment | None = None
) -> Clinician | None:
    """An active clinician of the branch, locked so two bookings cannot both take one slot.
    A retired clinician stays on an appointment they already had."""
    if clinician_id is None:
        return None
    clinician = session.scalar(
        select(Clinician)
        .where(Clinician.id == clinician_id, Clinician.branch_id == branch_id)
        .with_for_update()
    )
    kept = keep is not None and keep.clinician_id == clinician_id
    if clinician is None or not (clinician.active or kept):
        raise WorkflowError("Please choose one of the branch's clinicians.")
    return clinician


def _refuse_clash(
    session: Session,
    branch: Branch,
    clinician: Clinician | None,
    starts_at: datetime,
    minutes: int,
    except_id: int | None,
) -> None:
    if clinician is None:
        return
    ends_at = starts_at + timedelta(minutes=minutes)
    query = select(Appointment).where(
        Appointment.clinician_id == clinician.id,
        Appointment.status == AppointmentStatus.BOOKED,
        Appointment.starts_at < ends_at,
        # No appointment is longer than MAX_MINUTES, so none that starts earlier can reach.
        Appointment.starts_at > starts_at - timedelta(minutes=MAX_MINUTES),
    )
    if except_id is not None:
        query = query.where(Appointment.id != except_id)
    for other in session.scalars(query.order_by(Appointment.starts_at)):
        if other.ends_at > starts_at:
            zone = branch_zone(branch)
            start = other.starts_at.astimezone(zone)
            end = other.ends_at.astimezone(zone)
            raise AppointmentClash(
                f"{clinician.name} already has an appointment then: "
                f"{start:%d %b %Y, %H:%M}–{end:%H:%M} with L-{other.lead_id:06d}. "
                "Please choose another time or clinician."
            )


def _must_be_booked(appointment: Appointment, what: str) -> None:
    if appointment.status != AppointmentStatus.BOOKED:
        label = AppointmentStatus(appointment.status).label.lower()
        raise WorkflowError(f"This appointment is {label}; it cannot be {what}.")


def _must_have_started(appointment: Appointment, now: datetime) -> None:
    if appointment.starts_at > now:
        raise WorkflowError("Attended or no-show can be recorded once the appointment's time came.")


def _nothing_else_booked(session: Session, lead: Lead, appointment: Appointment) -> bool:
    """The lead is booked only through this appointment, so without it it is not booked."""
    if lead.status != LeadStatus.APPOINTMENT_BOOKED:
        return False
    other = session.scalar(
        select(Appointment.id).where(
            Appointment.lead_id == lead.id,
            Appointment.id != appointment.id,
            Appointment.status == AppointmentStatus.BOOKED,
        )
    )
    return other is None


def _changed(appointment: Appointment, lead: Lead, now: datetime) -> None:
    """A change the patient's calendar must follow: the .ics SEQUENCE rises."""
    appointment.sequence += 1
    appointment.updated_at = now
    lead.updated_at = now


def _record(
    session: Session,
    actor: StaffUser,
    lead: Lead,
    appointment: Appointment,
    action: str,
    now: datetime,
    extra: dict[str, Any],
) -> None:
    detail: dict[str, Any] = {
        "action": action,
        "appointment_id": appointment.id,
        "starts_at": appointment.starts_at.isoformat(),
        "minutes": appointment.minutes,
        "kind": appointment.kind,
        "clinician": appointment.clinician.name if appointment.clinician else None,
    }
    detail.update({key: value for key, value in extra.items() if value is not None})
    record_event(session, actor, lead, EventKind.APPOINTMENT, now, detail)
