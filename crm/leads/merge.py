"""Merging two leads of one branch that turn out to be the same person.

The intake keeps people apart by phone, so one person who writes from two numbers has two
leads until a manager, who has spoken to them, says they are one. Everything the other lead
holds (enquiries with the numbers and addresses given, events, follow-ups, emails) moves to
the lead that stays; the merged lead keeps its row, points at the survivor and drops out of
every staff list and count (``visible_leads``). Nothing a person gave us is dropped.
"""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm.leads.capture import lock_person
from crm.leads.operations import StaleLead, WorkflowError, record_event
from crm.leads.queries import LeadNotFound, get_visible_lead, merged_into, visible_leads
from crm.models import (
    Appointment,
    Branch,
    Enquiry,
    EventKind,
    FollowUp,
    Lead,
    LeadEvent,
    OutboxEmail,
    StaffUser,
)
from crm.platform.database import utcnow, write_transaction
from crm.platform.extensions import db
from crm.policy import can_merge, sees_all_branches

_REFERENCE = re.compile(r"(?:L-?|#)?0*(\d{1,9})", re.IGNORECASE)


class MergeNotAllowed(PermissionError):
    """Only managers (their own branch) and administrators merge leads."""


def parse_reference(text: str | None) -> int | None:
    """A lead id from what staff type: ``L-000123``, ``l-123``, ``#123`` or ``123``."""
    found = _REFERENCE.fullmatch((text or "").strip())
    return int(found.group(1)) if found and int(found.group(1)) > 0 else None


def merge_candidate(actor: StaffUser, survivor_id: int, other: str | None) -> Lead:
    """The lead named by ``other`` that could be merged into ``survivor_id``, for the page that
    asks to confirm the merge. Raises ``WorkflowError`` with the reason it cannot be."""
    _require_role(actor)
    survivor = get_visible_lead(actor, survivor_id)  # LeadNotFound: the page is not found
    other_id = parse_reference(other)
    if other_id is None:
        raise WorkflowError("Please give the other lead's reference, such as L-000123.")
    found = db.session.scalar(visible_leads(actor).where(Lead.id == other_id))
    candidate = _other_lead(actor, other_id, found)
    _check_pair(survivor, candidate)
    return candidate


def merge_leads(
    actor: StaffUser,
    survivor_id: int,
    merged_id: int,
    *,
    survivor_version: int | None,
    merged_version: int | None,
    now: datetime | None = None,
) -> Lead:
    """Move everything of lead ``merged_id`` to lead ``survivor_id``; returns the survivor.

    Both versions are the ones the person confirmed: if either lead changed since, nothing
    happens (``StaleLead``). Raises ``LeadNotFound`` when the survivor is outside the actor's
    scope, ``MergeNotAllowed`` for an agent, ``WorkflowError`` with the reason otherwise.
    """
    _require_role(actor)
    now = now or utcnow()
    with write_transaction() as session:
        survivor_row = session.scalar(visible_leads(actor).where(Lead.id == survivor_id))
        if survivor_row is None:
            raise LeadNotFound(survivor_id)
        merged_row = session.scalar(visible_leads(actor).where(Lead.id == merged_id))
        merged_row = _other_lead(actor, merged_id, merged_row)
        _check_pair(survivor_row, merged_row)
        _lock_people(session, survivor_row.branch, _phones_of(session, merged_row))
        survivor, merged = _lock_pair(session, actor, survivor_id, merged_id)
        _check_pair(survivor, merged)
        if survivor.version != survivor_version or merged.version != merged_version:
            raise StaleLead(
                "One of the two leads was changed while you were confirming the merge, so "
                "nothing was merged. Please check both leads and confirm again."
            )
        moved = _move_everything(session, survivor, merged)
        _combine(session, survivor, merged, now)
        record_event(
            session, actor, survivor, EventKind.MERGED, now, {"merged_id": merged.id, **moved}
        )
        record_event(session, actor, merged, EventKind.MERGED, now, {"into_id": survivor.id})
        return survivor


def _require_role(actor: StaffUser) -> None:
    if not can_merge(actor):
        raise MergeNotAllowed("Only a manager or an administrator can merge leads.")


