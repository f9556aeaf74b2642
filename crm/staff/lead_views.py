"""The lead page and its actions. Each action parses one form, calls one operation, answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from crm.clinic.branches import branch_zone
from crm.leads import workflow
from crm.leads.access import access_html, access_lead
from crm.leads.contact_log import log_contact
from crm.leads.privacy import erase_lead
from crm.leads.queries import LeadNotFound, assignable_staff, merged_into
from crm.models import Lead
from crm.policy import can_erase, can_give_personal_data
from crm.staff import bp
from crm.staff.forms import (
    AccessForm,
    AssignForm,
    CallForm,
    CompleteFollowUpForm,
    EraseForm,
    FollowUpForm,
    NoteForm,
    ReleaseForm,
    StatusForm,
    choices,
)
from crm.staff.lead_page import (
    build_lead_page,
    follow_up_choices,
    load_lead_or_404,
    next_statuses,
)
from crm.staff.log_form import LogForm, log_statuses


def render_lead_page(lead: Lead, code: int = 200, /, **submitted: FlaskForm) -> ResponseReturnValue:
    """The lead page with its flashed messages; ``submitted`` forms keep what was typed."""
    page = build_lead_page(current_user, lead, submitted)
    return render_template("staff/lead.html", page=page), code


def perform_lead_action(
    lead: Lead, operation: Callable[[], Any], done: str, /, **submitted: FlaskForm
) -> ResponseReturnValue:
    try:
        operation()
    except LeadNotFound:
        abort(404)
    except workflow.AssignmentRefused as refusal:
        flash(str(refusal), "error")
        return render_lead_page(lead, 403, **submitted)
    except workflow.StaleLead as stale:
        flash(str(stale), "error")
        return render_lead_page(lead, 409, **submitted)
    except workflow.WorkflowError as refusal:
        flash(str(refusal), "error")
        return render_lead_page(lead, 422, **submitted)
    flash(done, "success")
    return redirect(url_for("staff.lead", lead_id=lead.id), code=303)


def invalid_lead_form(
    lead: Lead, form: FlaskForm, /, **submitted: FlaskForm
) -> ResponseReturnValue:
    """Re-show the page with the form's first problem said at the top and by its field."""
    problems = [error for errors in form.errors.values() for error in errors]
    flash(problems[0] if problems else "Please check the form and try again.", "error")
    return render_lead_page(lead, 422, **submitted)


@bp.get("/leads/<int:lead_id>")
def lead(lead_id: int) -> ResponseReturnValue:
    survivor = merged_into(current_user, lead_id)
    if survivor is not None:
        # A merged lead's links (bookmarks, emails) lead to the person's lead; outside the
        # person's scope both are unknown, so the page is not found as before.
        return redirect(url_for("staff.lead", lead_id=survivor), code=303)
    return render_lead_page(load_lead_or_404(current_user, lead_id))


@bp.post("/leads/<int:lead_id>/status")
def lead_status(lead_id: int) -> ResponseReturnValue:
    lead = load_lead_or_404(current_user, lead_id)
    form = StatusForm()
    form.status.choices = choices(next_statuses(lead))
    if not form.validate():
        return invalid_lead_form(lead, form, status=form)
    return perform_lead_action(
        lead,
        lambda: workflow.change_status(
            current_user,
            lead_id,
            form.status.data,
            expected_version=form.version.data,
            lost_reason=form.lost_reason.data or None,
            note=form.note.data,
        ),
        "Status updated.",
        status=form,
    )


@bp.post("/leads/<int:lead_id>/log")
def lead_log(lead_id: int) -> ResponseReturnValue:
    lead = load_lead_or_404(current_user, lead_id)
    form = LogForm()
    form.status.choices = choices(log_statuses(lead), "Keep as it is")
    if not form.validate():
        return invalid_lead_form(lead, form, log=form)
    return perform_lead_action(
        lead,
        lambda: log_contact(
            current_user,
            lead_id,
            expected_version=form.version.data,
            outcome=form.outcome.data,
            note=form.note.data,
            status=form.status.data or None,
            lost_reason=form.lost_reason.data or None,
            follow_up_at=form.follow_up_in(branch_zone(lead.branch)),
        ),
        "Saved.",
        log=form,
    )


@bp.post("/leads/<int:lead_id>/release")
def lead_release(lead_id: int) -> ResponseReturnValue:
    lead = load_lead_or_404(current_user, lead_id)
    form = ReleaseForm()
    if not form.validate():
        return invalid_lead_form(lead, form)
    return perform_lead_action(
        lead,
        lambda: workflow.release_from_spam(
            current_user, lead_id, expected_version=form.version.data
        ),
        "Released: the lead is back in the inbox and the branch has been alerted.",
    )


