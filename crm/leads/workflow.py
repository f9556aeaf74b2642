"""What staff do to a lead: status, assignment, notes, calls, spam release, bulk changes.

Every operation takes the acting staff member and explicit arguments, reads the lead through
the branch scope (so an out-of-scope id is simply not found), records a LeadEvent for each
change and commits once. Edits of the lead's own fields carry the version the person saw, and
are refused if someone else saved the lead in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.leads.followups import complete_follow_up, schedule_follow_up
from crm.leads.notifications import queue_lead_emails
from crm.leads.operations import (
    NOTE_MAX,
    AssignmentRefused,
    StaleLead,
    WorkflowError,
    check_assignee,
    clean_note,
    lead_for_update,
    leads_for_update,
    record_event,
)
from crm.leads.pipeline import (
    SystemMove,
    TransitionRefused,
    change_lead_status,
    check_lost_reason,
    check_transition,
)
from crm.leads.queries import get_visible_lead
from crm.mail.worker import requeue_failed
from crm.models import Enquiry, EventKind, Lead, LeadEvent, LeadStatus, StaffUser
from crm.platform.database import utcnow, write_transaction
from crm.policy import can_assign_in_bulk


class CallOutcome(StrEnum):
    ANSWERED = "answered"
    NO_ANSWER = "no_answer"
    BUSY = "busy"
    CALL_BACK_LATER = "call_back_later"
    WRONG_NUMBER = "wrong_number"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


@dataclass
class BulkResult:
    changed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (reference, reason)


# The views reach every staff operation through this module.
__all__ = [
    "NOTE_MAX",
    "AssignmentRefused",
    "BulkResult",
    "CallOutcome",
    "StaleLead",
    "WorkflowError",
    "add_note",
    "assign_lead",
    "bulk_assign",
    "bulk_change_status",
    "change_status",
    "complete_follow_up",
    "log_call",
    "release_from_spam",
    "retry_email",
    "schedule_follow_up",
]


# --- Single-lead operations ----------------------------------------------------------------------


def change_status(
    actor: StaffUser,
    lead_id: int,
    status: str,
    *,
    expected_version: int | None,
    lost_reason: str | None = None,
    note: str | None = None,
) -> Lead:
    note = clean_note(note)
    with write_transaction() as session:
        lead = lead_for_update(session, actor, lead_id, expected_version)
        change_lead_status(
            session, actor, lead, status, now=utcnow(), lost_reason=lost_reason, note=note
        )
    return lead


def assign_lead(
    actor: StaffUser, lead_id: int, assignee_id: int | None, *, expected_version: int | None
) -> Lead:
    with write_transaction() as session:
        lead = lead_for_update(session, actor, lead_id, expected_version)
        assignee = check_assignee(session, actor, lead, assignee_id)
        _apply_assignment(session, actor, lead, assignee, utcnow())
    return lead


def add_note(actor: StaffUser, lead_id: int, text: str) -> LeadEvent:
    text = clean_note(text, required="Please write the note.")
    with write_transaction() as session:
        lead = lead_for_update(session, actor, lead_id, None)
        now = utcnow()
        lead.updated_at = now
        return record_event(session, actor, lead, EventKind.NOTE, now, {"text": text})


def log_call(actor: StaffUser, lead_id: int, outcome: str, note: str | None = None) -> LeadEvent:
    """A call attempt. An answered call to a new lead also marks it contacted."""
    try:
        outcome = CallOutcome(outcome)
    except ValueError as error:
        raise WorkflowError("Please choose how the call went.") from error
    note = clean_note(note)
    with write_transaction() as session:
        lead = lead_for_update(session, actor, lead_id, None)
        now = utcnow()
        event = record_event(
            session, actor, lead, EventKind.CALL, now, {"outcome": outcome, "note": note}
        )
        if outcome == CallOutcome.ANSWERED and lead.status == LeadStatus.NEW:
            change_lead_status(session, actor, lead, LeadStatus.CONTACTED, now=now)
        lead.updated_at = now
    return event


def release_from_spam(actor: StaffUser, lead_id: int, *, expected_version: int | None) -> Lead:
    """Not spam after all: back in front of staff (new, or contacted if answered before), with
    the branch alert and the visitor's acknowledgement for the latest enquiry sent now."""
    with write_transaction() as session:
        lead = lead_for_update(session, actor, lead_id, expected_version)
        if lead.status != LeadStatus.SPAM:
            raise WorkflowError("Only a lead marked as spam can be released.")
        now = utcnow()
        target = LeadStatus.CONTACTED if lead.first_response_at else LeadStatus.NEW
        change_lead_status(session, actor, lead, target, now=now, move=SystemMove.RELEASE)
        lead.last_enquiry_at = now
        latest = session.scalars(
            select(Enquiry).where(Enquiry.lead_id == lead.id).order_by(Enquiry.id.desc())
        ).first()
        if latest is not None:
            queue_lead_emails(session, lead, latest, lead.branch, repeat=False, now=now)
    return lead


