"""Merging another lead into this one: name it, see both side by side, confirm."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from crm.leads.merge import MergeNotAllowed, merge_candidate, merge_leads
from crm.leads.operations import StaleLead, WorkflowError
from crm.leads.queries import LeadNotFound
from crm.models import Lead
from crm.policy import can_merge
from crm.staff import bp
from crm.staff.forms import MergeForm, MergeLookupForm
from crm.staff.lead_page import load_lead_or_404
from crm.staff.lead_views import render_lead_page


def _mergeable_lead_or_404(lead_id: int) -> Lead:
    """This lead, in scope (else 404 for every role), for someone who may merge (else 403)."""
    lead = load_lead_or_404(current_user, lead_id)
    if not can_merge(current_user):
        abort(403)
    return lead


def _review(lead: Lead, other: Lead, form: MergeForm | None, code: int) -> ResponseReturnValue:
    if form is None:
        form = MergeForm(formdata=None)
    # The versions shown are the ones confirmed: a change to either lead after this page
    # was shown refuses the merge.
    form.version.data = lead.version
    form.other_id.data = other.id
    form.other_version.data = other.version
    return render_template("staff/merge.html", lead=lead, other=other, form=form), code


@bp.get("/leads/<int:lead_id>/merge")
def lead_merge_review(lead_id: int) -> ResponseReturnValue:
    lead = _mergeable_lead_or_404(lead_id)
    lookup = MergeLookupForm(request.args)
    if not lookup.validate():
        problems = [error for errors in lookup.errors.values() for error in errors]
        flash(problems[0], "error")
        return render_lead_page(lead, 422)
    try:
        other = merge_candidate(current_user, lead_id, lookup.other.data)
    except WorkflowError as refusal:
        flash(str(refusal), "error")
        return render_lead_page(lead, 422)
    return _review(lead, other, None, 200)


@bp.post("/leads/<int:lead_id>/merge")
def lead_merge(lead_id: int) -> ResponseReturnValue:
    lead = _mergeable_lead_or_404(lead_id)
    form = MergeForm()
    if not form.validate():
        if form.other_id.data and not form.other_id.errors:
            try:
                other = merge_candidate(current_user, lead_id, str(form.other_id.data))
            except WorkflowError as refusal:
                flash(str(refusal), "error")
                return render_lead_page(lead, 422)
            flash("Please tick the box to confirm that they are one person.", "error")
            return _review(lead, other, form, 422)
        flash("Please choose the lead to merge again.", "error")
        return render_lead_page(lead, 422)
    try:
        merge_leads(
            current_user,
            lead_id,
            form.other_id.data,
            survivor_version=form.version.data,
            merged_version=form.other_version.data,
        )
    except (LeadNotFound, MergeNotAllowed):
        abort(404)
    except StaleLead as stale:
        flash(str(stale), "error")
        return render_lead_page(lead, 409)
    except WorkflowError as refusal:
        flash(str(refusal), "error")
        return render_lead_page(lead, 422)
    flash(
        f"Merged L-{form.other_id.data:06d} into this lead: its enquiries, follow-ups, emails "
        "and history are here now.",
        "success",
    )
    return redirect(url_for("staff.lead", lead_id=lead_id), code=303)
