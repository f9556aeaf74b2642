"""Queue an email in the caller's transaction: it commits, or rolls back, with the change."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from email.utils import parseaddr

from flask import current_app
from sqlalchemy.orm import Session

from crm.database import utcnow
from crm.models import OutboxEmail, OutboxStatus

_LINE_BREAKS = re.compile(r"[\r\n\x00-\x1f\x7f\u2028\u2029\x85]+")


def single_line(value: str, limit: int = 200) -> str:
    """Text fit for a header: every line break and control character becomes one space."""
    return _LINE_BREAKS.sub(" ", value).strip()[:limit]


def new_message_id() -> str:
    sender = current_app.config["MAIL_DEFAULT_SENDER"] or ""
    _name, address = parseaddr(sender if isinstance(sender, str) else sender[1])
    domain = address.rpartition("@")[2] or "localhost"
    return f"<{uuid.uuid4().hex}@{domain}>"


def queue_email(
    session: Session,
    *,
    kind: str,
    to: str,
    subject: str,
    text_body: str,
    html_body: str | None = None,
    lead_id: int | None = None,
    not_before: datetime | None = None,
) -> OutboxEmail:
    email = OutboxEmail(
        lead_id=lead_id,
        kind=kind,
        to_address=single_line(to, 254),
        subject=single_line(subject, 255),
        text_body=text_body,
        html_body=html_body,
        status=OutboxStatus.PENDING,
        attempts=0,
        next_attempt_at=not_before or utcnow(),
        message_id=new_message_id(),
    )
    session.add(email)
    return email
