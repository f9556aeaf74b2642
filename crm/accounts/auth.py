"""Staff sign-in: server-side sessions behind Flask-Login.

The session cookie carries a random token; the database keeps only its hash, when it was
created and last used, and whether it has ended. So a logout ends that session for good (an
old copy of the cookie stops working), deactivating someone ends all their sessions, and the
idle and absolute lifetimes hold whatever the browser does.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from functools import cache

from flask import current_app
from flask_login import LoginManager
from sqlalchemy import select, update
from werkzeug.security import check_password_hash

from crm.accounts.sign_in_guard import note_failed_sign_in, remember_address
from crm.accounts.staff import hash_password, password_matches, staff_by_email
from crm.models import StaffSession, StaffUser
from crm.platform.database import utcnow, write_transaction
from crm.platform.extensions import db

# Don't write "last seen" on every request: once a minute is precise enough for idle timeouts.
TOUCH_EVERY = timedelta(minutes=1)


@cache
def _dummy_hash() -> str:
    """Checked when no account matches, so a wrong email takes as long as a wrong password."""
    return hash_password(secrets.token_hex(16))


class SignInRefused(ValueError):
    """Wrong credentials or an inactive account; the message is safe to show."""


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def authenticate(email: str, password: str) -> StaffUser:
    user = staff_by_email(email)
    if user is None:
        check_password_hash(_dummy_hash(), password)
        note_failed_sign_in(email, None)
        raise SignInRefused("The email or password is not right.")
    if not password_matches(user, password):
        note_failed_sign_in(email, user)
        raise SignInRefused("The email or password is not right.")
    if not user.active:
        raise SignInRefused("This account has been deactivated. Please ask your administrator.")
    return user


def start_session(user: StaffUser, *, address_hash: str | None = None) -> str:
    """A new session for a person who just proved who they are. Returns the cookie token.

    ``address_hash`` (``crm.platform.network.hash_client_address``) is where they signed in from: a
    right password from there gets in later even while strangers guess at the account.
    """
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with write_transaction() as session:
        session.add(
            StaffSession(token_hash=_hash(token), user_id=user.id, created_at=now, last_seen_at=now)
        )
        session.execute(update(StaffUser).where(StaffUser.id == user.id).values(last_login_at=now))
        if address_hash:
            remember_address(session, user.id, address_hash)
    return token


def end_session(token: str | None) -> None:
    if not token:
        return
    with write_transaction() as session:
        session.execute(
            update(StaffSession)
            .where(StaffSession.token_hash == _hash(token), StaffSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )


def user_for_token(token: str, now: datetime) -> StaffUser | None:
    record = db.session.scalar(select(StaffSession).where(StaffSession.token_hash == _hash(token)))
    if record is None or record.ended_at is not None:
        return None
    config = current_app.config
    idle = timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=config["SESSION_ABSOLUTE_HOURS"])
    if now - record.last_seen_at > idle or now - record.created_at > absolute:
        end_session(token)
        return None
    user = record.user
    if not user.active:
        return None
    if now - record.last_seen_at > TOUCH_EVERY:
        with write_transaction() as session:
            session.execute(
                update(StaffSession).where(StaffSession.id == record.id).values(last_seen_at=now)
            )
        user = db.session.get(StaffUser, record.user_id)
    user.session_token = token
    return user


def init_login(login_manager: LoginManager) -> None:
    login_manager.login_view = "staff.login"
    login_manager.login_message = "Please sign in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = None  # the server-side session is the protection

    @login_manager.user_loader
    def _load_user(token: str) -> StaffUser | None:
        return user_for_token(token, utcnow())
