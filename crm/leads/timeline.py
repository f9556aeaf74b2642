"""A lead's events as sentences for the timeline."""

from __future__ import annotations

from datetime import datetime

from crm.leads.workflow import CallOutcome
from crm.models import EmailKind, EventKind, LeadEvent, LostReason
from crm.templating import local_time, status_label

SKIP_REASONS = {
    "recently_acknowledged": "One went to this address in the last 24 hours; "
    "at most one a day is sent to an address.",
}


def _label(enum: type, value: object) -> str:
    try:
        return enum(value).label
    except ValueError:
        return str(value)


def _count(number: int, singular: str, plural: str | None = None) -> str:
    return f"{number} {singular if number == 1 else (plural or singular + 's')}"


def describe(event: LeadEvent) -> str:
    detail = event.detail or {}
    kind = event.kind
    if kind == EventKind.CREATED:
        return "Lead created from the website form."
    if kind == EventKind.ENQUIRY:
        return "Wrote to us again." if detail.get("repeat") else "Sent an enquiry."
    if kind == EventKind.STATUS:
        text = f"Status: {status_label(detail.get('from'))} → {status_label(detail.get('to'))}."
        if detail.get("reason") and detail.get("to") == "lost":
            text += f" Reason: {_label(LostReason, detail['reason']).lower()}."
        elif detail.get("reason"):
            text += f" ({detail['reason']})"
        return text
    if kind == EventKind.ASSIGNED:
        name = detail.get("to_name")
        if name and detail.get("automatic"):
            return f"Assigned to {name} automatically, in turn."
        return f"Assigned to {name}." if name else "Unassigned."
    if kind == EventKind.NOTE:
        return "Note added."
    if kind == EventKind.CALL:
        if detail.get("outcome") == "message_sent":
            return "Message sent."
        return f"Call: {_label(CallOutcome, detail.get('outcome')).lower()}."
    if kind == EventKind.FOLLOW_UP:
        if detail.get("action") == "completed":
            return "Follow-up completed."
        return "Follow-up scheduled."
    if kind == EventKind.EMAIL:
        what = EmailKind.describe(detail.get("kind"), phrase=True)
        state = detail.get("status")
        if state == "sent":
            return f"Email sent: {what}."
        if state == "failed":
            return f"Email failed: {what}."
        if state == "requeued":
            return f"Email queued again: {what}."
        if state == "skipped":
            return f"Email not sent: {what}. {SKIP_REASONS.get(detail.get('reason'), '')}".strip()
        return f"Email queued: {what}."
    if kind == EventKind.ERASED:
        return "Personal data erased on request."
    if kind == EventKind.MERGED:
        if detail.get("into_id"):
            return f"Merged into L-{detail['into_id']:06d}: the same person."
        return (
            f"L-{detail.get('merged_id', 0):06d} merged into this lead (the same person): "
            f"{_count(detail.get('enquiries', 0), 'enquiry', 'enquiries')} and "
            f"{_count(detail.get('follow_ups', 0), 'follow-up')} moved here."
        )
    if kind == EventKind.APPOINTMENT:
        return _appointment(detail)
    if kind == EventKind.ACCESS:
        return "A copy of the person's data was given to them on request."
    return kind.replace("_", " ").capitalize() + "."


APPOINTMENT_ACTIONS = {
    "booked": "Appointment booked",
    "rescheduled": "Appointment moved",
    "cancelled": "Appointment cancelled",
    "attended": "Attended the appointment",
    "no_show": "Did not come to the appointment",
}


def _appointment(detail: dict) -> str:  # type: ignore[type-arg]
    """Times are stored in UTC; the clinic's zone is India's (the lead page names its zone)."""
    text = APPOINTMENT_ACTIONS.get(detail.get("action", ""), "Appointment changed")
    when = detail.get("starts_at")
    if when:
        text += f": {local_time(datetime.fromisoformat(when))}"
    if detail.get("action") == "rescheduled" and detail.get("from"):
        text += f" (was {local_time(datetime.fromisoformat(detail['from']))})"
    if detail.get("clinician"):
        text += f", with {detail['clinician']}"
    return text + "."


def free_text(event: LeadEvent) -> str | None:
    """What a person typed with the event (a note, a call note, an outcome), shown as text."""
    detail = event.detail or {}
    keys = ("text", "note", "outcome")
    if event.kind == EventKind.APPOINTMENT:
        keys = ("note", "reason")  # a booking's note, a cancellation's reason
    for key in keys:
        value = detail.get(key)
        if (
            isinstance(value, str)
            and value
            and not (event.kind == EventKind.CALL and key == "outcome")
        ):
            return value
    return None
