"""Staff accounts and leads for tests, created through the project's own operations."""

from __future__ import annotations

from datetime import datetime
from functools import cache

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from werkzeug.test import TestResponse

from crm.accounts.auth import start_session
from crm.accounts.staff import hash_password
from crm.leads.capture import Submission, capture_lead
from crm.models import Branch, Lead, StaffUser
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.helpers import form_fields

PASSWORD = "correct horse battery staple"


@cache
def _password_hash() -> str:
    """One real scrypt hash for the whole run: every test account shares the password."""
    return hash_password(PASSWORD)


def make_staff(
    app: Flask, role: str, branch: str | None, *, name: str | None = None, email: str | None = None
) -> int:
    with app.app_context():
        branch_id = (
            db.session.scalar(select(Branch.id).where(Branch.slug == branch)) if branch else None
        )
        name = name or f"{role.title()} {branch or 'all'}"
        user = StaffUser(
            email=email or f"{'.'.join(name.lower().split())}.{branch or 'all'}@clinic.example",
            name=name,
            role=role,
            branch_id=branch_id,
            password_hash=_password_hash(),
            active=True,
        )
        db.session.add(user)
        db.session.commit()
        return user.id


def staff_cast(app: Flask) -> dict[str, int]:
    """An agent and a manager in each branch, and an administrator."""
    return {
        "hyd_agent": make_staff(app, "agent", "hyderabad", name="Hari Agent"),
        "hyd_manager": make_staff(app, "manager", "hyderabad", name="Hema Manager"),
        "blr_agent": make_staff(app, "agent", "bengaluru", name="Bala Agent"),
        "blr_manager": make_staff(app, "manager", "bengaluru", name="Bina Manager"),
        "admin": make_staff(app, "admin", None, name="Ada Admin"),
    }


def email_of(app: Flask, user_id: int) -> str:
    with app.app_context():
        return db.session.get(StaffUser, user_id).email


def sign_in(
    client: FlaskClient, app: Flask, user_id: int, password: str = PASSWORD
) -> TestResponse:
    fields = form_fields(client.get("/staff/login").get_data(as_text=True), ("method", "post"))
    fields.update(email=email_of(app, user_id), password=password)
    return client.post("/staff/login", data=fields)


def enter_as(client: FlaskClient, app: Flask, user_id: int) -> FlaskClient:
    """Start a real server-side session for the person and hand its cookie to ``client``.

    The same thing a sign-in does after the password check; tests of the sign-in itself use
    ``sign_in``, the rest skip the deliberately slow password hash.
    """
    with app.app_context():
        token = start_session(db.session.get(StaffUser, user_id))
    with client.session_transaction() as cookie:
        cookie["_user_id"] = token
        cookie["_fresh"] = True
    return client


def csrf_token(client: FlaskClient, page: str = "/staff/") -> str:
    """The CSRF token a signed-in page carries (every staff page has the sign-out form)."""
    html = client.get(page).get_data(as_text=True)
    return form_fields(html, ("action", "/staff/logout"))["csrf_token"]


_counter = iter(range(10_000, 99_999))


def make_lead(
    app: Flask,
    branch: str = "bengaluru",
    *,
    name: str = "Test Person",
    phone: str | None = None,
    email: str | None = None,
    interest: str | None = "back_pain",
    message: str | None = "Please call me.",
    source_page: str | None = "/",
    utm: dict[str, str] | None = None,
    utm_source: str | None = None,
    at: datetime | None = None,
    language: str = "en",
) -> int:
    """A lead as the website would create it: one submission stored by the real intake."""
    serial = next(_counter)
    with app.app_context():
        result = capture_lead(
            Submission(
                name=name,
                phone=phone or f"+9198450{serial:05d}",
                email=email,
                branch_slug=branch,
                interest=interest,
                message=message,
                submission_token=f"test-token-{serial:05d}-xxxxxx",
                consent_version="2026-11-01",
                received_at=at or utcnow(),
                source_page=source_page,
                utm=utm or ({"utm_source": utm_source} if utm_source else {}),
                language=language,
            )
        )
        return result.lead_id


def lead_state(app: Flask, lead_id: int) -> dict[str, object]:
    with app.app_context():
        lead = db.session.get(Lead, lead_id)
        return {
            "status": lead.status,
            "assignee_id": lead.assignee_id,
            "version": lead.version,
            "lost_reason": lead.lost_reason,
            "first_response_at": lead.first_response_at,
            "next_follow_up_at": lead.next_follow_up_at,
            "events": len(lead.events),
        }
