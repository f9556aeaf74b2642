from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.platform.database import UTCDateTime, utcnow
from crm.platform.extensions import db

if TYPE_CHECKING:
    from crm.models.lead import Lead
    from crm.models.staff import StaffUser


class FollowUp(db.Model):
    """A promise to get back to a lead by a given time; done once an outcome is recorded."""

    __tablename__ = "follow_up"
    __table_args__ = (
        Index("ix_follow_up_assignee_open", "assignee_id", "done_at", "due_at"),
        # Overdue follow-ups across a branch: the open ones, by due time.
        Index("ix_follow_up_open_due", "done_at", "due_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(500))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome_note: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    lead: Mapped[Lead] = relationship(back_populates="follow_ups")
    assignee: Mapped[StaffUser | None] = relationship(foreign_keys=[assignee_id])

    def __repr__(self) -> str:
        return f"<FollowUp {self.id} lead={self.lead_id}>"
