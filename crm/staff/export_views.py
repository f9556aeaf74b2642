"""Exports, for managers (their branch) and administrators (any branch or all).

The download is a POST carrying the CSRF token: it writes an export record before the first
row leaves, and a write belongs behind POST. It also keeps a third-party page from making a
signed-in browser run exports (a forged GET would not be readable cross-site, but it would
still fill the record and load the database), and keeps filters out of URLs and history.
"""

from __future__ import annotations

from flask import Response, current_app, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional, ValidationError

from crm.branches import branch_choices
from crm.http import parse_id
from crm.leads.export import (
    ALL_BRANCHES,
    OPEN,
    UNASSIGNED,
    ExportFilters,
    ExportRefused,
    start_export,
    visible_export_records,
)
from crm.leads.queries import staff_in_scope
from crm.policy import can_export, sees_all_branches
from crm.staff import bp
from crm.staff.access import allowed
from crm.staff.fields import DateInputField
from crm.staff.forms import STATUS_CHOICES, _OneOf, choices, plausible_day


class ExportForm(FlaskForm):
    branch = SelectField(
        "Branch", validate_choice=False, validators=[_OneOf("You cannot export that branch.")]
    )
    status = SelectField(
        "Status",
        choices=[
            SelectChoice("", "Every status"),
            SelectChoice(OPEN, "Open"),
            *STATUS_CHOICES,
        ],
        validate_choice=False,
        validators=[_OneOf("Unknown status.")],
    )
    since = DateInputField("Created from", validators=[Optional(), plausible_day])
    until = DateInputField("Created to", validators=[Optional(), plausible_day])
    assignee = SelectField(
        "Assignee", validate_choice=False, validators=[_OneOf("Unknown assignee.")]
    )
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

    def filters(self) -> ExportFilters:
        return ExportFilters(
            branch=self.branch.data,
            status=self.status.data,
            since=self.since.data,
            until=self.until.data,
            assignee=self.assignee.data,
            source=(self.source.data or "").strip().lower(),
        )


def _form(formdata: object = None) -> ExportForm:
    form = ExportForm(formdata=formdata)
    if sees_all_branches(current_user):
        form.branch.choices = choices(branch_choices())
        form.branch.choices.insert(0, SelectChoice(ALL_BRANCHES, "All branches"))
        if formdata is None:
            form.branch.data = ALL_BRANCHES
    else:
        # A manager's branch is fixed: the only choice, and the answer when none is sent.
        own = current_user.branch
        form.branch.choices = [SelectChoice(own.slug, own.city)]
        if not form.branch.data:
            form.branch.data = own.slug
    people = [(person.email, person.name) for person in staff_in_scope(current_user)]
    form.assignee.choices = [
        *choices(people, "Anyone"),
        SelectChoice(UNASSIGNED, "Unassigned"),
    ]
    return form


def _render(form: ExportForm, status: int = 200) -> ResponseReturnValue:
    before = request.args.get("before", "")
    records, older = visible_export_records(
        current_user,
        before=parse_id(before),
        limit=current_app.config["EXPORT_RECORDS_PAGE_SIZE"],
    )
    return render_template(
        "staff/exports.html",
        form=form,
        records=records,
        older=older,
    ), status


@bp.get("/exports")
@allowed(can_export)
def exports() -> ResponseReturnValue:
    return _render(_form())


@bp.post("/exports")
@allowed(can_export)
def export_download() -> ResponseReturnValue:
    form = _form(request.form)
    if not form.validate():
        return _render(form, 422)
    try:
        export = start_export(
            current_user,
            form.filters(),
            form.format.data,
            batch_rows=current_app.config["EXPORT_BATCH_ROWS"],
        )
    except ExportRefused as refusal:
        form.form_errors.append(str(refusal))
        return _render(form, 422)
    response = Response(stream_with_context(export.chunks()), content_type=export.content_type)
    response.headers.set("Content-Disposition", "attachment", filename=export.filename)
    response.headers["Cache-Control"] = "no-store"
    return response
