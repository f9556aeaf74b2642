"""What the staff pages show about a lead's emails, and the outbox figures a person may see.

``emails_for_lead`` has no scoping of its own: the caller has already decided the person may
see the lead. ``outbox_health_for`` counts only the emails about leads the person sees
(``visible_leads``), so a branch hears of its own mail trouble only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from crm.leads.queries import visible_lead_ids
from crm.mail.status import STATUS_LABELS, OutboxHealth, outbox_health
from crm.models import EmailKind, OutboxEmail, OutboxStatus, StaffUser
from crm.platform.extensions import db
from crm.policy import sees_all_branches


@dataclass(frozen=True)
class EmailState:
    """One email about a lead, as the lead page shows it."""

    id: int
    kind: str  # an EmailKind value: "lead_alert", "acknowledgement", ...
    kind_label: str
    recipient: str
    subject: str
    status: str  # pending | sending | sent | failed
    status_label: str
    attempts: int
    last_error: str | None  # what the mail server said, for pending (retrying) and failed
    created_at: datetime  # aware UTC
    sent_at: datetime | None  # aware UTC
    next_attempt_at: datetime | None  # aware UTC; only while it waits to be (re)tried

    @property
    def failed(self) -> bool:
        return self.status == OutboxStatus.FAILED

    @property
    def retrying(self) -> bool:
        return self.status == OutboxStatus.PENDING and self.attempts > 0


def emails_for_lead(lead_id: int) -> list[EmailState]:
    """Every email queued about this lead, oldest first."""
    rows = db.session.scalars(
        select(OutboxEmail)
        .where(OutboxEmail.lead_id == lead_id)
        .order_by(OutboxEmail.created_at, OutboxEmail.id)
    ).all()
    return [
        EmailState(
            id=row.id,
            kind=row.kind,
            kind_label=EmailKind.describe(row.kind),
            recipient=row.to_address,
            subject=row.subject,
            status=row.status,
            status_label=STATUS_LABELS.get(OutboxStatus(row.status), row.status),
            attempts=row.attempts,
            last_error=row.last_error if row.status != OutboxStatus.SENT else None,
            created_at=row.created_at,
            sent_at=row.sent_at,
            next_attempt_at=row.next_attempt_at if row.status == OutboxStatus.PENDING else None,
        )
        for row in rows
    ]


def outbox_health_for(viewer: StaffUser, now: datetime | None = None) -> OutboxHealth:
    """The outbox figures for ``viewer``: all of them for an admin, else their leads' emails."""
    lead_ids = None if sees_all_branches(viewer) else visible_lead_ids(viewer)
    return outbox_health(now, lead_ids=lead_ids)
