"""What staff do to a lead: status, assignment, notes, calls and follow-ups.

Every operation takes the acting staff member and explicit arguments, reads the lead through
the branch scope (so an out-of-scope id is simply not found), records a LeadEvent for each
change and commits once. Edits of the lead's own fields carry the version the person saw, and
are refused if someone else saved the lead in between.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.database import utcnow, write_transaction
from crm.leads.capture import queue_lead_emails
from crm.leads.contact import clean_text, unsafe_characters
from crm.leads.pipeline import TransitionRefused, check_transition
from crm.leads.queries import LeadNotFound, get_visible_lead, visible_leads
from crm.mail.worker import requeue_failed
from crm.models import (
    Enquiry,
    EventKind,
    FollowUp,
    Lead,
    LeadEvent,
    LeadStatus,
    LostReason,
    Role,
    StaffUser,
)

NOTE_MAX = 2000
FOLLOW_UP_NOTE_MAX = 500
# A follow-up "now" typed a minute ago is still fine; one in the past is a typo.
FOLLOW_UP_GRACE = timedelta(minutes=5)


class WorkflowError(ValueError):
    """The change cannot be made; the message is written for the person who asked."""


class StaleLead(WorkflowError):
    """Someone else saved the lead after this person loaded it."""


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
    note = _text(note)
    with write_transaction() as session:
        lead = _lead_for_update(session, actor, lead_id, expected_version)
        _apply_status(session, actor, lead, status, lost_reason, note, utcnow())
    return lead


def assign_lead(
    actor: StaffUser, lead_id: int, assignee_id: int | None, *, expected_version: int | None
) -> Lead:
    with write_transaction() as session:
        lead = _lead_for_update(session, actor, lead_id, expected_version)
        assignee = _check_assignee(session, actor, lead, assignee_id)
        _apply_assignment(session, actor, lead, assignee, utcnow())
    return lead


def add_note(actor: StaffUser, lead_id: int, text: str) -> LeadEvent:
    text = _text(text, required="Please write the note.")
    with write_transaction() as session:
        lead = _lead_for_update(session, actor, lead_id, None)
        now = utcnow()
        lead.updated_at = now
        return _record(session, actor, lead, EventKind.NOTE, now, {"text": text})


def log_call(actor: StaffUser, lead_id: int, outcome: str, note: str | None = None) -> LeadEvent:
    """A call attempt. An answered call to a new lead also marks it contacted."""
    try:
        outcome = CallOutcome(outcome)
    except ValueError as error:
        raise WorkflowError("Please choose how the call went.") from error
    note = _text(note)
    with write_transaction() as session:
        lead = _lead_for_update(session, actor, lead_id, None)
        now = utcnow()
        event = _record(
            session, actor, lead, EventKind.CALL, now, {"outcome": outcome, "note": note}
        )
        if outcome == CallOutcome.ANSWERED and lead.status == LeadStatus.NEW:
            _apply_status(session, actor, lead, LeadStatus.CONTACTED, None, None, now)
        lead.updated_at = now
    return event


def schedule_follow_up(
    actor: StaffUser,
    lead_id: int,
    due_at: datetime,
    *,
    assignee_id: int | None = None,
    note: str | None = None,
) -> FollowUp:
    now = utcnow()
    if due_at < now - FOLLOW_UP_GRACE:
        raise WorkflowError("Please choose a time in the future for the follow-up.")
    note = _text(note, limit=FOLLOW_UP_NOTE_MAX)
    with write_transaction() as session:
        lead = _lead_for_update(session, actor, lead_id, None)
        if not lead.is_open:
            raise WorkflowError("Follow-ups are for open leads; reopen the lead first.")
        if assignee_id is None:
            assignee_id = lead.assignee_id or (actor.id if actor.branch_id else None)
        else:
            _check_assignee(session, actor, lead, assignee_id)
        follow_up = FollowUp(
            lead_id=lead.id,
            assignee_id=assignee_id,
            due_at=due_at,
            note=note,
            created_by_id=actor.id,
            created_at=now,
        )
        session.add(follow_up)
        session.flush()
        _refresh_next_follow_up(session, lead)
        lead.updated_at = now
        _record(
            session,
            actor,
            lead,
            EventKind.FOLLOW_UP,
            now,
            {
                "action": "scheduled",
                "follow_up_id": follow_up.id,
                "due_at": due_at.isoformat(),
                "note": note,
            },
        )
    return follow_up


def complete_follow_up(
    actor: StaffUser, lead_id: int, follow_up_id: int, outcome_note: str | None = None
) -> FollowUp:
    outcome_note = _text(outcome_note)
    with write_transaction() as session:
        lead = _lead_for_update(session, actor, lead_id, None)
        follow_up = session.scalar(
            select(FollowUp).where(FollowUp.id == follow_up_id, FollowUp.lead_id == lead.id)
        )
        if follow_up is None:
            raise LeadNotFound(follow_up_id)
        if follow_up.done_at is not None:
            raise WorkflowError("That follow-up was already completed.")
        now = utcnow()
        _close_follow_up(session, actor, lead, follow_up, outcome_note, now)
        _refresh_next_follow_up(session, lead)
        lead.updated_at = now
    return follow_up


def release_from_spam(actor: StaffUser, lead_id: int, *, expected_version: int | None) -> Lead:
    """Not spam after all: back in front of staff (new, or contacted if answered before), with
    the branch alert and the visitor's acknowledgement for the latest enquiry sent now."""
    with write_transaction() as session:
        lead = _lead_for_update(session, actor, lead_id, expected_version)
        if lead.status != LeadStatus.SPAM:
            raise WorkflowError("Only a lead marked as spam can be released.")
        now = utcnow()
        target = LeadStatus.CONTACTED if lead.first_response_at else LeadStatus.NEW
        _record(
            session,
            actor,
            lead,
            EventKind.STATUS,
            now,
            {"from": lead.status, "to": target, "reason": "released from spam"},
        )
        lead.status = target
        lead.updated_at = now
        lead.last_enquiry_at = now
        lead.version += 1
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
    if actor.role == Role.AGENT:
        raise WorkflowError("Only a manager can assign leads in bulk.")
    result = BulkResult()
    with write_transaction() as session:
        leads = _leads_for_update(session, actor, lead_ids)
        now = utcnow()
        for lead in leads:
            assignee = _check_assignee(session, actor, lead, assignee_id)
            if lead.assignee_id == assignee_id:
                result.skipped.append((lead.reference, "already assigned so"))
                continue
            _apply_assignment(session, actor, lead, assignee, now)
            result.changed.append(lead.reference)
    return result


