"""The dashboard's figures, for one person's scope (their branch, or every branch for admins)."""

from __future__ import annotations

import statistics
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from itertools import pairwise

from sqlalchemy import Select, func, select

from crm.leads.appointment_figures import BranchDay, NoShowRate, no_show_rates, todays_appointments
from crm.leads.funnel_days import DAY_ZONE, counts_since, leads_per_day
from crm.leads.queries import scope_branch_ids, visible_leads
from crm.models import (
    CHANNEL_LABELS,
    Branch,
    FollowUp,
    Lead,
    LeadStatus,
    LeadStatusCount,
    StaffUser,
)
from crm.platform.extensions import db

CHART_DAYS = 30
CONVERSION_DAYS = 30
# The kept counts are per day of this zone (crm.leads.funnel_days).
REPORT_ZONE = DAY_ZONE


@dataclass(frozen=True)
class Funnel:
    """How far the leads of one branch or source got: every lead starts new; contacted means
    someone answered it (its first move out of new); booked, that it had an appointment or was
    booked; attended, that it came to one or was marked visited. Each step counts the leads that
    got at least that far, so no step is larger than the one before."""

    label: str
    new: int
    contacted: int
    booked: int
    attended: int

    @property
    def steps(self) -> list[tuple[str, int, float | None]]:
        """Each step after new, with its count and its share of the step before."""
        counts = [self.new, self.contacted, self.booked, self.attended]
        names = ["contacted", "booked", "attended"]
        return [
            (name, count, count / before if before else None)
            for name, (before, count) in zip(names, pairwise(counts), strict=True)
        ]

    @property
    def rate(self) -> float | None:
        """New to attended: the conversion of the whole funnel."""
        return self.attended / self.new if self.new else None


@dataclass
class Dashboard:
    new_waiting: int = 0
    overdue_follow_ups: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    median_first_response_minutes: float | None = None
    responses_this_week: int = 0
    funnel_by_branch: list[Funnel] = field(default_factory=list)
    funnel_by_source: list[Funnel] = field(default_factory=list)
    funnel_by_channel: list[Funnel] = field(default_factory=list)
    leads_per_day: list[tuple[date, int]] = field(default_factory=list)
    appointments_today: list[BranchDay] = field(default_factory=list)
    no_shows: NoShowRate = field(default_factory=lambda: NoShowRate("All", 0, 0, 0))
    no_shows_by_branch: list[NoShowRate] = field(default_factory=list)


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
    _funnel(figures, user, branches, now)
    figures.leads_per_day = _leads_per_day(user, branches, now)
    in_order = sorted(branches.values(), key=lambda branch: (branch.sort_order, branch.id))
    leads = _in_branches(user, branches)
    open_now = [branch for branch in in_order if branch.active]
    figures.appointments_today = todays_appointments(leads, open_now, now)
    figures.no_shows, figures.no_shows_by_branch = no_show_rates(leads, in_order, now)
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
    """Median working minutes to first response, for leads first answered this week.

    Each lead keeps its minutes (``Lead.first_response_minutes``, counted under the opening
    hours in force when it was answered), so nothing is recomputed here: the week's leads are
    counted, then the middle one or two values are read, sorted by the database, all from
    the index over (branch, first response, created, minutes).
    """
    answered = (
        _in_branches(user, branches)
        .where(Lead.first_response_at >= week_start(now))
        .where(Lead.first_response_minutes.is_not(None))
    )
    count = db.session.scalar(answered.with_only_columns(func.count()))
    figures.responses_this_week = count or 0
    if not count:
        figures.median_first_response_minutes = None
        return
    middle = db.session.scalars(
        answered.with_only_columns(Lead.first_response_minutes)
        .order_by(Lead.first_response_minutes)
        .offset((count - 1) // 2)
        .limit(2 - count % 2)
    ).all()
    figures.median_first_response_minutes = statistics.median(middle)


def _funnel(
    figures: Dashboard, user: StaffUser, branches: dict[int, Branch], now: datetime
) -> None:
    """The funnel of leads created in the last 30 days, spam left out, from the counts kept per
    day (``crm.leads.funnel_days``); the grouped rows are then added up along each axis."""
    (window,) = counts_since(user, list(branches), [now - timedelta(days=CONVERSION_DAYS)])
    rows = [
        (branch_id, source, channel, *counts)
        for (branch_id, source, channel, _), counts in window.items()
    ]
    axes = ("branch", "source", "channel")
    tallies: dict[str, dict[str, Counter[int]]] = {axis: {} for axis in axes}
    for branch_id, source, channel, *counts in rows:
        keys = (branches[branch_id].city, source, CHANNEL_LABELS.get(channel, channel))
        for axis, key in zip(axes, keys, strict=True):
            tally = tallies[axis].setdefault(key, Counter())
            for step, count in enumerate(counts):
                tally[step] += int(count or 0)

    def funnels(axis: str) -> list[Funnel]:
        return [
            Funnel(key, *(tally[step] for step in range(4))) for key, tally in tallies[axis].items()
        ]

    figures.funnel_by_branch = sorted(funnels("branch"), key=lambda f: f.label)
    figures.funnel_by_source = sorted(funnels("source"), key=lambda f: (-f.new, f.label))
    figures.funnel_by_channel = sorted(funnels("channel"), key=lambda f: (-f.new, f.label))


def _leads_per_day(
    user: StaffUser, branches: dict[int, Branch], now: datetime
) -> list[tuple[date, int]]:
    """One count per clinic day, from the counts kept per day."""
    today = now.astimezone(REPORT_ZONE).date()
    days = [today - timedelta(days=offset) for offset in reversed(range(CHART_DAYS))]
    return leads_per_day(list(branches), days)
