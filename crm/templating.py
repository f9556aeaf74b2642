"""Template filters and globals shared by every blueprint."""

from __future__ import annotations

from datetime import UTC, datetime, time
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel.dates import format_time
from flask import Flask, current_app

from crm.clinic.consent import find_consent
from crm.leads.capture import FilterReason
from crm.leads.catalogue import interest_label
from crm.leads.language import language_name
from crm.models import STATUS_LABELS, Channel, LeadStatus
from crm.models.branch import DEFAULT_TIME_ZONE
from crm.platform.contact import display_branch_phone, display_phone
from crm.platform.i18n import DEFAULT_LANGUAGE, babel_locale, locale_language

DEFAULT_ZONE = DEFAULT_TIME_ZONE


def local_time(
    moment: datetime | None, zone: str | None = None, fmt: str = "%d %b %Y, %H:%M"
) -> str:
    """A stored UTC time as the clinic reads it (the branch's zone, India by default)."""
    if moment is None:
        return ""
    return moment.astimezone(ZoneInfo(zone or DEFAULT_ZONE)).strftime(fmt)


def machine_time(moment: datetime | None) -> str:
    """A stored time for a ``datetime`` attribute: UTC, to the second.

    HTML allows at most three digits of a second's fraction and Python writes six, which the
    Nu Html Checker rejects; nobody reads those attributes to the microsecond.
    """
    if moment is None:
        return ""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def clock(moment: time) -> str:
    """A time of day as people say it: "8 am", "8:30 pm"; CLDR's short time in other languages."""
    if locale_language() != DEFAULT_LANGUAGE:
        return format_time(moment, "short", locale=babel_locale())
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour} {suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d} {suffix}"


def status_label(status: str | None) -> str:
    try:
        return STATUS_LABELS[LeadStatus(status)]
    except ValueError:
        return status or ""


def filter_reason(reason: str | None) -> str:
    try:
        return FilterReason(reason).label
    except ValueError:
        return reason or ""


def channel_label(channel: str | None) -> str:
    try:
        return Channel(channel).label
    except ValueError:
        return channel or ""


def whatsapp_link(e164: str | None, text: str | None = None) -> str:
    """A wa.me chat link; with ``text``, the message is already written when it opens."""
    if not e164:
        return ""
    link = f"https://wa.me/{e164.lstrip('+')}"
    return f"{link}?text={quote(text, safe='')}" if text else link


def register_template_helpers(app: Flask) -> None:
    app.add_template_filter(local_time, "local_time")
    app.add_template_filter(machine_time, "machine_time")
    app.add_template_filter(clock, "clock")
    app.add_template_filter(display_phone, "phone")
    app.add_template_filter(display_branch_phone, "branch_phone")
    app.add_template_filter(whatsapp_link, "whatsapp")
    app.add_template_filter(interest_label, "interest_label")
    app.add_template_filter(status_label, "status_label")
    app.add_template_filter(filter_reason, "filter_reason")
    app.add_template_filter(channel_label, "channel_label")
    app.add_template_filter(language_name, "language_name")
    # The exact words an enquiry's consent was given to, in the language it was given in.
    app.add_template_global(find_consent, "find_consent")

    @app.context_processor
    def _site_globals() -> dict[str, object]:
        return {"clinic_name": current_app.config["CLINIC_NAME"]}
