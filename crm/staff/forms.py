"""Forms of the staff pages. Choices that depend on the person are filled in by the view."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

from crm.leads.catalogue import INTERESTS
from crm.leads.days import OUT_OF_RANGE, day_in_range
from crm.leads.filters import ANY, OPEN, UNASSIGNED, LeadFilters
from crm.leads.followups import FOLLOW_UP_NOTE_MAX
from crm.leads.workflow import NOTE_MAX, CallOutcome
from crm.models import Channel, LeadStatus, LostReason, Role
from crm.platform.http import parse_id
from crm.platform.i18n import LANGUAGES
from crm.staff.fields import DateInputField, DateTimeInputField

STATUS_CHOICES = [SelectChoice(status.value, status.label) for status in LeadStatus]
LOST_REASON_CHOICES = [SelectChoice("", "Choose a reason…")] + [
    SelectChoice(reason.value, reason.label) for reason in LostReason
]


def at_most(limit: int) -> Length:
    return Length(max=limit, message=f"Please keep it under {limit} characters.")


def choices(pairs: list[tuple[str, str]], blank: str | None = None) -> list[SelectChoice]:
    head = [SelectChoice("", blank)] if blank is not None else []
    return head + [SelectChoice(value, label) for value, label in pairs]


class _OneOf:
    """The submitted value must be one of the field's current choices (forged values refused)."""

    def __init__(self, message: str) -> None:
        self.message = message

    def __call__(self, _form: FlaskForm, field) -> None:  # type: ignore[no-untyped-def]
        allowed = {choice.value for choice in field.choices}
        if field.data is None:
            field.data = ""  # an absent select is an empty one
        if field.data not in allowed:
            raise ValidationError(self.message)


def plausible_day(_form: FlaskForm, field: DateInputField) -> None:
    """A filter's day within the range every filter accepts (crm.leads.days)."""
    if field.data is not None and not day_in_range(field.data):
        raise ValidationError(OUT_OF_RANGE)


class LoginForm(FlaskForm):
    email = StringField(
        "Email",
        validators=[DataRequired("Please enter your email."), at_most(254)],
        # A text input, not type=email: "username" is what tells password managers which
        # field pairs with the password. Every version of HTML allows it on a text input;
        # on type=email only since 2020, and the Nu Html Checker we test with refuses it
        # there. inputmode and autocapitalize keep what type=email gave on phones: the email
        # keyboard and no capital first letter.
        render_kw={
            "autocomplete": "username",
            "inputmode": "email",
            "autocapitalize": "none",
            "spellcheck": "false",
            "autofocus": True,
        },
    )
    password = PasswordField(
        "Password",
        validators=[DataRequired("Please enter your password."), at_most(200)],
        render_kw={"autocomplete": "current-password"},
    )


class VersionedForm(FlaskForm):
    """A change to the lead's own fields; carries the version the person was looking at."""

    version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])


class StatusForm(VersionedForm):
    status = SelectField(
        "New status", validate_choice=False, validators=[_OneOf("Please choose a status.")]
    )
    lost_reason = SelectField(
        "Reason (if lost)",
        choices=LOST_REASON_CHOICES,
        validate_choice=False,
        validators=[_OneOf("Please choose one of the listed reasons.")],
    )
    # Several forms share the lead page: ids of their own keep every label on its own field.
    note = TextAreaField(
        "Note (optional)", id="status-note", validators=[Optional(), at_most(NOTE_MAX)]
    )


class ReleaseForm(VersionedForm):
    """Not spam after all."""


class EraseForm(FlaskForm):
    confirm = BooleanField(
        "I understand: this person's name, phone, email and messages will be erased from every "
        "branch, for good.",
        validators=[DataRequired("Please tick the box to confirm the erasure.")],
    )


class MergeLookupForm(FlaskForm):
    """The other lead to merge into this one, named by reference; only shows a confirmation."""

    class Meta:
        csrf = False  # a GET that changes nothing

    other = StringField(
        "The other lead's reference",
        validators=[
            DataRequired("Please give the other lead's reference, such as L-000123."),
            at_most(20),
        ],
    )


class MergeForm(VersionedForm):
    """The confirmed merge: both leads as the person saw them."""

    other_id = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
    other_version = IntegerField(widget=HiddenField.widget, validators=[InputRequired()])
    confirm = BooleanField(
        "I have checked: these two leads are the same person.",
        validators=[DataRequired("Please tick the box to confirm that they are one person.")],
    )


