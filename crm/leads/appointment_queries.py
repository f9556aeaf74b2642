"""Reading appointments. Every read goes through the lead scope (``visible_leads``), so another
branch's appointments never appear, whoever asks and whatever they put in the address."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from crm.clinic.branches import branch_zone
from crm.leads.queries import visible_lead_ids
from crm.models import Appointment, Branch, Lead, StaffUser
from crm.platform.extensions import db


def lead_appointments(lead: Lead) -> list[Appointment]:
    """The lead's appointments, latest first (the lead was read through the scope already)."""
    return list(
        db.session.scalars(
            select(Appointment)
            .options(joinedload(Appointment.clinician))
            .where(Appointment.lead_id == lead.id)
            .order_by(Appointment.starts_at.desc(), Appointment.id.desc())
        )
    )


def day_bounds(branch: Branch, first: date, days: int) -> tuple[datetime, datetime]:
    """From midnight of ``first`` to midnight ``days`` later, in the branch's zone."""
    zone = branch_zone(branch)
    start = datetime.combine(first, datetime.min.time(), zone)
    return start, datetime.combine(first + timedelta(days=days), datetime.min.time(), zone)


def branch_appointments(
    actor: StaffUser,
    branch: Branch,
    first: date,
    days: int = 1,
    *,
    clinician_id: int | None = None,
    kind: str | None = None,
) -> list[Appointment]:
    """A branch's appointments over whole local days, in time order, as ``actor`` may see them."""
    start, end = day_bounds(branch, first, days)
    query = (
        select(Appointment)
        .options(joinedload(Appointment.lead), joinedload(Appointment.clinician))
        .where(
            Appointment.lead_id.in_(visible_lead_ids(actor)),
            Appointment.branch_id == branch.id,
            Appointment.starts_at >= start,
            Appointment.starts_at < end,
        )
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if clinician_id is not None:
        query = query.where(Appointment.clinician_id == clinician_id)
    if kind:
        query = query.where(Appointment.kind == kind)
    return list(db.session.scalars(query))
