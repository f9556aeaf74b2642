"""The language a person prefers: the one their latest enquiry was written in.

Each enquiry records its language (the page's for the website's form, the one staff chose at
the desk). The latest is what the person is written to in and what staff see ("prefers Telugu"),
so someone who first wrote in English and then in Telugu is called back in Telugu.
"Latest" is by id: enquiries are immutable and numbered in arrival order, and keep their ids
when a merge moves them to another lead.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from flask_babel import force_locale, get_locale
from sqlalchemy import func, select

from crm.models import Enquiry, Lead
from crm.platform.extensions import db
from crm.platform.i18n import DEFAULT_LANGUAGE, LANGUAGES


def known_language(code: str | None) -> str:
    """``code`` if the site speaks it, else the default (a language since withdrawn)."""
    return code if code in LANGUAGES else DEFAULT_LANGUAGE


def patient_language(lead: Lead) -> str:
    """The language to write to the person behind ``lead`` in (their emails)."""
    code = db.session.scalar(
        select(Enquiry.language)
        .where(Enquiry.lead_id == lead.id)
        .order_by(Enquiry.id.desc())
        .limit(1)
    )
    return known_language(code)


def preferred_languages(lead_ids: Iterable[int]) -> dict[int, str]:
    """Each lead's language, for a page of leads: one query, not one per lead."""
    ids = sorted(set(lead_ids))
    if not ids:
        return {}
    latest = (
        select(func.max(Enquiry.id))
        .where(Enquiry.lead_id.in_(ids))
        .group_by(Enquiry.lead_id)
        .scalar_subquery()
    )
    rows = db.session.execute(
        select(Enquiry.lead_id, Enquiry.language).where(Enquiry.id.in_(latest))
    )
    found = {lead_id: known_language(code) for lead_id, code in rows}
    return {lead_id: found.get(lead_id, DEFAULT_LANGUAGE) for lead_id in ids}


def preferred_language_of_lead() -> Any:
    """The language as a column of a query on ``Lead`` (filters and exports)."""
    return (
        select(Enquiry.language)
        .where(Enquiry.lead_id == Lead.id)
        .order_by(Enquiry.id.desc())
        .limit(1)
        .correlate(Lead)
        .scalar_subquery()
    )


def language_name(code: str | None) -> str:
    """What staff read: "Telugu"."""
    return LANGUAGES[known_language(code)].english_name


@contextmanager
def written_in(code: str | None) -> Iterator[str]:
    """The catalogue's words and Babel's dates inside this block are in ``code``
    (``force_locale``), whatever page or command runs it."""
    language = known_language(code)
    with force_locale(language):
        yield language


@contextmanager
def patient_locale(lead: Lead) -> Iterator[str]:
    """Write to the person behind ``lead`` in the language of their latest enquiry."""
    with written_in(patient_language(lead)) as code:
        yield code


@dataclass(frozen=True, slots=True)
class LocalMoment:
    when: str  # the date and time in full
    day: str
    time: str


# How the clinic's English emails have always written a time: "Monday 07 December 2026, 10:30".
ENGLISH = ("EEEE dd MMMM yyyy, HH:mm", "EEEE dd MMMM", "HH:mm")


def local_moment(local: datetime) -> LocalMoment:
    """A wall-clock time (already in the branch's zone) as the current locale writes it.

    Kannada, Telugu and Hindi read as their CLDR formats do (a full date, the short time of
    day), with Western Arabic digits, the default numbering of all three.
    """
    locale = get_locale() or Locale.parse(DEFAULT_LANGUAGE)
    if locale.language == DEFAULT_LANGUAGE:
        when, day, time = (format_datetime(local, pattern, locale="en") for pattern in ENGLISH)
        return LocalMoment(when, day, time)
    day = format_date(local, "full", locale=locale)
    time = format_time(local, "short", locale=locale)
    joined = str(locale.datetime_formats["full"]).replace("{1}", day).replace("{0}", time)
    return LocalMoment(when=joined, day=day, time=time)
