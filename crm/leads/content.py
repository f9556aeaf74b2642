"""Which pages bring patients: views, enquiries that started there, and how far they got.

Per branch in the viewer's scope, over the last 30 and 90 days. Views are counted per page for
the whole site (crm/site/page_views.py knows nothing about a visitor, so not their clinic); a
branch's enquiries are its leads created in the window, by the page of their first enquiry
(the "first source page" exports carry). Booked and attended are counted as the dashboard's
funnel counts them; all of it comes from the counts the database keeps per day.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy import func, select

from crm.clinic.branches import DEFAULT_ZONE
from crm.leads.funnel_days import counts_since
from crm.leads.queries import scope_branch_ids
from crm.models import NO_PAGE, Branch, PageViewDay, StaffUser
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
    window, from the counts kept per day (``crm.leads.funnel_days``), both windows at once."""
    windows = counts_since(
        user, branch_ids, [now - timedelta(days=days) for days in CONTENT_WINDOWS]
    )
    figures: dict[int, dict[int, dict[str, list[int]]]] = {
        days: defaultdict(lambda: defaultdict(lambda: [0, 0, 0])) for days in CONTENT_WINDOWS
    }
    for days, window in zip(CONTENT_WINDOWS, windows, strict=True):
        for (branch_id, _source, _channel, page), (
            leads,
            _contacted,
            booked,
            attended,
        ) in window.items():
            if page == NO_PAGE:
                continue
            # The page as counted for views: its path, whatever query string came with it.
            counts = figures[days][branch_id][urlsplit(page).path or "/"]
            counts[0] += leads
            counts[1] += booked
            counts[2] += attended
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
