"""The lead page and its actions. Each action parses one form, calls one operation, answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from flask import (
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_login import current_user
from flask_wtf import FlaskForm

from crm.branches import branch_zone
from crm.database import utcnow
from crm.leads import workflow
from crm.leads.access import access_html, access_lead
from crm.leads.email_status import emails_for_lead
from crm.leads.merge import may_merge
from crm.leads.pipeline import allowed_next
from crm.leads.privacy import erase_lead
from crm.leads.queries import (
    LeadNotFound,
    assignable_staff,
    get_visible_lead,
    lead_enquiries,
    lead_follow_ups,
    lead_timeline,
    leads_sharing_email,
    merged_into,
    other_phones,
)
from crm.leads.response_time import first_response_minutes
from crm.models import Lead, Role
from crm.policy import assignment_targets
from crm.staff import bp
from crm.staff.forms import (
    AccessForm,
    AssignForm,
    CallForm,
    CompleteFollowUpForm,
    EraseForm,
    FollowUpForm,
    MergeLookupForm,
    NoteForm,
    ReleaseForm,
    StatusForm,
    choices,
)
from crm.staff.timeline import describe, free_text


def _lead_or_404(lead_id: int) -> Lead:
    try:
        return get_visible_lead(current_user, lead_id)
    except LeadNotFound:
        abort(404)


def _follow_up_choices(lead: Lead) -> list[tuple[str, str]]:
    staff = assignable_staff(lead.branch_id)
    if current_user.role == Role.AGENT:
        # An agent reminds themselves or the person the lead is with; others are a manager's call.
        staff = [person for person in staff if person.id in (current_user.id, lead.assignee_id)]
    return [(str(person.id), person.name) for person in staff]


def _assign_choices(lead: Lead) -> tuple[list[tuple[str, str]], bool]:
    """What the assignment form offers: the lead's holder and whoever the policy allows.
    The second value says whether there is anything to change at all."""
    staff = assignable_staff(lead.branch_id)
    targets = assignment_targets(current_user, lead, staff)
    offered = {person.id for person in targets if person is not None} | {lead.assignee_id}
    offered_staff = [(str(person.id), person.name) for person in staff if person.id in offered]
    return offered_staff, bool(targets)


def _next_statuses(lead: Lead) -> list[tuple[str, str]]:
    return [(status.value, status.label) for status in allowed_next(lead.status)]


def _forms(lead: Lead, submitted: dict[str, FlaskForm] | None = None) -> dict[str, FlaskForm]:
    """Every action form of the page, bound to the lead; a submitted one keeps its input."""
    submitted = submitted or {}
    assign_staff, _movable = _assign_choices(lead)
    zone = branch_zone(lead.branch)
    tomorrow = (utcnow().astimezone(zone) + timedelta(days=1)).date()
    forms: dict[str, FlaskForm] = {
        "status": submitted.get("status")
        or StatusForm(formdata=None, version=lead.version, lost_reason=""),
        "assign": submitted.get("assign")
        or AssignForm(formdata=None, version=lead.version, assignee=str(lead.assignee_id or "")),
        "note": submitted.get("note") or NoteForm(formdata=None),
        "release": ReleaseForm(formdata=None, version=lead.version),
        "erase": submitted.get("erase") or EraseForm(formdata=None),
        "access": AccessForm(formdata=None),
        "call": submitted.get("call") or CallForm(formdata=None),
        "follow_up": submitted.get("follow_up")
        or FollowUpForm(
            formdata=None,
            due_at=datetime.combine(tomorrow, time(10, 0)),
            assignee=str(lead.assignee_id or current_user.id),
        ),
    }
    forms["status"].status.choices = choices(_next_statuses(lead), "Choose…")
    forms["assign"].assignee.choices = choices(assign_staff, "Nobody (unassigned)")
    forms["follow_up"].assignee.choices = choices(_follow_up_choices(lead))
    for name in ("status", "assign", "release"):
        forms[name].version.data = lead.version  # a re-shown form carries the latest version
    return forms


def _render(lead_id: int, code: int = 200, /, **submitted: FlaskForm) -> ResponseReturnValue:
    lead = _lead_or_404(lead_id)
    now = utcnow()
    events = lead_timeline(lead)
    return (
        render_template(
            "staff/lead.html",
            lead=lead,
            forms=_forms(lead, submitted),
            can_move_lead=_assign_choices(lead)[1],
            enquiries=lead_enquiries(lead),
            follow_ups=lead_follow_ups(lead),
            complete_form=CompleteFollowUpForm(formdata=None),
            emails=emails_for_lead(lead.id),
            other_phones=other_phones(lead),
            sharing_email=leads_sharing_email(current_user, lead),
            merge_lookup=MergeLookupForm(formdata=None) if may_merge(current_user) else None,
            timeline=[(event, describe(event), free_text(event)) for event in events],
            response_minutes=first_response_minutes(lead, lead.branch, now),
            target_minutes=current_app.config["RESPONSE_TARGET_MINUTES"],
            now=now,
        ),
        code,
    )


def render_lead_page(lead_id: int, code: int = 200) -> ResponseReturnValue:
    """The lead page with its flashed messages, for actions answered from other modules."""
    return _render(lead_id, code)


def _perform(
    lead_id: int, operation: Callable[[], Any], done: str, /, **submitted: FlaskForm
) -> ResponseReturnValue:
    try:
        operation()
    except LeadNotFound:
        abort(404)
    except workflow.AssignmentRefused as refusal:
        flash(str(refusal), "error")
        return _render(lead_id, 403, **submitted)
    except workflow.StaleLead as stale:
        flash(str(stale), "error")
        return _render(lead_id, 409, **submitted)
    except workflow.WorkflowError as refusal:
        flash(str(refusal), "error")
        return _render(lead_id, 422, **submitted)
    flash(done, "success")
    return redirect(url_for("staff.lead", lead_id=lead_id), code=303)


def _invalid(lead_id: int, form: FlaskForm, /, **submitted: FlaskForm) -> ResponseReturnValue:
    """Re-show the page with the form's first problem said at the top and by its field."""
    problems = [error for errors in form.errors.values() for error in errors]
    flash(problems[0] if problems else "Please check the form and try again.", "error")
    return _render(lead_id, 422, **submitted)


