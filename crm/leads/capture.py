"""Intake: turn one accepted reach-out submission into stored, actionable data.

One transaction writes the Enquiry, creates or updates the Lead, records its events and queues
the branch alert and the visitor's acknowledgement, so either all of it is stored or none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import and_, bindparam, insert, or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, make_transient_to_detached
from sqlalchemy.sql.elements import BindParameter

from crm.leads.auto_assign import assign_in_turn
from crm.leads.notifications import queue_lead_emails
from crm.leads.operations import event_values, record_events
from crm.leads.pipeline import SystemMove, change_lead_status
from crm.models import (
    OPEN_STATUSES,
    Branch,
    Channel,
    Enquiry,
    EventKind,
    Lead,
    LeadStatus,
)
from crm.platform.database import write_transaction
from crm.platform.extensions import db


class FilterReason(StrEnum):
    """Why a submission was kept aside as spam instead of reaching staff."""

    TOO_FAST = "too_fast"
    UNSIGNED = "unsigned_form"
    KNOWN_SPAM = "known_spam"

    @property
    def label(self) -> str:
        return {
            FilterReason.TOO_FAST: "sent faster than a person could fill in the form",
            FilterReason.UNSIGNED: "sent without a form from our site",
            FilterReason.KNOWN_SPAM: "from a phone or email marked as spam",
        }[self]


# A returning person within this window adds to their lead instead of starting a new one.
REPEAT_WINDOW = timedelta(days=30)

UTM_FIELDS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")


class UnknownBranch(LookupError):
    """The submission names a branch that does not exist or no longer takes enquiries."""


class Outcome(StrEnum):
    CREATED = "created"  # a new lead
    MERGED = "merged"  # a new enquiry on an existing lead
    DUPLICATE = "duplicate"  # this submission token was stored before; nothing written
    FILTERED = "filtered"  # kept aside as spam for staff to review; nobody alerted


@dataclass(frozen=True, slots=True)
class Submission:
    """A validated, normalised submission; everything the intake needs, nothing from a request."""

    name: str
    phone: str  # E.164
    email: str | None
    branch_slug: str
    interest: str | None
    message: str | None
    submission_token: str
    consent_version: str
    received_at: datetime
    source_page: str | None = None
    referrer: str | None = None
    utm: Mapping[str, str | None] = field(default_factory=dict)
    user_agent: str | None = None
    client_address_hash: str | None = None
    # Why the spam defence already distrusts this submission (crm.intake.spam), if it does.
    filtered_reason: str | None = None
    # An enquiry staff recorded at the desk (phone, walk-in, ...): how it came, and who took it.
    channel: str = Channel.WEB
    recorded_by_id: int | None = None
    # The language the person wrote in and read the consent text in (crm.platform.i18n code).
    language: str = "en"


@dataclass(frozen=True, slots=True)
class CaptureResult:
    outcome: Outcome
    lead_id: int
    enquiry_id: int


def capture_lead(submission: Submission) -> CaptureResult:
    """Store a submission exactly once; a repeated submission token answers as before."""
    try:
        with write_transaction() as session:
            # Not looked up first: the token's unique index refuses a submission stored
            # before, the transaction rolls back whole, and the except below answers. A
            # repeat is rare (a second press of Send); a look-up would cost every submission.
            return _capture(session, submission)
    except IntegrityError:
        stored = _stored_result(submission.submission_token)
        if stored is None:
            raise
        return stored


# Built once: building a statement costs more than running it on an indexed column.
_ENQUIRY = Enquiry.__table__.c
_STORED = select(_ENQUIRY.id, _ENQUIRY.lead_id).where(
    _ENQUIRY.submission_token == bindparam("token")
)
_ACTIVE_BRANCH = select(Branch).where(Branch.slug == bindparam("slug"), Branch.active.is_(True))


def _stored_result(token: str) -> CaptureResult | None:
    row = db.session.execute(_STORED, {"token": token}).first()
    if row is None:
        return None
    return CaptureResult(Outcome.DUPLICATE, lead_id=row.lead_id, enquiry_id=row.id)


def _capture(session: Session, submission: Submission) -> CaptureResult:
    branch = session.scalars(_ACTIVE_BRANCH, {"slug": submission.branch_slug}).first()
    if branch is None:
        raise UnknownBranch(submission.branch_slug)

    lock_person(session, branch, submission.phone)
    now = submission.received_at
    candidates = _same_person(session, branch, submission)
    known_spam = next((lead for lead in candidates if lead.status == LeadStatus.SPAM), None)
    if submission.filtered_reason or known_spam is not None:
        reason = submission.filtered_reason or FilterReason.KNOWN_SPAM
        return _capture_filtered(session, branch, submission, known_spam, reason)
    lead = _matching_lead(candidates, submission, now)
    repeat = lead is not None
    events = []
    if lead is None:
        lead, enquiry = _new_lead(session, branch, submission, LeadStatus.NEW)
        detail: dict[str, object] = {"source_page": submission.source_page}
        events.append(event_values(None, lead, EventKind.CREATED, now, detail))
    else:
        _refresh_lead(session, lead, submission, now)
        enquiry = _add_enquiry(session, lead, submission)
    detail = {"enquiry_id": enquiry.id, "repeat": repeat}
    events.append(event_values(None, lead, EventKind.ENQUIRY, now, detail))
    record_events(session, events)
    # Recorded at the desk for someone a colleague already has: the desk tells them directly.
    handled = repeat and lead.assignee_id is not None and submission.recorded_by_id is not None
    queue_lead_emails(
        session, lead, enquiry, branch, repeat=repeat, now=now, alert_branch=not handled
    )
    if not repeat:
        # A returning person's lead stays with whoever already has it.
        assign_in_turn(session, lead, now)
    return CaptureResult(
        Outcome.MERGED if repeat else Outcome.CREATED, lead_id=lead.id, enquiry_id=enquiry.id
    )


def _new_lead(
    session: Session,
    branch: Branch,
    submission: Submission,
    status: LeadStatus,
    filtered_reason: str | None = None,
) -> tuple[Lead, Enquiry]:
    """A lead with its first enquiry, written with two plain INSERTs; the caller records CREATED.

    The ORM's flush of these two rows cost more than all the rest of the write transaction
    (it works through every relationship of both mappers), and it is the most common write.
    Every column is given, so the objects are then added to the session as if just read, and
    the rest of the intake reads and changes them as usual.
    """
    now = submission.received_at
    lead_values = {
        "branch_id": branch.id,
        "name": submission.name,
        "phone": submission.phone,
        "email": submission.email,
        "interest": submission.interest,
        "source": lead_source(submission),
        "channel": submission.channel,
        "status": status,
        "lost_reason": None,
        "assignee_id": None,
        "next_follow_up_at": None,
        "first_response_at": None,
        "escalated_at": None,
        "enquiry_count": 1,
        "created_at": now,
        "updated_at": now,
        "last_enquiry_at": now,
        "erased_at": None,
        "version": 1,
        "merged_into_id": None,
        # What the enquiry trigger would set (its page, as the lead's first): set here, the
        # lead is counted on its page's row at once rather than moved there by a second write.
        "first_page": submission.source_page,
        "had_appointment": False,
        "attended_appointment": False,
    }
    lead_id = session.execute(_INSERT_LEAD, lead_values).scalar_one()
    enquiry_values = _enquiry_values(submission, filtered_reason) | {"lead_id": lead_id}
    enquiry_id = session.execute(_INSERT_ENQUIRY, enquiry_values).scalar_one()
    lead = _as_read(session, Lead(id=lead_id, **lead_values))
    return lead, _as_read(session, Enquiry(id=enquiry_id, **enquiry_values))


_INSERT_LEAD = insert(Lead.__table__).returning(Lead.__table__.c.id)
_INSERT_ENQUIRY = insert(Enquiry.__table__).returning(Enquiry.__table__.c.id)
_Row = TypeVar("_Row", Lead, Enquiry)


def _as_read(session: Session, row: _Row) -> _Row:
    make_transient_to_detached(row)
    session.add(row)
    return row


def _add_enquiry(
    session: Session, lead: Lead, submission: Submission, filtered_reason: str | None = None
) -> Enquiry:
    """A returning person's enquiry on their lead."""
    enquiry = Enquiry(lead_id=lead.id, **_enquiry_values(submission, filtered_reason))
    lead.enquiry_count += 1
    session.add(enquiry)
    session.flush()
    return enquiry


