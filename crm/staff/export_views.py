"""Exports, for managers (their branch) and administrators (any branch or all).

The download is a POST carrying the CSRF token: it writes an export record before the first
row leaves, and a write belongs behind POST. It also keeps a third-party page from making a
signed-in browser run exports (a forged GET would not be readable cross-site, but it would
still fill the record and load the database), and keeps filters out of URLs and history.
The page itself opens with the filters in its query string when it comes from the inbox's
"Export this view" link: that only fills in the form, it exports nothing.
"""

from __future__ import annotations

from flask import Response, current_app, render_template, request, stream_with_context
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from crm.clinic.branches import branch_choices
from crm.leads.export import ExportRefused, start_export, visible_export_records
from crm.leads.filters import ALL_BRANCHES, UNASSIGNED, known_sources
from crm.leads.queries import staff_in_scope
from crm.platform.http import parse_id
from crm.policy import can_export, sees_all_branches
from crm.staff import bp
from crm.staff.access import allowed
from crm.staff.forms import ExportForm, choices


def _form(formdata: object) -> ExportForm:
    form = ExportForm(formdata=formdata)
    if sees_all_branches(current_user):
        form.branch.choices = choices(branch_choices())
        form.branch.choices.insert(0, SelectChoice(ALL_BRANCHES, "All branches"))
        if not form.branch.data:
            # The inbox's "every branch" is an empty branch; here it is said out loud.
            form.branch.data = ALL_BRANCHES
    else:
        # A manager's branch is fixed: the only choice, and the answer when none is sent.
        own = current_user.branch
        form.branch.choices = [SelectChoice(own.slug, own.city)]
        if not form.branch.data:
            form.branch.data = own.slug
    people = [(str(person.id), person.name) for person in staff_in_scope(current_user)]
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
        sources=known_sources(current_user),
    ), status


@bp.get("/exports")
@allowed(can_export)
def exports() -> ResponseReturnValue:
    # Filled in from the query string: the inbox's "Export this view" link carries its filters
    # here. Nothing is exported or recorded until the person presses Download (a POST).
    return _render(_form(request.args))


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