class AccessForm(FlaskForm):
    """The person's own data, as a readable page or a JSON file (the right of access)."""

    format = SelectField(
        choices=[SelectChoice("html", "Readable page"), SelectChoice("json", "JSON file")]
    )


class AssignForm(VersionedForm):
    assignee = SelectField(
        "Assign to",
        validate_choice=False,
        validators=[_OneOf("Leads can only be assigned to active staff of the lead's branch.")],
    )


class NoteForm(FlaskForm):
    text = TextAreaField(
        "Note",
        validators=[DataRequired("Please write the note."), at_most(NOTE_MAX)],
        render_kw={"rows": 3},
    )


class CallForm(FlaskForm):
    outcome = SelectField(
        "Outcome",
        choices=[SelectChoice(outcome.value, outcome.label) for outcome in CallOutcome],
        validate_choice=False,
        validators=[_OneOf("Please choose how the call went.")],
    )
    note = TextAreaField(
        "Note (optional)", id="call-note", validators=[Optional(), at_most(NOTE_MAX)]
    )


class FollowUpForm(FlaskForm):
    due_at = DateTimeInputField(
        "Due",
        format="%Y-%m-%dT%H:%M",
        validators=[DataRequired("Please choose when to follow up.")],
    )
    assignee = SelectField(
        "Who follows up",
        id="follow-up-assignee",
        validate_choice=False,
        validators=[_OneOf("Leads can only be assigned to active staff of the lead's branch.")],
    )
    note = StringField(
        "What for (optional)",
        id="follow-up-note",
        validators=[Optional(), at_most(FOLLOW_UP_NOTE_MAX)],
    )

    def due_at_in(self, zone: ZoneInfo) -> datetime:
        """The typed wall-clock time as a moment in the branch's time zone."""
        return self.due_at.data.replace(tzinfo=zone)


class CompleteFollowUpForm(FlaskForm):
    outcome_note = StringField("Outcome (optional)", validators=[Optional(), at_most(NOTE_MAX)])


class BulkForm(FlaskForm):
    # Shown on the inbox under the filters, which have fields of the same names: ids of its own
    # keep each label on its own field.
    action = SelectField(
        "Action",
        id="bulk-action",
        choices=[SelectChoice("status", "Change status"), SelectChoice("assign", "Assign")],
        validate_choice=False,
        validators=[_OneOf("Please choose an action.")],
    )
    status = SelectField(
        "Status",
        id="bulk-status",
        choices=[SelectChoice("", "Choose…"), *STATUS_CHOICES],
        validate_choice=False,
        validators=[_OneOf("Please choose a status.")],
    )
    lost_reason = SelectField(
        "Reason (if lost)",
        id="bulk-lost-reason",
        choices=LOST_REASON_CHOICES,
        validate_choice=False,
        validators=[_OneOf("Please choose one of the listed reasons.")],
    )
    assignee = SelectField(
        "Assignee",
        id="bulk-assignee",
        validate_choice=False,
        validators=[_OneOf("Leads can only be assigned to active staff of the lead's branch.")],
    )
    return_to = HiddenField()

    def lead_ids(self, raw: list[str]) -> list[int]:
        ids = [number for number in map(parse_id, raw) if number is not None]
        if len(ids) != len(raw):
            raise ValidationError("Some of the selected leads were not understood.")
        return ids


STATUS_FILTER_CHOICES = [
    SelectChoice("", "All but spam"),
    SelectChoice(OPEN, "Open"),
    *STATUS_CHOICES,
    SelectChoice(ANY, "All, with spam"),
]


