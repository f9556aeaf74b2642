from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from crm.platform.database import UTCDateTime, utcnow
from crm.platform.extensions import db


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class EmailKind(StrEnum):
    """What an outbox email is for; stored in ``OutboxEmail.kind`` and in lead events' details."""

    LEAD_ALERT = "lead_alert"
    ACKNOWLEDGEMENT = "acknowledgement"
    FOLLOWUP_DIGEST = "followup_digest"
    SIGN_IN_ALERT = "sign_in_alert"
    APPOINTMENT_BOOKED = "appointment_booked"
    APPOINTMENT_RESCHEDULED = "appointment_rescheduled"
    APPOINTMENT_CANCELLED = "appointment_cancelled"
    APPOINTMENT_REMINDER = "appointment_reminder"
    ASSIGNEE_ALERT = "assignee_alert"
    ESCALATION = "escalation"

    @property
    def label(self) -> str:
        """As a heading: "Alert to the branch"."""
        return _EMAIL_KIND_LABELS[self][0]

    @property
    def phrase(self) -> str:
        """Inside a sentence: "Email sent: the branch alert."."""
        return _EMAIL_KIND_LABELS[self][1]

    @classmethod
    def describe(cls, kind: str | None, *, phrase: bool = False) -> str:
        """The words for a stored kind, including one this version does not know."""
        try:
            known = cls(kind)
        except ValueError:
            return "an email" if phrase else str(kind or "email").replace("_", " ").capitalize()
        return known.phrase if phrase else known.label


# The one table of how each kind of email is named to staff: (heading, within a sentence).
_EMAIL_KIND_LABELS: dict[EmailKind, tuple[str, str]] = {
    EmailKind.LEAD_ALERT: ("Alert to the branch", "the branch alert"),
    EmailKind.ACKNOWLEDGEMENT: ("Acknowledgement to the visitor", "the visitor's acknowledgement"),
    EmailKind.FOLLOWUP_DIGEST: ("Follow-up digest", "a follow-up digest"),
    EmailKind.SIGN_IN_ALERT: ("Sign-in alert", "a sign-in alert"),
    EmailKind.APPOINTMENT_BOOKED: ("Appointment booked", "the patient's booking confirmation"),
    EmailKind.APPOINTMENT_RESCHEDULED: ("Appointment moved", "the patient's notice of a new time"),
    EmailKind.APPOINTMENT_CANCELLED: ("Appointment cancelled", "the patient's cancellation notice"),
    EmailKind.APPOINTMENT_REMINDER: ("Appointment reminder", "the patient's reminder"),
    EmailKind.ASSIGNEE_ALERT: ("Alert to the assignee", "the assignee's alert"),
    EmailKind.ESCALATION: ("Escalation to the managers", "the managers' escalation"),
}


class OutboxEmail(db.Model):
    """An email committed with the change that caused it, sent later by ``crm outbox send``."""

    __tablename__ = "outbox_email"
    __table_args__ = (
        CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name="status_known"),
        Index("ix_outbox_email_status_due", "status", "next_attempt_at"),
        # What was sent to an address lately: one acknowledgement per address a day.
        Index("ix_outbox_email_to_address_created", "to_address", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The lead it concerns, if any, so the lead page can show what was sent.
    lead_id: Mapped[int | None] = mapped_column(ForeignKey("lead.id"), index=True)
    kind: Mapped[str] = mapped_column(String(30))
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(255))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    # Where a reply goes instead of the (no-reply) sender: the branch, for a visitor.
    reply_to: Mapped[str | None] = mapped_column(String(254))
    # One calendar attachment (RFC 5545 text, its METHOD inside), sent as text/calendar.
    ics: Mapped[str | None] = mapped_column(Text)
    # Rendered by the worker as it sends (``crm.mail.compose.on_compose``): what to render it
    # from, for a row queued with empty bodies. Nothing of it is personal data itself.
    compose: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    # Kept across retries: a resend after a crash is recognisable as the same message.
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<OutboxEmail {self.id} {self.kind} {self.status}>"
