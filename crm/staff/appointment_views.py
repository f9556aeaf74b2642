"""Appointments: the lead page's actions, and the day's list for the front desk (the lead
page's panel is read in crm/staff/appointment_panel.py).

Each action parses one form, calls one operation (crm.leads.appointments) and answers: a 303
back to the lead page, or the page again with the problem said.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from itertools import groupby
from typing import Any

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user

from crm.clinic.branches import active_branches, branch_zone
from crm.leads import appointments as ops
from crm.leads.appointment_mail import whatsapp_text
from crm.leads.appointment_queries import branch_appointments
from crm.leads.clinicians import clinicians_of
from crm.models import AppointmentKind, AppointmentStatus, Branch
from crm.platform.database import utcnow
from crm.policy import can_edit_clinicians, sees_all_branches
from crm.staff import bp
from crm.staff.appointment_forms import (
    KIND_CHOICES,
    BookAppointmentForm,
    CancelForm,
    DayForm,
    OutcomeForm,
    RescheduleForm,
)
from crm.staff.appointment_panel import cancel_key, clinician_choices, reschedule_key
from crm.staff.forms import choices
from crm.staff.lead_page import load_lead_or_404
from crm.staff.lead_views import invalid_lead_form, perform_lead_action


@bp.post("/leads/<int:lead_id>/appointments")
def appointment_book(lead_id: int) -> ResponseReturnValue:
    lead = load_lead_or_404(current_user, lead_id)
    form = BookAppointmentForm()
    form.clinician.choices = clinician_choices(lead.branch_id)
    if not form.validate():
        return invalid_lead_form(lead, form, book=form)
    return perform_lead_action(
        lead,
        lambda: ops.book_appointment(
            current_user,
            lead_id,
            starts_at=form.starts_at_in(branch_zone(lead.branch)),
            minutes=form.minutes.data,
            kind=form.kind.data,
            address=form.address.data,
            clinician_id=form.clinician_id(),
            note=form.note.data,
            expected_version=form.version.data,
        ),
        "Appointment booked.",
        book=form,
    )


@bp.post("/leads/<int:lead_id>/appointments/<int:appointment_id>/reschedule")
def appointment_reschedule(lead_id: int, appointment_id: int) -> ResponseReturnValue:
    lead = load_lead_or_404(current_user, lead_id)
    form = RescheduleForm()
    form.clinician.choices = clinician_choices(lead.branch_id, _current_clinician(form))
    kept = {reschedule_key(appointment_id): form}
    if not form.validate():
        return invalid_lead_form(lead, form, **kept)
    return perform_lead_action(
        lead,
        lambda: ops.reschedule_appointment(
            current_user,
            lead_id,
            appointment_id,
            starts_at=form.starts_at_in(branch_zone(lead.branch)),
            minutes=form.minutes.data,
            clinician_id=form.clinician_id(),
            expected_sequence=form.sequence.data,
        ),
        "Appointment moved.",
        **kept,
    )


def _current_clinician(form: RescheduleForm) -> int | None:
    """A retired clinician may stay on an appointment they had: the operation checks that."""
    value = form.clinician.data or ""
    return int(value) if value.isdigit() else None


@bp.post("/leads/<int:lead_id>/appointments/<int:appointment_id>/cancel")
def appointment_cancel(lead_id: int, appointment_id: int) -> ResponseReturnValue:
    lead = load_lead_or_404(current_user, lead_id)
    form = CancelForm()
    kept = {cancel_key(appointment_id): form}
    if not form.validate():
        return invalid_lead_form(lead, form, **kept)
    return perform_lead_action(
        lead,
        lambda: ops.cancel_appointment(
            current_user,
            lead_id,
            appointment_id,
            form.reason.data,
            expected_sequence=form.sequence.data,
        ),
        "Appointment cancelled.",
        **kept,
    )


@bp.post("/leads/<int:lead_id>/appointments/<int:appointment_id>/attended")
def appointment_attended(lead_id: int, appointment_id: int) -> ResponseReturnValue:
    return _outcome(
        lead_id, appointment_id, ops.mark_attended, "Marked attended: the lead is now visited."
    )


@bp.post("/leads/<int:lead_id>/appointments/<int:appointment_id>/no-show")
def appointment_no_show(lead_id: int, appointment_id: int) -> ResponseReturnValue:
    return _outcome(
        lead_id,
        appointment_id,
        ops.mark_no_show,
        "Marked as a no-show; a follow-up call is scheduled for the next opening day.",
    )


def _outcome(
    lead_id: int, appointment_id: int, mark: Callable[..., Any], done: str
) -> ResponseReturnValue:
    """After the appointment's time: whether the person came (``mark`` records which)."""
    lead = load_lead_or_404(current_user, lead_id)
    form = OutcomeForm()
    if not form.validate():
        return invalid_lead_form(lead, form)
    return perform_lead_action(
        lead,
        lambda: mark(current_user, lead_id, appointment_id, expected_sequence=form.sequence.data),
        done,
    )


