"""The right of access (DPDP Act 2023, §11): a summary of everything held about a person.

``access_person`` finds the person by a phone number or an email address at every branch (the
same matching as erasure, ``crm.leads.person``); ``access_lead`` finds the person behind one
lead. Both gather the leads, enquiries (with the consent text each was given to), the
timelines, follow-ups, appointments and the emails sent to the person, and record the request as an
``access_request`` event on each lead found: who handled it, when, and how.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.clinic.branches import branch_zone
from crm.clinic.consent import find_consent
from crm.leads.anonymise import Identifiers
from crm.leads.operations import record_event
from crm.leads.person import enquiry_emails, given_identifiers, holding, lead_identifiers
from crm.leads.queries import get_visible_lead
from crm.models import (
    Appointment,
    AppointmentKind,
    AppointmentStatus,
    Enquiry,
    EventKind,
    FollowUp,
    Lead,
    LeadEvent,
    OutboxEmail,
    StaffUser,
)
from crm.platform.database import utcnow, write_transaction
from crm.platform.extensions import db
from crm.policy import can_give_personal_data


class AccessNotAllowed(PermissionError):
    """Only an active administrator may hand out a person's data."""


@dataclass(frozen=True)
class AccessReport:
    data: dict[str, Any]  # what the person receives, as JSON
    leads: tuple[str, ...]  # references of the leads found, e.g. "L-000042"


def access_person(
    *,
    phone: str | None = None,
    email: str | None = None,
    actor: StaffUser | None = None,
    operator: str | None = None,
    now: datetime | None = None,
) -> AccessReport:
    """Everything held about whoever gave this phone number or address, at every branch.

    Raises ``InvalidContact`` for a number or address that cannot be normalised. ``actor``,
    if given, must be an administrator; ``operator`` names who ran the command line.
    """
    if actor is not None:
        _require_admin(actor)
    return _gather(
        given_identifiers(phone, email),
        actor=actor,
        detail=_detail("cli" if operator else "staff", operator),
        now=now or utcnow(),
    )


def access_lead(actor: StaffUser, lead_id: int, *, file_format: str = "html") -> AccessReport:
    """The person behind one lead (the lead page's admin action), at every branch.

    The phone is the identity, as for erasure: a lead that only shares an address with this
    one (one family's address) is another person's, and is not theirs to read.
    """
    _require_admin(actor)
    lead = get_visible_lead(actor, lead_id)  # raises LeadNotFound
    wanted = lead_identifiers(db.session, lead)
    detail = _detail("staff", None)
    detail["format"] = file_format
    return _gather(
        wanted,
        match=Identifiers(phones=wanted.phones),
        include=(lead.id,),
        actor=actor,
        detail=detail,
        now=utcnow(),
    )


def _gather(
    wanted: Identifiers,
    *,
    match: Identifiers | None = None,
    include: Sequence[int] = (),
    actor: StaffUser | None,
    detail: dict[str, str],
    now: datetime,
) -> AccessReport:
    with write_transaction() as session:
        query = select(Lead).where(holding(match or wanted, include)).order_by(Lead.id)
        leads = list(session.scalars(query))
        lead_ids = [lead.id for lead in leads]
        addresses = set(wanted.emails) | enquiry_emails(session, lead_ids)
        addresses |= {lead.email.lower() for lead in leads if lead.email}
        data = {
            "generated_at": _time(now),
            "asked_with": {
                "phone": sorted(wanted.phones),
                "email": sorted(wanted.emails),
            },
            "handled_by": "command line" if detail.get("via") == "cli" else "staff",
            "leads": [_lead(session, lead) for lead in leads],
            "emails_sent_to_you": _emails(session, addresses),
        }
        for lead in leads:
            record_event(session, actor, lead, EventKind.ACCESS, now, dict(detail))
    return AccessReport(data=data, leads=tuple(lead.reference for lead in leads))


