"""A branch's clinicians: everyone sees the list; the branch's managers and admins edit it."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from crm.clinic.branches import active_branches
from crm.leads.clinicians import ClinicianRefused, add_clinician, clinicians_of, update_clinician
from crm.leads.operations import WorkflowError
from crm.models import Clinician
from crm.platform.extensions import db
from crm.policy import can_edit_clinicians, sees_all_branches
from crm.staff import bp
from crm.staff.appointment_forms import ClinicianForm
from crm.staff.appointment_views import chosen_branch


def _render(slug: str | None, new_form: ClinicianForm | None = None, status: int = 200):  # type: ignore[no-untyped-def]
    branch = chosen_branch(slug)
    people = clinicians_of(branch.id)
    editable = can_edit_clinicians(current_user, branch.id)
    forms = {}
    if editable:
        for person in people:
            form = ClinicianForm(formdata=None, name=person.name, active=person.active)
            for field in form:
                field.id = f"clinician{person.id}-{field.name}"
                field.label.field_id = field.id
            forms[person.id] = form
    return (
        render_template(
            "staff/clinicians.html",
            branch=branch,
            branches=active_branches() if sees_all_branches(current_user) else [],
            people=people,
            forms=forms,
            new_form=(new_form or ClinicianForm(formdata=None)) if editable else None,
        ),
        status,
    )


@bp.get("/clinicians")
def clinicians() -> ResponseReturnValue:
    return _render(request.args.get("branch"))


@bp.post("/clinicians")
def clinician_add() -> ResponseReturnValue:
    branch = chosen_branch(request.args.get("branch"))
    form = ClinicianForm()
    if not form.validate():
        flash(next(iter(form.errors.values()))[0], "error")
        return _render(branch.slug, form, 422)
    try:
        person = add_clinician(current_user, branch.id, form.name.data)
    except ClinicianRefused:
        abort(403)
    except WorkflowError as refusal:
        flash(str(refusal), "error")
        return _render(branch.slug, form, 422)
    flash(f"{person.name} added.", "success")
    return redirect(url_for("staff.clinicians", branch=branch.slug), code=303)


@bp.post("/clinicians/<int:clinician_id>")
def clinician_update(clinician_id: int) -> ResponseReturnValue:
    person = db.session.get(Clinician, clinician_id)
    if person is None or not (
        sees_all_branches(current_user) or person.branch_id == current_user.branch_id
    ):
        abort(404)
    slug = person.branch.slug
    form = ClinicianForm()
    if not form.validate():
        flash(next(iter(form.errors.values()))[0], "error")
        return _render(slug, status=422)
    if not can_edit_clinicians(current_user, person.branch_id):
        abort(403)
    try:
        update_clinician(current_user, clinician_id, form.name.data, bool(form.active.data))
    except WorkflowError as refusal:
        flash(str(refusal), "error")
        return _render(slug, status=422)
    flash("Saved.", "success")
    return redirect(url_for("staff.clinicians", branch=slug), code=303)
