"""Staff reads. Every one of them starts from ``visible_leads(user)``: the branch scope.

Agents and managers see their own branch's leads, admins see all. A lead outside a person's
scope does not exist for them (404), so nothing reveals that it exists elsewhere.
"""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import joinedload

from crm.models import Branch, Enquiry, FollowUp, Lead, LeadEvent, StaffUser
from crm.platform.extensions import db
from crm.policy import sees_all_branches


class LeadNotFound(LookupError):
    """No such lead in this person's scope."""


def visible_leads(user: StaffUser) -> Select[tuple[Lead]]:
    """The one branch-scoping query: every staff read, list, count and export builds on it.

    A lead merged into another one is the same person counted twice, so it is left out here,
    once, rather than in each list, count and export.
    """
    return _in_scope(user).where(Lead.merged_into_id.is_(None))


def _in_scope(user: StaffUser) -> Select[tuple[Lead]]:
    query = select(Lead)
    if not sees_all_branches(user):
        query = query.where(Lead.branch_id == user.branch_id)
    return query


def merged_into(user: StaffUser, lead_id: int) -> int | None:
    """The lead a merged lead now lives in, when both are in this person's scope.

    Old links to a merged lead (bookmarks, emails, the other lead's timeline) lead here.
    """
    target = db.session.scalar(
        _in_scope(user).with_only_columns(Lead.merged_into_id).where(Lead.id == lead_id)
    )
    if target is None:
        return None
    return db.session.scalar(visible_lead_ids(user).where(Lead.id == target))


def leads_sharing_email(user: StaffUser, lead: Lead) -> list[Lead]:
    """Other leads in this person's scope with the lead's email address (a family, or a
    person who wrote again from another number): each is its own lead, shown as a link."""
    if not lead.email or lead.erased_at is not None:
        return []
    return list(
        db.session.scalars(
            visible_leads(user)
            .where(Lead.email == lead.email, Lead.id != lead.id, Lead.erased_at.is_(None))
            .order_by(Lead.last_enquiry_at.desc(), Lead.id.desc())
            .limit(20)
        )
    )


def other_phones(lead: Lead) -> list[str]:
    """Numbers the person gave with their enquiries besides the lead's own, first given first."""
    phones: list[str] = []
    for phone in db.session.scalars(
        select(Enquiry.phone)
        .where(Enquiry.lead_id == lead.id, Enquiry.phone.is_not(None))
        .order_by(Enquiry.id)
    ):
        if phone and phone != lead.phone and phone not in phones:
            phones.append(phone)
    return phones


def visible_lead_ids(user: StaffUser) -> Select[tuple[int]]:
    return visible_leads(user).with_only_columns(Lead.id)


def get_visible_lead(user: StaffUser, lead_id: int, *, for_update: bool = False) -> Lead:
    query = visible_leads(user).where(Lead.id == lead_id)
    if for_update:
        query = query.with_for_update()
    lead = db.session.scalar(query)
    if lead is None:
        raise LeadNotFound(lead_id)
    return lead


def assignable_staff(branch_id: int) -> list[StaffUser]:
    """Active agents and managers of a branch: the only people its leads can go to."""
    return _active_staff_of([branch_id])


def staff_in_scope(user: StaffUser) -> list[StaffUser]:
    """Active staff of every branch this person sees, by name: whom their filters can name."""
    return _active_staff_of(scope_branch_ids(user))


def _active_staff_of(branch_ids: list[int]) -> list[StaffUser]:
    return list(
        db.session.scalars(
            select(StaffUser)
            .where(StaffUser.branch_id.in_(branch_ids), StaffUser.active.is_(True))
            .order_by(StaffUser.name, StaffUser.id)
        )
    )


def lead_timeline(lead: Lead) -> list[LeadEvent]:
    """The lead's events, newest first, with who did each."""
    return list(
        db.session.scalars(
            select(LeadEvent)
            .options(joinedload(LeadEvent.actor))
            .where(LeadEvent.lead_id == lead.id)
            .order_by(LeadEvent.created_at.desc(), LeadEvent.id.desc())
        )
    )


def lead_enquiries(lead: Lead) -> list[Enquiry]:
    return list(
        db.session.scalars(
            select(Enquiry).where(Enquiry.lead_id == lead.id).order_by(Enquiry.created_at.desc())
        )
    )


def lead_follow_ups(lead: Lead) -> list[FollowUp]:
    """Open follow-ups first (soonest due first), then done ones."""
    return list(
        db.session.scalars(
            select(FollowUp)
            .options(joinedload(FollowUp.assignee))
            .where(FollowUp.lead_id == lead.id)
            .order_by(FollowUp.done_at.is_not(None), FollowUp.due_at)
        )
    )


def scope_branch_ids(user: StaffUser) -> list[int]:
    """The branches whose leads this person sees."""
    if sees_all_branches(user):
        return list(db.session.scalars(select(Branch.id).order_by(Branch.sort_order)))
    return [user.branch_id] if user.branch_id else []
