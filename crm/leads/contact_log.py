"""Working a lead in one step: what happened (a call's outcome, or a message sent), a note, a
new status and the next follow-up, saved together or not at all."""

from __future__ import annotations

from datetime import datetime

from crm.leads.followups import FOLLOW_UP_GRACE, add_follow_up
from crm.leads.operations import WorkflowError, clean_note, lead_for_update, record_event
from crm.leads.pipeline import allowed_next, change_lead_status
from crm.leads.workflow import CallOutcome
from crm.models import EventKind, Lead, LeadStatus, StaffUser
from crm.platform.database import utcnow, write_transaction

# Besides the call outcomes (crm.leads.workflow.CallOutcome): a WhatsApp or text message sent.
MESSAGE_SENT = "message_sent"


def log_contact(
    actor: StaffUser,
    lead_id: int,
    *,
    expected_version: int | None,
    outcome: str,
    note: str | None = None,
    status: str | None = None,
    lost_reason: str | None = None,
    follow_up_at: datetime | None = None,
) -> Lead:
    """Record one contact and what follows from it, in one transaction.

    Each part is its own timeline entry. An answered call to a new lead marks it contacted, as
    a logged call does, unless a status was chosen. A refused part (a lost lead without a
    reason, a follow-up in the past or on a closed lead, a stale page) saves nothing.
    """
    if outcome != MESSAGE_SENT and outcome not in set(CallOutcome):
        raise WorkflowError("Please choose how the call went.")
    note = clean_note(note)
    now = utcnow()
    if follow_up_at is not None and follow_up_at < now - FOLLOW_UP_GRACE:
        raise WorkflowError("Please choose a time in the future for the follow-up.")
    with write_transaction() as session:
        lead = lead_for_update(session, actor, lead_id, expected_version)
        record_event(session, actor, lead, EventKind.CALL, now, {"outcome": outcome, "note": note})
        answered_new = outcome == CallOutcome.ANSWERED and lead.status == LeadStatus.NEW
        if answered_new and status not in allowed_next(LeadStatus.NEW):
            # Answered means contacted first; a booking made on the call follows from there.
            change_lead_status(session, actor, lead, LeadStatus.CONTACTED, now=now)
        if status:
            change_lead_status(session, actor, lead, status, now=now, lost_reason=lost_reason)
        if follow_up_at is not None:
            if not lead.is_open:
                raise WorkflowError("Follow-ups are for open leads; leave the status open.")
            # With the lead's holder, else the person logging it: nobody is handed work here.
            assignee_id = lead.assignee_id or (actor.id if actor.branch_id else None)
            add_follow_up(session, actor, lead, follow_up_at, assignee_id, None, now)
        lead.updated_at = now
    return lead
