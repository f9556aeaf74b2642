"""The state of the outbox in figures, for ``/healthz`` and the staff dashboard.

The figures cover the whole outbox, or only the emails about some leads (``lead_ids``), so a
branch hears of its own mail trouble only: ``crm.leads.email_status`` decides which leads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import Select, func, select, true

from crm.models import OutboxEmail, OutboxStatus
from crm.platform.database import utcnow
from crm.platform.extensions import db

STATUS_LABELS = {
    OutboxStatus.PENDING: "Waiting to be sent",
    OutboxStatus.SENDING: "Being sent",
    OutboxStatus.SENT: "Sent",
    OutboxStatus.FAILED: "Could not be sent",
}

WAITING = (OutboxStatus.PENDING, OutboxStatus.SENDING)


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


def outbox_health(
    now: datetime | None = None, *, lead_ids: Select[tuple[int]] | None = None
) -> OutboxHealth:
    """The backlog in numbers, and a warning when mail has failed or waited too long.

    Without ``lead_ids`` (``/healthz``, the operator, an admin) the whole outbox counts; with a
    query of lead ids, only the emails about those leads.
    """
    now = now or utcnow()
    config = current_app.config
    failed_since = now - timedelta(days=float(config["OUTBOX_WARN_FAILED_DAYS"]))
    in_scope = OutboxEmail.lead_id.in_(lead_ids) if lead_ids is not None else true()
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
