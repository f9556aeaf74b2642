"""Appointments: a lead's visit with a time, a place and (optionally) a clinician."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.platform.database import UTCDateTime, utcnow
from crm.platform.extensions import db

if TYPE_CHECKING:
    from crm.models.branch import Branch
    from crm.models.lead import Lead


class AppointmentKind(StrEnum):
    CLINIC = "clinic"
    HOME = "home"

    @property
    def label(self) -> str:
        return "At the clinic" if self is AppointmentKind.CLINIC else "Home visit"


class AppointmentStatus(StrEnum):
    BOOKED = "booked"
    ATTENDED = "attended"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return {"no_show": "No-show"}.get(self.value, self.value.capitalize())


def _sql_list(values: type[StrEnum]) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


class Clinician(db.Model):
    """Someone patients are booked with. Data that managers edit, not a sign-in account."""

    __tablename__ = "clinician"
    __table_args__ = (UniqueConstraint("branch_id", "name", name="uq_clinician_branch_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    branch: Mapped[Branch] = relationship()

    def __repr__(self) -> str:
        return f"<Clinician {self.id} {self.name!r}>"


class Appointment(db.Model):
    """One visit of a lead: at the branch or at home, stored in UTC, shown in the branch zone."""

    __tablename__ = "appointment"
    __table_args__ = (
        CheckConstraint(f"kind IN ({_sql_list(AppointmentKind)})", name="kind_known"),
        CheckConstraint(f"status IN ({_sql_list(AppointmentStatus)})", name="status_known"),
        # The day's list of a branch, and the reminders' scan.
        Index("ix_appointment_branch_starts", "branch_id", "starts_at"),
        # "My day": the day's booked appointments, whoever's branch.
        Index("ix_appointment_status_starts", "status", "starts_at"),
        # A clinician's clashes.
        Index("ix_appointment_clinician_starts", "clinician_id", "starts_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"), index=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    minutes: Mapped[int] = mapped_column(default=45)
    kind: Mapped[str] = mapped_column(String(10), default=AppointmentKind.CLINIC)
    # Home visits only; erased with the person.
    address: Mapped[str | None] = mapped_column(Text)
    clinician_id: Mapped[int | None] = mapped_column(ForeignKey("clinician.id"))
    note: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default=AppointmentStatus.BOOKED)
    cancel_reason: Mapped[str | None] = mapped_column(String(500))
    # The calendar event's identity (.ics UID) stays; its SEQUENCE rises with every change.
    uid: Mapped[str] = mapped_column(String(120), unique=True)
    sequence: Mapped[int] = mapped_column(default=0)
    # The reminder is sent once per appointment and change: for this sequence, at this time.
    reminder_sequence: Mapped[int | None] = mapped_column()
    reminder_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lead: Mapped[Lead] = relationship()
    branch: Mapped[Branch] = relationship()
    clinician: Mapped[Clinician | None] = relationship()

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.minutes)

    @property
    def is_booked(self) -> bool:
        return self.status == AppointmentStatus.BOOKED

    def __repr__(self) -> str:
        return f"<Appointment {self.id} lead={self.lead_id} {self.status}>"
