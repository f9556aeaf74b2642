"""GET/POST /staff/leads/new: an enquiry that came by phone, in person or by message, recorded
by staff through the same intake as the website's form (``crm.leads.capture``)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, ValidationError

from crm.clinic.branches import active_branches
from crm.clinic.consent import current_consent
from crm.intake.forms import ReachOutForm, new_submission_token
from crm.leads.auto_assign import AutoAssignRefused, set_auto_assign
from crm.leads.capture import Outcome, Submission, UnknownBranch, capture_lead
from crm.models import DESK_CHANNELS, Branch, StaffUser
from crm.platform.database import utcnow
from crm.platform.i18n import DEFAULT_LANGUAGE, LANGUAGES
from crm.policy import can_set_auto_assign, records_enquiries_for, sees_all_branches
from crm.staff import bp


def _same_checks(name: str) -> list[object]:
    """The website form's validators for a field: a desk enquiry meets the same rules."""
    return list(getattr(ReachOutForm, name).kwargs["validators"])


def _offered(_form: FlaskForm, field) -> None:  # type: ignore[no-untyped-def]
    """Only a value the form offered: a forged branch or channel is refused, not stored."""
    if field.data not in {choice.value for choice in field.choices if choice.value}:
        raise ValidationError("Please choose one of the options.")


class DeskEnquiryForm(FlaskForm):
    name = StringField("Name", validators=_same_checks("name"), render_kw={"maxlength": 120})
    phone = StringField(
        "Phone number",
        validators=_same_checks("phone"),
        render_kw={"inputmode": "tel", "maxlength": 32, "autocomplete": "off"},
    )
    email = StringField(
        "Email (optional; they get our acknowledgement)",
        validators=_same_checks("email"),
        render_kw={"inputmode": "email", "maxlength": 254, "autocomplete": "off"},
    )
    branch = SelectField("Branch", validators=[_offered], validate_choice=False)
    channel = SelectField(
        "How they reached us",
        choices=[SelectChoice("", "Choose one…")]
        + [SelectChoice(channel.value, channel.label) for channel in DESK_CHANNELS],
        validators=[_offered],
        validate_choice=False,
    )
    # So the right person calls back, their emails go out in it, and the consent text they
    # agreed to is the one read to them in it.
    language = SelectField(
        "Prefers",
        choices=[SelectChoice(code, language.english_name) for code, language in LANGUAGES.items()],
        default=DEFAULT_LANGUAGE,
        validators=[_offered],
        validate_choice=False,
    )
    interest = SelectField(
        "Interest (optional)",
        choices=ReachOutForm.interest.kwargs["choices"],
        validators=_same_checks("interest"),
        validate_choice=False,
    )
    message = TextAreaField(
        "What they told us (optional)",
        validators=_same_checks("message"),
        render_kw={"rows": 4, "maxlength": 2000},
    )
    consent = BooleanField(
        "They agreed, by phone or in person, to this text:",
        validators=[DataRequired("Please ask them first: we keep nobody's details without.")],
    )
    submission_token = HiddenField(validators=_same_checks("submission_token"))

    def __init__(self, *args, branches: list[tuple[str, str]], **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        head = [] if len(branches) == 1 else [SelectChoice("", "Choose a branch…")]
        self.branch.choices = head + [SelectChoice(slug, city) for slug, city in branches]
        # ReachOutForm's interest check asks the form what it offered.
        self.offered = {"interest": {choice.value for choice in self.interest.choices}}


def desk_submission(form: DeskEnquiryForm, recorder: StaffUser) -> Submission:
    return Submission(
        name=form.name.data,
        phone=form.phone.data,
        email=form.email.data or None,
        branch_slug=form.branch.data,
        interest=form.interest.data or None,
        message=form.message.data or None,
        submission_token=form.submission_token.data,
        consent_version=current_app.config["CONSENT_VERSION"],
        received_at=utcnow(),
        channel=form.channel.data,
        recorded_by_id=recorder.id,
        language=form.language.data,
    )


def _branches() -> list[tuple[str, str]]:
    return [
        (branch.slug, branch.city)
        for branch in active_branches()
        if records_enquiries_for(current_user, branch.id)
    ]


@bp.route("/leads/new", methods=["GET", "POST"])
def new_lead() -> ResponseReturnValue:
    form = DeskEnquiryForm(branches=_branches())
    if request.method == "GET":
        form.submission_token.data = new_submission_token()
        return _page(form)
    if not form.validate():
        return _page(form, 422)
    try:
        result = capture_lead(desk_submission(form, current_user))
    except UnknownBranch:
        form.branch.errors = ["That branch is not taking enquiries."]
        return _page(form, 422)
    if result.outcome == Outcome.FILTERED:
        flash("Recorded, but this number or address was marked as spam: nobody was alerted.")
    elif result.outcome == Outcome.MERGED:
        flash("Recorded as another enquiry of someone we already know.", "success")
    else:
        flash("Enquiry recorded.", "success")
    return redirect(url_for("staff.lead", lead_id=result.lead_id), code=303)


def _page(form: DeskEnquiryForm, code: int = 200) -> ResponseReturnValue:
    if form.csrf_token.errors:
        flash("This form had expired, so nothing was recorded. Please send it again.", "error")
    return (
        render_template(
            "staff/new_lead.html",
            form=form,
            consent=current_consent(DEFAULT_LANGUAGE),
            translations=[current_consent(code) for code in LANGUAGES if code != DEFAULT_LANGUAGE],
            languages=LANGUAGES,
        ),
        code,
    )


class AutoAssignForm(FlaskForm):
    on = HiddenField()


@bp.post("/branches/<int:branch_id>/auto-assign")
def auto_assign(branch_id: int) -> ResponseReturnValue:
    form = AutoAssignForm()
    if not form.validate() or form.on.data not in ("1", "0"):
        flash("This form had expired, so nothing changed. Please try again.", "error")
        return redirect(url_for("staff.inbox"), code=303)
    try:
        branch = set_auto_assign(current_user, branch_id, form.on.data == "1")
    except AutoAssignRefused:
        abort(404)
    if branch.auto_assign:
        flash(f"New leads at {branch.city} now go to its agents in turn.", "success")
    else:
        flash(f"New leads at {branch.city} now wait for someone to take them.", "success")
    return redirect(
        url_for("staff.inbox", branch=branch.slug if sees_all_branches(current_user) else None),
        code=303,
    )


def auto_assign_form(branch: Branch | None) -> AutoAssignForm | None:
    """The inbox's switch for its branch's automatic assignment, for those who may use it."""
    if branch is None or not can_set_auto_assign(current_user, branch.id):
        return None
    form = AutoAssignForm()
    form.on.data = "0" if branch.auto_assign else "1"
    form.branch_id = branch.id
    return form