# --- The day's list ------------------------------------------------------------------------------


def chosen_branch(slug: str | None) -> Branch:
    """The branch a branch-wide page shows: one's own, or the one an admin picked (the first
    by default). A branch outside the person's scope is not found."""
    branches = active_branches()
    if sees_all_branches(current_user):
        if not slug:
            return branches[0] if branches else abort(404)
        found = next((branch for branch in branches if branch.slug == slug), None)
    else:
        own = current_user.branch
        found = own if own is not None and slug in (None, "", own.slug) else None
    if found is None:
        abort(404)
    return found


@bp.get("/appointments")
def appointments_day() -> ResponseReturnValue:
    form = DayForm(request.args)
    branch = chosen_branch(request.args.get("branch"))
    zone = branch_zone(branch)
    people = clinicians_of(branch.id)
    form.branch.choices = choices([(b.slug, b.city) for b in active_branches()])
    form.clinician.choices = choices([(str(c.id), c.name) for c in people], "Everyone")
    form.kind.choices = choices([(c.value, c.label) for c in KIND_CHOICES], "Clinic and home")
    form.branch.data = branch.slug
    form.validate()
    today = utcnow().astimezone(zone).date()
    day: date = form.day.data if not form.day.errors and form.day.data else today
    form.day.data = day
    clinician_id = next((c.id for c in people if str(c.id) == form.clinician.data), None)
    kind = form.kind.data if form.kind.data in {k.value for k in AppointmentKind} else None
    form.clinician.data = str(clinician_id or "")
    form.kind.data = kind or ""
    week = bool(form.week.data)
    first = day - timedelta(days=day.weekday()) if week else day
    listed = branch_appointments(
        current_user, branch, first, 7 if week else 1, clinician_id=clinician_id, kind=kind
    )
    days = [
        (key, list(group))
        for key, group in groupby(listed, key=lambda a: a.starts_at.astimezone(zone).date())
    ]
    return render_template(
        "staff/appointments.html",
        form=form,
        branch=branch,
        zone=str(zone),
        day=day,
        first=first,
        week=week,
        days=days,
        count=len(listed),
        texts={a.id: whatsapp_text(a, branch, reminder=True) for a in listed if a.is_booked},
        choose_branch=sees_all_branches(current_user),
        edit_clinicians=can_edit_clinicians(current_user, branch.id),
        previous=first - timedelta(days=7 if week else 1),
        following=first + timedelta(days=7 if week else 1),
        statuses=AppointmentStatus,
    )


@bp.app_template_filter("appointment_status")
def appointment_status(status: str) -> str:
    return AppointmentStatus(status).label


@bp.app_template_filter("appointment_kind")
def appointment_kind(kind: str) -> str:
    return AppointmentKind(kind).label
