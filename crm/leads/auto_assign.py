"""Automatic assignment: where a branch has it on, each new lead goes to its next active agent
in turn, so no new lead waits for somebody to pick it up."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm.leads.notifications import queue_assignee_alert
from crm.leads.operations import record_event
from crm.models import Branch, EventKind, Lead, StaffUser
from crm.platform.database import write_transaction
from crm.policy import can_set_auto_assign, takes_leads_in_turn


def next_in_turn(session: Session, branch: Branch) -> StaffUser | None:
    """The active agent after the last one given a lead in turn (by account order, wrapping
    around); someone deactivated meanwhile is skipped, and the turn goes on past them."""
    agents = list(
        session.scalars(
            select(StaffUser)
            .where(
                StaffUser.branch_id == branch.id,
                StaffUser.active.is_(True),
                takes_leads_in_turn(),
            )
            .order_by(StaffUser.id)
        )
    )
    if not agents:
        return None
    last = branch.last_auto_assignee_id or 0
    return next((agent for agent in agents if agent.id > last), agents[0])


def assign_in_turn(session: Session, lead: Lead, now: datetime) -> StaffUser | None:
    """Give a new, unassigned lead to the branch's next agent, if the branch asks for that."""
    if lead.assignee_id is not None or not session.get(Branch, lead.branch_id).auto_assign:
        # Most branches leave it off: their intake takes no lock on the branch row.
        return None
    # Locked: two enquiries arriving together for different people must not take one turn.
    branch = session.scalars(
        select(Branch)
        .where(Branch.id == lead.branch_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()
    if not branch.auto_assign:
        return None
    agent = next_in_turn(session, branch)
    if agent is None:
        return None
    lead.assignee_id = agent.id
    branch.last_auto_assignee_id = agent.id
    detail = {"from": None, "to": agent.id, "to_name": agent.name, "automatic": True}
    record_event(session, None, lead, EventKind.ASSIGNED, now, detail)
    queue_assignee_alert(session, lead, agent, now=now)
    return agent


class AutoAssignRefused(PermissionError):
    """The person may not change this branch's automatic assignment."""


def set_auto_assign(actor: StaffUser, branch_id: int, on: bool) -> Branch:
    """Turn a branch's automatic assignment on or off; a branch outside the person's reach
    is refused as if it did not exist."""
    with write_transaction() as session:
        branch = session.get(Branch, branch_id)
        if branch is None or not can_set_auto_assign(actor, branch.id):
            raise AutoAssignRefused(branch_id)
        branch.auto_assign = on
        return branch