@bp.post("/leads/<int:lead_id>/erase")
def lead_erase(lead_id: int) -> ResponseReturnValue:
    lead = load_lead_or_404(current_user, lead_id)  # first: out of scope is 404, for every role
    if not can_erase(current_user):
        abort(403)
    form = EraseForm()
    if not form.validate():
        return invalid_lead_form(lead, form, erase=form)
    try:
        report = erase_lead(current_user, lead_id)
    except LeadNotFound:
        abort(404)
    flash(report.summary(), "success")
    return redirect(url_for("staff.lead", lead_id=lead_id), code=303)


@bp.post("/leads/<int:lead_id>/access")
def lead_access(lead_id: int) -> ResponseReturnValue:
    """The person's own data (an admin's action, recorded): the page itself, or a download."""
    lead = load_lead_or_404(current_user, lead_id)  # first: out of scope is 404, for every role
    if not can_give_personal_data(current_user):
        abort(403)
    form = AccessForm()
    if not form.validate():
        return invalid_lead_form(lead, form)
    try:
        report = access_lead(current_user, lead_id, file_format=form.format.data)
    except LeadNotFound:
        abort(404)
    if form.format.data == "json":
        response = Response(
            json.dumps(report.data, indent=2, ensure_ascii=False) + "\n",
            mimetype="application/json",
        )
        response.headers["Content-Disposition"] = (
            f'attachment; filename="personal-data-{lead.reference}.json"'
        )
    else:
        response = Response(access_html(report), mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/leads/<int:lead_id>/assign")
def lead_assign(lead_id: int) -> ResponseReturnValue:
    lead = load_lead_or_404(current_user, lead_id)
    form = AssignForm()
    # The form checks the person is of the branch; whether this actor may make the move is the
    # operation's answer (crm.policy), which says why when it is no.
    staff = [(str(person.id), person.name) for person in assignable_staff(lead.branch_id)]
    form.assignee.choices = choices(staff, "Nobody")
    if not form.validate():
        return invalid_lead_form(lead, form, assign=form)
    assignee_id = int(form.assignee.data) if form.assignee.data else None
    return perform_lead_action(
        lead,
        lambda: workflow.assign_lead(
            current_user, lead_id, assignee_id, expected_version=form.version.data
        ),
        "Assignment saved.",
        assign=form,
    )


@bp.post("/leads/<int:lead_id>/notes")
def lead_note(lead_id: int) -> ResponseReturnValue:
    lead = load_lead_or_404(current_user, lead_id)
    form = NoteForm()
    if not form.validate():
        return invalid_lead_form(lead, form, note=form)
    return perform_lead_action(
        lead,
        lambda: workflow.add_note(current_user, lead_id, form.text.data),
        "Note added.",
        note=form,
    )


@bp.post("/leads/<int:lead_id>/calls")
def lead_call(lead_id: int) -> ResponseReturnValue:
    lead = load_lead_or_404(current_user, lead_id)
    form = CallForm()
    if not form.validate():
        return invalid_lead_form(lead, form, call=form)
    return perform_lead_action(
        lead,
        lambda: workflow.log_call(current_user, lead_id, form.outcome.data, form.note.data),
        "Call recorded.",
        call=form,
    )


@bp.post("/leads/<int:lead_id>/follow-ups")
def lead_follow_up(lead_id: int) -> ResponseReturnValue:
    lead = load_lead_or_404(current_user, lead_id)
    form = FollowUpForm()
    form.assignee.choices = choices(follow_up_choices(current_user, lead))
    if not form.validate():
        return invalid_lead_form(lead, form, follow_up=form)
    zone = branch_zone(lead.branch)
    return perform_lead_action(
        lead,
        lambda: workflow.schedule_follow_up(
            current_user,
            lead_id,
            form.due_at_in(zone),
            assignee_id=int(form.assignee.data),
            note=form.note.data,
        ),
        "Follow-up scheduled.",
        follow_up=form,
    )


@bp.post("/leads/<int:lead_id>/follow-ups/<int:follow_up_id>/complete")
def lead_follow_up_done(lead_id: int, follow_up_id: int) -> ResponseReturnValue:
    lead = load_lead_or_404(current_user, lead_id)
    form = CompleteFollowUpForm()
    if not form.validate():
        return invalid_lead_form(lead, form)
    return perform_lead_action(
        lead,
        lambda: workflow.complete_follow_up(
            current_user, lead_id, follow_up_id, form.outcome_note.data
        ),
        "Follow-up completed.",
    )


@bp.post("/leads/<int:lead_id>/emails/<int:email_id>/retry")
def lead_email_retry(lead_id: int, email_id: int) -> ResponseReturnValue:
    lead = load_lead_or_404(current_user, lead_id)
    form = CompleteFollowUpForm()
    if not form.validate():  # only the CSRF token to check
        return invalid_lead_form(lead, form)
    return perform_lead_action(
        lead,
        lambda: workflow.retry_email(current_user, lead_id, email_id),
        "The email will be sent again.",
    )