@bp.get("/leads/<int:lead_id>")
def lead(lead_id: int) -> ResponseReturnValue:
    survivor = merged_into(current_user, lead_id)
    if survivor is not None:
        # A merged lead's links (bookmarks, emails) lead to the person's lead; outside the
        # person's scope both are unknown, so the page is not found as before.
        return redirect(url_for("staff.lead", lead_id=survivor), code=303)
    return _render(lead_id)


@bp.post("/leads/<int:lead_id>/status")
def lead_status(lead_id: int) -> ResponseReturnValue:
    lead = _lead_or_404(lead_id)
    form = StatusForm()
    form.status.choices = choices(_next_statuses(lead))
    if not form.validate():
        return _invalid(lead_id, form, status=form)
    return _perform(
        lead_id,
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


@bp.post("/leads/<int:lead_id>/release")
def lead_release(lead_id: int) -> ResponseReturnValue:
    _lead_or_404(lead_id)
    form = ReleaseForm()
    if not form.validate():
        return _invalid(lead_id, form)
    return _perform(
        lead_id,
        lambda: workflow.release_from_spam(
            current_user, lead_id, expected_version=form.version.data
        ),
        "Released: the lead is back in the inbox and the branch has been alerted.",
    )


@bp.post("/leads/<int:lead_id>/erase")
def lead_erase(lead_id: int) -> ResponseReturnValue:
    _lead_or_404(lead_id)  # first: a lead out of scope is not found, for every role
    if current_user.role != Role.ADMIN:
        abort(403)
    form = EraseForm()
    if not form.validate():
        return _invalid(lead_id, form, erase=form)
    try:
        report = erase_lead(current_user, lead_id)
    except LeadNotFound:
        abort(404)
    flash(report.summary(), "success")
    return redirect(url_for("staff.lead", lead_id=lead_id), code=303)


@bp.post("/leads/<int:lead_id>/access")
def lead_access(lead_id: int) -> ResponseReturnValue:
    """The person's own data (an admin's action, recorded): the page itself, or a download."""
    lead = _lead_or_404(lead_id)  # first: a lead out of scope is not found, for every role
    if current_user.role != Role.ADMIN:
        abort(403)
    form = AccessForm()
    if not form.validate():
        return _invalid(lead_id, form)
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
    lead = _lead_or_404(lead_id)
    form = AssignForm()
    # The form checks the person is of the branch; whether this actor may make the move is the
    # operation's answer (crm.policy), which says why when it is no.
    staff = [(str(person.id), person.name) for person in assignable_staff(lead.branch_id)]
    form.assignee.choices = choices(staff, "Nobody")
    if not form.validate():
        return _invalid(lead_id, form, assign=form)
    assignee_id = int(form.assignee.data) if form.assignee.data else None
    return _perform(
        lead_id,
        lambda: workflow.assign_lead(
            current_user, lead_id, assignee_id, expected_version=form.version.data
        ),
        "Assignment saved.",
        assign=form,
    )


@bp.post("/leads/<int:lead_id>/notes")
def lead_note(lead_id: int) -> ResponseReturnValue:
    _lead_or_404(lead_id)
    form = NoteForm()
    if not form.validate():
        return _invalid(lead_id, form, note=form)
    return _perform(
        lead_id,
        lambda: workflow.add_note(current_user, lead_id, form.text.data),
        "Note added.",
        note=form,
    )


@bp.post("/leads/<int:lead_id>/calls")
def lead_call(lead_id: int) -> ResponseReturnValue:
    _lead_or_404(lead_id)
    form = CallForm()
    if not form.validate():
        return _invalid(lead_id, form, call=form)
    return _perform(
        lead_id,
        lambda: workflow.log_call(current_user, lead_id, form.outcome.data, form.note.data),
        "Call recorded.",
        call=form,
    )


@bp.post("/leads/<int:lead_id>/follow-ups")
def lead_follow_up(lead_id: int) -> ResponseReturnValue:
    lead = _lead_or_404(lead_id)
    form = FollowUpForm()
    form.assignee.choices = choices(_follow_up_choices(lead))
    if not form.validate():
        return _invalid(lead_id, form, follow_up=form)
    return _perform(
        lead_id,
        lambda: workflow.schedule_follow_up(
            current_user,
            lead_id,
            form.due_at_in(branch_zone(lead.branch)),
            assignee_id=int(form.assignee.data),
            note=form.note.data,
        ),
        "Follow-up scheduled.",
        follow_up=form,
    )


@bp.post("/leads/<int:lead_id>/follow-ups/<int:follow_up_id>/complete")
def lead_follow_up_done(lead_id: int, follow_up_id: int) -> ResponseReturnValue:
    _lead_or_404(lead_id)
    form = CompleteFollowUpForm()
    if not form.validate():
        return _invalid(lead_id, form)
    return _perform(
        lead_id,
        lambda: workflow.complete_follow_up(
            current_user, lead_id, follow_up_id, form.outcome_note.data
        ),
        "Follow-up completed.",
    )


@bp.post("/leads/<int:lead_id>/emails/<int:email_id>/retry")
def lead_email_retry(lead_id: int, email_id: int) -> ResponseReturnValue:
    _lead_or_404(lead_id)
    form = CompleteFollowUpForm()
    if not form.validate():  # only the CSRF token to check
        return _invalid(lead_id, form)
    return _perform(
        lead_id,
        lambda: workflow.retry_email(current_user, lead_id, email_id),
        "The email will be sent again.",
    )