def bulk_change_status(
    actor: StaffUser, lead_ids: Iterable[int], status: str, lost_reason: str | None = None
) -> BulkResult:
    result = BulkResult()
    with write_transaction() as session:
        leads = _leads_for_update(session, actor, lead_ids)
        now = utcnow()
        for lead in leads:
            try:
                check_transition(lead.status, status, lost_reason)
            except TransitionRefused as refusal:
                result.skipped.append((lead.reference, str(refusal)))
                continue
            _apply_status(session, actor, lead, status, lost_reason, None, now)
            result.changed.append(lead.reference)
    return result


# --- Shared steps --------------------------------------------------------------------------------


def _lead_for_update(
    session: Session, actor: StaffUser, lead_id: int, expected_version: int | None
) -> Lead:
    lead = session.scalar(visible_leads(actor).where(Lead.id == lead_id).with_for_update())
    if lead is None:
        raise LeadNotFound(lead_id)
    if lead.erased_at is not None:
        raise WorkflowError("This lead's personal data was erased; it can no longer be changed.")
    if expected_version is not None and lead.version != expected_version:
        raise StaleLead(
            "Someone else saved this lead while you had it open, so your change was not made. "
            "The page now shows the latest version; please check it and try again."
        )
    return lead


def _leads_for_update(session: Session, actor: StaffUser, lead_ids: Iterable[int]) -> list[Lead]:
    """All the requested leads, or not found: one out-of-scope id refuses the whole request."""
    wanted = sorted(set(lead_ids))
    if not wanted:
        raise WorkflowError("Please select at least one lead.")
    leads = session.scalars(
        visible_leads(actor).where(Lead.id.in_(wanted)).order_by(Lead.id).with_for_update()
    ).all()
    if len(leads) != len(wanted):
        raise LeadNotFound(set(wanted) - {lead.id for lead in leads})
    erased = [lead.reference for lead in leads if lead.erased_at is not None]
    if erased:
        raise WorkflowError(f"These leads were erased and cannot change: {', '.join(erased)}.")
    return list(leads)


