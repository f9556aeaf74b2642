"""Shared steps of the staff operations: reading a lead for change through the branch scope,
refusing stale edits, recording events and cleaning what people type."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from crm.leads.queries import LeadNotFound, visible_leads
from crm.models import EventKind, Lead, LeadEvent, StaffUser
from crm.platform.contact import clean_text, unsafe_characters
from crm.policy import can_assign

NOTE_MAX = 2000


class WorkflowError(ValueError):
    """The change cannot be made; the message is written for the person who asked."""


class AssignmentRefused(WorkflowError):
    """The person asking may not move this lead (see ``crm.policy.can_assign``)."""


class StaleLead(WorkflowError):
    """Someone else saved the lead after this person loaded it."""


def lead_for_update(
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


def leads_for_update(session: Session, actor: StaffUser, lead_ids: Iterable[int]) -> list[Lead]:
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


def check_assignee(
    session: Session, actor: StaffUser, lead: Lead, assignee_id: int | None
) -> StaffUser | None:
    """The person ``lead`` may go to, or refused: ``crm.policy.can_assign`` is the rule."""
    if not can_assign(actor, lead, assignee_id):
        if lead.assignee_id not in (None, actor.id):
            holder = session.get(StaffUser, lead.assignee_id)
            raise AssignmentRefused(
                f"This lead is with {holder.name if holder else 'a colleague'}; "
                "only a manager can move it."
            )
        raise AssignmentRefused("Only a manager can assign leads to someone else.")
    return branch_staff_member(session, lead, assignee_id)


def branch_staff_member(session: Session, lead: Lead, staff_id: int | None) -> StaffUser | None:
    """The active staff member of the lead's branch with this id; anyone else is refused."""
    if staff_id is None:
        return None
    person = session.get(StaffUser, staff_id)
    if person is None or not person.active or person.branch_id != lead.branch_id:
        raise WorkflowError("Leads can only be assigned to active staff of the lead's branch.")
    return person


def record_event(
    session: Session,
    actor: StaffUser | None,
    lead: Lead,
    kind: EventKind,
    now: datetime,
    detail: dict[str, Any],
) -> LeadEvent:
    """The timeline entry for a change to a lead; no actor means the website or the system."""
    event = LeadEvent(**event_values(actor, lead, kind, now, detail))
    session.add(event)
    return event


def record_events(session: Session, events: list[dict[str, Any]]) -> None:
    """Timeline entries (``event_values``) written at once, in one statement.

    For the intake's write transaction, which needs no LeadEvent objects back: an ORM flush
    costs several times the statement it sends, and that time holds the write lock.
    """
    if not events:
        return
    if any(isinstance(pending, LeadEvent) for pending in session.new):
        # Entries recorded earlier in this transaction come first on the timeline.
        session.flush()
    session.execute(insert(LeadEvent.__table__), events)


def event_values(
    actor: StaffUser | None, lead: Lead, kind: EventKind, now: datetime, detail: dict[str, Any]
) -> dict[str, Any]:
    """A timeline entry's values: ``record_event``'s, and ``record_events``' rows."""
    return {
        "lead_id": lead.id,
        "actor_id": actor.id if actor is not None else None,
        "kind": kind,
        "detail": detail,
        "created_at": now,
    }


def clean_note(
    text: str | None, *, required: str | None = None, limit: int = NOTE_MAX
) -> str | None:
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
