"""What the staff pages and ``/healthz`` show about email: per lead, and for the whole outbox.

``emails_for_lead`` has no scoping of its own: the caller has already decided the person may
see the lead. The outbox figures are scoped when a staff member asks: they count only the emails
about leads that person sees (``visible_leads``), so a branch hears of its own mail trouble only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import func, select, true

from crm.database import utcnow
from crm.extensions import db
from crm.leads.queries import visible_lead_ids
from crm.models import OutboxEmail, OutboxStatus, StaffUser
from crm.policy import sees_all_branches

KIND_LABELS = {
    "lead_alert": "Alert to the branch",
    "acknowledgement": "Acknowledgement to the visitor",
    "followup_digest": "Follow-up digest",
}

STATUS_LABELS = {
    OutboxStatus.PENDING: "Waiting to be sent",
    OutboxStatus.SENDING: "Being sent",
    OutboxStatus.SENT: "Sent",
    OutboxStatus.FAILED: "Could not be sent",
}

WAITING = (OutboxStatus.PENDING, OutboxStatus.SENDING)


@dataclass(frozen=True)
class EmailState:
    """One email about a lead, as the lead page shows it."""

    id: int
    kind: str  # "lead_alert", "acknowledgement", ...
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


@dataclass(frozen=True)
class OutboxHealth:
    pending: int  # not yet delivered: waiting or being sent right now
    failed: int  # given up on, ever (until queued again with `crm outbox retry`)
    recent_failed: int  # of those, given up on within the last OUTBOX_WARN_FAILED_DAYS
    oldest_pending_at: datetime | None  # when the oldest undelivered email was queued
    oldest_pending_age_seconds: int | None
    warning: str | None  # a sentence for the dashboard, or None when all is well

    def as_dict(self) -> dict[str, object]:
        return {
            "pending": self.pending,
            "failed": self.failed,
            "oldest_pending_age_seconds": self.oldest_pending_age_seconds,
            "warning": self.warning,
        }


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
            kind_label=KIND_LABELS.get(row.kind, row.kind.replace("_", " ").capitalize()),
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


def outbox_health(now: datetime | None = None, viewer: StaffUser | None = None) -> OutboxHealth:
    """The backlog in numbers, and a warning when mail has failed or waited too long.

    Without a ``viewer`` (``/healthz``, the operator) the whole outbox counts; an admin sees the
    same. Other staff count only emails about the leads they see.
    """
    now = now or utcnow()
    config = current_app.config
    failed_since = now - timedelta(days=float(config["OUTBOX_WARN_FAILED_DAYS"]))
    in_scope = (
        OutboxEmail.lead_id.in_(visible_lead_ids(viewer))
        if viewer is not None and not sees_all_branches(viewer)
        else true()
    )
    pending, oldest = db.session.execute(
        select(func.count(OutboxEmail.id), func.min(OutboxEmail.created_at)).where(
            OutboxEmail.status.in_(WAITING), in_scope
        )
    ).one()
    failed, recent_failed = db.session.execute(
        select(
            func.count(OutboxEmail.id),
            # claimed_at is the time of the last attempt, the one that gave up.
            func.count(OutboxEmail.id).filter(
                func.coalesce(OutboxEmail.claimed_at, OutboxEmail.created_at) >= failed_since
            ),
        ).where(OutboxEmail.status == OutboxStatus.FAILED, in_scope)
    ).one()
    age = max(int((now - oldest).total_seconds()), 0) if oldest is not None else None
    return OutboxHealth(
        pending=pending,
        failed=failed,
        recent_failed=recent_failed,
        oldest_pending_at=oldest,
        oldest_pending_age_seconds=age,
        warning=_warning(recent_failed, age, float(config["OUTBOX_WARN_PENDING_MINUTES"]), pending),
    )


def _warning(recent_failed: int, age: int | None, limit_minutes: float, pending: int) -> str | None:
    problems = []
    if recent_failed:
        problems.append(
            f"{recent_failed} email{'s' if recent_failed != 1 else ''} could not be sent "
            "(see the lead pages for the reason)"
        )
    if age is not None and age > limit_minutes * 60:
        problems.append(
            f"{pending} email{'s' if pending != 1 else ''} waiting to be sent, "
            f"the oldest for {_duration(age)}: check that the outbox worker is running and "
            "the mail server is reachable"
        )
    if not problems:
        return None
    sentence = "; ".join(problems)
    return sentence[0].upper() + sentence[1:] + "."


def _duration(seconds: int) -> str:
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes} minutes"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hours"
    return f"{hours // 24} days"
