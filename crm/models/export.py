from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.platform.database import UTCDateTime, utcnow
from crm.platform.extensions import db

if TYPE_CHECKING:
    from crm.models.branch import Branch
    from crm.models.staff import StaffUser


class ExportFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"


class ExportStatus(StrEnum):
    STARTED = "started"  # rows are being written (or the process died while writing them)
    COMPLETED = "completed"
    INTERRUPTED = "interrupted"  # the download was abandoned part-way
    FAILED = "failed"


class ExportRecord(db.Model):
    """One export of leads: who ran it, with which filters, and how many rows left the CRM.

    Written before the first row is sent, so even an abandoned download leaves a trace, and
    completed once the last row is out. One row per export, never one per lead: an export of a
    million leads must not write a million audit rows.
    """

    __tablename__ = "export_record"
    __table_args__ = (
        CheckConstraint("format IN ('csv', 'xlsx')", name="format_known"),
        CheckConstraint(
            "status IN ('started', 'completed', 'interrupted', 'failed')", name="status_known"
        ),
        # A manager's list: their branch's exports, newest first.
        Index("ix_export_record_branch", "branch_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # None when the export ran from the command line; ``ran_by`` then names the OS account.
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # A snapshot (staff email, or "command line: user@host"): stays true if the account changes.
    ran_by: Mapped[str] = mapped_column(String(300))
    # None means every branch.
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id"))
    filters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    format: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default=ExportStatus.STARTED)
    row_count: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    staff: Mapped[StaffUser | None] = relationship()
    branch: Mapped[Branch | None] = relationship()

    def __repr__(self) -> str:
        return f"<ExportRecord {self.id} {self.format} {self.status}>"
