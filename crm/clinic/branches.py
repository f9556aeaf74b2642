"""Reading branches, the public facts of each clinic location."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import get_day_names
from flask import g
from sqlalchemy import select

from crm.models import WEEKDAYS, Branch
from crm.models.branch import DEFAULT_TIME_ZONE
from crm.platform.extensions import db
from crm.platform.i18n import babel_locale

DEFAULT_ZONE = ZoneInfo(DEFAULT_TIME_ZONE)


@dataclass(frozen=True)
class HoursRow:
    weekday: str  # "mon".."sun"
    spans: list[tuple[time, time]]

    @property
    def day(self) -> str:
        """The weekday's name in the language being written (CLDR's, not a catalogue's)."""
        return _day_names(babel_locale())[WEEKDAYS.index(self.weekday)]


@lru_cache(maxsize=8)
def _day_names(locale: Locale) -> tuple[str, ...]:
    names = get_day_names("wide", locale=locale)
    return tuple(str(names[day]) for day in range(len(WEEKDAYS)))


def branch_choices() -> list[tuple[str, str]]:
    """(slug, city) of every branch taking enquiries, in display order.

    Read as two columns unless the page has the branches already: the intake needs only
    these, and loading every branch's row (hours, address, ...) cost more than the rest of
    its reads.
    """
    if "branch_choices" not in g:
        if "active_branches" in g:
            g.branch_choices = [(branch.slug, branch.city) for branch in g.active_branches]
        else:
            g.branch_choices = [tuple(row) for row in db.session.execute(_CHOICES)]
    return g.branch_choices


_BRANCH = Branch.__table__.c
# Of the table, not the mapped class: the ORM's handling of a select costs more than the read.
_CHOICES = (
    select(_BRANCH.slug, _BRANCH.city)
    .where(_BRANCH.active.is_(True))
    .order_by(_BRANCH.sort_order, _BRANCH.city)
)


def active_branches() -> list[Branch]:
    """Every branch taking enquiries, in display order, read once per request: a page lists
    them, and its navigation and reach-out form offer them again."""
    if "active_branches" not in g:
        g.active_branches = list(
            db.session.scalars(
                select(Branch)
                .where(Branch.active.is_(True))
                .order_by(Branch.sort_order, Branch.city)
            )
        )
    return g.active_branches


def branch_by_slug(slug: str) -> Branch | None:
    return db.session.scalar(select(Branch).where(Branch.slug == slug, Branch.active.is_(True)))


def opening_spans(branch: Branch, weekday: str) -> list[tuple[time, time]]:
    """The opening spans of one weekday ("mon".."sun"), as local times."""
    spans = (branch.opening_hours or {}).get(weekday) or []
    return [(time.fromisoformat(start), time.fromisoformat(end)) for start, end in spans]


def weekly_hours(branch: Branch) -> list[HoursRow]:
    return [HoursRow(day, opening_spans(branch, day)) for day in WEEKDAYS]


def branch_zone(branch: Branch | None) -> ZoneInfo:
    """The branch's time zone; the clinic's own for no branch (an admin, or all branches)."""
    return ZoneInfo(branch.time_zone) if branch is not None and branch.time_zone else DEFAULT_ZONE


def is_open_at(branch: Branch, moment: datetime) -> bool:
    local = moment.astimezone(branch_zone(branch))
    weekday = WEEKDAYS[local.weekday()]
    return any(start <= local.time() < end for start, end in opening_spans(branch, weekday))
