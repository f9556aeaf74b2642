"""Response time counts only opening hours."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crm.leads.response_time import working_minutes
from crm.models import Branch
from crm.platform.extensions import db

IST = ZoneInfo("Asia/Kolkata")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    # November 2026: the 23rd is a Monday; Bengaluru opens 08:00-20:00 Mon-Fri, 09:00-17:00 Sat.
    return datetime(2026, 11, day, hour, minute, tzinfo=IST)


@pytest.mark.parametrize(
    ("start", "end", "minutes"),
    [
        (at(23, 10), at(23, 11, 30), 90),  # within a working day
        (at(23, 19, 30), at(24, 8, 30), 60),  # 30 min before closing, 30 after opening
        (at(23, 22), at(24, 7), 0),  # all night
        (at(27, 19), at(30, 9), 60 + 8 * 60 + 60),  # Fri evening, Saturday, Monday morning
        (at(29, 10), at(29, 18), 0),  # Sunday: closed all day
        (at(24, 9), at(23, 9), 0),  # end before start
    ],
)
def test_working_minutes(app_ctx, start, end, minutes):
    branch = db.session.scalar(select(Branch).where(Branch.slug == "bengaluru"))
    assert working_minutes(branch, start, end) == minutes


def test_several_spans_a_day_are_counted(app_ctx):
    branch = db.session.scalar(select(Branch).where(Branch.slug == "bengaluru"))
    branch.opening_hours = {"mon": [["09:00", "13:00"], ["14:00", "18:00"]]}
    assert working_minutes(branch, at(23, 12), at(23, 15)) == 120
