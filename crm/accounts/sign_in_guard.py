"""What keeps guessing at a staff password slow without letting a stranger lock the owner out.

Three counters of failed sign-ins (Flask-Limiter, see ``crm.limits``): per address, per
(account, address), and per account over every address. A stranger's failures fill only their
own (account, address) counter, so the owner elsewhere is unaffected. The per-account counter
stops a guesser who spreads over many addresses; even then, an address the account has signed
in from before still gets in with the right password (we keep keyed hashes of the last few).
And the account holder hears about it: an email once per window when failures pass a threshold.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from limits import parse
from sqlalchemy import delete, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from crm.mail.compose import Message, render_message
from crm.mail.outbox import queue_message
from crm.models import EmailKind, StaffSignInAddress, StaffUser
from crm.platform.contact import InvalidContact, normalise_email
from crm.platform.database import utcnow, write_transaction
from crm.platform.extensions import db, limiter


def account_name(typed: str | None) -> str:
    """The account an attempt is for, however it was typed: " Admin@Clinic.Example " is one."""
    try:
        return normalise_email(typed) or ""
    except InvalidContact:
        return (typed or "").strip().casefold()


def account_digest(typed: str | None) -> str:
    # Limiter storage (e.g. Redis) need not hold staff emails in clear.
    return hashlib.sha256(account_name(typed).encode()).hexdigest()[:32]


def is_known_address(typed_email: str | None, address_hash: str) -> bool:
    """Has the account this email names signed in from this address before? One query
    whether or not the account exists, so the answer's timing tells nothing about that."""
    return (
        db.session.scalar(
            select(StaffSignInAddress.id)
            .join(StaffUser, StaffUser.id == StaffSignInAddress.user_id)
            .where(
                StaffUser.email == account_name(typed_email),
                StaffSignInAddress.address_hash == address_hash,
            )
            .limit(1)
        )
        is not None
    )


def remember_address(session: Session, user_id: int, address_hash: str) -> None:
    """Within the caller's transaction: note a successful sign-in from this address, keeping
    only the ``SIGN_IN_ADDRESSES_KEPT`` most recent addresses of the person."""
    now = utcnow()
    insert = postgresql_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    # An upsert: two sign-ins from one place at once must not fail on the unique constraint.
    statement = insert(StaffSignInAddress).values(
        user_id=user_id, address_hash=address_hash, last_signed_in_at=now
    )
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["user_id", "address_hash"], set_={"last_signed_in_at": now}
        )
    )
    kept = (
        select(StaffSignInAddress.id)
        .where(StaffSignInAddress.user_id == user_id)
        .order_by(StaffSignInAddress.last_signed_in_at.desc(), StaffSignInAddress.id.desc())
        .limit(current_app.config["SIGN_IN_ADDRESSES_KEPT"])
    )
    session.execute(
        delete(StaffSignInAddress).where(
            StaffSignInAddress.user_id == user_id, StaffSignInAddress.id.not_in(kept)
        )
    )


def note_failed_sign_in(typed_email: str | None, user: StaffUser | None) -> None:
    """Count a wrong password for this account and, once per window past the threshold, tell
    the account holder. Unknown accounts are counted the same way (so timing tells nothing)
    and never emailed."""
    if not limiter.enabled:
        return
    threshold = parse(current_app.config["SIGN_IN_ALERT_AFTER"])
    digest = account_digest(typed_email)
    limiter.limiter.hit(threshold, "sign-in-alert-count", digest)
    if limiter.limiter.test(threshold, "sign-in-alert-count", digest):
        return  # fewer than the threshold in this window
    once = type(threshold)(1, threshold.multiples)
    if not limiter.limiter.hit(once, "sign-in-alert-sent", digest):
        return  # told already in this window
    if user is None or not user.active:
        return
    message = sign_in_alert(user, failures=threshold.amount, window=_window(threshold))
    with write_transaction() as session:
        queue_message(
            session,
            message,
            kind=EmailKind.SIGN_IN_ALERT,
            to=user.email,
        )


def sign_in_alert(user: StaffUser, *, failures: int, window: str) -> Message:
    """To the account holder whose password is being guessed at. It never repeats what was
    typed: a wrong guess can be a near miss of the real password."""
    return render_message(
        "sign_in_alert",
        f"Someone is trying to sign in to your {current_app.config['CLINIC_NAME']} account",
        user=user,
        failures=failures,
        window=window,
    )


def _window(item) -> str:  # type: ignore[no-untyped-def]
    unit = item.GRANULARITY.name
    return f"{item.multiples} {unit}s" if item.multiples != 1 else f"{unit}"
