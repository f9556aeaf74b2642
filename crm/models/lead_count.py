from __future__ import annotations

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from crm.platform.extensions import db


class LeadStatusCount(db.Model):
    """How many leads a branch has in each status, merged leads left out (as ``visible_leads``
    leaves them out), so the dashboard reads a handful of rows, not every lead of the branch.

    Written only by database triggers (migration 9c4d2e7f1a36), in the same transaction as the
    change to the lead that moves it, whoever makes the change.
    """

    __tablename__ = "lead_status_count"

    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(30), primary_key=True)
    leads: Mapped[int] = mapped_column(default=0)
