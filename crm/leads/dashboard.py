"""The dashboard's figures, for one person's scope (their branch, or every branch for admins)."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise

from sqlalchemy import Select, func, select

from crm.clinic.branches import DEFAULT_ZONE
from crm.leads.queries import scope_branch_ids, visible_leads
from crm.leads.response_time import working_minutes
from crm.models import Branch, FollowUp, Lead, LeadStatus, LeadStatusCount, StaffUser
from crm.platform.extensions import db

CHART_DAYS = 30
CONVERSION_DAYS = 30
REPORT_ZONE = DEFAULT_ZONE


@dataclass(frozen=True)
class Conversion:
    label: str
    visited: int
    total: int

    @property
    def rate(self) -> float | None:
        return self.visited / self.total if self.total else None


@dataclass
class Dashboard:
    new_waiting: int = 0
    overdue_follow_ups: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    median_first_response_minutes: float | None = None
    responses_this_week: int = 0
    conversion_by_branch: list[Conversion] = field(default_factory=list)
    conversion_by_source: list[Conversion] = field(default_factory=list)
    leads_per_day: list[tuple[date, int]] = field(default_factory=list)


def dashboard_figures(user: StaffUser, now: datetime) -> Dashboard:
    figures = Dashboard()
    branches = {
        branch.id: branch
        for branch in db.session.scalars(
            select(Branch).where(Branch.id.in_(scope_branch_ids(user)))
        )
    }
    # Kept by triggers as leads change: a few rows per branch, however many leads it has.
    counts: Counter[str] = Counter()
    for status, count in db.session.execute(
        select(LeadStatusCount.status, LeadStatusCount.leads).where(
            LeadStatusCount.branch_id.in_(list(branches))
        )
    ):
        counts[status] += count
    figures.by_status = {status.value: counts[status.value] for status in LeadStatus}
    figures.new_waiting = figures.by_status[LeadStatus.NEW]
    # Driven from the open follow-ups (few), not from the branch's leads (many).
    figures.overdue_follow_ups = db.session.scalar(
        visible_leads(user)
        .join(FollowUp, FollowUp.lead_id == Lead.id)
        .with_only_columns(func.count(FollowUp.id))
        .where(FollowUp.done_at.is_(None), FollowUp.due_at < now)
    )
    _first_response(figures, user, branches, now)
    _conversion(figures, user, branches, now)
    figures.leads_per_day = _leads_per_day(user, branches, now)
    return figures


def week_start(now: datetime) -> datetime:
    """Monday 00:00 of the current week, clinic time."""
    local = now.astimezone(REPORT_ZONE)
    monday = local.date() - timedelta(days=local.weekday())
    return datetime.combine(monday, time(0), REPORT_ZONE)


def _in_branches(user: StaffUser, branches: dict[int, Branch]) -> Select[tuple[Lead]]:
    """The person's leads with their branches named, so that an admin's reads too are ranges
    on the (branch, ...) indexes rather than a pass over every lead."""
    return visible_leads(user).where(Lead.branch_id.in_(list(branches)))


def _first_response(
    figures: Dashboard, user: StaffUser, branches: dict[int, Branch], now: datetime
) -> None:
    """Median working minutes to first response, for leads first answered this week."""
    answered = db.session.execute(
        _in_branches(user, branches)
        .with_only_columns(Lead.branch_id, Lead.created_at, Lead.first_response_at)
        .where(Lead.first_response_at >= week_start(now))
    ).all()
    minutes = [
        working_minutes(branches[row.branch_id], row.created_at, row.first_response_at)
        for row in answered
    ]
    figures.responses_this_week = len(minutes)
    figures.median_first_response_minutes = statistics.median(minutes) if minutes else None


def _conversion(
    figures: Dashboard, user: StaffUser, branches: dict[int, Branch], now: datetime
) -> None:
    """Visited ÷ all leads created in the last 30 days, spam left out."""
    since = now - timedelta(days=CONVERSION_DAYS)
    rows = db.session.execute(
        _in_branches(user, branches)
        .with_only_columns(Lead.branch_id, Lead.source, Lead.status, func.count(Lead.id))
        .where(Lead.created_at >= since, Lead.status != LeadStatus.SPAM)
        .group_by(Lead.branch_id, Lead.source, Lead.status)
    ).all()
    totals: dict[str, Counter[str]] = {"branch": Counter(), "source": Counter()}
    visits: dict[str, Counter[str]] = {"branch": Counter(), "source": Counter()}
    for branch_id, source, status, count in rows:
        for axis, key in (("branch", branches[branch_id].city), ("source", source)):
            totals[axis][key] += count
            if status == LeadStatus.VISITED:
                visits[axis][key] += count
    figures.conversion_by_branch = [
        Conversion(key, visits["branch"][key], total)
        for key, total in sorted(totals["branch"].items())
    ]
    figures.conversion_by_source = [
        Conversion(key, visits["source"][key], total)
        for key, total in sorted(totals["source"].items(), key=lambda item: (-item[1], item[0]))
    ]


def _leads_per_day(
    user: StaffUser, branches: dict[int, Branch], now: datetime
) -> list[tuple[date, int]]:
    """One count per clinic day, all in one statement: each a range on the index, so the
    work is the number of leads in the window, not a row fetched and converted for each."""
    today = now.astimezone(REPORT_ZONE).date()
    days = [today - timedelta(days=offset) for offset in reversed(range(CHART_DAYS))]
    midnights = [datetime.combine(day, time(0), REPORT_ZONE) for day in days]
    midnights.append(datetime.combine(today + timedelta(days=1), time(0), REPORT_ZONE))
    created = _in_branches(user, branches).where(Lead.status != LeadStatus.SPAM)
    per_day = db.session.execute(
        select(
            *(
                created.with_only_columns(func.count(Lead.id))
                .where(Lead.created_at >= start, Lead.created_at < end)
                .scalar_subquery()
                for start, end in pairwise(midnights)
            )
        )
    ).one()
    return list(zip(days, per_day, strict=True))