def _other_lead(actor: StaffUser, other_id: int, lead: Lead | None) -> Lead:
    reference = f"L-{other_id:06d}"
    if lead is not None:
        return lead
    survivor_of_it = merged_into(actor, other_id)
    if survivor_of_it is not None:
        raise WorkflowError(
            f"{reference} was already merged into L-{survivor_of_it:06d}; merge that one instead."
        )
    # Not in this person's scope, or no such lead: the same answer, so nothing leaks.
    where = "" if sees_all_branches(actor) else "in your branch"
    raise WorkflowError(f"There is no lead {reference} {where}".rstrip() + ".")


def _check_pair(survivor: Lead, other: Lead) -> None:
    if survivor.id == other.id:
        raise WorkflowError("That is this lead; please give the other lead's reference.")
    if survivor.branch_id != other.branch_id:
        raise WorkflowError(
            f"{other.reference} is a lead of the {other.branch.city} branch and this one of "
            f"{survivor.branch.city}: leads of two branches cannot be merged, because each "
            "branch works its own leads."
        )
    for lead in (survivor, other):
        if lead.erased_at is not None:
            raise WorkflowError(f"{lead.reference} was erased; erased leads cannot be merged.")


def _phones_of(session: Session, lead: Lead) -> set[str]:
    phones = {lead.phone} if lead.phone else set()
    phones.update(
        phone
        for phone in session.scalars(select(Enquiry.phone).where(Enquiry.lead_id == lead.id))
        if phone
    )
    return phones


def _lock_people(session: Session, branch: Branch, phones: set[str]) -> None:
    """The intake's per-person locks (PostgreSQL), so no enquiry joins the merged lead while
    its enquiries move; always in the same order, as erasure takes them."""
    for phone in sorted(phones):
        lock_person(session, branch, phone)


def _lock_pair(
    session: Session, actor: StaffUser, survivor_id: int, merged_id: int
) -> tuple[Lead, Lead]:
    rows = session.scalars(
        visible_leads(actor)
        .where(Lead.id.in_([survivor_id, merged_id]))
        .order_by(Lead.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    by_id = {lead.id: lead for lead in rows}
    if survivor_id not in by_id:
        raise LeadNotFound(survivor_id)
    if merged_id not in by_id:
        raise WorkflowError(f"L-{merged_id:06d} was merged or removed a moment ago.")
    return by_id[survivor_id], by_id[merged_id]


def _move_everything(session: Session, survivor: Lead, merged: Lead) -> dict[str, int]:
    moved = {}
    for name, model in (
        ("enquiries", Enquiry),
        ("events", LeadEvent),
        ("follow_ups", FollowUp),
        ("emails", OutboxEmail),
        ("appointments", Appointment),
    ):
        result = session.execute(
            update(model)
            .where(model.lead_id == merged.id)
            .values(lead_id=survivor.id)
            .execution_options(synchronize_session=False)
        )
        moved[name] = result.rowcount
    # Leads merged into this one earlier now point straight at the survivor.
    session.execute(
        update(Lead)
        .where(Lead.merged_into_id == merged.id)
        .values(merged_into_id=survivor.id)
        .execution_options(synchronize_session=False)
    )
    session.expire(survivor, ["enquiries", "events", "follow_ups"])
    session.expire(merged, ["enquiries", "events", "follow_ups"])
    return moved


def _combine(session: Session, survivor: Lead, merged: Lead, now: datetime) -> None:
    """The survivor's own details win; gaps are filled from the merged lead. Its creation time,
    source and first response stay as reported, so past figures do not shift."""
    survivor.email = survivor.email or merged.email
    survivor.interest = survivor.interest or merged.interest
    survivor.assignee_id = survivor.assignee_id or merged.assignee_id
    survivor.enquiry_count += merged.enquiry_count
    survivor.last_enquiry_at = max(survivor.last_enquiry_at, merged.last_enquiry_at)
    session.flush()
    survivor.next_follow_up_at = session.scalar(
        select(func.min(FollowUp.due_at)).where(
            FollowUp.lead_id == survivor.id, FollowUp.done_at.is_(None)
        )
    )
    survivor.updated_at = now
    survivor.version += 1
    merged.merged_into_id = survivor.id
    merged.enquiry_count = 0
    merged.next_follow_up_at = None
    merged.version += 1
