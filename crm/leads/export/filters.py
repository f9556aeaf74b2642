"""What an export may select: the shared lead filters, checked against the exporter's scope.

The filters themselves (``crm.leads.filters``) are the inbox's, so an export of what someone
is looking at selects the same leads. What is an export's own: only managers and
administrators export, a branch outside the exporter's scope is refused outright rather than
quietly giving an empty file, and an administrator names a branch or "all".
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from crm.accounts.staff import staff_by_email
from crm.leads.days import OUT_OF_RANGE, day_in_range
from crm.leads.filters import (
    ALL_BRANCHES,
    STATUS_FILTERS,
    UNASSIGNED,
    LeadFilters,
    Selection,
    filtered_leads,
)
from crm.models import Branch, StaffUser
from crm.platform.extensions import db
from crm.platform.i18n import LANGUAGES
from crm.policy import can_export, sees_all_branches

SOURCE_MAX = 100
TEXT_MAX = 100


class ExportRefused(ValueError):
    """The export cannot run as asked; the message is written for the person who asked."""


def resolve(actor: StaffUser, filters: LeadFilters, now: datetime) -> Selection:
    """The leads an export selects: refused when it asks beyond the actor's scope."""
    if not can_export(actor):
        raise ExportRefused("Only managers and administrators can export leads.")
    _check(filters)
    _check_branch(actor, filters.branch)
    if filters.assignee and filters.assignee != UNASSIGNED and not filters.assignee.isdigit():
        raise ExportRefused("Unknown assignee.")
    return filtered_leads(actor, filters, now)


def assignee_by_email(email: str) -> str:
    """The command line names an assignee by email; the filters hold the person's id."""
    if email in ("", UNASSIGNED):
        return email
    person = staff_by_email(email)
    if person is None:
        raise ExportRefused(f"There is no staff member {email!r}.")
    return str(person.id)


def _check(filters: LeadFilters) -> None:
    if filters.status and filters.status not in STATUS_FILTERS:
        raise ExportRefused(f"Unknown status {filters.status!r}.")
    # Checked before the export is recorded or a byte is streamed: a day the query cannot
    # hold would otherwise fail half-way through the file.
    if any(day is not None and not day_in_range(day) for day in (filters.since, filters.until)):
        raise ExportRefused(OUT_OF_RANGE)
    if filters.since and filters.until and filters.since > filters.until:
        raise ExportRefused("The start date is after the end date.")
    if len(filters.source) > SOURCE_MAX or filters.source != filters.source.strip().lower():
        raise ExportRefused("A source is a lower-case word such as google or direct.")
    if filters.language and filters.language not in LANGUAGES:
        raise ExportRefused(f"Unknown language {filters.language!r}.")
    if len(filters.text) > TEXT_MAX:
        raise ExportRefused(f"Please keep the search under {TEXT_MAX} characters.")


def _check_branch(actor: StaffUser, slug: str) -> None:
    if not sees_all_branches(actor):
        # A manager's branch is fixed; naming another one is refused, not widened or ignored.
        if slug and slug != actor.branch.slug:
            raise ExportRefused("You can export only your own branch's leads.")
        return
    if not slug:
        raise ExportRefused("Please choose a branch, or all branches.")
    if (
        slug != ALL_BRANCHES
        and db.session.scalar(select(Branch).where(Branch.slug == slug)) is None
    ):
        raise ExportRefused(f"There is no branch {slug!r}.")


def export_filename(branch: Branch | None, filters: LeadFilters, today: date, ext: str) -> str:
    """``leads-hyderabad-2026-11-01-to-2026-11-23.csv``: the branch and the days it covers."""
    name = branch.slug if branch else "all-branches"
    until = (filters.until or today).isoformat()
    days = f"{filters.since.isoformat()}-to-{until}" if filters.since else f"up-to-{until}"
    return f"leads-{name}-{days}.{ext}"
