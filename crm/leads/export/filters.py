"""What an export selects: validated filters, resolved against the exporter's branch scope."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, or_, select

from crm.accounts import staff_by_email
from crm.branches import branch_zone
from crm.extensions import db
from crm.leads.days import OUT_OF_RANGE, day_in_range
from crm.leads.queries import visible_leads
from crm.models import OPEN_STATUSES, Branch, Lead, LeadStatus, StaffUser
from crm.policy import can_export, sees_all_branches

ALL_BRANCHES = "all"
OPEN = "open"
UNASSIGNED = "none"
STATUS_FILTERS = frozenset({OPEN, *LeadStatus})
SOURCE_MAX = 100


class ExportRefused(ValueError):
    """The export cannot run as asked; the message is written for the person who asked."""


@dataclass(frozen=True)
class ExportFilters:
    """The same filters whether they come from the staff page or the command line."""

    branch: str  # a branch slug, or "all"
    status: str = ""  # "" (every status, spam included), "open", or a LeadStatus
    since: date | None = None  # created on or after this day, in the branch's time zone
    until: date | None = None  # created on or before this day, in the branch's time zone
    assignee: str = ""  # "" (anyone), "none" (unassigned) or a staff member's email
    source: str = ""  # the lead's source ("direct", "google", ...), as stored

    def described(self) -> dict[str, str]:
        """The filters that were set, as the export record keeps them."""
        return {
            name: value.isoformat() if isinstance(value, date) else value
            for name, value in asdict(self).items()
            if value
        }


@dataclass(frozen=True)
class ResolvedScope:
    query: Select[tuple[Lead]]
    branch: Branch | None  # None: every branch
    branches: list[Branch]  # the branches whose leads can appear


def resolve(actor: StaffUser, filters: ExportFilters) -> ResolvedScope:
    """The leads an export selects, built on ``visible_leads`` (the one branch scope).

    A branch outside the actor's scope is refused outright rather than quietly giving an empty
    file, and every other filter only ever narrows ``visible_leads(actor)``.
    """
    if not can_export(actor):
        raise ExportRefused("Only managers and administrators can export leads.")
    _check(filters)
    query = visible_leads(actor)
    branch = _branch(actor, filters.branch)
    if branch is not None:
        query = query.where(Lead.branch_id == branch.id)
        branches = [branch]
    else:
        branches = list(db.session.scalars(select(Branch).order_by(Branch.sort_order)))
    if filters.status == OPEN:
        query = query.where(Lead.status.in_(OPEN_STATUSES))
    elif filters.status:
        query = query.where(Lead.status == filters.status)
    if filters.since or filters.until:
        query = query.where(_created_between(branches, filters.since, filters.until))
    if filters.assignee == UNASSIGNED:
        query = query.where(Lead.assignee_id.is_(None))
    elif filters.assignee:
        query = query.where(Lead.assignee_id == _assignee_id(actor, filters.assignee))
    if filters.source:
        query = query.where(Lead.source == filters.source)
    return ResolvedScope(query=query, branch=branch, branches=branches)


def _check(filters: ExportFilters) -> None:
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


def _branch(actor: StaffUser, slug: str) -> Branch | None:
    if not sees_all_branches(actor):
        # A manager's branch is fixed; naming another one is refused, not widened or ignored.
        if slug and slug != actor.branch.slug:
            raise ExportRefused("You can export only your own branch's leads.")
        return actor.branch
    if slug == ALL_BRANCHES:
        return None
    if not slug:
        raise ExportRefused("Please choose a branch, or all branches.")
    branch = db.session.scalar(select(Branch).where(Branch.slug == slug))
    if branch is None:
        raise ExportRefused(f"There is no branch {slug!r}.")
    return branch


def _assignee_id(actor: StaffUser, email: str) -> int:
    person = staff_by_email(email)
    if person is None or (not sees_all_branches(actor) and person.branch_id != actor.branch_id):
        raise ExportRefused(f"There is no staff member {email!r} in your branch.")
    return person.id


def _created_between(branches: list[Branch], since: date | None, until: date | None):  # type: ignore[no-untyped-def]
    """Whole local days, in each branch's own time zone (branches in other zones differ)."""
    by_zone: dict[str, list[int]] = defaultdict(list)
    for branch in branches:
        by_zone[branch_zone(branch).key].append(branch.id)
    clauses = []
    for zone_name, ids in by_zone.items():
        zone = ZoneInfo(zone_name)
        conditions = []
        if since:
            conditions.append(Lead.created_at >= datetime.combine(since, time(0), zone))
        if until:
            next_day = datetime.combine(until + timedelta(days=1), time(0), zone)
            conditions.append(Lead.created_at < next_day)
        if len(by_zone) > 1:
            conditions.append(Lead.branch_id.in_(ids))
        clauses.append(and_(*conditions))
    return or_(*clauses)


def export_filename(branch: Branch | None, filters: ExportFilters, today: date, ext: str) -> str:
    """``leads-hyderabad-2026-11-01-to-2026-11-23.csv``: the branch and the days it covers."""
    name = branch.slug if branch else "all-branches"
    until = (filters.until or today).isoformat()
    days = f"{filters.since.isoformat()}-to-{until}" if filters.since else f"up-to-{until}"
    return f"leads-{name}-{days}.{ext}"
