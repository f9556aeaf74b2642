"""Response time counted in opening hours: a lead that arrives at night is not late at 8 am."""

from __future__ import annotations

from datetime import datetime, timedelta

from crm.clinic.branches import branch_zone, opening_spans
from crm.models import WEEKDAYS, Branch, Lead

# Beyond this, a lead is late whatever the hours; stops a long loop for very old leads.
_MAX_DAYS = 62


def working_minutes(branch: Branch, start: datetime, end: datetime) -> float:
    """Minutes between ``start`` and ``end`` that fall within the branch's opening hours."""
    if end <= start:
        return 0.0
    zone = branch_zone(branch)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    day = local_start.date()
    last_day = min(local_end.date(), day + timedelta(days=_MAX_DAYS))
    total = 0.0
    while day <= last_day:
        for opens, closes in opening_spans(branch, WEEKDAYS[day.weekday()]):
            span_start = datetime.combine(day, opens, zone)
            span_end = datetime.combine(day, closes, zone)
            overlap = min(span_end, local_end) - max(span_start, local_start)
            if overlap > timedelta(0):
                total += overlap.total_seconds() / 60
        day += timedelta(days=1)
    return total


def first_response_minutes(lead: Lead, branch: Branch, now: datetime) -> float:
    """Working minutes from arrival to first response, or until now if nobody has responded.

    An answered lead keeps the minutes counted when it was answered
    (``Lead.first_response_minutes``), as the dashboard's median does: recounted under today's
    hours, a change of hours would rewrite its past. A row without them is counted again.
    """
    if lead.first_response_at is None:
        return working_minutes(branch, lead.created_at, now)
    if lead.first_response_minutes is not None:
        return lead.first_response_minutes
    return working_minutes(branch, lead.created_at, lead.first_response_at)


def response_breached(lead: Lead, branch: Branch, now: datetime, target_minutes: int) -> bool:
    """Whether the lead's first response (so far, if none yet) is over the target."""
    return first_response_minutes(lead, branch, now) > target_minutes
