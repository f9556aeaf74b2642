"""Staff accounts: creating them and checking passwords."""

from __future__ import annotations

from sqlalchemy import select
from werkzeug.security import check_password_hash, generate_password_hash

from crm.database import write_transaction
from crm.extensions import db
from crm.leads.contact import InvalidContact, normalise_email
from crm.models import Branch, Role, StaffUser

MIN_PASSWORD_LENGTH = 12


class AccountError(ValueError):
    """The account cannot be created or changed as asked; the message says why."""


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
    name = " ".join(name.split())
    if not name:
        raise AccountError("A name is required.")
    check_password_strength(password)

    with write_transaction() as session:
        if session.scalar(select(StaffUser.id).where(StaffUser.email == address)):
            raise AccountError(f"An account for {address} already exists.")
        branch = None
        if role == Role.ADMIN:
            if branch_slug:
                raise AccountError("Admins see every branch; do not give them one.")
        else:
            if not branch_slug:
                raise AccountError(f"A {role.value} needs a branch (--branch).")
            branch = session.scalar(select(Branch).where(Branch.slug == branch_slug))
            if branch is None:
                raise AccountError(f"There is no branch {branch_slug!r}.")
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
