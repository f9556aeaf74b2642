"""Follow-ups: a promise to get back to a lead by a given time, kept until done."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm.leads.operations import (
    WorkflowError,
    branch_staff_member,
    check_assignee,
    clean_note,
    lead_for_update,
    record_event,
)
from crm.leads.queries import LeadNotFound
from crm.models import EventKind, FollowUp, Lead, StaffUser
from crm.platform.database import utcnow, write_transaction
from crm.policy import can_remind

FOLLOW_UP_NOTE_MAX = 500
# A follow-up "now" typed a minute ago is still fine; one in the past is a typo.
FOLLOW_UP_GRACE = timedelta(minutes=5)


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
    note = clean_note(note, limit=FOLLOW_UP_NOTE_MAX)
    with write_transaction() as session:
        lead = lead_for_update(session, actor, lead_id, None)
        if not lead.is_open:
            raise WorkflowError("Follow-ups are for open leads; reopen the lead first.")
        if assignee_id is None:
            assignee_id = lead.assignee_id or (actor.id if actor.branch_id else None)
        if not can_remind(actor, lead, assignee_id):
            check_assignee(session, actor, lead, assignee_id)  # refused, saying why
        branch_staff_member(session, lead, assignee_id)
        return add_follow_up(session, actor, lead, due_at, assignee_id, note, now)


def add_follow_up(
    session: Session,
    actor: StaffUser,
    lead: Lead,
    due_at: datetime,
    assignee_id: int | None,
    note: str | None,
    now: datetime,
) -> FollowUp:
    """The follow-up, within another operation's transaction (e.g. after a no-show)."""
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
    record_event(
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
    outcome_note = clean_note(outcome_note)
    with write_transaction() as session:
        lead = lead_for_update(session, actor, lead_id, None)
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


def _open_follow_ups(session: Session, lead: Lead) -> list[FollowUp]:
    return list(
        session.scalars(
            select(FollowUp).where(FollowUp.lead_id == lead.id, FollowUp.done_at.is_(None))
        )
    )


def _close_follow_up(
    session: Session,
    actor: StaffUser | None,
    lead: Lead,
    follow_up: FollowUp,
    outcome_note: str | None,
    now: datetime,
) -> None:
    follow_up.done_at = now
    follow_up.outcome_note = outcome_note
    record_event(
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


def close_open_follow_ups(
    session: Session, actor: StaffUser | None, lead: Lead, outcome_note: str, now: datetime
) -> None:
    """The lead is closed: nobody should be reminded to call it any more."""
    for follow_up in _open_follow_ups(session, lead):
        _close_follow_up(session, actor, lead, follow_up, outcome_note, now)
    lead.next_follow_up_at = None
