"""The triage inbox: filtered, newest activity first, with keyset pagination.

Keyset pagination (``WHERE (last_enquiry_at, id) < cursor``) reads one page from an index
whatever the page number, so the inbox stays fast at a million leads, and a lead arriving
while someone pages does not shift rows between pages.
"""

from __future__ import annotations

import base64
import binascii
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.orm import joinedload

from crm.branches import DEFAULT_ZONE
from crm.database import MAX_ID
from crm.extensions import db
from crm.leads.contact import InvalidContact, normalise_email, normalise_phone
from crm.leads.days import day_in_range
from crm.leads.queries import visible_leads
from crm.leads.response_time import response_breached
from crm.models import OPEN_STATUSES, Branch, Enquiry, Lead, LeadStatus, StaffUser
from crm.policy import sees_all_branches

OPEN = "open"
ANY = "any"
UNASSIGNED = "none"


@dataclass(frozen=True)
class InboxFilters:
    """Validated filters; empty values mean "no filter". Spam shows only when asked for."""

    status: str = ""  # a LeadStatus, "open", "any", or "" (everything but spam)
    branch: str = ""  # slug; admins only
    assignee: str = ""  # staff id, "none", or ""
    mine: bool = False
    interest: str = ""
    since: date | None = None
    until: date | None = None
    overdue: bool = False
    text: str = ""


@dataclass(frozen=True)
class Cursor:
    last_enquiry_at: datetime
    lead_id: int

    def encode(self) -> str:
        raw = f"{self.last_enquiry_at.isoformat()}|{self.lead_id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, token: str | None) -> Cursor | None:
        """The cursor in a "next page" link, or None when absent or not one of ours."""
        if not token or len(token) > 100:
            return None
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            stamp, lead_id = raw.split("|")
            moment = datetime.fromisoformat(stamp)
            number = int(lead_id)
            # Only what a page of ours could have written: the database cannot bind the rest.
            if moment.tzinfo is None or not day_in_range(moment.date()):
                return None
            if not 0 < number <= MAX_ID:
                return None
            return cls(moment, number)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return None


@dataclass(frozen=True)
class InboxRow:
    lead: Lead
    breached: bool
    overdue: bool


@dataclass
class InboxPage:
    rows: list[InboxRow] = field(default_factory=list)
    next_cursor: Cursor | None = None


def inbox_page(
    user: StaffUser,
    filters: InboxFilters,
    *,
    after: Cursor | None,
    limit: int,
    now: datetime,
    target_minutes: int,
) -> InboxPage:
    query = _filtered(user, filters, now)
    if after is not None:
        query = query.where(
            tuple_(Lead.last_enquiry_at, Lead.id) < tuple_(after.last_enquiry_at, after.lead_id)
        )
    query = (
        query.options(joinedload(Lead.assignee), joinedload(Lead.branch))
        .order_by(Lead.last_enquiry_at.desc(), Lead.id.desc())
        .limit(limit + 1)
    )
    leads = list(db.session.scalars(query).unique())
    page = InboxPage()
    for lead in leads[:limit]:
        page.rows.append(
            InboxRow(
                lead=lead,
                breached=response_breached(lead, lead.branch, now, target_minutes),
                overdue=bool(
                    lead.is_open and lead.next_follow_up_at and lead.next_follow_up_at < now
                ),
            )
        )
    if len(leads) > limit:
        last = leads[limit - 1]
        page.next_cursor = Cursor(last.last_enquiry_at, last.id)
    return page


def _filtered(user: StaffUser, filters: InboxFilters, now: datetime):  # type: ignore[no-untyped-def]
    query = visible_leads(user)
    if filters.status == OPEN:
        query = query.where(Lead.status.in_(OPEN_STATUSES))
    elif filters.status and filters.status != ANY:
        query = query.where(Lead.status == filters.status)
    elif not filters.status:
        query = query.where(Lead.status != LeadStatus.SPAM)
    if filters.branch and sees_all_branches(user):
        query = query.where(
            Lead.branch_id
            == select(Branch.id).where(Branch.slug == filters.branch).scalar_subquery()
        )
    if filters.mine:
        query = query.where(Lead.assignee_id == user.id)
    elif filters.assignee == UNASSIGNED:
        query = query.where(Lead.assignee_id.is_(None))
    elif filters.assignee.isdigit():
        query = query.where(Lead.assignee_id == int(filters.assignee))
    if filters.interest:
        query = query.where(Lead.interest == filters.interest)
    if filters.since:
        query = query.where(Lead.created_at >= _local_midnight(filters.since))
    if filters.until:
        query = query.where(Lead.created_at < _local_midnight(filters.until + timedelta(days=1)))
    if filters.overdue:
        query = query.where(
            Lead.status.in_(OPEN_STATUSES),
            Lead.next_follow_up_at.is_not(None),
            Lead.next_follow_up_at < now,
        )
    if filters.text:
        query = query.where(_text_match(filters.text))
    return query


def _local_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), DEFAULT_ZONE)


def _text_match(text: str):  # type: ignore[no-untyped-def]
    """Name, phone or email. A whole phone number or address is an exact, indexed lookup."""
    text = text.strip()
    digits = "".join(ch for ch in text if ch.isdigit())
    condition = None
    if len(digits) >= 8:
        with suppress(InvalidContact):
            phone = normalise_phone(text)
            # Any number the person gave, not only the lead's own: both are exact lookups.
            condition = or_(
                Lead.phone == phone,
                Lead.id.in_(select(Enquiry.lead_id).where(Enquiry.phone == phone)),
            )
    if condition is None and "@" in text:
        with suppress(InvalidContact):
            condition = Lead.email == normalise_email(text)
    if condition is None and "@" in text:
        # The start of an address: a range on the (branch, email) index.
        prefix = text.lower()
        condition = and_(Lead.email >= prefix, Lead.email < prefix + "\U0010ffff")
    if condition is None and len(digits) >= 4 and len(digits) * 2 >= len(text.replace(" ", "")):
        condition = Lead.phone.contains(digits, autoescape=True)
    if condition is None:
        condition = func.lower(Lead.name).contains(text.lower(), autoescape=True)
    return and_(Lead.erased_at.is_(None), condition)
