"""Anonymising leads: what erasure on request and the retention purge both do to a lead.

A lead keeps its row and everything the figures count (branch, status, lost reason, dates,
source page, campaign tags, enquiry count, interest); everything that says who the person is
or what they wrote goes, from every table that held it. Planning is separate from applying,
so a dry run reports exactly what the real run would change.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from crm.leads.anonymise_outbox import (
    CANCELLED,
    ERASED,
    Identifiers,
    empty_email,
    plan_outbox,
)
from crm.leads.operations import record_event
from crm.models import (
    Appointment,
    Enquiry,
    EventKind,
    FollowUp,
    Lead,
    LeadEvent,
    OutboxEmail,
    OutboxStatus,
    StaffUser,
)

NO_IDENTIFIERS = Identifiers()

__all__ = [
    "CANCELLED",
    "ERASED",
    "Identifiers",
    "Plan",
    "apply_anonymisation",
    "page_path",
    "plan_anonymisation",
    "scrub_detail",
]

# Event details keep only what cannot be somebody's words: numbers, flags, our own codes
# ("contacted", "unreachable") and paths. Free text (notes, call notes, names) goes.
_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")
_TIMESTAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?")
_CODE_KEYS = frozenset(
    {"from", "to", "kind", "outcome", "reason", "status", "lost_reason", "via", "format", "field"}
)
# Who erased: staff, not the person whose details are gone.
_STAFF_TEXT_KEYS = frozenset({"operator"})
_PATH_KEYS = frozenset({"source_page"})


@dataclass
class Plan:
    """Every row a run would change, with the state it would leave behind."""

    leads: list[Lead] = field(default_factory=list)
    first_erasures: list[Lead] = field(default_factory=list)  # not erased before: tombstone
    enquiries: list[Enquiry] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    # Kept with their times, for the counts; the address, the note and any reason go.
    appointments: list[Appointment] = field(default_factory=list)
    events: list[tuple[LeadEvent, dict[str, Any]]] = field(default_factory=list)
    # Emails to or about the person: emptied; unsent ones cancelled.
    their_emails: list[OutboxEmail] = field(default_factory=list)
    # Other emails (digests to staff) that mention them: the mentions replaced.
    mentions: list[tuple[OutboxEmail, dict[str, str | None]]] = field(default_factory=list)

    @property
    def cancelled_emails(self) -> int:
        return sum(1 for email in self.their_emails if email.status != OutboxStatus.SENT)

    def counts(self) -> Counter[str]:
        return Counter(
            {
                "lead": len(self.leads),
                "enquiry": len(self.enquiries),
                "follow_up": len(self.follow_ups),
                "appointment": len(self.appointments),
                "lead_event": len(self.events),
                "outbox_email": len(self.their_emails) + len(self.mentions),
            }
        )

    def __bool__(self) -> bool:
        return bool(
            self.leads
            or self.enquiries
            or self.follow_ups
            or self.appointments
            or self.events
            or self.their_emails
            or self.mentions
        )


def plan_anonymisation(
    session: Session,
    leads: Sequence[Lead],
    *,
    also: Identifiers = NO_IDENTIFIERS,
    spare: Identifiers = NO_IDENTIFIERS,
) -> Plan:
    """What anonymising ``leads`` changes; ``also`` adds identifiers that may hold no lead.

    ``spare`` lists identifiers someone still uses on a lead that stays, so a retention purge
    of one old lead does not redact the same person's open enquiry elsewhere from staff emails.
    """
    plan = Plan()
    lead_ids = [lead.id for lead in leads]
    identifiers = _identifiers_of(session, leads, also)

    for lead in leads:
        if lead.erased_at is None:
            plan.first_erasures.append(lead)
        if lead.erased_at is None or lead.name or lead.phone or lead.email:
            plan.leads.append(lead)
    if lead_ids:
        plan.enquiries = [
            enquiry
            for enquiry in session.scalars(
                select(Enquiry).where(Enquiry.lead_id.in_(lead_ids)).order_by(Enquiry.id)
            )
            if _enquiry_holds_anything(enquiry)
        ]
        plan.follow_ups = list(
            session.scalars(
                select(FollowUp)
                .where(
                    FollowUp.lead_id.in_(lead_ids),
                    or_(
                        FollowUp.note.is_not(None),
                        FollowUp.outcome_note.is_not(None),
                        FollowUp.done_at.is_(None),
                    ),
                )
                .order_by(FollowUp.id)
            )
        )
        plan.appointments = list(
            session.scalars(
                select(Appointment)
                .where(
                    Appointment.lead_id.in_(lead_ids),
                    or_(
                        Appointment.address.is_not(None),
                        Appointment.note.is_not(None),
                        Appointment.cancel_reason.is_not(None),
                    ),
                )
                .order_by(Appointment.id)
            )
        )
        for event in session.scalars(
            select(LeadEvent).where(LeadEvent.lead_id.in_(lead_ids)).order_by(LeadEvent.id)
        ):
            scrubbed = scrub_detail(event.detail or {})
            if scrubbed != (event.detail or {}):
                plan.events.append((event, scrubbed))

    plan.their_emails, plan.mentions = plan_outbox(session, lead_ids, identifiers, spare=spare)
    return plan


def apply_anonymisation(
    session: Session,
    plan: Plan,
    *,
    now: datetime,
    actor_id: int | None,
    detail: dict[str, Any],
) -> None:
    """Carry out ``plan``; the caller's transaction commits it."""
    for lead in plan.leads:
        lead.name = ""
        lead.phone = ""
        lead.email = None
        if lead.erased_at is None:
            lead.erased_at = now
        # Nobody can call them any more: no reminders, no overdue follow-ups.
        lead.next_follow_up_at = None
        # Any form a member of staff still has open on this lead is now stale.
        lead.version += 1
    for enquiry in plan.enquiries:
        enquiry.name = ""
        enquiry.phone = None
        enquiry.email = None
        enquiry.message = None
        enquiry.referrer = None
        enquiry.user_agent = None
        enquiry.client_address_hash = None
        enquiry.source_page = page_path(enquiry.source_page)
    for follow_up in plan.follow_ups:
        follow_up.note = None
        follow_up.outcome_note = None
        if follow_up.done_at is None:
            follow_up.done_at = now
    for appointment in plan.appointments:
        appointment.address = None
        appointment.note = None
        appointment.cancel_reason = None
    for event, scrubbed in plan.events:
        event.detail = scrubbed
    for email in plan.their_emails:
        empty_email(email)
    for email, fields in plan.mentions:
        for name, value in fields.items():
            setattr(email, name, value)
    actor = session.get(StaffUser, actor_id) if actor_id is not None else None
    for lead in plan.first_erasures:
        record_event(session, actor, lead, EventKind.ERASED, now, dict(detail))
    session.flush()