def _enquiry_values(submission: Submission, filtered_reason: str | None) -> dict[str, Any]:
    """Every column of a submission's enquiry but its id and lead."""
    now = submission.received_at
    return {
        "name": submission.name,
        "phone": submission.phone,
        "email": submission.email,
        "interest": submission.interest,
        "message": submission.message or None,
        "source_page": submission.source_page,
        "referrer": submission.referrer,
        "consent_version": submission.consent_version,
        "consented_at": now,
        "submission_token": submission.submission_token,
        "user_agent": submission.user_agent,
        "client_address_hash": submission.client_address_hash,
        "filtered_reason": filtered_reason,
        "channel": submission.channel,
        "recorded_by_id": submission.recorded_by_id,
        "language": submission.language,
        "created_at": now,
        **{name: submission.utm.get(name) or None for name in UTM_FIELDS},
    }


def _same_phone(phone: BindParameter[str] | str):  # type: ignore[no-untyped-def]
    """A lead of the person with this number: its own phone, or one given with its enquiries
    (a lead merged by staff keeps answering to every number the person used)."""
    return or_(
        Lead.phone == phone, Lead.id.in_(select(Enquiry.lead_id).where(Enquiry.phone == phone))
    )


# The person's leads at the branch: by phone, or marked spam with this email. Unlike the
# match by phone, spam also matches by email: a spammer changes numbers more easily than
# addresses. A real person sharing that address loses nothing: the enquiry is stored with
# their own phone, and releasing the lead brings it back to the inbox.
_SAME_PERSON = (
    select(Lead)
    .where(
        Lead.branch_id == bindparam("branch_id"),
        Lead.erased_at.is_(None),
        Lead.merged_into_id.is_(None),
        or_(
            _same_phone(bindparam("phone")),
            and_(Lead.status == LeadStatus.SPAM, Lead.email == bindparam("email")),
        ),
    )
    .order_by(Lead.last_enquiry_at.desc(), Lead.id.desc())
    # PostgreSQL: wait for a concurrent erasure of these rows and see its result, so an
    # enquiry never joins a lead whose person was just erased.
    .with_for_update()
)


