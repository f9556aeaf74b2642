"""The lead page's one-step form: what happened, a note, a new status, the next follow-up."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from crm.leads.contact_log import MESSAGE_SENT
from crm.leads.operations import NOTE_MAX
from crm.leads.pipeline import allowed_next
from crm.leads.workflow import CallOutcome
from crm.models import Lead, LeadStatus
from crm.staff.fields import DateTimeInputField
from crm.staff.forms import LOST_REASON_CHOICES, VersionedForm, at_most


def _offered(_form: FlaskForm, field) -> None:  # type: ignore[no-untyped-def]
    if (field.data or "") not in {choice.value for choice in field.choices}:
        raise ValidationError("Please choose one of the options.")


class LogForm(VersionedForm):
    outcome = SelectField(
        "What happened",
        id="log-outcome",
        choices=[
            SelectChoice(outcome.value, f"Call: {outcome.label.lower()}") for outcome in CallOutcome
        ]
        + [SelectChoice(MESSAGE_SENT, "Message sent (WhatsApp, SMS, email)")],
        validate_choice=False,
        validators=[_offered],
    )
    note = TextAreaField(
        "Note (optional)", id="log-note", validators=[Optional(), at_most(NOTE_MAX)]
    )
    status = SelectField(
        "New status (optional)", id="log-status", validate_choice=False, validators=[_offered]
    )
    lost_reason = SelectField(
        "Lost because",
        id="log-lost-reason",
        choices=LOST_REASON_CHOICES,
        validate_choice=False,
        validators=[_offered],
    )
    follow_up_at = DateTimeInputField(
        "Next follow-up (optional)",
        id="log-follow-up",
        format="%Y-%m-%dT%H:%M",
        validators=[Optional()],
    )

    def follow_up_in(self, zone: ZoneInfo) -> datetime | None:
        """The typed wall-clock time as a moment in the branch's time zone."""
        return self.follow_up_at.data.replace(tzinfo=zone) if self.follow_up_at.data else None


def log_statuses(lead: Lead) -> list[tuple[str, str]]:
    """The statuses the form offers: from where the lead is, and, for a new lead, from
    contacted too (an answered call makes it contacted on the way)."""
    reachable = list(allowed_next(lead.status))
    if lead.status == LeadStatus.NEW:
        reachable += [s for s in allowed_next(LeadStatus.CONTACTED) if s not in reachable]
    return [(status.value, status.label) for status in reachable]
