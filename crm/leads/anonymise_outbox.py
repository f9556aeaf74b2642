"""Anonymising the outbox: the emails to or about people being erased, and mentions of them.

An email to the person or about their lead is emptied (and cancelled if unsent); any other
email that names their phone or address (a digest to staff) has the mention replaced.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import phonenumbers
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from crm.models import OutboxEmail, OutboxStatus

ERASED = "[erased]"
CANCELLED = "Cancelled: the person's details were erased before it was sent."


@dataclass(frozen=True)
class Identifiers:
    """How the people behind a set of leads can be recognised in text."""

    phones: frozenset[str] = frozenset()  # E.164
    emails: frozenset[str] = frozenset()  # lower case
    names: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.phones or self.emails)


_TEXT_FIELDS = ("to_address", "subject", "text_body", "html_body", "last_error")


def plan_outbox(
    session: Session, lead_ids: Sequence[int], identifiers: Identifiers, *, spare: Identifiers
) -> tuple[list[OutboxEmail], list[tuple[OutboxEmail, dict[str, str | None]]]]:
    phones = identifiers.phones - spare.phones
    emails = identifiers.emails - spare.emails
    theirs_filter = []
    if lead_ids:
        theirs_filter.append(OutboxEmail.lead_id.in_(lead_ids))
    if emails:
        theirs_filter.append(func.lower(OutboxEmail.to_address).in_(sorted(emails)))
    theirs: list[OutboxEmail] = []
    if theirs_filter:
        theirs = [
            email
            for email in session.scalars(
                select(OutboxEmail).where(or_(*theirs_filter)).order_by(OutboxEmail.id)
            )
            if _holds_anything(email)
        ]

    if not phones and not emails:
        return theirs, []
    recognise = _patterns(phones, emails)
    names = _name_patterns(identifiers.names)
    # A cheap filter in SQL (an address, or the last four digits of a number, which every way
    # of writing it keeps together), then the exact patterns on the few rows left.
    needles = sorted(emails | {_last_digits(phone) for phone in phones})
    candidates = select(OutboxEmail).where(
        or_(
            *(
                func.lower(column).contains(needle, autoescape=True)
                for column in (
                    OutboxEmail.to_address,
                    OutboxEmail.subject,
                    OutboxEmail.text_body,
                    OutboxEmail.html_body,
                    OutboxEmail.last_error,
                )
                for needle in needles
            )
        )
    )
    taken = {email.id for email in theirs}
    mentions = []
    for email in session.scalars(candidates.order_by(OutboxEmail.id)):
        if email.id in taken or (email.lead_id is not None and email.lead_id in lead_ids):
            continue
        changes: dict[str, str | None] = {}
        for name in _TEXT_FIELDS:
            value = getattr(email, name)
            if not value:
                continue
            redacted = _redact(value, recognise)
            if redacted != value:
                # The name is only recognisable as theirs next to their number or address.
                changes[name] = _redact(redacted, names)
        if changes:
            mentions.append((email, changes))
    return theirs, mentions


def _holds_anything(email: OutboxEmail) -> bool:
    unsent = email.status != OutboxStatus.SENT
    return bool(
        email.to_address
        or email.subject != ERASED
        or email.text_body
        or email.html_body
        or email.ics
        or (email.last_error and email.last_error != CANCELLED)
        or (unsent and email.status != OutboxStatus.FAILED)
    )


def empty_email(email: OutboxEmail) -> None:
    email.to_address = ""
    email.subject = ERASED
    email.text_body = ""
    email.html_body = None
    email.ics = None  # the calendar file names the person and the place
    if email.status == OutboxStatus.SENT:
        email.last_error = None
    else:
        # Never sent now: the worker only claims pending rows, and there is no address left.
        email.status = OutboxStatus.FAILED
        email.last_error = CANCELLED


def _last_digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)[-4:]


_SEPARATORS = r"[\s\-.()/]*"


def _phone_pattern(e164: str) -> str:
    """Any common way of writing the number: +91 98450 12345, 098450-12345, 9845012345."""
    try:
        number = phonenumbers.parse(e164, None)
        country = str(number.country_code)
        national = phonenumbers.national_significant_number(number)
    except phonenumbers.NumberParseException:
        country, national = "", re.sub(r"\D", "", e164)
    digits = _SEPARATORS.join(re.escape(digit) for digit in national)
    prefix = rf"(?:(?:\+|00){_SEPARATORS}{country}{_SEPARATORS}|0{_SEPARATORS})?" if country else ""
    return rf"(?<!\d){prefix}{digits}(?!\d)"


def _patterns(phones: Iterable[str], emails: Iterable[str]) -> list[re.Pattern[str]]:
    patterns = [re.compile(_phone_pattern(phone)) for phone in sorted(phones)]
    for email in sorted(emails):
        variants = {re.escape(email), re.escape(html.escape(email))}
        patterns.append(re.compile("|".join(sorted(variants)), re.IGNORECASE))
    return patterns


def _name_patterns(names: Iterable[str]) -> list[re.Pattern[str]]:
    patterns = []
    for name in sorted(names, key=len, reverse=True):
        variants = {
            r"\s+".join(re.escape(part) for part in variant.split())
            for variant in (name, html.escape(name))
        }
        patterns.append(re.compile(rf"(?<!\w)(?:{'|'.join(sorted(variants))})(?!\w)", re.I))
    return patterns


def _redact(text: str, patterns: Iterable[re.Pattern[str]]) -> str:
    for pattern in patterns:
        text = pattern.sub(ERASED, text)
    return text
