"""Forms of the appointment screens and the clinician list. Clinician choices are filled in
by the view (they depend on the lead's branch)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, NumberRange, Optional

from crm.leads.appointments import (
    ADDRESS_MAX,
    DEFAULT_MINUTES,
    MAX_MINUTES,
    MIN_MINUTES,
    REASON_MAX,
)
from crm.leads.clinicians import NAME_MAX
from crm.leads.operations import NOTE_MAX
from crm.models import AppointmentKind
from crm.staff.fields import DateInputField, DateTimeInputField
from crm.staff.forms import _OneOf, at_most, choices

KIND_CHOICES = choices([(kind.value, kind.label) for kind in AppointmentKind])


def _minutes() -> IntegerField:
    return IntegerField(
        "Length (minutes)",
        default=DEFAULT_MINUTES,
        validators=[
            InputRequired("Please say how long the appointment is."),
            NumberRange(
                MIN_MINUTES,
                MAX_MINUTES,
                f"Please choose between {MIN_MINUTES} and {MAX_MINUTES} minutes.",
            ),
        ],
        render_kw={"min": MIN_MINUTES, "max": MAX_MINUTES, "step": 5, "inputmode": "numeric"},
    )


def _starts_at() -> DateTimeInputField:
    return DateTimeInputField(
        "Starts",
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired("Please choose the date and time (YYYY-MM-DDTHH:MM).")],
    )


def _clinician() -> SelectField:
    return SelectField(
        "With",
        validate_choice=False,
        validators=[_OneOf("Please choose one of the branch's clinicians.")],
    )


class _Timed(FlaskForm):
    def starts_at_in(self, zone: ZoneInfo) -> datetime:
        """The typed wall-clock time as a moment in the branch's time zone."""
        return self.starts_at.data.replace(tzinfo=zone)  # type: ignore[attr-defined]

    def clinician_id(self) -> int | None:
        value = self.clinician.data  # type: ignore[attr-defined]
        return int(value) if value else None


class BookAppointmentForm(_Timed):
    # The lead page has other forms with fields of these names: ids of their own.
    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
    starts_at = _starts_at()
    minutes = _minutes()
    kind = SelectField(
        "Where",
        choices=KIND_CHOICES,
        default=AppointmentKind.CLINIC.value,
        validate_choice=False,
        validators=[_OneOf("Please choose the clinic or a home visit.")],
    )
    address = TextAreaField(
        "Visit address (home visits)",
        id="appointment-address",
        validators=[Optional(), at_most(ADDRESS_MAX)],
    )
    clinician = _clinician()
    note = TextAreaField(
        "Note (optional)", id="appointment-note", validators=[Optional(), at_most(NOTE_MAX)]
    )


class RescheduleForm(_Timed):
    sequence = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
    starts_at = _starts_at()
    minutes = _minutes()
    clinician = _clinician()


class CancelForm(FlaskForm):
    sequence = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
    reason = StringField(
        "Reason",
        validators=[DataRequired("Please say why it is cancelled."), at_most(REASON_MAX)],
    )


class OutcomeForm(FlaskForm):
    """Attended or no-show: only the sequence the person saw."""

    sequence = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])


class DayForm(FlaskForm):
    """The day list's query: which day, branch, clinician, kind, and day or week."""

    class Meta:
        csrf = False

    day = DateInputField("Day", validators=[Optional()])
    branch = SelectField("Branch", validate_choice=False)
    clinician = SelectField("Clinician", validate_choice=False)
    kind = SelectField("Where", validate_choice=False)
    week = BooleanField("Whole week")


class ClinicianForm(FlaskForm):
    name = StringField(
        "Name", validators=[DataRequired("Please give the clinician's name."), at_most(NAME_MAX)]
    )
    active = BooleanField("Takes appointments", default=True)