def _apply_status(
    session: Session,
    actor: StaffUser,
    lead: Lead,
    status: str,
    lost_reason: str | None,
    note: str | None,
    now: datetime,
) -> None:
    if lost_reason:
        try:
            lost_reason = LostReason(lost_reason)
        except ValueError as error:
            raise WorkflowError("Please choose one of the listed reasons.") from error
    try:
        check_transition(lead.status, status, lost_reason)
    except TransitionRefused as refusal:
        raise WorkflowError(str(refusal)) from refusal
    previous = lead.status
    lead.status = LeadStatus(status)
    lead.lost_reason = lost_reason if lead.status == LeadStatus.LOST else None
    if previous == LeadStatus.NEW and lead.first_response_at is None:
        lead.first_response_at = now
    lead.updated_at = now
    lead.version += 1
    detail: dict[str, Any] = {"from": previous, "to": lead.status}
    if lead.lost_reason:
        detail["reason"] = lead.lost_reason
    if note:
        detail["note"] = note
    _record(session, actor, lead, EventKind.STATUS, now, detail)
    if not lead.is_open:
        for follow_up in _open_follow_ups(session, lead):
            _close_follow_up(
                session,
                actor,
                lead,
                follow_up,
                f"Closed: lead marked {lead.status.label.lower()}",
                now,
            )
        lead.next_follow_up_at = None


def _check_assignee(
    session: Session, actor: StaffUser, lead: Lead, assignee_id: int | None
) -> StaffUser | None:
    if actor.role == Role.AGENT and assignee_id not in (actor.id, None):
        raise WorkflowError("Only a manager can assign leads to someone else.")
    if (
        actor.role == Role.AGENT
        and assignee_id is None
        and lead.assignee_id not in (actor.id, None)
    ):
        raise WorkflowError("Only a manager can take a lead away from a colleague.")
    if assignee_id is None:
        return None
    assignee = session.get(StaffUser, assignee_id)
    if assignee is None or not assignee.active or assignee.branch_id != lead.branch_id:
        raise WorkflowError("Leads can only be assigned to active staff of the lead's branch.")
    return assignee


def _apply_assignment(
    session: Session, actor: StaffUser, lead: Lead, assignee: StaffUser | None, now: datetime
) -> None:
    if lead.assignee_id == (assignee.id if assignee else None):
        raise WorkflowError("The lead is already assigned that way.")
    previous = lead.assignee_id
    lead.assignee_id = assignee.id if assignee else None
    lead.updated_at = now
    lead.version += 1
    _record(
        session,
        actor,
        lead,
        EventKind.ASSIGNED,
        now,
        {"from": previous, "to": lead.assignee_id, "to_name": assignee.name if assignee else None},
    )


def _open_follow_ups(session: Session, lead: Lead) -> list[FollowUp]:
    return list(
        session.scalars(
            select(FollowUp).where(FollowUp.lead_id == lead.id, FollowUp.done_at.is_(None))
        )
    )


def _close_follow_up(
    session: Session,
    actor: StaffUser,
    lead: Lead,
    follow_up: FollowUp,
    outcome_note: str | None,
    now: datetime,
) -> None:
    follow_up.done_at = now
    follow_up.outcome_note = outcome_note
    _record(
        session,
        actor,
        lead,
        EventKind.FOLLOW_UP,
        now,
        {"action": "completed", "follow_up_id": follow_up.id, "outcome": outcome_note},
    )


def _refresh_next_follow_up(session: Session, lead: Lead) -> None:
    session.flush()
    lead.next_follow_up_at = session.scalar(
        select(func.min(FollowUp.due_at)).where(
            FollowUp.lead_id == lead.id, FollowUp.done_at.is_(None)
        )
    )


def _record(
    session: Session,
    actor: StaffUser,
    lead: Lead,
    kind: EventKind,
    now: datetime,
    detail: dict[str, Any],
) -> LeadEvent:
    event = LeadEvent(lead_id=lead.id, actor_id=actor.id, kind=kind, detail=detail, created_at=now)
    session.add(event)
    return event


def _text(text: str | None, *, required: str | None = None, limit: int = NOTE_MAX) -> str | None:
    """What a person typed, cleaned; refused (never cut short) when it cannot be kept as is."""
    text = clean_text(text, multiline=True)
    if not text:
        if required:
            raise WorkflowError(required)
        return None
    if unsafe_characters(text, multiline=True):
        raise WorkflowError("Please remove invisible or control characters from the text.")
    if len(text) > limit:
        raise WorkflowError(f"Please keep it under {limit} characters.")
    return text
