"""What became of an outbox email, told to the parts of the application that want to know.

The outbox does not know what its emails are about. A part that cares (the leads, whose
timeline says when an alert went out) registers a listener on the app as it starts; the worker
calls every listener inside the transaction that records the outcome, so the outcome and what
the listeners write commit together, or not at all.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import Flask, current_app
from sqlalchemy.orm import Session

# Besides the OutboxStatus values "sent" and "failed": queued again after failing.
REQUEUED = "requeued"

_LISTENERS = "crm.mail.delivery_listeners"


@dataclass(frozen=True)
class DeliveryOutcome:
    email_id: int
    lead_id: int | None  # the row's lead_id, as queued; the outbox does not read it
    kind: str
    status: str  # "sent", "failed" or "requeued"
    at: datetime  # aware UTC
    attempts: int | None = None  # for sent and failed: the attempts it took
    actor_id: int | None = None  # for requeued: the staff member who asked, if one did


DeliveryListener = Callable[[Session, DeliveryOutcome], None]


def on_delivery_outcome(app: Flask, listener: DeliveryListener) -> None:
    """Call ``listener(session, outcome)`` whenever this app's worker settles an email."""
    listeners: list[DeliveryListener] = app.extensions.setdefault(_LISTENERS, [])
    if listener not in listeners:
        listeners.append(listener)


def tell_listeners(session: Session, outcome: DeliveryOutcome) -> None:
    for listener in current_app.extensions.get(_LISTENERS, ()):
        listener(session, outcome)
