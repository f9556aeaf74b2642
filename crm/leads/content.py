"""Which pages bring patients: views, enquiries that started there, and how far they got.

Per branch in the viewer's scope, over the last 30 and 90 days. Views are counted per page for
the whole site (crm/site/page_views.py knows nothing about a visitor, so not their clinic); a
branch's enquiries are its leads created in the window, by the page of their first enquiry
(the "first source page" exports carry). Booked and attended are counted as the dashboard's
funnel counts them (``reached_booking``, ``reached_visit``).
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import case, func, select

from crm.clinic.branches import DEFAULT_ZONE
from crm.leads.dashboard import reached_booking, reached_visit
from crm.leads.queries import scope_branch_ids, visible_leads
from crm.models import Branch, Enquiry, Lead, LeadStatus, PageViewDay, StaffUser
from crm.platform.extensions import db

CONTENT_WINDOWS = (30, 90)
BRANCH_PAGE = re.compile(r"^/branches/([a-z0-9-]+)$")


@dataclass(frozen=True)
class ContentRow:
    path: str
    views: int
    enquiries: int
    booked: int
    attended: int

    @property
    def conversion(self) -> float | None:
        """Enquiries per view: the share of a page's readers who reached out from it."""
        return self.enquiries / self.views if self.views else None


@dataclass(frozen=True)
class ContentTable:
    branch: str
    days: int
    rows: list[ContentRow]


def content_figures(user: StaffUser, now: datetime) -> list[ContentTable]:
    branches = list(
        db.session.scalars(
            select(Branch)
            .where(Branch.id.in_(scope_branch_ids(user)))
            .order_by(Branch.sort_order, Branch.city)
        )
    )
    # Both windows from one pass over the longer one: the shorter is a part of it.
    leads = _leads_by_first_page(user, [branch.id for branch in branches], now)
    tables = []
    for days in CONTENT_WINDOWS:
        views = _views_since(now - timedelta(days=days))
        for branch in branches:
            tables.append(
                ContentTable(
                    branch.city, days, _rows(branch.slug, views, leads[days].get(branch.id))
                )
            )
    return tables


def _views_since(since: datetime) -> dict[str, int]:
    first_day = since.astimezone(DEFAULT_ZONE).date()
    return dict(
        db.session.execute(
            select(PageViewDay.path, func.sum(PageViewDay.views))
            .where(PageViewDay.day >= first_day)
            .group_by(PageViewDay.path)
        ).all()
    )


def _leads_by_first_page(
    user: StaffUser, branch_ids: list[int], now: datetime
) -> dict[int, dict[int, dict[str, list[int]]]]:
    """{days: {branch id: {page: [enquiries, booked, attended]}}} for leads created in each
    window. One statement for all windows; each lead's first enquiry is found by its key
    (rather than grouping the window's enquiries), so the work is the leads of the window.

    The per-lead rows are materialized: inlined, SQLite ran the first-page lookup once for each
    use of its column, and PostgreSQL joined by hashing every enquiry there is."""
    since = {days: now - timedelta(days=days) for days in CONTENT_WINDOWS}
    first_page = (
        select(Enquiry.source_page)
        .where(Enquiry.lead_id == Lead.id)
        .order_by(Enquiry.id)
        .limit(1)
        .scalar_subquery()
    )
    shorter = [days for days in CONTENT_WINDOWS if days != max(CONTENT_WINDOWS)]
    per_lead = (
        visible_leads(user)
        .with_only_columns(
            Lead.branch_id,
            first_page.label("page"),
            *(
                case((Lead.created_at >= since[days], 1), else_=0).label(f"in_{days}")
                for days in shorter
            ),
            case((reached_booking(), 1), else_=0).label("booked"),
            case((reached_visit(), 1), else_=0).label("attended"),
        )
        # Branches named, so that an admin's read too is a range on the (branch, created) index.
        .where(
            Lead.branch_id.in_(branch_ids),
            Lead.created_at >= since[max(CONTENT_WINDOWS)],
            Lead.status != LeadStatus.SPAM,
        )
        .cte("per_lead")
        .prefix_with("MATERIALIZED")
    )
    windows = [per_lead.c[f"in_{days}"] for days in shorter]
    rows = db.session.execute(
        select(
            per_lead.c.branch_id,
            per_lead.c.page,
            *windows,
            func.count(),
            func.sum(per_lead.c.booked),
            func.sum(per_lead.c.attended),
        )
        .where(per_lead.c.page.is_not(None))
        .group_by(per_lead.c.branch_id, per_lead.c.page, *windows)
    ).all()
    figures: dict[int, dict[int, dict[str, list[int]]]] = {
        days: defaultdict(lambda: defaultdict(lambda: [0, 0, 0])) for days in CONTENT_WINDOWS
    }
    for branch_id, page, *flags_and_counts in rows:
        flags, (enquiries, booked, attended) = flags_and_counts[:-3], flags_and_counts[-3:]
        inside = [max(CONTENT_WINDOWS)]
        inside += [days for days, flag in zip(shorter, flags, strict=True) if flag]
        for days in inside:
            # The page as counted for views: its path, whatever query string came with it.
            counts = figures[days][branch_id][urlsplit(page).path or "/"]
            counts[0] += enquiries
            counts[1] += int(booked or 0)
            counts[2] += int(attended or 0)
    return figures


def _rows(slug: str, views: dict[str, int], leads: dict[str, list[int]] | None) -> list[ContentRow]:
    leads = leads or {}
    paths = {
        path
        for path in set(views) | set(leads)
        # Another clinic's page brings that clinic's patients, not this one's.
        if not ((match := BRANCH_PAGE.match(path)) and match.group(1) != slug)
    }
    rows = [ContentRow(path, views.get(path, 0), *leads.get(path, [0, 0, 0])) for path in paths]
    return sorted(rows, key=lambda row: (-row.enquiries, -row.views, row.path))