def scrub_detail(detail: dict[str, Any]) -> dict[str, Any]:
    """An event's detail without anything a person (or staff about them) could have typed."""
    kept: dict[str, Any] = {}
    for key, value in detail.items():
        if value is None or isinstance(value, bool | int | float):
            kept[key] = value
        elif not isinstance(value, str):
            continue  # nested structures may hold anything
        elif key in _STAFF_TEXT_KEYS or (key in _CODE_KEYS and _CODE.fullmatch(value)):
            kept[key] = value
        elif key in _PATH_KEYS:
            kept[key] = page_path(value)
        elif key.endswith("_at") and _TIMESTAMP.fullmatch(value):
            kept[key] = value
    return kept


def page_path(value: str | None) -> str | None:
    """A page of our site without its query string or fragment, which may carry anything."""
    if not value or not value.startswith("/"):
        return None
    return urlsplit(value).path[:500] or None


def _enquiry_holds_anything(enquiry: Enquiry) -> bool:
    return bool(
        enquiry.name
        or enquiry.phone
        or enquiry.email
        or enquiry.message
        or enquiry.referrer
        or enquiry.user_agent
        or enquiry.client_address_hash
        or enquiry.source_page != page_path(enquiry.source_page)
    )


def _identifiers_of(session: Session, leads: Sequence[Lead], also: Identifiers) -> Identifiers:
    phones = set(also.phones)
    emails = set(also.emails)
    names = set(also.names)
    for lead in leads:
        if lead.phone:
            phones.add(lead.phone)
        if lead.email:
            emails.add(lead.email.lower())
        if lead.name:
            names.add(lead.name)
    lead_ids = [lead.id for lead in leads]
    if lead_ids:
        for name, phone, email in session.execute(
            select(Enquiry.name, Enquiry.phone, Enquiry.email).where(Enquiry.lead_id.in_(lead_ids))
        ):
            if name:
                names.add(name)
            if phone:
                phones.add(phone)
            if email:
                emails.add(email.lower())
    return Identifiers(frozenset(phones), frozenset(emails), frozenset(names))
