"""The lead page's read side: the one loader of the lead for a request, and the one function that
gathers what the page shows (``LeadPage``). Each panel of templates/staff/lead.html is an include
under templates/staff/lead/ reading from ``page``; a new panel is a field here and one include."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from flask import abort, current_app, g
from flask_wtf import FlaskForm

from crm.clinic.branches import branch_zone
from crm.leads.email_status import EmailState, emails_for_lead
from crm.leads.language import patient_language
from crm.leads.pipeline import allowed_next
from crm.leads.queries import (
    LeadNotFound,
    assignable_staff,
    get_visible_lead,
    lead_enquiries,
    lead_follow_ups,
    lead_timeline,
    leads_sharing_email,
    other_phones,
)
from crm.leads.response_time import first_response_minutes
from crm.leads.timeline import describe, free_text
from crm.models import Enquiry, FollowUp, Lead, LeadEvent, StaffUser
from crm.platform.database import utcnow
from crm.policy import (
    assignment_targets,
    can_erase,
    can_give_personal_data,
    can_merge,
    follow_up_targets,
)
from crm.staff.appointment_panel import AppointmentPanel, build_appointment_panel
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
from crm.staff.log_form import LogForm, log_statuses


def load_lead_or_404(actor: StaffUser, lead_id: int) -> Lead:
    """The lead, read once per request through the branch scope; outside it, 404 for every role.

    Later calls in the same request (a failed action re-showing the page) get the same object,
    whose columns the session refreshes after the operation's own transaction.
    """
    loaded: dict[int, Lead] = g.setdefault("staff_leads", {})
    if lead_id not in loaded:
        try:
            loaded[lead_id] = get_visible_lead(actor, lead_id)
        except LeadNotFound:
            abort(404)
    return loaded[lead_id]


def next_statuses(lead: Lead) -> list[tuple[str, str]]:
    return [(status.value, status.label) for status in allowed_next(lead.status)]


def follow_up_choices(actor: StaffUser, lead: Lead) -> list[tuple[str, str]]:
    staff = follow_up_targets(actor, lead, assignable_staff(lead.branch_id))
    return [(str(person.id), person.name) for person in staff]


def assign_choices(actor: StaffUser, lead: Lead) -> tuple[list[tuple[str, str]], bool]:
    """What the assignment form offers: the lead's holder and whoever the policy allows.
    The second value says whether there is anything to change at all."""
    staff = assignable_staff(lead.branch_id)
    targets = assignment_targets(actor, lead, staff)
    offered = {person.id for person in targets if person is not None} | {lead.assignee_id}
    offered_staff = [(str(person.id), person.name) for person in staff if person.id in offered]
    return offered_staff, bool(targets)


@dataclass(frozen=True)
class LeadPage:
    """Everything templates/staff/lead.html shows about one lead, for one member of staff."""

    lead: Lead
    forms: dict[str, FlaskForm]
    complete_form: CompleteFollowUpForm
    merge_lookup: MergeLookupForm | None
    can_move_lead: bool
    may_give_data: bool
    may_erase: bool
    enquiries: list[Enquiry]
    language: str  # the language the person prefers: their latest enquiry's
    appointments: AppointmentPanel
    follow_ups: list[FollowUp]
    emails: list[EmailState]
    other_phones: list[str]
    sharing_email: list[Lead]
    timeline: list[tuple[LeadEvent, str, str | None]]
    response_minutes: float
    target_minutes: int
    now: datetime


def _forms(
    actor: StaffUser,
    lead: Lead,
    assign_staff: list[tuple[str, str]],
    submitted: dict[str, FlaskForm],
) -> dict[str, FlaskForm]:
    """Every action form of the page, bound to the lead; a submitted one keeps its input."""
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
        "log": submitted.get("log") or LogForm(formdata=None, version=lead.version, lost_reason=""),
        "follow_up": submitted.get("follow_up")
        or FollowUpForm(
            formdata=None,
            due_at=datetime.combine(tomorrow, time(10, 0)),
            assignee=str(lead.assignee_id or actor.id),
        ),
    }
    forms["status"].status.choices = choices(next_statuses(lead), "Choose…")
    forms["assign"].assignee.choices = choices(assign_staff, "Nobody (unassigned)")
    forms["follow_up"].assignee.choices = choices(follow_up_choices(actor, lead))
    forms["log"].status.choices = choices(log_statuses(lead), "Keep as it is")
    for name in ("status", "assign", "release", "log"):
        forms[name].version.data = lead.version  # a re-shown form carries the latest version
    return forms


def build_lead_page(
    actor: StaffUser, lead: Lead, submitted: dict[str, FlaskForm] | None = None
) -> LeadPage:
    """The page's read model; ``submitted`` forms (a refused action) keep what was typed."""
    now = utcnow()
    submitted = submitted or {}
    assign_staff, movable = assign_choices(actor, lead)
    return LeadPage(
        lead=lead,
        forms=_forms(actor, lead, assign_staff, submitted),
        complete_form=CompleteFollowUpForm(formdata=None),
        merge_lookup=MergeLookupForm(formdata=None) if can_merge(actor) else None,
        can_move_lead=movable,
        may_give_data=can_give_personal_data(actor),
        may_erase=can_erase(actor) and lead.erased_at is None,
        enquiries=lead_enquiries(lead),
        language=patient_language(lead),
        appointments=build_appointment_panel(lead, submitted, now),
        follow_ups=lead_follow_ups(lead),
        emails=emails_for_lead(lead.id),
        other_phones=other_phones(lead),
        sharing_email=leads_sharing_email(actor, lead),
        timeline=[(event, describe(event), free_text(event)) for event in lead_timeline(lead)],
        response_minutes=first_response_minutes(lead, lead.branch, now),
        target_minutes=current_app.config["RESPONSE_TARGET_MINUTES"],
        now=now,
    )
