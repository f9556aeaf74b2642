"""Escalation: a new lead nobody has answered within the response target (counted in the
branch's opening hours, as on the dashboard) is brought to its branch's managers, once."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from crm.leads.notifications import queue_escalation
from crm.leads.response_time import first_response_minutes
from crm.models import Branch, Lead, LeadEvent, LeadStatus, StaffUser
from crm.platform.database import write_transaction
from crm.platform.extensions import db
from crm.policy import runs_branches

# Leads older than this are not escalated: a late lead is news within days, and the first run
# on an existing database must not send one email per lead that ever waited.
LOOK_BACK = timedelta(days=7)


def _waiting(branch_id: int, now: datetime, target_minutes: int):  # type: ignore[no-untyped-def]
    # Working minutes never exceed wall-clock minutes: a lead younger than the target in
    # wall-clock time cannot be late yet, so it is not even read.
    return select(Lead).where(
        Lead.branch_id == branch_id,
        Lead.status == LeadStatus.NEW,
        Lead.first_response_at.is_(None),
        Lead.escalated_at.is_(None),
        Lead.erased_at.is_(None),
        Lead.merged_into_id.is_(None),
        Lead.created_at >= now - LOOK_BACK,
        Lead.created_at <= now - timedelta(minutes=target_minutes),
        # Untouched: a call that went unanswered is still somebody at work on it.
        ~select(LeadEvent.id)
        .where(LeadEvent.lead_id == Lead.id, LeadEvent.actor_id.is_not(None))
        .exists(),
    )


def escalate_late_leads(now: datetime, target_minutes: int) -> list[int]:
    """Queue the managers' email for every lead that became late; the ids escalated.

    Each lead is escalated in its own transaction, locked and checked again, so a run that
    overlaps another (or a response given meanwhile) never sends twice.
    """
    escalated = []
    for branch in db.session.scalars(select(Branch).where(Branch.active.is_(True))).all():
        candidates = db.session.scalars(_waiting(branch.id, now, target_minutes)).all()
        late = [
            lead.id
            for lead in candidates
            if first_response_minutes(lead, branch, now) > target_minutes
        ]
        for lead_id in late:
            if _escalate(lead_id, branch.id, now, target_minutes):
                escalated.append(lead_id)
    return escalated


def _escalate(lead_id: int, branch_id: int, now: datetime, target_minutes: int) -> bool:
    with write_transaction() as session:
        lead = session.scalar(
            _waiting(branch_id, now, target_minutes)
            .where(Lead.id == lead_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if lead is None:
            return False
        managers = session.scalars(
            select(StaffUser.email)
            .where(StaffUser.branch_id == branch_id, StaffUser.active.is_(True), runs_branches())
            .order_by(StaffUser.id)
        ).all()
        # A branch without a manager still hears of it, at its own address.
        recipients = list(managers) or [lead.branch.notification_email]
        waited = first_response_minutes(lead, lead.branch, now)
        lead.escalated_at = now
        queue_escalation(session, lead, recipients, waited_minutes=waited, now=now)
        return True
