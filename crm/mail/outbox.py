"""Queue an email in the caller's transaction: it commits, or rolls back, with the change."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from email.utils import parseaddr
from typing import Any

from flask import current_app
from sqlalchemy import insert
from sqlalchemy.orm import Session

from crm.mail.compose import Message
from crm.models import OutboxEmail, OutboxStatus
from crm.platform.database import utcnow

_LINE_BREAKS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def single_line(value: str, limit: int = 200) -> str:
    """Text fit for a header: every line break and control character becomes one space."""
    return _LINE_BREAKS.sub(" ", value).strip()[:limit]


def message_id_domain() -> str:
    sender = current_app.config["MAIL_DEFAULT_SENDER"] or ""
    _name, address = parseaddr(sender if isinstance(sender, str) else sender[1])
    return address.rpartition("@")[2] or "localhost"


def new_message_id() -> str:
    return f"<{uuid.uuid4().hex}@{message_id_domain()}>"


def queue_message(session: Session, message: Message, **options: Any) -> OutboxEmail:
    """``queue_email`` for a composed message: its subject and both bodies, plus ``options``
    (``kind``, ``to``, and any of ``queue_email``'s others)."""
    return queue_email(
        session,
        subject=message.subject,
        text_body=message.text_body,
        html_body=message.html_body,
        **options,
    )


def queue_email(session: Session, **options: Any) -> OutboxEmail:
    """Add an email to the outbox in ``session``; it is sent once that transaction commits.

    The options are ``outbox_values``'s.
    """
    email = OutboxEmail(**outbox_values(**options))
    session.add(email)
    return email


def insert_emails(session: Session, emails: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """Several ``queue_email``s written at once, in one INSERT: their (id, kind), in the order
    given. Each of ``emails`` holds ``outbox_values``'s options.

    The intake's write transaction uses it: an ORM flush costs several times the statement
    it sends, and that time is spent holding the database's write lock.
    """
    if not emails:
        return []
    rows = [outbox_values(**options) for options in emails]
    # Ids grow in the order the rows were inserted, which is the order given.
    return sorted(tuple(row) for row in session.execute(_INSERT_EMAILS, rows))  # type: ignore[misc]


_OUTBOX = OutboxEmail.__table__
_INSERT_EMAILS = insert(_OUTBOX).returning(_OUTBOX.c.id, _OUTBOX.c.kind)


def outbox_values(
    *,
    kind: str,
    to: str,
    subject: str,
    text_body: str,
    html_body: str | None = None,
    reply_to: str | None = None,
    lead_id: int | None = None,
    not_before: datetime | None = None,
    message_id: str | None = None,
    ics: str | None = None,
    compose: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """An outbox row's values.

    ``message_id`` is for messages that must exist at most once (it is unique), such as a
    daily digest; by default every email gets a fresh one. ``reply_to`` is where a
    recipient's answer should go when not to the sender (one plain address). ``ics`` is
    one calendar file (RFC 5545 text) sent as a text/calendar attachment. ``compose``
    (with empty bodies) has the worker render the bodies as it sends, through the composer
    registered for ``kind`` (``crm.mail.compose.on_compose``).
    """
    now = utcnow()
    return {
        "lead_id": lead_id,
        "kind": kind,
        "to_address": single_line(to, 254),
        "subject": single_line(subject, 255),
        "text_body": text_body,
        "html_body": html_body,
        "reply_to": single_line(reply_to, 254) if reply_to else None,
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "next_attempt_at": not_before or now,
        "message_id": message_id or new_message_id(),
        "ics": ics,
        "compose": compose,
        "created_at": now,
    }
