"""Erasure on request (DPDP Act 2023): a person's details leave every table; the figures stay.

``erase_person`` finds the person by a phone number or an email address, at every branch;
``erase_lead`` erases the person behind one lead (by every phone number on it or on its
enquiries: the phone is the identity). Both anonymise each matching lead (see
``crm.leads.anonymise``), cancel the emails not yet sent to or about them, and leave an
anonymous ``erased`` event saying when and by whom. Running either again changes nothing, and
says so.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.leads.anonymise import Identifiers, Plan, apply_anonymisation, plan_anonymisation

# The intake's per-person lock: holding it, no enquiry can join a lead while it is erased.
from crm.leads.capture import lock_person
from crm.leads.person import addresses_in_use, given_identifiers, holding, lead_identifiers
from crm.leads.queries import get_visible_lead
from crm.models import Branch, Lead, StaffUser
from crm.platform.database import utcnow, write_transaction
from crm.platform.extensions import db
from crm.policy import can_erase

TABLES = ("lead", "enquiry", "follow_up", "appointment", "lead_event", "outbox_email")


class ErasureNotAllowed(PermissionError):
    """Only an active administrator may erase a person's details."""


@dataclass(frozen=True)
class ErasureReport:
    """What an erasure changed (or, for a dry run, would change)."""

    leads: tuple[str, ...]  # references of the leads erased now, e.g. "L-000042"
    already_erased: tuple[str, ...]  # asked for, but erased before
    counts: dict[str, int] = field(default_factory=dict)  # rows changed per table
    erasure_events: int = 0  # anonymous "erased" events added, one per lead erased now
    cancelled_emails: int = 0  # emails that will now never be sent
    redacted_emails: int = 0  # other emails (to staff) whose mentions of the person were replaced
    dry_run: bool = False

    @property
    def matched(self) -> bool:
        """False when nothing anywhere held the phone number or address."""
        return bool(self.leads or self.already_erased or self.changed)

    @property
    def changed(self) -> bool:
        return any(self.counts.values())

    def lines(self) -> list[str]:
        """The report as an operator reads it (the CLI prints these)."""
        would = self.dry_run
        lines = []
        if self.leads:
            verb = "Would erase" if would else "Erased"
            lines.append(f"{verb} {_count(len(self.leads), 'lead')}: {', '.join(self.leads)}.")
        if self.already_erased:
            lines.append(f"Already erased before: {', '.join(self.already_erased)}.")
        if not self.changed:
            lines.append("Nothing left to erase." if self.matched else "Nothing matched.")
            return lines
        lines.append("Rows that would change:" if would else "Rows changed:")
        notes = {
            "lead_event": f"details cleared; {_count(self.erasure_events, 'erasure record')} "
            + ("to add" if would else "added"),
            "outbox_email": f"{self.cancelled_emails} cancelled before sending; "
            f"{self.redacted_emails} other {_plural(self.redacted_emails, 'email')} "
            "with mentions replaced",
        }
        for table in TABLES:
            note = f"  ({notes[table]})" if table in notes else ""
            lines.append(f"  {table:<13}{self.counts.get(table, 0):>6}{note}")
        return lines

    def summary(self) -> str:
        """One sentence for a staff page's flash message."""
        if not self.changed:
            return "Nothing left to erase: these details were erased before."
        leads = ", ".join(self.leads + self.already_erased)
        cancelled = (
            f", {_count(self.cancelled_emails, 'unsent email')} cancelled"
            if self.cancelled_emails
            else ""
        )
        return (
            f"Erased the person's details from {leads}: "
            f"{_count(self.counts.get('enquiry', 0), 'enquiry', 'enquiries')}, "
            f"{_count(self.counts.get('follow_up', 0), 'follow-up')}, "
            f"{_count(self.counts.get('outbox_email', 0), 'email')}{cancelled}."
        )


def erase_person(
    *,
    phone: str | None = None,
    email: str | None = None,
    actor: StaffUser | None = None,
    operator: str | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
) -> ErasureReport:
    """Erase whoever gave this phone number or email address, at every branch.

    ``phone`` and ``email`` are normalised as the form does ("98450 12345" finds
    "+919845012345"; raises ``InvalidContact`` if they cannot be). ``actor``, if given, must be
    an administrator and is recorded on the erasure events; ``operator`` records who ran the
    command line. A phone or address that matches nothing returns a report whose ``matched``
    is False.
    """
    if actor is not None:
        _require_admin(actor)
    wanted = given_identifiers(phone, email)
    return _erase(
        wanted,
        actor_id=actor.id if actor else None,
        detail=_detail("cli" if operator else "staff", operator),
        dry_run=dry_run,
        now=now,
    )


