"""Who a person is across branches: the phone numbers and addresses they gave, and the leads
holding any of them. Erasure and the access request find a person the same way, here."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from crm.leads.anonymise import Identifiers
from crm.models import Enquiry, Lead
from crm.platform.contact import normalise_email, normalise_phone


def given_identifiers(phone: str | None = None, email: str | None = None) -> Identifiers:
    """The phone number or address a person gave us, normalised as the form does ("98450
    12345" is "+919845012345"); raises ``InvalidContact`` when it cannot be, ``ValueError``
    when neither is given."""
    address = normalise_email(email) if email else None
    wanted = Identifiers(
        phones=frozenset({normalise_phone(phone)}) if phone else frozenset(),
        emails=frozenset({address.lower()}) if address else frozenset(),
    )
    if not wanted:
        raise ValueError("Give the phone number or the email address of the person.")
    return wanted


def lead_identifiers(session: Session, lead: Lead) -> Identifiers:
    """The person behind one lead: every phone and address on it or its enquiries."""
    emails = enquiry_emails(session, [lead.id])
    if lead.email:
        emails.add(lead.email.lower())
    phones = enquiry_phones(session, [lead.id])
    if lead.phone:
        phones.add(lead.phone)
    return Identifiers(phones=frozenset(phones), emails=frozenset(emails))


def holding(wanted: Identifiers, include: Sequence[int] = ()) -> ColumnElement[bool]:
    """The leads holding one of the identifiers (as the lead's own phone or address, or on one
    of its enquiries), plus the leads ``include`` names."""
    conditions: list[ColumnElement[bool]] = []
    if include:
        conditions.append(Lead.id.in_(include))
    if wanted.phones:
        phones = sorted(wanted.phones)
        conditions.append(Lead.phone.in_(phones))
        conditions.append(Lead.id.in_(select(Enquiry.lead_id).where(Enquiry.phone.in_(phones))))
    if wanted.emails:
        emails = sorted(wanted.emails)
        conditions.append(func.lower(Lead.email).in_(emails))
        conditions.append(
            Lead.id.in_(select(Enquiry.lead_id).where(func.lower(Enquiry.email).in_(emails)))
        )
    return or_(*conditions)


def enquiry_emails(session: Session, lead_ids: Sequence[int]) -> set[str]:
    """Every address given on these leads' enquiries, lower case."""
    return {
        email.lower()
        for email in session.scalars(
            select(Enquiry.email).where(Enquiry.lead_id.in_(lead_ids), Enquiry.email.is_not(None))
        )
        if email
    }


def enquiry_phones(session: Session, lead_ids: Sequence[int]) -> set[str]:
    """Every phone number given on these leads' enquiries."""
    return {
        phone
        for phone in session.scalars(
            select(Enquiry.phone).where(Enquiry.lead_id.in_(lead_ids), Enquiry.phone.is_not(None))
        )
        if phone
    }


def addresses_in_use(
    session: Session, emails: frozenset[str], apart_from: Sequence[int]
) -> set[str]:
    """Which of these addresses a lead other than ``apart_from`` still holds (a shared family
    address belongs to the others too)."""
    if not emails:
        return set()
    others = select(Lead.id).where(
        holding(Identifiers(emails=emails)), Lead.id.not_in(apart_from), Lead.erased_at.is_(None)
    )
    held = {
        address.lower()
        for address in session.scalars(select(Lead.email).where(Lead.id.in_(others)))
        if address
    } | enquiry_emails(session, list(session.scalars(others)))
    return held & emails
