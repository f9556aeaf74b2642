"""The one vocabulary for choosing leads, shared by the inbox, the exports page and ``crm export``.

"Export what I am looking at" has to be the same query as the inbox, so both build it here:
``LeadFilters`` says what was asked for and ``filtered_leads`` turns it into a query on
``visible_leads`` (the one branch scope). Each value means one thing everywhere:

- status: ``""`` every status but spam (spam is machine-flagged junk, never the default),
  ``"open"`` the open statuses, ``"any"`` every status with spam, or one ``LeadStatus``;
- assignee: ``""`` anyone, ``"none"`` nobody, or a staff member's id (an id, not an email:
  it does not change when a person's address does, and it keeps addresses out of URLs);
- language: a language code ("te"): the language of the lead's latest enquiry;
- since/until: whole days in the lead's branch's time zone, until inclusive.
"""

from __future__ import annotations

from collections import defaultdict
from contextlib import suppress
from dataclasses import dataclass, fields
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import CompoundSelect, Select, and_, false, func, not_, or_, select, union
from sqlalchemy.sql.elements import False_

from crm.clinic.branches import branch_zone
from crm.leads.language import preferred_language_of_lead
from crm.leads.queries import visible_leads
from crm.leads.search import (
    WordsMatch,
    indexed_phone,
    indexed_words,
    phone_contains,
    words_contain,
)
from crm.models import OPEN_STATUSES, Branch, Enquiry, Lead, LeadStatus, StaffUser
from crm.platform.contact import InvalidContact, normalise_email, normalise_phone
from crm.platform.extensions import db
from crm.platform.i18n import DEFAULT_LANGUAGE
from crm.policy import sees_all_branches

OPEN = "open"
ANY = "any"
UNASSIGNED = "none"
ALL_BRANCHES = "all"
STATUS_FILTERS = frozenset({OPEN, ANY, *LeadStatus})


@dataclass(frozen=True)
class LeadFilters:
    """Validated filters; an empty value means "no filter" (status: everything but spam)."""

    status: str = ""  # "", "open", "any" or a LeadStatus
    branch: str = ""  # slug; "" or "all": every branch the person sees
    assignee: str = ""  # "", "none" or a staff member's id
    mine: bool = False  # assigned to the person asking
    interest: str = ""
    source: str = ""  # the lead's source ("direct", "google", ...), as stored
    channel: str = ""  # how the person first reached us: a Channel ("web", "phone", ...)
    language: str = ""  # the language they prefer (crm.leads.language): "en", "te", ...
    since: date | None = None  # created on or after this day
    until: date | None = None  # created on or before this day
    overdue: bool = False  # open, with a follow-up that is past due
    text: str = ""  # part of a name, phone or email; words in messages and notes

    def described(self) -> dict[str, str]:
        """The filters that were set, as words (an export record keeps them)."""
        described = {}
        for spec in fields(self):
            value = getattr(self, spec.name)
            if isinstance(value, date):
                value = value.isoformat()
            elif isinstance(value, bool):
                value = "yes" if value else ""
            if value:
                described[spec.name] = value
        return described


@dataclass(frozen=True)
class Selection:
    query: Select[tuple[Lead]]
    branch: Branch | None  # the one branch selected; None: several
    branches: list[Branch]  # the branches whose leads can appear
    # Known to select nothing (a search the text index found nowhere): no need to ask.
    empty: bool = False
    # Some of the selected leads, found from their own columns (a common text's name or
    # email match): a bounded count that reaches its bound here reads no messages or notes.
    some: Select[tuple[Lead]] | None = None
    # A search for words: the selected leads split into the best matches (the text is part
    # of the lead's own name or email) and the rest (found only in messages or notes).
    best: Select[tuple[Lead]] | None = None
    rest: Select[tuple[Lead]] | None = None


