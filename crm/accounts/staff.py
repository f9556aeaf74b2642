"""Staff accounts: creating them and checking passwords."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from crm.models import Branch, Role, StaffSession, StaffSignInAddress, StaffUser
from crm.platform.contact import InvalidContact, clean_text, normalise_email, unsafe_characters
from crm.platform.database import utcnow, write_transaction
from crm.platform.extensions import db
from crm.policy import (
    administers,
    administrators,
    can_manage_staff,
    changes_powers,
    needs_branch,
)

MIN_PASSWORD_LENGTH = 12


class AccountError(ValueError):
    """The account cannot be created or changed as asked; the message says why."""


class AccountNotFound(AccountError):
    """No such account."""


def staff_by_email(typed: str | None) -> StaffUser | None:
    """The staff account with this email however it was typed (case, spaces), or None; an
    address that is not an email at all matches nobody."""
    try:
        address = normalise_email(typed)
    except InvalidContact:
        return None
    if not address:
        return None
    return db.session.scalar(select(StaffUser).where(StaffUser.email == address))


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def password_matches(user: StaffUser, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"The password must be at least {MIN_PASSWORD_LENGTH} characters long.")
    if password.strip() != password or not password.isprintable():
        raise AccountError(
            "The password must not start or end with spaces or hold control characters."
        )


def create_staff_user(
    *, email: str, name: str, role: str, branch_slug: str | None, password: str
) -> StaffUser:
    """Create an account; agents and managers belong to a branch, admins to none."""
    try:
        address = normalise_email(email)
    except InvalidContact as error:
        raise AccountError(f"{email!r} is not a valid email address.") from error
    if not address:
        raise AccountError("An email address is required.")
    try:
        role = Role(role)
    except ValueError as error:
        raise AccountError(f"Role must be one of: {', '.join(r.value for r in Role)}.") from error
    name = _staff_name(name)
    check_password_strength(password)

    with write_transaction() as session:
        if session.scalar(select(StaffUser.id).where(StaffUser.email == address)):
            raise AccountError(f"An account for {address} already exists.")
        branch = _branch_for(session, role, branch_slug)
        user = StaffUser(
            email=address,
            name=name,
            role=role.value,
            branch_id=branch.id if branch else None,
            password_hash=hash_password(password),
            active=True,
        )
        session.add(user)
    db.session.refresh(user)
    return user


def _staff_name(name: str | None) -> str:
    name = clean_text(name)
    if not name:
        raise AccountError("A name is required.")
    if unsafe_characters(name):
        raise AccountError("Please remove invisible or control characters from the name.")
    if len(name) > 120:
        raise AccountError("Please keep the name under 120 characters.")
    return name


def end_all_sessions(session: Session, user_id: int, now: datetime) -> None:
    """Within the caller's transaction: every live session of this person ends."""
    session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.ended_at.is_(None))
        .values(ended_at=now)
    )


def staff_accounts() -> list[StaffUser]:
    """Every staff account for the admin's list: active ones first, then by name."""
    return list(
        db.session.scalars(select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.name))
    )


def staff_account(user_id: int) -> StaffUser:
    person = db.session.get(StaffUser, user_id)
    if person is None:
        raise AccountNotFound("There is no such account.")
    return person


def _require_admin(actor: StaffUser) -> None:
    if not can_manage_staff(actor):
        raise AccountError("Only an administrator can manage staff accounts.")


def _branch_for(session: Session, role: Role, branch_slug: str | None) -> Branch | None:
    if not needs_branch(role):
        if branch_slug:
            raise AccountError("Admins see every branch; do not give them one.")
        return None
    if not branch_slug:
        raise AccountError(f"A {role.value} needs a branch (--branch).")
    branch = session.scalar(select(Branch).where(Branch.slug == branch_slug))
    if branch is None:
        raise AccountError(f"There is no branch {branch_slug!r}.")
    return branch


def _other_active_admins(session: Session, user_id: int) -> int:
    return session.scalar(
        select(func.count(StaffUser.id)).where(
            administrators(), StaffUser.active.is_(True), StaffUser.id != user_id
        )
    )


def update_staff_user(
    actor: StaffUser, user_id: int, *, name: str, role: str, branch_slug: str | None
) -> StaffUser:
    """Change someone's name, role or branch. Changing role or branch ends their sessions."""
    _require_admin(actor)
    try:
        new_role = Role(role)
    except ValueError as error:
        raise AccountError("Please choose a role.") from error
    name = _staff_name(name)
    with write_transaction() as session:
        user = staff_account(user_id)
        branch = _branch_for(session, new_role, branch_slug)
        demoting_an_admin = administers(user.role) and not administers(new_role) and user.active
        if demoting_an_admin and not _other_active_admins(session, user.id):
            raise AccountError("At least one active administrator must remain.")
        changed_scope = changes_powers(user, new_role, branch.id if branch else None)
        user.name = name
        user.role = new_role.value
        user.branch_id = branch.id if branch else None
        if changed_scope:
            end_all_sessions(session, user.id, utcnow())
    return user


def set_staff_active(actor: StaffUser, user_id: int, active: bool) -> StaffUser:
    """Deactivate (ending every live session at once) or reactivate an account."""
    _require_admin(actor)
    with write_transaction() as session:
        user = staff_account(user_id)
        if not active:
            if user.id == actor.id:
                raise AccountError("You cannot deactivate your own account.")
            if administers(user.role) and not _other_active_admins(session, user.id):
                raise AccountError("At least one active administrator must remain.")
            end_all_sessions(session, user.id, utcnow())
        user.active = active
    return user


def reset_staff_password(actor: StaffUser, user_id: int, password: str) -> StaffUser:
    """Set a new password chosen by the admin; the person's existing sessions end."""
    _require_admin(actor)
    check_password_strength(password)
    with write_transaction() as session:
        user = staff_account(user_id)
        user.password_hash = hash_password(password)
        end_all_sessions(session, user.id, utcnow())
        # No place is trusted after a reset: whoever signed in with the old password may be
        # why it was reset, and a known address gets past the per-account sign-in limit.
        session.execute(delete(StaffSignInAddress).where(StaffSignInAddress.user_id == user.id))
    return user
