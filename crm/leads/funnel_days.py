"""The dashboard's counts of leads by branch, source, channel and first page, read from the rows
the database keeps per clinic day (``LeadFunnelDay``), not from the leads.

A window such as "the last 30 days" starts at a moment (now less 30 days), not at midnight. The
days after the one it starts on are read from the kept rows; on that first day, the part of
the day inside the window or the part outside it, whichever is shorter, is read from the leads
themselves and added or taken away. So the figures are those of the moment, as before, and
the leads read are at most half a day's.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, case, func, literal, or_, select, union_all

from crm.clinic.branches import DEFAULT_ZONE
from crm.leads.queries import visible_leads
from crm.models import NO_PAGE, Lead, LeadFunnelDay, LeadStatus, StaffUser
from crm.platform.extensions import db

# The zone of the kept days; migration e1f5a7c3b9d2 counts them in this zone's days.
DAY_ZONE: ZoneInfo = DEFAULT_ZONE
STEPS = ("leads", "contacted", "booked", "attended")

Key = tuple[int, str, str, str]  # branch id, source, channel, page ("" for none)


@dataclass(frozen=True)
class _Edge:
    """How one window is read: the kept days from ``first_day`` on, and the leads created in
    [``start``, ``end``) added (``sign`` 1) or taken away (-1)."""

    first_day: date
    start: datetime
    end: datetime
    sign: int


def local_day(moment: datetime) -> date:
    return moment.astimezone(DAY_ZONE).date()


def midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), DAY_ZONE)


def _edge(since: datetime) -> _Edge:
    day = local_day(since)
    start, end = midnight(day), midnight(day + timedelta(days=1))
    if since - start <= end - since:
        return _Edge(day, start, since, -1)
    return _Edge(day + timedelta(days=1), since, end, 1)


def counts_since(
    user: StaffUser, branch_ids: list[int], windows: Sequence[datetime]
) -> list[dict[Key, list[int]]]:
    """For each moment in ``windows``, the leads created since then in ``branch_ids`` (spam
    and merged leads left out), by branch, source, channel and first page:
    [leads, contacted, booked, attended], the steps as ``crm.leads.dashboard.Funnel`` has them.

    One statement, so the kept rows and the leads at the edges are read at one moment."""
    edges = [_edge(since) for since in windows]
    if not edges or not branch_ids:
        return [{} for _ in windows]
    # Kept rows fall into bands: band i holds the days of window i and of no shorter window.
    by_start = sorted(range(len(edges)), key=lambda index: edges[index].first_day, reverse=True)
    band = case(
        *((LeadFunnelDay.day >= edges[index].first_day, index) for index in by_start),
        else_=-1,
    )
    kept = (
        select(
            band.label("band"),
            LeadFunnelDay.branch_id,
            LeadFunnelDay.source,
            LeadFunnelDay.channel,
            LeadFunnelDay.page,
            *(func.sum(getattr(LeadFunnelDay, step)) for step in STEPS),
        )
        .where(
            LeadFunnelDay.branch_id.in_(branch_ids),
            LeadFunnelDay.day >= min(edge.first_day for edge in edges),
        )
        .group_by(
            band,
            LeadFunnelDay.branch_id,
            LeadFunnelDay.source,
            LeadFunnelDay.channel,
            LeadFunnelDay.page,
        )
    )
    # One select per edge, each a range of the (branch, created) index: joined by OR, the
    # ranges were read as a scan of every lead.
    at_edges = [
        visible_leads(user)
        .with_only_columns(
            literal(len(edges) + index).label("band"),
            Lead.branch_id,
            Lead.source,
            Lead.channel,
            Lead.first_page,
            func.count(Lead.id),
            *(func.sum(case((reached, 1), else_=0)) for reached in _steps()),
        )
        .where(
            Lead.branch_id.in_(branch_ids),
            Lead.created_at >= edge.start,
            Lead.created_at < edge.end,
            Lead.status != LeadStatus.SPAM,
        )
        .group_by(Lead.branch_id, Lead.source, Lead.channel, Lead.first_page)
        for index, edge in enumerate(edges)
    ]
    figures: list[dict[Key, list[int]]] = [defaultdict(lambda: [0, 0, 0, 0]) for _ in edges]
    for band_index, branch_id, source, channel, page, *counts in db.session.execute(
        union_all(kept, *at_edges)
    ):
        if band_index >= len(edges):  # leads at the edge of one window
            index = band_index - len(edges)
            targets, sign, page = [index], edges[index].sign, _kept_page(page)
        elif band_index >= 0:  # kept days: this band's window and every longer one
            position = by_start.index(band_index)
            targets, sign = by_start[position:], 1
        else:
            continue
        for index in targets:
            tally = figures[index][branch_id, source, channel, page]
            for step, count in enumerate(counts):
                tally[step] += sign * int(count or 0)
    # A group all of whose leads moved away keeps its row, at nought: not a group any more.
    return [{key: tally for key, tally in window.items() if tally[0]} for window in figures]


def leads_per_day(branch_ids: list[int], days: list[date]) -> list[tuple[date, int]]:
    """Each of ``days`` with its leads (spam and merged leads left out), from the kept rows."""
    if not days or not branch_ids:
        return [(day, 0) for day in days]
    per_day = dict(
        db.session.execute(
            select(LeadFunnelDay.day, func.sum(LeadFunnelDay.leads))
            .where(
                LeadFunnelDay.branch_id.in_(branch_ids),
                LeadFunnelDay.day >= min(days),
                LeadFunnelDay.day <= max(days),
            )
            .group_by(LeadFunnelDay.day)
        ).all()
    )
    return [(day, int(per_day.get(day) or 0)) for day in days]


def _kept_page(page: str | None) -> str:
    """A lead's first page as the kept rows hold it (see ``LeadFunnelDay``)."""
    if page is None:
        return NO_PAGE
    return page or "/"


def _steps() -> list[ColumnElement[bool]]:
    """Contacted, booked and attended, from the lead's own row (the definitions of
    ``crm.leads.dashboard.Funnel``, with the lead's copies of its appointments)."""
    booked = or_(
        Lead.status.in_([LeadStatus.APPOINTMENT_BOOKED, LeadStatus.VISITED]),
        Lead.had_appointment.is_(True),
    )
    return [
        or_(Lead.first_response_at.is_not(None), booked),
        booked,
        or_(Lead.status == LeadStatus.VISITED, Lead.attended_appointment.is_(True)),
    ]
