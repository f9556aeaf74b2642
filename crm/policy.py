"""Who may do what to a lead. Operations enforce these answers and pages ask them to decide
what to offer, so a button that is shown works and one that would be refused is not shown."""

from __future__ import annotations

from collections.abc import Iterable

from crm.models import Lead, Role, StaffUser


def can_assign(actor: StaffUser, lead: Lead, assignee_id: int | None) -> bool:
    """May ``actor`` make ``assignee_id`` (None: nobody) the person ``lead`` is with?

    Admins, and managers of the lead's branch, assign as they see fit. An agent may take a lead
    nobody holds, and keep or give back their own; a lead a colleague holds stays theirs until a
    manager moves it, so two agents never take work from each other.
    """
    if actor.role == Role.ADMIN:
        return True
    if actor.branch_id is None or actor.branch_id != lead.branch_id:
        return False
    if actor.role == Role.MANAGER:
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
    return actor.role in (Role.ADMIN, Role.MANAGER)


def sees_every_branch(actor: StaffUser) -> bool:
    """Admins work across branches, so their branch-wide pages ask which branch to show."""
    return actor.role == Role.ADMIN


def can_edit_clinicians(actor: StaffUser, branch_id: int) -> bool:
    """A branch's clinician list is its managers' to keep (and any admin's)."""
    if actor.role == Role.ADMIN:
        return True
    return actor.role == Role.MANAGER and actor.branch_id == branch_id
