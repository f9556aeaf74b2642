"""The triage inbox: filtered (``crm.leads.filters``), newest activity first, keyset-paginated;
a search for words shows its best matches (the lead's own name or email) first.

Keyset pagination (``WHERE (last_enquiry_at, id) < cursor``) reads one page from an index
whatever the page number, so the inbox stays fast at a million leads, and a lead arriving
while someone pages does not shift rows between pages.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field, replace
from datetime import datetime

from sqlalchemy import Select, Subquery, case, func, select, tuple_
from sqlalchemy.orm import joinedload

from crm.leads.days import day_in_range
from crm.leads.filters import ANY, OPEN, LeadFilters, Selection, filtered_leads, text_candidates
from crm.leads.language import preferred_languages
from crm.leads.response_time import response_breached
from crm.models import OPEN_STATUSES, Lead, LeadStatus, LeadStatusCount, StaffUser
from crm.platform.database import MAX_ID
from crm.platform.extensions import db
from crm.policy import sees_all_branches


@dataclass(frozen=True)
class Cursor:
    last_enquiry_at: datetime
    lead_id: int
    # A search for words lists its best matches first (``Selection.best``), then the rest:
    # 1 once the page has passed into the rest.
    rank: int = 0

    def encode(self) -> str:
        raw = f"{self.last_enquiry_at.isoformat()}|{self.lead_id}"
        if self.rank:
            raw += f"|{self.rank}"
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str | None) -> Cursor | None:
        """The cursor in a "next page" link, or None when absent or not one of ours."""
        if not token or len(token) > 100:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            stamp, lead_id, *rank = raw.split("|")
            moment = datetime.fromisoformat(stamp)
            number = int(lead_id)
            # Only what a page of ours could have written: the database cannot bind the rest.
            if moment.tzinfo is None or not day_in_range(moment.date()):
                return None
            if not 0 < number <= MAX_ID:
                return None
            if rank not in ([], ["1"]):
                return None
            return cls(moment, number, 1 if rank else 0)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None


@dataclass(frozen=True)
class InboxRow:
    lead: Lead
    breached: bool
    overdue: bool
    language: str  # the language the person prefers (crm.leads.language)


# A search stops counting here: past it "more than 1,000 leads match" says all a person can
# use, and counting every lead with a common name would read every lead.
COUNTED = 1000


@dataclass
class InboxPage:
    rows: list[InboxRow] = field(default_factory=list)
    next_cursor: Cursor | None = None
    matching: int = 0  # every lead the filters select, on all pages (at most COUNTED: see more)
    more: bool = False  # more than ``matching`` leads match: a search counted no further


def inbox_page(
    user: StaffUser,
    filters: LeadFilters,
    *,
    after: Cursor | None,
    limit: int,
    now: datetime,
    target_minutes: int,
) -> InboxPage:
    selection = filtered_leads(user, filters, now)
    if selection.empty:
        return InboxPage()
    matching, more = _matching(user, filters, selection)
    if selection.best is None or selection.rest is None:
        ranked = [(0, lead) for lead in _in_order(selection.query, after, limit + 1)]
    else:
        ranked = _best_first(selection.best, selection.rest, after, limit + 1)
    leads = [lead for _, lead in ranked]
    page = InboxPage(matching=matching, more=more)
    languages = preferred_languages(lead.id for lead in leads[:limit])
    for lead in leads[:limit]:
        page.rows.append(
            InboxRow(
                lead=lead,
                breached=response_breached(lead, lead.branch, now, target_minutes),
                overdue=bool(
                    lead.is_open and lead.next_follow_up_at and lead.next_follow_up_at < now
                ),
                language=languages[lead.id],
            )
        )
    if len(leads) > limit:
        rank, last = ranked[limit - 1]
        page.next_cursor = Cursor(last.last_enquiry_at, last.id, rank)
    return page


def _in_order(query: Select[tuple[Lead]], after: Cursor | None, limit: int) -> list[Lead]:
    """Up to ``limit`` of the leads ``query`` selects, newest activity first, after ``after``."""
    if after is not None:
        query = query.where(
            tuple_(Lead.last_enquiry_at, Lead.id) < tuple_(after.last_enquiry_at, after.lead_id)
        )
    query = (
        query.options(joinedload(Lead.assignee), joinedload(Lead.branch))
        .order_by(Lead.last_enquiry_at.desc(), Lead.id.desc())
        .limit(limit)
    )
    return list(db.session.scalars(query).unique())


def _best_first(
    best: Select[tuple[Lead]], rest: Select[tuple[Lead]], after: Cursor | None, limit: int
) -> list[tuple[int, Lead]]:
    """The best matches of a search first, then the rest, each newest activity first.

    Two reads in the inbox's order, each stopping at a page, rather than one sorted by rank:
    that sort would read every match of a common word before showing the first page.
    """
    ranked: list[tuple[int, Lead]] = []
    if after is None or after.rank == 0:
        ranked = [(0, lead) for lead in _in_order(best, after, limit)]
        after = None
    if len(ranked) < limit:
        ranked += [(1, lead) for lead in _in_order(rest, after, limit - len(ranked))]
    return ranked


def _matching(user: StaffUser, filters: LeadFilters, selection: Selection) -> tuple[int, bool]:
    """How many leads the filters select, on every page, and whether there are more than that.

    Filtered by branch and status alone (the inbox as it opens), the answer is the sum of a
    few rows of the per-branch counts the database keeps (``LeadStatusCount``, which leaves
    merged leads out as ``visible_leads`` does), not a count of the branch's leads.
    A search counts up to ``COUNTED`` matches and stops: a common name or word would otherwise
    cost a read of every lead that has it, growing with the leads, for a number nobody pages
    through. Any other filter is counted from the leads, from the index where it can: only ids.
    """
    if filters.text:
        found = select(func.count()).select_from(_searched(filters, selection))
        if selection.some is not None:
            # Past the bound on names and emails alone (a common name): no message is read.
            # PostgreSQL runs the full count only when the CASE gets to it.
            some = selection.some.with_only_columns(Lead.id).order_by(None).limit(COUNTED + 1)
            enough = select(func.count()).select_from(some.subquery()).scalar_subquery()
            found = select(case((enough > COUNTED, COUNTED + 1), else_=found.scalar_subquery()))
        count = db.session.scalar(found) or 0
        return min(count, COUNTED), count > COUNTED
    statuses = _statuses(filters.status)
    if statuses is None or replace(filters, status="", branch="") != LeadFilters():
        query = selection.query.with_only_columns(func.count(Lead.id)).order_by(None)
        return db.session.scalar(query) or 0, False
    counted = select(func.coalesce(func.sum(LeadStatusCount.leads), 0)).where(
        LeadStatusCount.status.in_(statuses)
    )
    if selection.branch is not None or not sees_all_branches(user):
        counted = counted.where(
            LeadStatusCount.branch_id.in_([branch.id for branch in selection.branches])
        )
    return int(db.session.scalar(counted) or 0), False


def _searched(filters: LeadFilters, selection: Selection) -> Subquery:
    """Up to ``COUNTED + 1`` of the leads a search selects.

    Where the text index can say which leads hold the text, its entries are read one by one
    and each lead checked against every filter: for a common text the first entries already
    make the bound, so this reads about as much at a million leads as at ten thousand.
    Otherwise (an exact number or address, a text too short for the index, PostgreSQL, whose
    indexes answer whole) the leads are read and the matching ones taken until the bound.
    """
    candidates = text_candidates(filters.text)
    if candidates is None:
        ids = selection.query.with_only_columns(Lead.id).order_by(None)
        return ids.limit(COUNTED + 1).subquery()
    found = candidates.subquery("found")
    lead_id = found.c[0]
    selected = selection.query.with_only_columns(Lead.id).where(Lead.id == lead_id).order_by(None)
    return select(lead_id).where(selected.exists()).distinct().limit(COUNTED + 1).subquery()


def _statuses(status: str) -> list[str] | None:
    """The statuses a status filter selects, or None if it is not one the counts can serve."""
    if not status:
        return [each.value for each in LeadStatus if each != LeadStatus.SPAM]
    if status == OPEN:
        return [each.value for each in OPEN_STATUSES]
    if status == ANY:
        return [each.value for each in LeadStatus]
    return [status] if status in set(LeadStatus) else None
