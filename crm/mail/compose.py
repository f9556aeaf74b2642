"""The messages we send, rendered from ``templates/email/<name>.txt`` and ``.html`` pairs."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from flask import current_app, render_template

from crm.branches import weekly_hours
from crm.models import Branch, Enquiry, Lead, StaffUser

if TYPE_CHECKING:
    from crm.mail.digest import DueFollowUp


@dataclass(frozen=True)
class Message:
    subject: str
    text_body: str
    html_body: str


def render_message(template: str, subject: str, **context: Any) -> Message:
    context.setdefault("clinic_name", current_app.config["CLINIC_NAME"])
    context.setdefault("site_url", current_app.config["SITE_URL"].rstrip("/"))
    # The HTML part's <title>: mail programs and screen readers announce it.
    context["subject"] = subject
    return Message(
        subject=subject,
        text_body=render_template(f"email/{template}.txt", **context),
        html_body=render_template(f"email/{template}.html", **context),
    )


def lead_alert(lead: Lead, enquiry: Enquiry, branch: Branch, *, repeat: bool) -> Message:
    what = "Returning enquiry" if repeat else "New enquiry"
    return render_message(
        "lead_alert",
        f"{what} at {branch.city}: {lead.name}",
        lead=lead,
        enquiry=enquiry,
        branch=branch,
        repeat=repeat,
    )


def acknowledgement(branch: Branch) -> Message:
    """The visitor's acknowledgement: our words and the branch's details, nothing they typed.

    It goes to whatever address was typed into the form, which nobody has proven is the
    visitor's own; anything typed with it (a name such as "your account is locked, log in at
    ...") would be a stranger's text delivered under our name. So it carries none.
    """
    return render_message(
        "acknowledgement",
        f"We have your message, {current_app.config['CLINIC_NAME']} {branch.city}",
        branch=branch,
        hours=weekly_hours(branch),
    )


def followup_digest(
    user: StaffUser, items: list[DueFollowUp], *, today: date, zone: str
) -> Message:
    overdue = [item for item in items if item.overdue]
    due_today = [item for item in items if not item.overdue]
    counts = [f"{len(due_today)} due today"]
    if overdue:
        counts.append(f"{len(overdue)} overdue")
    return render_message(
        "followup_digest",
        f"Your follow-ups for {today:%a %d %b}: {', '.join(counts)}",
        user=user,
        overdue=overdue,
        due_today=due_today,
        today=today,
        zone=zone,
    )


def sign_in_alert(user: StaffUser, *, failures: int, window: str) -> Message:
    """To the account holder whose password is being guessed at. It never repeats what was
    typed: a wrong guess can be a near miss of the real password."""
    return render_message(
        "sign_in_alert",
        f"Someone is trying to sign in to your {current_app.config['CLINIC_NAME']} account",
        user=user,
        failures=failures,
        window=window,
    )