def erase_lead(actor: StaffUser, lead_id: int, *, dry_run: bool = False) -> ErasureReport:
    """Erase the person behind one lead (the staff lead page's admin action).

    The phone is the identity: the person's leads are those holding a phone number given on
    this lead, at every branch. An address on this lead is erased from their leads; another
    lead that only shares it (one family's address) is another person's and keeps it.
    Raises ``ErasureNotAllowed`` unless ``actor`` is an active administrator, ``LeadNotFound``
    for an unknown id.
    Erasing an erased lead again changes nothing (``report.changed`` is False).
    """
    _require_admin(actor)
    lead = get_visible_lead(actor, lead_id)  # raises LeadNotFound
    wanted = lead_identifiers(db.session, lead)
    return _erase(
        wanted,
        match=Identifiers(phones=wanted.phones),
        include=(lead.id,),
        actor_id=actor.id,
        detail=_detail("staff", None),
        dry_run=dry_run,
        now=None,
    )


def _erase(
    wanted: Identifiers,
    *,
    match: Identifiers | None = None,
    include: Sequence[int] = (),
    actor_id: int | None,
    detail: dict[str, str],
    dry_run: bool,
    now: datetime | None,
) -> ErasureReport:
    with _read_only() if dry_run else write_transaction() as session:
        leads = _matching_leads(session, match or wanted, include, lock=not dry_run)
        spare = Identifiers()
        if match is not None:
            shared = addresses_in_use(session, wanted.emails, [lead.id for lead in leads])
            spare = Identifiers(emails=frozenset(shared))
        plan = plan_anonymisation(session, leads, also=wanted, spare=spare)
        report = _report(leads, plan, dry_run=dry_run)
        if plan and not dry_run:
            apply_anonymisation(
                session, plan, now=now or utcnow(), actor_id=actor_id, detail=detail
            )
    return report


def _matching_leads(
    session: Session, wanted: Identifiers, include: Sequence[int], *, lock: bool
) -> list[Lead]:
    """Every lead holding one of the identifiers; locked against a concurrent enquiry."""
    locked: set[str] = set()
    while True:
        query = select(Lead).where(holding(wanted, include)).order_by(Lead.id)
        leads = list(session.scalars(query))
        phones = set(wanted.phones) | {lead.phone for lead in leads if lead.phone}
        if not lock or session.get_bind().dialect.name != "postgresql":
            return leads
        if phones <= locked:
            # Locked before this query ran: nothing can have joined these leads since.
            return list(session.scalars(query.with_for_update()))
        _lock_people(session, phones - locked)
        locked |= phones


def _lock_people(session: Session, phones: set[str]) -> None:
    """Take the intake's lock for each phone at each branch, always in the same order."""
    branches = session.scalars(select(Branch).order_by(Branch.id)).all()
    for phone in sorted(phones):
        for branch in branches:
            lock_person(session, branch, phone)


def _report(leads: Sequence[Lead], plan: Plan, *, dry_run: bool) -> ErasureReport:
    now_erased = {lead.id for lead in plan.first_erasures}
    return ErasureReport(
        leads=tuple(lead.reference for lead in leads if lead.id in now_erased),
        already_erased=tuple(lead.reference for lead in leads if lead.id not in now_erased),
        counts=dict(plan.counts()),
        erasure_events=len(plan.first_erasures),
        cancelled_emails=plan.cancelled_emails,
        redacted_emails=len(plan.mentions),
        dry_run=dry_run,
    )


def _detail(via: str, operator: str | None) -> dict[str, str]:
    detail = {"reason": "request", "via": via}
    if operator:
        detail["operator"] = operator[:120]
    return detail


def _require_admin(actor: StaffUser) -> None:
    if not can_erase(actor):
        raise ErasureNotAllowed("Only an administrator can erase a person's details.")


@contextmanager
def _read_only() -> Iterator[Session]:
    """A dry run: the same queries as the real run, in a transaction that is rolled back."""
    session = db.session()
    try:
        yield session
    finally:
        session.rollback()


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number} {_plural(number, singular, plural)}"


def _plural(number: int, singular: str, plural: str | None = None) -> str:
    return singular if number == 1 else (plural or f"{singular}s")
