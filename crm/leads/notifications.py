"""What emails a lead causes, and how their fate reaches the lead's timeline.

An enquiry (or a lead released from spam) alerts its branch and acknowledges the visitor; both
are queued in the caller's transaction through the outbox (``crm.mail``), which knows nothing of
leads, and rendered by its worker as it sends them, through the composers registered here by
``init_app``. When the worker sends, gives up on, or requeues one of them, it tells the
listener registered there too, which records the EMAIL event.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Flask, current_app
from sqlalchemy.orm import Session

from crm.clinic.branches import weekly_hours
from crm.leads import acknowledgements
from crm.leads.language import written_in
from crm.leads.operations import event_values, record_event, record_events
from crm.mail.compose import Message, on_compose, render_message
from crm.mail.outbox import insert_emails, queue_message
from crm.mail.outcomes import DeliveryOutcome, on_delivery_outcome
from crm.models import Branch, EmailKind, Enquiry, EventKind, Lead, OutboxEmail, StaffUser
from crm.platform.i18n import gettext


def init_app(app: Flask) -> None:
    on_delivery_outcome(app, record_delivery)
    on_compose(app, EmailKind.LEAD_ALERT, _compose_lead_alert)
    on_compose(app, EmailKind.ACKNOWLEDGEMENT, _compose_acknowledgement)


def lead_alert(lead: Lead, enquiry: Enquiry, branch: Branch, *, repeat: bool) -> Message:
    return render_message(
        "lead_alert",
        lead_alert_subject(lead, branch, repeat=repeat),
        lead=lead,
        enquiry=enquiry,
        branch=branch,
        repeat=repeat,
    )


def lead_alert_subject(lead: Lead, branch: Branch, *, repeat: bool) -> str:
    what = "Returning enquiry" if repeat else "New enquiry"
    return f"{what} at {branch.city}: {lead.name}"


def acknowledgement(enquiry: Enquiry, branch: Branch) -> Message:
    """The visitor's acknowledgement of ``enquiry``: our words and the branch's details,
    nothing they typed. Written in the language the enquiry was made in.

    It goes to whatever address was typed into the form, which nobody has proven is the
    visitor's own; anything typed with it (a name such as "your account is locked, log in at
    ...") would be a stranger's text delivered under our name. So it carries none.
    """
    with written_in(enquiry.language):
        return render_message(
            "acknowledgement",
            acknowledgement_subject(branch),
            branch=branch,
            hours=weekly_hours(branch),
        )


def acknowledgement_subject(branch: Branch) -> str:
    """In the current locale: wrap it in ``written_in`` for the enquiry's language."""
    return gettext(
        "We have your message, %(clinic)s %(city)s",
        clinic=current_app.config["CLINIC_NAME"],
        city=branch.city,
    )


def queue_lead_emails(
    session: Session,
    lead: Lead,
    enquiry: Enquiry,
    branch: Branch,
    *,
    repeat: bool,
    now: datetime,
    alert_branch: bool = True,
) -> None:
    """The branch alert (unless ``alert_branch`` is false), and the visitor's acknowledgement
    when they gave an email.

    The acknowledgement answers to the branch (Reply-To), and goes to an address at most once
    a day: a skipped one is said on the lead's timeline. Both are rendered by the worker as it
    sends them (``lead_alert`` and ``acknowledgement``), from the enquiry, which does not
    change: the intake's write transaction renders nothing.
    """
    compose = {"enquiry_id": enquiry.id, "branch_id": branch.id}
    # Asked before anything is queued, and without flushing what this transaction has
    # changed so far: that holds no acknowledgement.
    with session.no_autoflush:
        acknowledge = bool(enquiry.email) and acknowledgements.may_acknowledge(
            session, enquiry.email, now
        )
    emails: list[dict[str, Any]] = []
    events: list[dict[str, Any]] = []
    if alert_branch:
        emails.append(
            {
                "kind": EmailKind.LEAD_ALERT,
                "to": branch.notification_email,
                "subject": lead_alert_subject(lead, branch, repeat=repeat),
                "text_body": "",
                "lead_id": lead.id,
                "not_before": now,
                "compose": {**compose, "repeat": repeat},
            }
        )
    if enquiry.email and not acknowledge:
        detail = {
            "kind": EmailKind.ACKNOWLEDGEMENT,
            "status": "skipped",
            "reason": acknowledgements.SKIPPED_RECENTLY,
        }
        events.append(event_values(None, lead, EventKind.EMAIL, now, detail))
    elif acknowledge:
        # Kept for staff pages; the worker sends the subject it renders with the message.
        with written_in(enquiry.language):
            subject = acknowledgement_subject(branch)
        emails.append(
            {
                "kind": EmailKind.ACKNOWLEDGEMENT,
                "to": enquiry.email,
                "subject": subject,
                "text_body": "",
                "reply_to": branch.notification_email,
                "lead_id": lead.id,
                "not_before": now,
                "compose": compose,
            }
        )
    for email_id, kind in insert_emails(session, emails):
        detail = {"outbox_id": email_id, "kind": kind}
        events.append(event_values(None, lead, EventKind.EMAIL, now, detail))
    record_events(session, events)


