"""The day-before reminder: once per appointment and change, in the branch's time zone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import joinedload

from crm.clinic.branches import branch_zone
from crm.leads.appointment_mail import queue_appointment_email
from crm.leads.appointment_queries import day_bounds
from crm.models import Appointment, AppointmentStatus, Branch, Lead
from crm.platform.database import utcnow, write_transaction


@dataclass
class ReminderRun:
    queued: list[int] = field(default_factory=list)  # appointment ids
    no_email: list[int] = field(default_factory=list)


def due_reminders(session, branch: Branch, now: datetime):  # type: ignore[no-untyped-def]
    """Booked appointments on the branch's tomorrow (its own calendar day, whatever the server's
    clock says) not yet reminded in their current version, and not already past."""
    tomorrow = now.astimezone(branch_zone(branch)).date() + timedelta(days=1)
    start, end = day_bounds(branch, tomorrow, 1)
    return (
        select(Appointment)
        .join(Lead, Appointment.lead_id == Lead.id)
        .options(joinedload(Appointment.clinician))
        .where(
            Appointment.branch_id == branch.id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at >= max(start, now),
            Appointment.starts_at < end,
            or_(
                Appointment.reminder_sequence.is_(None),
                Appointment.reminder_sequence < Appointment.sequence,
            ),
            Lead.merged_into_id.is_(None),
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )


def queue_reminders(*, dry_run: bool = False) -> ReminderRun:
    """Queue the reminders due now. Run from cron (e.g. hourly): a second run the same day
    queues nothing new, and an appointment moved since its reminder is reminded again."""
    now = utcnow()
    run = ReminderRun()
    with write_transaction() as session:
        branches = session.scalars(select(Branch).where(Branch.active.is_(True))).all()
        for branch in branches:
            query = due_reminders(session, branch, now)
            if not dry_run:
                query = query.with_for_update(of=Appointment)
            for appointment in session.scalars(query).unique():
                lead = appointment.lead
                if not lead.email or lead.erased_at is not None:
                    run.no_email.append(appointment.id)
                    continue
                run.queued.append(appointment.id)
                if dry_run:
                    continue
                queue_appointment_email(session, appointment, lead, "reminder", now)
                appointment.reminder_sequence = appointment.sequence
                appointment.reminder_sent_at = now
    return run
