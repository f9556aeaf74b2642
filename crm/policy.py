"""Who may do what. Every rule that depends on a staff member's role is answered here, once:
operations enforce these answers, views and templates ask them to decide what to offer, so a
button that is shown works and one that would be refused is not shown.

Nothing else compares roles (tests/test_policy.py holds the code and the templates to that).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import ColumnElement

from crm.models import Lead, Role, StaffUser

# Managers and administrators run a branch's work: they hand leads to anyone, merge and export.
_RUNS_A_BRANCH = frozenset({Role.ADMIN, Role.MANAGER})


def administers(role: str) -> bool:
    """An administrator's role: every branch, staff accounts, a person's data rights."""
    return role == Role.ADMIN


def needs_branch(role: str) -> bool:
    """Everyone but an administrator belongs to one branch and sees only its leads."""
    return not administers(role)


def administrators() -> ColumnElement[bool]:
    """The same rule as ``administers``, as a condition on staff accounts in a query."""
    return StaffUser.role == Role.ADMIN


def changes_powers(user: StaffUser, role: str, branch_id: int | None) -> bool:
    """Whether giving ``user`` this role and branch changes what they may see or do (their
    sessions then end, so no page keeps offering what is no longer theirs)."""
    return user.role != role or user.branch_id != branch_id


def sees_all_branches(actor: StaffUser) -> bool:
    """Whether ``actor``'s scope (``visible_leads``) is every branch rather than their own."""
    return administers(actor.role)


def can_manage_staff(actor: StaffUser) -> bool:
    """Adding accounts, changing roles and branches, deactivating, resetting passwords."""
    return administers(actor.role)


def can_assign_others(actor: StaffUser) -> bool:
    """Whether ``actor`` hands leads to colleagues, not only taking or giving back their own."""
    return actor.role in _RUNS_A_BRANCH


def can_assign(actor: StaffUser, lead: Lead, assignee_id: int | None) -> bool:
    """May ``actor`` make ``assignee_id`` (None: nobody) the person ``lead`` is with?

    Admins, and managers of the lead's branch, assign as they see fit. An agent may take a lead
    nobody holds, and keep or give back their own; a lead a colleague holds stays theirs until a
    manager moves it, so two agents never take work from each other.
    """
    if sees_all_branches(actor):
        return True
    if actor.branch_id is None or actor.branch_id != lead.branch_id:
        return False
    if can_assign_others(actor):
        return True
    return lead.assignee_id in (None, actor.id) and assignee_id in (None, actor.id)


def assignment_targets(
    actor: StaffUser, lead: Lead, staff: Iterable[StaffUser]
) -> list[StaffUser | None]:
    """Whom ``actor`` may hand ``lead`` to among ``staff`` (None: nobody), its holder aside."""
    candidates: list[StaffUser | None] = [None, *staff]
    return [
        person
        for person in candidates
        if (person.id if person else None) != lead.assignee_id
        and can_assign(actor, lead, person.id if person else None)
    ]


def can_assign_in_bulk(actor: StaffUser) -> bool:
    """Bulk assignment hands many leads to one person at once: a manager's or an admin's job."""
    return can_assign_others(actor)


def bulk_actions(actor: StaffUser) -> list[str]:
    """The inbox's bulk actions ``actor`` may take: changing status always, assigning if allowed."""
    return ["status", "assign"] if can_assign_in_bulk(actor) else ["status"]


def can_remind(actor: StaffUser, lead: Lead, staff_id: int | None) -> bool:
    """May ``actor`` give a follow-up on ``lead`` to ``staff_id``?

    Reminding oneself, or the person the lead is with, hands nothing over; anyone else is an
    assignment, with the same answer as ``can_assign``.
    """
    return staff_id in (actor.id, lead.assignee_id) or can_assign(actor, lead, staff_id)


def follow_up_targets(actor: StaffUser, lead: Lead, staff: Iterable[StaffUser]) -> list[StaffUser]:
    """Whom among ``staff`` ``actor`` may give a follow-up on ``lead`` to."""
    return [person for person in staff if can_remind(actor, lead, person.id)]


def can_merge(actor: StaffUser) -> bool:
    """Merging two leads of one person: managers (in their branch) and administrators."""
    return actor.active and actor.role in _RUNS_A_BRANCH


def can_export(actor: StaffUser) -> bool:
    """Spreadsheets of leads, and the export record: managers (their branch) and administrators."""
    return actor.role in _RUNS_A_BRANCH


def can_erase(actor: StaffUser) -> bool:
    """Erasing a person's details on their request: an active administrator only."""
    return actor.active and administers(actor.role)


def can_give_personal_data(actor: StaffUser) -> bool:
    """Giving a person a copy of what we hold about them: an active administrator only."""
    return actor.active and administers(actor.role)


def takes_leads_in_turn() -> ColumnElement[bool]:
    """Who automatic assignment hands new leads to, as a condition on staff accounts: the
    agents (managers hand out work; they are not given it in turn)."""
    return StaffUser.role == Role.AGENT


def runs_branches() -> ColumnElement[bool]:
    """The same rule as ``can_assign_others``, as a condition on staff accounts: whom a late
    lead of their branch is escalated to."""
    return StaffUser.role.in_(_RUNS_A_BRANCH)


def can_set_auto_assign(actor: StaffUser, branch_id: int) -> bool:
    """Turning a branch's automatic assignment on or off: its managers and administrators."""
    return sees_all_branches(actor) or (can_assign_others(actor) and actor.branch_id == branch_id)


def can_edit_clinicians(actor: StaffUser, branch_id: int) -> bool:
    """A branch's clinician list is its managers' to keep (and any admin's)."""
    return sees_all_branches(actor) or (can_assign_others(actor) and actor.branch_id == branch_id)


def records_enquiries_for(actor: StaffUser, branch_id: int) -> bool:
    """Whose enquiries ``actor`` may record at the desk: their own branch's (an admin: any)."""
    return sees_all_branches(actor) or (
        actor.branch_id is not None and actor.branch_id == branch_id
    )