class LeadFilterFields(FlaskForm):
    """The filters the inbox and the exports page share (``crm.leads.filters``), under the
    same names, so the inbox's query string fills in the exports page as it stands."""

    status = SelectField(
        "Status",
        choices=STATUS_FILTER_CHOICES,
        validate_choice=False,
        validators=[Optional(), _OneOf("Unknown status.")],
    )
    assignee = SelectField(
        "Assignee", validate_choice=False, validators=[Optional(), _OneOf("Unknown assignee.")]
    )
    mine = SelectField(
        "Mine",
        choices=[SelectChoice("", "Everyone's"), SelectChoice("1", "Only mine")],
        validate_choice=False,
        validators=[Optional(), _OneOf("Unknown choice.")],
    )
    interest = SelectField(
        "Interest",
        choices=choices(list(INTERESTS.items()), "Any interest"),
        validate_choice=False,
        validators=[Optional(), _OneOf("Unknown interest.")],
    )
    channel = SelectField(
        "Came by",
        choices=choices([(channel.value, channel.label) for channel in Channel], "Any way"),
        validate_choice=False,
        validators=[Optional(), _OneOf("Unknown channel.")],
    )
    language = SelectField(
        "Prefers",
        choices=choices(
            [(code, language.english_name) for code, language in LANGUAGES.items()],
            "Any language",
        ),
        validate_choice=False,
        validators=[Optional(), _OneOf("Unknown language.")],
    )
    since = DateInputField("From", validators=[Optional(), plausible_day])
    until = DateInputField("To", validators=[Optional(), plausible_day])
    overdue = SelectField(
        "Follow-ups",
        choices=[SelectChoice("", "Any"), SelectChoice("1", "Overdue only")],
        validate_choice=False,
        validators=[Optional(), _OneOf("Unknown choice.")],
    )
    q = StringField("Search name, phone or email", validators=[Optional(), at_most(100)])

    def lead_filters(self, **extra: str) -> LeadFilters:
        """The filters whose fields validated; a field with an error is left out."""

        def clean(name: str) -> str:
            field = self[name]
            return "" if field.errors or not field.data else str(field.data)

        def clean_date(name: str) -> date | None:
            field = self[name]
            return None if field.errors else field.data

        return LeadFilters(
            status=clean("status"),
            branch=clean("branch"),
            assignee=clean("assignee"),
            mine=clean("mine") == "1",
            interest=clean("interest"),
            channel=clean("channel"),
            language=clean("language"),
            since=clean_date("since"),
            until=clean_date("until"),
            overdue=clean("overdue") == "1",
            text=clean("q").strip(),
            **extra,
        )


class InboxFilterForm(LeadFilterFields):
    """GET filters; a value that does not validate is dropped and named, never fatal."""

    class Meta:
        csrf = False

    branch = SelectField(
        "Branch", validate_choice=False, validators=[Optional(), _OneOf("Unknown branch.")]
    )

    def filters(self) -> LeadFilters:
        self.validate()
        return self.lead_filters()


class ExportForm(LeadFilterFields):
    """The inbox's filters plus a source and a file format; a wrong value refuses the export."""

    branch = SelectField(
        "Branch", validate_choice=False, validators=[_OneOf("You cannot export that branch.")]
    )
    since = DateInputField("Created from", validators=[Optional(), plausible_day])
    until = DateInputField("Created to", validators=[Optional(), plausible_day])
    source = StringField("Source", validators=[Optional(), Length(max=100)])
    format = SelectField(
        "Format",
        choices=[SelectChoice("csv", "CSV (UTF-8)"), SelectChoice("xlsx", "Excel (XLSX)")],
        validate_choice=False,
        validators=[_OneOf("Choose CSV or XLSX.")],
    )

    def validate_until(self, field: DateInputField) -> None:
        if field.data and self.since.data and field.data < self.since.data:
            raise ValidationError("The end date is before the start date.")

    def filters(self) -> LeadFilters:
        return self.lead_filters(source=(self.source.data or "").strip().lower())


UNASSIGNED_CHOICE = SelectChoice(UNASSIGNED, "Unassigned")


class StaffAccountForm(FlaskForm):
    name = StringField("Name", validators=[DataRequired("Please enter a name."), at_most(120)])
    role = SelectField(
        "Role",
        choices=[SelectChoice(role.value, role.value.capitalize()) for role in Role],
        # Someone added in a hurry gets the least: raising a role is one more click.
        default=Role.AGENT,
        validate_choice=False,
        validators=[_OneOf("Please choose a role.")],
    )
    branch = SelectField(
        "Branch", validate_choice=False, validators=[_OneOf("Please choose one of the branches.")]
    )


class NewStaffForm(StaffAccountForm):
    email = StringField("Email", validators=[DataRequired("Please enter an email."), at_most(254)])
    password = PasswordField(
        "Initial password",
        validators=[DataRequired("Please choose a password."), at_most(200)],
        render_kw={"autocomplete": "new-password"},
    )


class PasswordResetForm(FlaskForm):
    password = PasswordField(
        "New password",
        validators=[DataRequired("Please choose a password."), at_most(200)],
        render_kw={"autocomplete": "new-password"},
    )


class EmptyForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