def _lead(session: Session, lead: Lead) -> dict[str, Any]:
    from crm.leads.timeline import describe, free_text  # the sentences staff read, too

    enquiries = session.scalars(
        select(Enquiry).where(Enquiry.lead_id == lead.id).order_by(Enquiry.created_at)
    )
    events = session.scalars(
        select(LeadEvent).where(LeadEvent.lead_id == lead.id).order_by(LeadEvent.created_at)
    )
    follow_ups = session.scalars(
        select(FollowUp).where(FollowUp.lead_id == lead.id).order_by(FollowUp.due_at)
    )
    appointments = session.scalars(
        select(Appointment)
        .where(Appointment.lead_id == lead.id)
        .order_by(Appointment.starts_at, Appointment.id)
    )
    zone = branch_zone(lead.branch)
    return {
        "reference": lead.reference,
        "clinic": lead.branch.city,
        "name": lead.name,
        "phone": lead.phone,
        "email": lead.email,
        "interest": lead.interest,
        "status": lead.status,
        "first_contact_at": _time(lead.created_at),
        "last_enquiry_at": _time(lead.last_enquiry_at),
        "erased_at": _time(lead.erased_at),
        "enquiries": [
            {
                "sent_at": _time(enquiry.created_at),
                "name": enquiry.name,
                "email": enquiry.email,
                "interest": enquiry.interest,
                "message": enquiry.message,
                "page": enquiry.source_page,
                "referrer": enquiry.referrer,
                "campaign": {
                    key: getattr(enquiry, f"utm_{key}")
                    for key in ("source", "medium", "campaign", "term", "content")
                    if getattr(enquiry, f"utm_{key}")
                },
                "language": enquiry.language,
                "consent_version": enquiry.consent_version,
                # The words agreed to, as they were shown: in the enquiry's language.
                "consent_text": _consent_words(enquiry),
                "consented_at": _time(enquiry.consented_at),
                "browser": enquiry.user_agent,
            }
            for enquiry in enquiries
        ],
        "timeline": [
            {
                "at": _time(event.created_at),
                # Staff names are the staff's personal data, not the person's.
                "what": "Passed to a member of our team."
                if event.kind == EventKind.ASSIGNED
                else describe(event),
                "by": "clinic staff" if event.actor_id else "our website",
                "note": free_text(event),
            }
            for event in events
        ],
        "follow_ups": [
            {
                "due_at": _time(follow_up.due_at),
                "done_at": _time(follow_up.done_at),
                "note": follow_up.note,
                "outcome": follow_up.outcome_note,
            }
            for follow_up in follow_ups
        ],
        # What was arranged with them: when, where and how it went. The staff's note on the
        # booking and the clinician's name are the staff's words and people, not theirs.
        "appointments": [
            {
                "starts_at": appointment.starts_at.astimezone(zone).isoformat(timespec="minutes"),
                "minutes": appointment.minutes,
                "place": AppointmentKind(appointment.kind).label,
                "address": appointment.address,
                "status": AppointmentStatus(appointment.status).label,
            }
            for appointment in appointments
        ],
    }


def _emails(session: Session, addresses: set[str]) -> list[dict[str, Any]]:
    if not addresses:
        return []
    emails = session.scalars(
        select(OutboxEmail)
        .where(func.lower(OutboxEmail.to_address).in_(sorted(addresses)))
        .order_by(OutboxEmail.created_at, OutboxEmail.id)
    )
    return [
        {
            "to": email.to_address,
            "subject": email.subject,
            "queued_at": _time(email.created_at),
            "sent_at": _time(email.sent_at),
            "status": email.status,
        }
        for email in emails
    ]


def _consent_words(enquiry: Enquiry) -> str | None:
    text = find_consent(enquiry.consent_version, enquiry.language)
    return text.label if text else None


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def _detail(via: str, operator: str | None) -> dict[str, str]:
    detail = {"via": via}
    if operator:
        detail["operator"] = operator[:120]
    return detail


def _require_admin(actor: StaffUser) -> None:
    if not can_give_personal_data(actor):
        raise AccessNotAllowed("Only an administrator can give out a person's data.")


def access_html(report: AccessReport) -> str:
    """The same summary as a page a person can read (a file that stands on its own)."""
    from flask import current_app, render_template

    return render_template(
        "privacy/access.html",
        data=report.data,
        clinic=current_app.config["CLINIC_NAME"],
        contact=current_app.config["PRIVACY_CONTACT_EMAIL"],
    )