def _same_person(session: Session, branch: Branch, submission: Submission) -> list[Lead]:
    """Every lead the submission could belong to, most recent first, in one read."""
    params = {"branch_id": branch.id, "phone": submission.phone, "email": submission.email}
    return list(session.scalars(_SAME_PERSON, params))


def _capture_filtered(
    session: Session,
    branch: Branch,
    submission: Submission,
    lead: Lead | None,
    reason: str,
) -> CaptureResult:
    """Keep a distrusted submission as spam, apart from real leads: stored, never alerted."""
    now = submission.received_at
    events = []
    if lead is None:
        lead, enquiry = _new_lead(session, branch, submission, LeadStatus.SPAM, reason)
        events.append(event_values(None, lead, EventKind.CREATED, now, {"filtered": reason}))
    else:
        lead.last_enquiry_at = now
        enquiry = _add_enquiry(session, lead, submission, reason)
    detail = {"enquiry_id": enquiry.id, "filtered": reason}
    events.append(event_values(None, lead, EventKind.ENQUIRY, now, detail))
    record_events(session, events)
    return CaptureResult(Outcome.FILTERED, lead_id=lead.id, enquiry_id=enquiry.id)


def lead_source(submission: Submission) -> str:
    """The channel a new lead came through, for the dashboard's conversion by source."""
    if submission.channel != Channel.WEB:
        # Recorded at the desk: no campaign brought it, and "direct" would claim a web visit.
        return str(submission.channel)
    tag = (submission.utm.get("utm_source") or "").strip().lower()
    return tag[:100] if tag else "direct"


def lock_person(session: Session, branch: Branch, phone: str) -> None:
    """PostgreSQL: serialise intake per person, so two simultaneous first enquiries make one lead.

    SQLite needs nothing: its immediate transaction already admits one writer at a time.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    digest = hashlib.blake2b(f"{branch.id}:{phone}".encode(), digest_size=8).digest()
    key = int.from_bytes(digest, "big", signed=True)
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _matching_lead(candidates: list[Lead], submission: Submission, now: datetime) -> Lead | None:
    """The person's open lead at this branch, or one active within the repeat window.

    The phone is the identity: the one contact field everybody gives. An email address alone
    is not (a family shares one), so a different number with a known address starts a lead
    of its own, which the lead pages show as sharing the address.
    """
    recent = now - REPEAT_WINDOW
    matching = [
        lead
        for lead in candidates
        if lead.status != LeadStatus.SPAM
        and (lead.status in OPEN_STATUSES or lead.updated_at >= recent)
    ]
    if not matching:
        return None
    # Prefer a lead still being worked on, then the one with this phone as its own, then the
    # most recent.
    return min(
        matching,
        key=lambda lead: (lead.status not in OPEN_STATUSES, lead.phone != submission.phone),
    )


def _refresh_lead(session: Session, lead: Lead, submission: Submission, now: datetime) -> None:
    """A returning person: fill gaps in what we know and bring the lead back to the top."""
    if not lead.email and submission.email:
        lead.email = submission.email
    if not lead.interest and submission.interest:
        lead.interest = submission.interest
    lead.last_enquiry_at = now
    lead.updated_at = now
    if lead.status == LeadStatus.LOST:
        # Also makes a staff form shown before the reopening stale.
        change_lead_status(
            session, None, lead, LeadStatus.CONTACTED, now=now, move=SystemMove.REOPEN
        )
