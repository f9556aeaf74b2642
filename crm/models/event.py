from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.platform.database import UTCDateTime, utcnow
from crm.platform.extensions import db

if TYPE_CHECKING:
    from crm.models.lead import Lead
    from crm.models.staff import StaffUser


class EventKind(StrEnum):
    CREATED = "created"
    ENQUIRY = "enquiry"
    STATUS = "status"
    ASSIGNED = "assigned"
    NOTE = "note"
    CALL = "call"
    FOLLOW_UP = "follow_up"
    EMAIL = "email"
    # No "exported": an export is audited once, as an ExportRecord, never once per lead.
    ERASED = "erased"
    MERGED = "merged"
    # A copy of everything held about the person was given to them on request (DPDP §11).
    ACCESS = "access_request"
    # Booked, rescheduled, cancelled, attended, no-show: detail["action"] says which.
    APPOINTMENT = "appointment"


class LeadEvent(db.Model):
    """The lead's timeline and audit trail: who did what, when. Actor None means the system."""

    __tablename__ = "lead_event"
    __table_args__ = (Index("ix_lead_event_lead_created", "lead_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    kind: Mapped[str] = mapped_column(String(20))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lead: Mapped[Lead] = relationship(back_populates="events")
    actor: Mapped[StaffUser | None] = relationship()

    def __repr__(self) -> str:
        return f"<LeadEvent {self.id} {self.kind}>"