def filtered_leads(viewer: StaffUser, filters: LeadFilters, now: datetime) -> Selection:
    """The leads ``filters`` select among those ``viewer`` may see.

    Every filter only narrows ``visible_leads(viewer)``. A branch filter counts only for
    someone who sees several branches: anyone else's branch is fixed by their scope.
    """
    query = visible_leads(viewer)
    branch = None
    if sees_all_branches(viewer) and filters.branch not in ("", ALL_BRANCHES):
        branch = db.session.scalar(select(Branch).where(Branch.slug == filters.branch))
        if branch is None:
            # A slug that names no branch selects nothing, never everything.
            return Selection(query=query.where(false()), branch=None, branches=[], empty=True)
        query = query.where(Lead.branch_id == branch.id)
        branches = [branch]
    elif sees_all_branches(viewer):
        branches = list(db.session.scalars(select(Branch).order_by(Branch.sort_order)))
    else:
        branch = viewer.branch
        branches = [branch] if branch is not None else []
    if filters.status == OPEN:
        query = query.where(Lead.status.in_(OPEN_STATUSES))
    elif not filters.status:
        query = query.where(Lead.status != LeadStatus.SPAM)
    elif filters.status != ANY:
        query = query.where(Lead.status == filters.status)
    if filters.mine:
        query = query.where(Lead.assignee_id == viewer.id)
    elif filters.assignee == UNASSIGNED:
        query = query.where(Lead.assignee_id.is_(None))
    elif filters.assignee.isdigit():
        query = query.where(Lead.assignee_id == int(filters.assignee))
    if filters.interest:
        query = query.where(Lead.interest == filters.interest)
    if filters.source:
        query = query.where(Lead.source == filters.source)
    if filters.channel:
        query = query.where(Lead.channel == filters.channel)
    if filters.language:
        preferred = func.coalesce(preferred_language_of_lead(), DEFAULT_LANGUAGE)
        query = query.where(preferred == filters.language)
    if filters.since or filters.until:
        query = query.where(created_between(branches, filters.since, filters.until))
    if filters.overdue:
        query = query.where(
            Lead.status.in_(OPEN_STATUSES),
            Lead.next_follow_up_at.is_not(None),
            Lead.next_follow_up_at < now,
        )
    empty, some, best, rest = False, None, None, None
    if filters.text:
        match = text_match(filters.text)
        empty = isinstance(match.condition, False_)
        if match.on_lead is not None:
            some = query.where(Lead.erased_at.is_(None), match.on_lead)
        if match.own is not None and not empty:
            best = query.where(match.condition, match.own)
            rest = query.where(match.condition, not_(match.own))
        query = query.where(match.condition)
    return Selection(
        query=query,
        branch=branch,
        branches=branches,
        empty=empty,
        some=some,
        best=best,
        rest=rest,
    )


def created_between(branches: list[Branch], since: date | None, until: date | None):  # type: ignore[no-untyped-def]
    """Created on whole local days, in each lead's branch's own time zone.

    Branches sharing a zone share one range (today every branch is in one zone, so this is a
    plain range on ``created_at``); branches in other zones get ranges of their own.
    """
    by_zone: dict[str, list[int]] = defaultdict(list)
    for branch in branches:
        by_zone[branch_zone(branch).key].append(branch.id)
    if not by_zone:
        by_zone[branch_zone(None).key] = []
    clauses = []
    for zone_name, ids in by_zone.items():
        zone = ZoneInfo(zone_name)
        conditions = []
        if since:
            conditions.append(Lead.created_at >= datetime.combine(since, time(0), zone))
        if until:
            next_day = datetime.combine(until + timedelta(days=1), time(0), zone)
            conditions.append(Lead.created_at < next_day)
        if len(by_zone) > 1:
            conditions.append(Lead.branch_id.in_(ids))
        clauses.append(and_(*conditions))
    return or_(*clauses)


def text_match(text: str) -> WordsMatch:
    """Name, phone, email, message or note. A whole number or address is an exact lookup."""
    text = text.strip()
    condition = _exact_contact(text)
    if condition is None:
        digits = _part_of_phone(text)
        if not digits:
            match = words_contain(text)
            if isinstance(match.condition, False_):
                return match  # found nowhere: kept recognisable (``Selection.empty``)
            return match._replace(condition=and_(Lead.erased_at.is_(None), match.condition))
        condition = phone_contains(digits)
    return WordsMatch(and_(Lead.erased_at.is_(None), condition))


def text_candidates(text: str) -> Select[tuple[int]] | CompoundSelect | None:
    """Ids of leads that may match ``text`` (``text_match`` decides), read from a text index.

    A superset, maybe with repeats, read in an order that lets a bounded count stop early
    (``crm.leads.inbox``); None for an exact lookup, or where no index answers that way.
    """
    text = text.strip()
    if _exact_contact(text) is not None:
        return None
    digits = _part_of_phone(text)
    return indexed_phone(digits) if digits else indexed_words(text)


def _exact_contact(text: str):  # type: ignore[no-untyped-def]
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 8:
        with suppress(InvalidContact):
            phone = normalise_phone(text)
            # Any number the person gave, not only the lead's own: both are exact lookups,
            # asked as one list of ids. As "phone = x OR id IN (...)", PostgreSQL read every
            # lead of the branch to test the OR (13 ms at 100,000 leads, growing). The lead's
            # own number is indexed per branch (ix_lead_branch_phone), hence branch by branch.
            own = select(Lead.id).where(Lead.branch_id.in_(select(Branch.id)), Lead.phone == phone)
            given = select(Enquiry.lead_id).where(Enquiry.phone == phone)
            return Lead.id.in_(union(own, given))
    if "@" in text:
        with suppress(InvalidContact):
            return Lead.email == normalise_email(text)
    return None


def _part_of_phone(text: str) -> str | None:
    """The digits, if ``text`` is mostly digits: part of a phone number."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) >= 4 and len(digits) * 2 >= len(text.replace(" ", "")):
        return digits
    return None


def known_sources(viewer: StaffUser) -> list[str]:
    """Every source among the leads ``viewer`` sees, for a source filter to offer."""
    query = visible_leads(viewer).with_only_columns(Lead.source).distinct().order_by(Lead.source)
    return list(db.session.scalars(query))
