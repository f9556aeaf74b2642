"""The dashboard's appointment figures: today's appointments of each branch in scope (each in its
own time zone) and the no-show rate. Both are read through ``visible_leads``; an erased person's
appointments keep their times and outcomes, so they still count."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, case, func, or_

from crm.clinic.branches import branch_zone
from crm.leads.appointment_queries import day_bounds
from crm.models import Appointment, AppointmentStatus, Branch, Clinician, Lead
from crm.platform.extensions import db

NO_SHOW_DAYS = 30


@dataclass(frozen=True)
class TodaysAppointment:
    """What the dashboard says of one appointment: plain values, so figures compare by value."""

    id: int
    lead_id: int
    patient: str | None  # None once the person is erased
    starts_at: datetime
    kind: str
    clinician: str | None
    status: str

    @property
    def reference(self) -> str:
        return f"L-{self.lead_id:06d}"


@dataclass(frozen=True)
class BranchDay:
    """One branch's appointments today (cancelled ones left out), in time order."""

    slug: str
    city: str
    zone: str
    appointments: list[TodaysAppointment]


@dataclass(frozen=True)
class NoShowRate:
    """Of the appointments whose time fell in the window and whose outcome is recorded, the
    share the patient did not come to. Appointments still waiting for an outcome are apart."""

    label: str
    no_shows: int
    attended: int
    awaiting: int

    @property
    def decided(self) -> int:
        return self.no_shows + self.attended

    @property
    def rate(self) -> float | None:
        return self.no_shows / self.decided if self.decided else None


def todays_appointments(
    leads: Select[tuple[Lead]], branches: list[Branch], now: datetime
) -> list[BranchDay]:
    """Each branch's local today, in one statement over the (branch, starts) index."""
    if not branches:
        return []
    windows = []
    for branch in branches:
        start, end = day_bounds(branch, now.astimezone(branch_zone(branch)).date(), 1)
        windows.append(
            and_(
                Appointment.branch_id == branch.id,
                Appointment.starts_at >= start,
                Appointment.starts_at < end,
            )
        )
    rows = db.session.execute(
        leads.join(Appointment, Appointment.lead_id == Lead.id)
        .outerjoin(Clinician, Clinician.id == Appointment.clinician_id)
        .with_only_columns(
            Appointment.branch_id,
            Appointment.id,
            Appointment.lead_id,
            case((Lead.erased_at.is_(None), Lead.name), else_=None),
            Appointment.starts_at,
            Appointment.kind,
            Clinician.name,
            Appointment.status,
        )
        .where(or_(*windows), Appointment.status != AppointmentStatus.CANCELLED)
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()
    return [
        BranchDay(
            slug=branch.slug,
            city=branch.city,
            zone=str(branch_zone(branch)),
            appointments=[
                TodaysAppointment(*row[1:]) for row in rows if row.branch_id == branch.id
            ],
        )
        for branch in branches
    ]


def no_show_rates(
    leads: Select[tuple[Lead]], branches: list[Branch], now: datetime
) -> tuple[NoShowRate, list[NoShowRate]]:
    """The rate over every branch in scope, and each branch's, over the last NO_SHOW_DAYS."""
    counts = db.session.execute(
        leads.join(Appointment, Appointment.lead_id == Lead.id)
        .with_only_columns(Appointment.branch_id, Appointment.status, func.count(Appointment.id))
        .where(
            # The appointment's branch is its lead's (booking copies it; a lead never changes
            # branch): named, the read is a range of the (branch, starts) index, where for one
            # branch SQLite otherwise went through every lead of the branch.
            Appointment.branch_id.in_([branch.id for branch in branches]),
            Appointment.starts_at >= now - timedelta(days=NO_SHOW_DAYS),
            Appointment.starts_at <= now,
            Appointment.status != AppointmentStatus.CANCELLED,
        )
        .group_by(Appointment.branch_id, Appointment.status)
    ).all()
    per_branch: dict[int, Counter[str]] = {branch.id: Counter() for branch in branches}
    for branch_id, status, count in counts:
        per_branch.setdefault(branch_id, Counter())[status] += count

    def rate(label: str, tally: Counter[str]) -> NoShowRate:
        return NoShowRate(
            label,
            no_shows=tally[AppointmentStatus.NO_SHOW],
            attended=tally[AppointmentStatus.ATTENDED],
            awaiting=tally[AppointmentStatus.BOOKED],
        )

    total = sum(per_branch.values(), Counter())
    return rate("All", total), [rate(b.city, per_branch[b.id]) for b in branches]