def retry_email(actor: StaffUser, lead_id: int, email_id: int) -> None:
    """Queue a failed email about this lead again, e.g. once a wrong address is fixed upstream."""
    lead = get_visible_lead(actor, lead_id)
    if lead.erased_at is not None:
        raise WorkflowError("This lead's personal data was erased; its emails are gone.")
    if not requeue_failed([email_id], actor_id=actor.id, lead_id=lead_id):
        raise WorkflowError("Only an email that could not be sent can be sent again.")


# --- Bulk operations -----------------------------------------------------------------------------


def bulk_assign(actor: StaffUser, lead_ids: Iterable[int], assignee_id: int | None) -> BulkResult:
    if not can_assign_in_bulk(actor):
        raise AssignmentRefused("Only a manager can assign leads in bulk.")
    result = BulkResult()
    with write_transaction() as session:
        leads = leads_for_update(session, actor, lead_ids)
        now = utcnow()
        for lead in leads:
            if lead.assignee_id == assignee_id:
                result.skipped.append((lead.reference, "already assigned so"))
                continue
            try:
                assignee = check_assignee(session, actor, lead, assignee_id)
            except AssignmentRefused as refusal:
                result.skipped.append((lead.reference, str(refusal)))
                continue
            _apply_assignment(session, actor, lead, assignee, now)
            result.changed.append(lead.reference)
    return result


def bulk_change_status(
    actor: StaffUser, lead_ids: Iterable[int], status: str, lost_reason: str | None = None
) -> BulkResult:
    result = BulkResult()
    with write_transaction() as session:
        leads = leads_for_update(session, actor, lead_ids)
        # A reason not on the list refuses the whole request, not lead by lead.
        check_lost_reason(lost_reason)
        now = utcnow()
        for lead in leads:
            try:
                check_transition(lead.status, status, lost_reason)
            except TransitionRefused as refusal:
                result.skipped.append((lead.reference, str(refusal)))
                continue
            change_lead_status(session, actor, lead, status, now=now, lost_reason=lost_reason)
            result.changed.append(lead.reference)
    return result


# --- Shared steps --------------------------------------------------------------------------------


def _apply_assignment(
    session: Session, actor: StaffUser, lead: Lead, assignee: StaffUser | None, now: datetime
) -> None:
    if lead.assignee_id == (assignee.id if assignee else None):
        raise WorkflowError("The lead is already assigned that way.")
    previous = lead.assignee_id
    lead.assignee_id = assignee.id if assignee else None
    lead.updated_at = now
    lead.version += 1
    record_event(
        session,
        actor,
        lead,
        EventKind.ASSIGNED,
        now,
        {"from": previous, "to": lead.assignee_id, "to_name": assignee.name if assignee else None},
    )