def _compose_lead_alert(session: Session, lead_id: int | None, compose: dict[str, Any]) -> Message:
    enquiry = session.get_one(Enquiry, compose["enquiry_id"])
    lead = session.get_one(Lead, lead_id if lead_id is not None else enquiry.lead_id)
    branch = session.get_one(Branch, compose["branch_id"])
    return lead_alert(lead, enquiry, branch, repeat=bool(compose.get("repeat")))


def _compose_acknowledgement(
    session: Session, _lead_id: int | None, compose: dict[str, Any]
) -> Message:
    enquiry = session.get_one(Enquiry, compose["enquiry_id"])
    return acknowledgement(enquiry, session.get_one(Branch, compose["branch_id"]))


def queue_assignee_alert(
    session: Session, lead: Lead, assignee: StaffUser, *, now: datetime
) -> None:
    """Tell the person a lead was just given to, so it is not left until they open the inbox."""
    alert = render_message(
        "assignee_alert",
        f"A new lead for you at {lead.branch.city}: {lead.name}",
        lead=lead,
        assignee=assignee,
        branch=lead.branch,
    )
    email = queue_message(
        session,
        alert,
        kind=EmailKind.ASSIGNEE_ALERT,
        to=assignee.email,
        lead_id=lead.id,
        not_before=now,
    )
    record_queued(session, lead, [email], now)


def queue_escalation(
    session: Session, lead: Lead, to: list[str], *, waited_minutes: float, now: datetime
) -> None:
    """Tell the branch's managers a new lead has waited past the response target."""
    alert = render_message(
        "escalation",
        f"Waiting too long at {lead.branch.city}: {lead.name}",
        lead=lead,
        branch=lead.branch,
        waited_minutes=round(waited_minutes),
    )
    queued = [
        queue_message(
            session,
            alert,
            kind=EmailKind.ESCALATION,
            to=address,
            lead_id=lead.id,
            not_before=now,
        )
        for address in to
    ]
    record_queued(session, lead, queued, now)


def record_queued(session: Session, lead: Lead, emails: list[OutboxEmail], now: datetime) -> None:
    """Each queued email about ``lead`` on its timeline, by the system."""
    session.flush()  # the emails' ids
    for email in emails:
        detail = {"outbox_id": email.id, "kind": email.kind}
        record_event(session, None, lead, EventKind.EMAIL, now, detail)


def record_delivery(session: Session, outcome: DeliveryOutcome) -> None:
    """The lead's timeline says when its email went out, never will, or was queued again."""
    if outcome.lead_id is None:
        return
    lead = session.get(Lead, outcome.lead_id)
    if lead is None:
        return
    actor = session.get(StaffUser, outcome.actor_id) if outcome.actor_id is not None else None
    detail: dict[str, object] = {
        "outbox_id": outcome.email_id,
        "kind": outcome.kind,
        "status": outcome.status,
    }
    if outcome.attempts is not None:
        detail["attempts"] = outcome.attempts
    record_event(session, actor, lead, EventKind.EMAIL, outcome.at, detail)
