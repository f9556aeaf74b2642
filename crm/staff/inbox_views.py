"""The triage inbox and its bulk actions."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user
from wtforms.validators import ValidationError

from crm.clinic.branches import active_branches, branch_choices
from crm.leads import workflow
from crm.leads.filters import LeadFilters
from crm.leads.inbox import Cursor, inbox_page
from crm.leads.queries import LeadNotFound, staff_in_scope
from crm.models import Branch
from crm.platform.database import utcnow
from crm.platform.http import is_own_path
from crm.policy import bulk_actions, can_export, sees_all_branches
from crm.staff import bp
from crm.staff.desk import auto_assign_form
from crm.staff.forms import UNASSIGNED_CHOICE, BulkForm, InboxFilterForm, choices


def _staff_in_scope() -> list[tuple[str, str]]:
    return [(str(person.id), person.name) for person in staff_in_scope(current_user)]


def _filter_form() -> InboxFilterForm:
    form = InboxFilterForm(request.args)
    form.branch.choices = choices(branch_choices(), "All branches")
    form.assignee.choices = [*choices(_staff_in_scope(), "Anyone"), UNASSIGNED_CHOICE]
    return form


def _bulk_form(formdata: object = None) -> BulkForm:
    form = BulkForm(formdata=formdata)
    form.assignee.choices = choices(_staff_in_scope(), "Nobody (unassigned)")
    return form


def page_branch(filters: LeadFilters) -> Branch | None:
    """The one branch the inbox shows, if it shows one."""
    if not sees_all_branches(current_user):
        return current_user.branch
    return next((branch for branch in active_branches() if branch.slug == filters.branch), None)


@bp.get("/leads")
def inbox() -> ResponseReturnValue:
    filter_form = _filter_form()
    filters = filter_form.filters()
    now = utcnow()
    page = inbox_page(
        current_user,
        filters,
        after=Cursor.decode(request.args.get("after")),
        limit=current_app.config["INBOX_PAGE_SIZE"],
        now=now,
        target_minutes=current_app.config["RESPONSE_TARGET_MINUTES"],
    )
    kept = {key: value for key, value in request.args.items() if key != "after" and value}
    next_url = (
        url_for("staff.inbox", **kept, after=page.next_cursor.encode())
        if page.next_cursor
        else None
    )
    bulk = _bulk_form()
    bulk.return_to.data = request.full_path
    # Offer only what the policy allows; a crafted request is still refused by the operation.
    offered = bulk_actions(current_user)
    bulk.action.choices = [choice for choice in bulk.action.choices if choice.value in offered]
    return render_template(
        "staff/inbox.html",
        filter_form=filter_form,
        filters=filters,
        page=page,
        next_url=next_url,
        first_url=url_for("staff.inbox", **kept) if "after" in request.args else None,
        bulk_form=bulk,
        show_branch=sees_all_branches(current_user),
        export_url=url_for("staff.exports", **kept) if can_export(current_user) else None,
        auto_assign=auto_assign_form(page_branch(filters)),
        now=now,
    )


@bp.post("/leads/bulk")
def inbox_bulk() -> ResponseReturnValue:
    form = _bulk_form(request.form)
    back = form.return_to.data if is_own_path(form.return_to.data) else url_for("staff.inbox")
    if not form.validate():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
        return redirect(back, code=303)
    try:
        lead_ids = form.lead_ids(request.form.getlist("lead_ids"))
        if form.action.data == "assign":
            assignee_id = int(form.assignee.data) if form.assignee.data else None
            result = workflow.bulk_assign(current_user, lead_ids, assignee_id)
        else:
            result = workflow.bulk_change_status(
                current_user, lead_ids, form.status.data, form.lost_reason.data or None
            )
    except LeadNotFound:
        abort(404)
    except (workflow.WorkflowError, ValidationError) as refusal:
        flash(str(refusal), "error")
        return redirect(back, code=303)
    if result.changed:
        flash(f"Changed {len(result.changed)}: {', '.join(result.changed)}.", "success")
    for reference, reason in result.skipped:
        flash(f"{reference} unchanged: {reason}", "error")
    return redirect(back, code=303)
