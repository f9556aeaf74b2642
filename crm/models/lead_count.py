from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, String
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


# ``LeadFunnelDay.page`` of a lead whose first enquiry named no page (the pages table leaves
# such leads out; the funnel counts them).
NO_PAGE = ""


class LeadFunnelDay(db.Model):
    """The leads created on one clinic day (``crm.leads.dashboard.REPORT_ZONE``) in one branch,
    from one source and channel, whose first enquiry came from one page; spam and merged leads
    left out, as the dashboard leaves them out. How many of them got to each step of the
    funnel (``crm.leads.dashboard.Funnel``) moves with them.

    Written only by database triggers (migration e1f5a7c3b9d2) in the same transaction as the
    change that moves a lead, whoever makes it; on PostgreSQL they run at commit. A page is
    stored as written, "" for none and "/" for an empty one (which the pages table shows as
    "/"), so that it can be part of the key.
    """

    __tablename__ = "lead_funnel_day"

    branch_id: Mapped[int] = mapped_column(ForeignKey("branch.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    source: Mapped[str] = mapped_column(String(100), primary_key=True)
    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    page: Mapped[str] = mapped_column(String(500), primary_key=True)
    leads: Mapped[int] = mapped_column(default=0)
    contacted: Mapped[int] = mapped_column(default=0)
    booked: Mapped[int] = mapped_column(default=0)
    attended: Mapped[int] = mapped_column(default=0)
