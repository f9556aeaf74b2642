"""At most one acknowledgement to an email address a day.

The form takes any address, and nobody has proven it is the visitor's own. Without a limit, the
acknowledgement would let a stranger have our server write to someone again and again. The
enquiry and the branch alert are never limited here; only the mail to that address is.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from crm.models import EmailKind, OutboxEmail

INTERVAL = timedelta(hours=24)
# Stored on the lead's timeline when one is not sent; the staff page words it.
SKIPPED_RECENTLY = "recently_acknowledged"


def may_acknowledge(session: Session, address: str, now: datetime) -> bool:
    """True unless an acknowledgement to ``address`` was queued in the last 24 hours.

    On PostgreSQL, intake is serialised per address for the rest of the transaction, so two
    simultaneous enquiries (different phones, different branches) cannot both pass the check;
    SQLite's immediate transactions already admit one writer at a time.
    """
    if session.get_bind().dialect.name == "postgresql":
        digest = hashlib.blake2b(f"ack:{address}".encode(), digest_size=8).digest()
        key = int.from_bytes(digest, "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
    recent = session.scalar(_RECENT, {"address": address, "since": now - INTERVAL})
    return recent is None


_RECENT = (
    select(OutboxEmail.id)
    .where(
        OutboxEmail.to_address == bindparam("address"),
        OutboxEmail.kind == EmailKind.ACKNOWLEDGEMENT,
        OutboxEmail.created_at > bindparam("since", type_=OutboxEmail.created_at.type),
    )
    .limit(1)
)
