"""An agent's day at a glance: their follow-ups due today and overdue, their appointments
today and their new leads, before the branch's figures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import joinedload

from crm.clinic.branches import branch_zone
from crm.leads.queries import visible_leads
from crm.models import Appointment, AppointmentStatus, FollowUp, Lead, LeadStatus, StaffUser
from crm.platform.extensions import db

SHOWN = 10  # per list; the inbox has the rest


@dataclass
class MyDay:
    follow_ups: list[FollowUp] = field(default_factory=list)
    appointments: list[Appointment] = field(default_factory=list)
    new_leads: list[Lead] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.follow_ups or self.appointments or self.new_leads)


def my_day(user: StaffUser, now: datetime) -> MyDay:
    zone = branch_zone(user.branch)
    today = now.astimezone(zone).date()
    start = datetime.combine(today, time(0), zone)
    end = start + timedelta(days=1)
    return MyDay(
        follow_ups=list(
            db.session.scalars(
                select(FollowUp)
                .options(joinedload(FollowUp.lead))
                .where(
                    FollowUp.assignee_id == user.id,
                    FollowUp.done_at.is_(None),
                    FollowUp.due_at < end,
                    _lead_in_scope(user, FollowUp.lead_id),
                )
                .order_by(FollowUp.due_at)
                .limit(SHOWN)
            )
        ),
        appointments=list(
            db.session.scalars(
                select(Appointment)
                .options(joinedload(Appointment.lead))
                .where(
                    Appointment.status == AppointmentStatus.BOOKED,
                    Appointment.starts_at >= start,
                    Appointment.starts_at < end,
                    _lead_in_scope(user, Appointment.lead_id, Lead.assignee_id == user.id),
                )
                .order_by(Appointment.starts_at)
                .limit(SHOWN)
            )
        ),
        new_leads=list(
            db.session.scalars(
                visible_leads(user)
                .where(Lead.assignee_id == user.id, Lead.status == LeadStatus.NEW)
                .order_by(Lead.created_at)
                .limit(SHOWN)
            )
        ),
    )


def _lead_in_scope(
    user: StaffUser, lead_id: ColumnElement[int], *more: ColumnElement[bool]
) -> ColumnElement[bool]:
    """A check of each row's own lead by its key. ``lead_id IN (visible leads)`` listed every
    lead of the branch first; this way the list is read from the person's or the day's index
    and each row's lead looked up, so the cost follows the list, not the branch."""
    return visible_leads(user).with_only_columns(Lead.id).where(Lead.id == lead_id, *more).exists()
