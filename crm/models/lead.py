from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import CheckConstraint, Float, ForeignKey, Index, String, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.platform.database import UTCDateTime, utcnow
from crm.platform.extensions import db

if TYPE_CHECKING:
    from crm.models.branch import Branch
    from crm.models.enquiry import Enquiry
    from crm.models.event import LeadEvent
    from crm.models.followup import FollowUp
    from crm.models.staff import StaffUser


class LeadStatus(StrEnum):
    NEW = "new"
    CONTACTED = "contacted"
    APPOINTMENT_BOOKED = "appointment_booked"
    VISITED = "visited"
    LOST = "lost"
    SPAM = "spam"

    @property
    def label(self) -> str:
        return STATUS_LABELS[self]


STATUS_LABELS = {
    LeadStatus.NEW: "New",
    LeadStatus.CONTACTED: "Contacted",
    LeadStatus.APPOINTMENT_BOOKED: "Appointment booked",
    LeadStatus.VISITED: "Visited",
    LeadStatus.LOST: "Lost",
    LeadStatus.SPAM: "Spam / filtered",
}

# How a lead is named to people (L-000042): its id, zero-padded. A %-format, so that an export
# can apply it to a column of ids in one ``map``.
REFERENCE_FORMAT = "L-%06d"

OPEN_STATUSES = frozenset({LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.APPOINTMENT_BOOKED})


class LostReason(StrEnum):
    UNREACHABLE = "unreachable"
    PRICE = "price"
    DISTANCE = "distance"
    CHOSE_ANOTHER_CLINIC = "chose_another_clinic"
    NOT_INTERESTED = "not_interested"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ").capitalize()


def _sql_list(values: type[StrEnum]) -> str:
    return ", ".join(f"'{v.value}'" for v in values)


# The indexes the dashboard counts from hold only leads that were not merged: staff reads
# leave merged leads out (``visible_leads``), and a partial index lets them do so while still
# counting from the index alone, without reading a row per lead.
_NOT_MERGED = {
    "sqlite_where": text("merged_into_id IS NULL"),
    "postgresql_where": text("merged_into_id IS NULL"),
}


class Lead(db.Model):
    """The working record for one person at one branch; every submission adds an Enquiry."""

    __tablename__ = "lead"
    __table_args__ = (
        CheckConstraint(f"status IN ({_sql_list(LeadStatus)})", name="status_known"),
        CheckConstraint(
            f"lost_reason IS NULL OR lost_reason IN ({_sql_list(LostReason)})",
            name="lost_reason_known",
        ),
        # The inbox: newest activity first within a branch and status.
        Index(
            "ix_lead_branch_status_activity",
            "branch_id",
            "status",
            "last_enquiry_at",
            "id",
            **_NOT_MERGED,
        ),
        Index("ix_lead_branch_activity", "branch_id", "last_enquiry_at", "id"),
        # Admins' view across branches.
        Index("ix_lead_activity", "last_enquiry_at", "id"),
        Index("ix_lead_branch_follow_up", "branch_id", "next_follow_up_at"),
        # The dashboard (leads per day, conversion, first response) and date filters; the
        # trailing columns let the dashboard count from the index without reading the rows.
        Index(
            "ix_lead_branch_created_status_source",
            "branch_id",
            "created_at",
            "status",
            "source",
            "channel",
            **_NOT_MERGED,
        ),
        # The week's response times read from this index alone: the trailing minutes, and
        # merged_into_id (NULL in every entry) because SQLite 3.40 will not take the partial
        # index's condition as covering the column and reads each row for it otherwise.
        Index(
            "ix_lead_branch_first_response_minutes",
            "branch_id",
            "first_response_at",
            "created_at",
            "first_response_minutes",
            "merged_into_id",
            **_NOT_MERGED,
        ),
        # "My day": a person's new leads, oldest first, without reading their branch's.
        Index(
            "ix_lead_assignee_status_created", "assignee_id", "status", "created_at", **_NOT_MERGED
        ),
        Index("ix_lead_branch_phone", "branch_id", "phone"),
        Index("ix_lead_branch_email", "branch_id", "email"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"))
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(20))  # E.164; empty once erased
    email: Mapped[str | None] = mapped_column(String(254))  # normalised
    interest: Mapped[str | None] = mapped_column(String(60))
    # Where the person first came from: the first enquiry's utm_source, else "direct".
    source: Mapped[str] = mapped_column(String(100), default="direct")
    # How the person first reached the clinic (crm.models.enquiry.Channel).
    channel: Mapped[str] = mapped_column(String(20), default="web", server_default="web")
    status: Mapped[str] = mapped_column(String(30), default=LeadStatus.NEW)
    lost_reason: Mapped[str | None] = mapped_column(String(30))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"), index=True)
    next_follow_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Working minutes from arrival to first_response_at under the branch's opening hours of
    # that moment (crm.leads.response_time), written with it; the dashboard's median reads it.
    first_response_minutes: Mapped[float | None] = mapped_column(Float)
    # When the branch's managers were told nobody had responded in time (crm leads escalate).
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    enquiry_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # When the person last wrote to us: a repeat enquiry brings the lead back to the top.
    last_enquiry_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Bumped by every staff change; a form carrying an older version is stale.
    version: Mapped[int] = mapped_column(default=1)
    # Set when a manager merged this lead into another one (the same person): its enquiries,
    # events and follow-ups live there now, and staff reads leave it out (``visible_leads``).
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id"), index=True)
    # Copies of what the dashboard's funnel and pages table count a lead by, kept on the lead
    # by triggers on enquiry and appointment (migration e1f5a7c3b9d2) so that the lead's own
    # row says where it stands and the per-day counts (``LeadFunnelDay``) move with it: the
    # page of its first enquiry (lowest id), whether it has had an appointment, and whether it
    # came to one. The application writes none of them, except the intake giving a new lead
    # its first page (the value the trigger would set) to spare the lead a second write.
    first_page: Mapped[str | None] = mapped_column(String(500))
    had_appointment: Mapped[bool] = mapped_column(default=False, server_default=false())
    attended_appointment: Mapped[bool] = mapped_column(default=False, server_default=false())

    branch: Mapped[Branch] = relationship()
    assignee: Mapped[StaffUser | None] = relationship()
    enquiries: Mapped[list[Enquiry]] = relationship(
        back_populates="lead", order_by="Enquiry.created_at"
    )
    events: Mapped[list[LeadEvent]] = relationship(
        back_populates="lead", order_by="LeadEvent.created_at"
    )
    follow_ups: Mapped[list[FollowUp]] = relationship(
        back_populates="lead", order_by="FollowUp.due_at"
    )

    @property
    def reference(self) -> str:
        return REFERENCE_FORMAT % self.id

    @property
    def is_merged(self) -> bool:
        return self.merged_into_id is not None

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def __repr__(self) -> str:
        return f"<Lead {self.id} {self.status}>"
