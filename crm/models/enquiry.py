from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.platform.database import UTCDateTime, utcnow
from crm.platform.extensions import db

if TYPE_CHECKING:
    from crm.models.lead import Lead
    from crm.models.staff import StaffUser


class Channel(StrEnum):
    """How an enquiry reached the clinic: the website's form, or staff recording it at the desk."""

    WEB = "web"
    PHONE = "phone"
    WALK_IN = "walk_in"
    WHATSAPP = "whatsapp"
    REFERRAL = "referral"
    OTHER = "other"

    @property
    def label(self) -> str:
        return CHANNEL_LABELS[self]


CHANNEL_LABELS = {
    Channel.WEB: "Website",
    Channel.PHONE: "Phone",
    Channel.WALK_IN: "Walk-in",
    Channel.WHATSAPP: "WhatsApp",
    Channel.REFERRAL: "Referral",
    Channel.OTHER: "Other",
}

# What staff may record at the desk: everything but the form, which only the website sends.
DESK_CHANNELS = tuple(channel for channel in Channel if channel != Channel.WEB)


class Enquiry(db.Model):
    """One accepted submission of the reach-out form, kept as it arrived."""

    __tablename__ = "enquiry"

    id: Mapped[int] = mapped_column(primary_key=True)
    lead_id: Mapped[int] = mapped_column(ForeignKey("lead.id"), index=True)
    # What the visitor typed this time (the lead keeps the current values).
    name: Mapped[str] = mapped_column(String(120))
    # E.164. The phone is who the person is, so a second number of theirs is never dropped;
    # indexed for the inbox search, the intake's match after a merge, and erasure.
    phone: Mapped[str | None] = mapped_column(String(20), index=True)  # None once erased
    email: Mapped[str | None] = mapped_column(String(254))
    interest: Mapped[str | None] = mapped_column(String(60))
    message: Mapped[str | None] = mapped_column(Text)
    source_page: Mapped[str | None] = mapped_column(String(500))
    referrer: Mapped[str | None] = mapped_column(String(500))
    utm_source: Mapped[str | None] = mapped_column(String(200))
    utm_medium: Mapped[str | None] = mapped_column(String(200))
    utm_campaign: Mapped[str | None] = mapped_column(String(200))
    utm_term: Mapped[str | None] = mapped_column(String(200))
    utm_content: Mapped[str | None] = mapped_column(String(200))
    consent_version: Mapped[str] = mapped_column(String(40))
    consented_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Generated into the form when it is rendered: a double submit is stored once.
    submission_token: Mapped[str] = mapped_column(String(64), unique=True)
    user_agent: Mapped[str | None] = mapped_column(String(300))
    client_address_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # Set when the spam defence kept this submission aside (see crm.intake.spam); never alerted.
    filtered_reason: Mapped[str | None] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    channel: Mapped[str] = mapped_column(String(20), default=Channel.WEB, server_default="web")
    # The staff member who took the enquiry (and the person's consent) at the desk; None: the
    # website's form, where the visitor ticked the box themselves.
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_user.id"))
    # The language the person wrote in (the page's, or the one staff chose at the desk), which
    # is also the language of the consent text they agreed to: with consent_version, the exact
    # words are in crm/content/consent.json. Their emails go out in it.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")

    lead: Mapped[Lead] = relationship(back_populates="enquiries")
    recorded_by: Mapped[StaffUser | None] = relationship()

    def __repr__(self) -> str:
        return f"<Enquiry {self.id} lead={self.lead_id}>"
