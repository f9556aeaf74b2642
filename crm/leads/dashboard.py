"""The dashboard's figures, for one person's scope (their branch, or every branch for admins)."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlalchemy.orm import joinedload

from crm.extensions import db
from crm.leads.queries import visible_leads
from crm.leads.response_time import first_response_minutes
from crm.models import Branch, FollowUp, Lead, LeadStatus, StaffUser

CHART_DAYS = 30
CONVERSION_DAYS = 30
REPORT_ZONE = ZoneInfo("Asia/Kolkata")


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
    counts = dict(
        db.session.execute(
            visible_leads(user)
            .with_only_columns(Lead.status, func.count(Lead.id))
            .group_by(Lead.status)
        ).all()
    )
    figures.by_status = {status.value: counts.get(status.value, 0) for status in LeadStatus}
    figures.new_waiting = figures.by_status[LeadStatus.NEW]
    # Driven from the open follow-ups (few), not from the branch's leads (many).
    figures.overdue_follow_ups = db.session.scalar(
        visible_leads(user)
        .join(FollowUp, FollowUp.lead_id == Lead.id)
        .with_only_columns(func.count(FollowUp.id))
        .where(FollowUp.done_at.is_(None), FollowUp.due_at < now)
    )
    _first_response(figures, user, now)
    _conversion(figures, user, now)
    figures.leads_per_day = _leads_per_day(user, now)
    return figures


def week_start(now: datetime) -> datetime:
    """Monday 00:00 of the current week, clinic time."""
    local = now.astimezone(REPORT_ZONE)
    monday = local.date() - timedelta(days=local.weekday())
    return datetime.combine(monday, time(0), REPORT_ZONE)


def _first_response(figures: Dashboard, user: StaffUser, now: datetime) -> None:
    """Median working minutes to first response, for leads first answered this week."""
    answered = db.session.scalars(
        visible_leads(user)
        .options(joinedload(Lead.branch))
        .where(Lead.first_response_at.is_not(None), Lead.first_response_at >= week_start(now))
    ).all()
    minutes = [first_response_minutes(lead, lead.branch, now) for lead in answered]
    figures.responses_this_week = len(minutes)
    figures.median_first_response_minutes = statistics.median(minutes) if minutes else None


def _conversion(figures: Dashboard, user: StaffUser, now: datetime) -> None:
    """Visited ÷ all leads created in the last 30 days, spam left out."""
    since = now - timedelta(days=CONVERSION_DAYS)
    rows = db.session.execute(
        visible_leads(user)
        .join(Branch, Branch.id == Lead.branch_id)
        .with_only_columns(Branch.city, Lead.source, Lead.status)
        .where(Lead.created_at >= since, Lead.status != LeadStatus.SPAM)
    ).all()
    totals: dict[str, Counter[str]] = {"branch": Counter(), "source": Counter()}
    visits: dict[str, Counter[str]] = {"branch": Counter(), "source": Counter()}
    for city, source, status in rows:
        for axis, key in (("branch", city), ("source", source)):
            totals[axis][key] += 1
            if status == LeadStatus.VISITED:
                visits[axis][key] += 1
    figures.conversion_by_branch = [
        Conversion(key, visits["branch"][key], total)
        for key, total in sorted(totals["branch"].items())
    ]
    figures.conversion_by_source = [
        Conversion(key, visits["source"][key], total)
        for key, total in sorted(totals["source"].items(), key=lambda item: (-item[1], item[0]))
    ]


def _leads_per_day(user: StaffUser, now: datetime) -> list[tuple[date, int]]:
    today = now.astimezone(REPORT_ZONE).date()
    first_day = today - timedelta(days=CHART_DAYS - 1)
    since = datetime.combine(first_day, time(0), REPORT_ZONE)
    created = db.session.scalars(
        visible_leads(user)
        .with_only_columns(Lead.created_at)
        .where(Lead.created_at >= since, Lead.status != LeadStatus.SPAM)
    ).all()
    per_day = Counter(moment.astimezone(REPORT_ZONE).date() for moment in created)
    return [
        (first_day + timedelta(days=offset), per_day[first_day + timedelta(days=offset)])
        for offset in range(CHART_DAYS)
    ]
