"""The columns of an export: one SQL query of plain tuples (shaped into cells by ``shaping``).

The query returns tuples, not ORM objects, and joins each lead to its first and last enquiry by
id (enquiries are immutable and numbered in arrival order), so a million rows cost one pass.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, case, func, select, type_coerce
from sqlalchemy.orm import aliased

from crm.leads.export.clock import BranchClock
from crm.models import Appointment, AppointmentStatus, Clinician, Enquiry, Lead

__all__ = ["HEADER", "PHONE_SEPARATOR", "BranchClock", "lead_rows"]

HEADER = (
    "Reference",
    "Created (branch time)",
    "Name",
    "Phone",
    "Email",
    "Branch",
    # The language of the latest enquiry: who should call back, and in what.
    "Language",
    "Interest",
    "Status",
    "Lost reason",
    "Assignee",
    "First response at (branch time)",
    "Next follow-up (branch time)",
    "Enquiries",
    "First source page",
    "Last source page",
    # First touch: the campaign that brought the person to us, as Lead.source records it.
    "UTM source (first enquiry)",
    "UTM medium (first enquiry)",
    "UTM campaign (first enquiry)",
    "Latest message",
    # Numbers the person gave with their enquiries besides the lead's own (after a merge).
    "Other phones",
    # The earliest booked appointment still to come, and the outcomes of those that came.
    "Next appointment (branch time)",
    "Next appointment kind",
    "Next appointment clinician",
    "Appointments attended",
    "No-shows",
)

# Between the numbers in "Other phones"; never part of a phone number.
PHONE_SEPARATOR = " "


def lead_rows(scope: Select[tuple[Lead]], now: datetime) -> Select[Any]:
    """The export's columns for the leads of ``scope``, in reference order; "next appointment"
    means the first booked one starting at or after ``now``."""
    first = aliased(Enquiry, name="first_enquiry")
    last = aliased(Enquiry, name="last_enquiry")
    upcoming = aliased(Appointment, name="next_appointment")
    next_id = (
        select(Appointment.id)
        .where(
            Appointment.lead_id == Lead.id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at >= now,
        )
        .order_by(Appointment.starts_at, Appointment.id)
        .limit(1)
        .correlate(Lead)
        .scalar_subquery()
    )
    # Counted once over the appointments with an outcome and joined by lead: one grouped pass,
    # not a count per lead.
    outcomes = (
        select(
            Appointment.lead_id,
            _count_of(AppointmentStatus.ATTENDED).label("attended"),
            _count_of(AppointmentStatus.NO_SHOW).label("no_shows"),
        )
        .where(Appointment.status.in_([AppointmentStatus.ATTENDED, AppointmentStatus.NO_SHOW]))
        .group_by(Appointment.lead_id)
        .subquery("outcomes")
    )

    def edge(aggregate: Any) -> Any:
        return (
            select(aggregate(Enquiry.id))
            .where(Enquiry.lead_id == Lead.id)
            .correlate(Lead)
            .scalar_subquery()
        )

    # The last enquiry's message when it has one (most leads): a lookup by lead only for a
    # lead of several enquiries whose latest message came with an earlier one.
    latest_message = case(
        (last.message.is_not(None), last.message),
        (
            Lead.enquiry_count > 1,
            select(Enquiry.message)
            .where(Enquiry.lead_id == Lead.id, Enquiry.message.is_not(None))
            .order_by(Enquiry.id.desc())
            .limit(1)
            .correlate(Lead)
            .scalar_subquery(),
        ),
        else_=None,
    )
    given = (
        select(Enquiry.phone.label("phone"))
        .where(
            Enquiry.lead_id == Lead.id,
            Enquiry.phone.is_not(None),
            Enquiry.phone != Lead.phone,
        )
        .distinct()
        .correlate(Lead)
        .subquery()
    )
    other_phones = case(
        # A lead of one enquiry has only its own number: no lookup for most leads.
        (
            Lead.enquiry_count > 1,
            select(func.aggregate_strings(given.c.phone, PHONE_SEPARATOR)).scalar_subquery(),
        ),
        else_=None,
    )
    return (
        scope.with_only_columns(
            Lead.id,
            _plain(Lead.created_at),
            Lead.name,
            Lead.phone,
            Lead.email,
            Lead.branch_id,
            Lead.interest,
            Lead.status,
            Lead.lost_reason,
            Lead.assignee_id,
            _plain(Lead.first_response_at),
            _plain(Lead.next_follow_up_at),
            Lead.enquiry_count,
            Lead.erased_at.is_not(None),
            first.source_page.label("first_source_page"),
            first.utm_source,
            first.utm_medium,
            first.utm_campaign,
            last.source_page.label("last_source_page"),
            latest_message.label("latest_message"),
            other_phones.label("other_phones"),
            _plain(upcoming.starts_at).label("next_appointment_at"),
            upcoming.kind.label("next_appointment_kind"),
            Clinician.name.label("next_appointment_clinician"),
            func.coalesce(outcomes.c.attended, 0).label("appointments_attended"),
            func.coalesce(outcomes.c.no_shows, 0).label("no_shows"),
            last.language.label("language"),
        )
        .select_from(Lead)
        .outerjoin(first, first.id == edge(func.min))
        .outerjoin(last, last.id == edge(func.max))
        .outerjoin(upcoming, upcoming.id == next_id)
        .outerjoin(Clinician, Clinician.id == upcoming.clinician_id)
        .outerjoin(outcomes, outcomes.c.lead_id == Lead.id)
        .order_by(Lead.id)
    )


def _count_of(status: AppointmentStatus) -> Any:
    return func.sum(case((Appointment.status == status, 1), else_=0))


def _plain(column: Any) -> Any:
    """A time column as the database driver returns it, without ``UTCDateTime``'s processing.

    At a million rows the per-value processing (parse, then attach UTC) is a large share of
    the export. PostgreSQL's driver returns aware datetimes; SQLite returns the UTC text it
    stores, which ``BranchClock`` reads directly.
    """
    return type_coerce(column, String())
