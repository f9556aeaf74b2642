"""Staff sign-in and sign-out, sessions and their lifetimes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from crm.models import StaffSession, StaffUser
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.helpers import form_fields
from tests.staff_helpers import PASSWORD, csrf_token, make_staff, sign_in


@pytest.fixture
def agent(app) -> int:
    return make_staff(app, "agent", "hyderabad", name="Asha Rao")


def is_signed_in(client) -> bool:
    response = client.get("/staff/")
    return response.status_code == 200 and "Sign out" in response.get_data(as_text=True)


def test_signing_in_leads_to_the_dashboard(client, app, agent):
    response = sign_in(client, app, agent)
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/"
    page = client.get("/staff/").get_data(as_text=True)
    assert "Asha Rao" in page and "Dashboard" in page
    with app.app_context():
        assert db.session.get(StaffUser, agent).last_login_at is not None


def test_staff_pages_need_sign_in(client):
    response = client.get("/staff/leads?status=new")
    assert response.status_code == 302
    assert response.headers["Location"] == "/staff/login?next=/staff/leads?status%3Dnew"
    assert client.get("/staff/", headers={"Accept": "application/json"}).status_code == 401


@pytest.mark.parametrize(
    ("email", "password"),
    [("asha", "wrong password"), ("nobody@clinic.example", PASSWORD), ("not an email", PASSWORD)],
)
def test_wrong_credentials_are_refused_with_one_message(client, app, agent, email, password):
    fields = form_fields(client.get("/staff/login").get_data(as_text=True), ("method", "post"))
    with app.app_context():
        real = db.session.get(StaffUser, agent).email
    fields.update(email=real if email == "asha" else email, password=password)
    response = client.post("/staff/login", data=fields)
    assert response.status_code == 401
    assert "The email or password is not right." in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_an_inactive_account_cannot_sign_in(client, app, agent):
    with app.app_context():
        db.session.execute(update(StaffUser).where(StaffUser.id == agent).values(active=False))
        db.session.commit()
    response = sign_in(client, app, agent)
    assert response.status_code == 401
    assert "deactivated" in response.get_data(as_text=True)
    assert not is_signed_in(client)


def test_sign_out_ends_the_session_even_for_a_copied_cookie(client, app, agent):
    sign_in(client, app, agent)
    stolen = client.get_cookie("session").value
    response = client.post("/staff/logout", data={"csrf_token": csrf_token(client)})
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/login"
    assert not is_signed_in(client)

    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert not is_signed_in(replay)
    with app.app_context():
        assert db.session.scalar(select(StaffSession.ended_at)) is not None


def test_sign_out_needs_post_and_a_csrf_token(client, app, agent):
    sign_in(client, app, agent)
    assert client.get("/staff/logout").status_code == 405
    assert client.post("/staff/logout").status_code == 400
    assert is_signed_in(client)


def test_the_session_is_renewed_at_sign_in(client, app, agent):
    client.get("/staff/login")
    before = client.get_cookie("session").value
    token_before = form_fields(
        client.get("/staff/login").get_data(as_text=True), ("method", "post")
    )["csrf_token"]
    sign_in(client, app, agent)
    after = client.get_cookie("session").value
    assert after != before
    # The pre-login CSRF token belonged to the old session and is no longer accepted.
    assert client.post("/staff/logout", data={"csrf_token": token_before}).status_code == 400
    with app.app_context():
        sessions = db.session.scalars(select(StaffSession)).all()
        assert len(sessions) == 1 and sessions[0].ended_at is None


def test_two_sign_ins_are_two_sessions_and_logout_ends_only_one(app, agent):
    phone, desk = app.test_client(), app.test_client()
    sign_in(phone, app, agent)
    sign_in(desk, app, agent)
    phone.post("/staff/logout", data={"csrf_token": csrf_token(phone)})
    assert not is_signed_in(phone)
    assert is_signed_in(desk)


@pytest.mark.parametrize(
    ("column", "age"),
    [("last_seen_at", timedelta(minutes=61)), ("created_at", timedelta(hours=12, minutes=1))],
)
def test_idle_and_absolute_lifetimes_end_the_session(client, app, agent, column, age):
    sign_in(client, app, agent)
    assert is_signed_in(client)
    with app.app_context():
        db.session.execute(update(StaffSession).values({column: utcnow() - age}))
        db.session.commit()
    response = client.get("/staff/leads")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/staff/login")


def test_lifetimes_are_configurable(app, agent):
    app.config["SESSION_IDLE_MINUTES"] = 5
    client = app.test_client()
    sign_in(client, app, agent)
    with app.app_context():
        db.session.execute(
            update(StaffSession).values(last_seen_at=utcnow() - timedelta(minutes=6))
        )
        db.session.commit()
    assert not is_signed_in(client)


def test_activity_keeps_a_session_alive(client, app, agent):
    sign_in(client, app, agent)
    with app.app_context():
        db.session.execute(
            update(StaffSession).values(last_seen_at=utcnow() - timedelta(minutes=50))
        )
        db.session.commit()
    assert is_signed_in(client)
    with app.app_context():
        seen = db.session.scalar(select(StaffSession.last_seen_at))
        assert utcnow() - seen < timedelta(minutes=1)


@pytest.mark.parametrize(
    ("target", "lands"),
    [
        ("/staff/leads?status=new", "/staff/leads?status=new"),
        ("//evil.example/staff/", "/staff/"),
        ("/\\evil.example", "/staff/"),
        ("https:evil.example", "/staff/"),
        ("https://evil.example/staff/", "/staff/"),
        ("javascript:alert(1)", "/staff/"),
        ("%2F%2Fevil.example", "/staff/"),
        ("/blog/", "/staff/"),
        ("/staff/logout", "/staff/"),
    ],
)
def test_next_is_followed_only_to_our_own_staff_pages(client, app, agent, target, lands):
    fields = form_fields(client.get("/staff/login").get_data(as_text=True), ("method", "post"))
    with app.app_context():
        fields.update(email=db.session.get(StaffUser, agent).email, password=PASSWORD)
    response = client.post("/staff/login", query_string={"next": target}, data=fields)
    assert response.status_code == 303
    assert response.headers["Location"] == lands


def test_every_staff_response_says_no_store(client, app, agent):
    assert client.get("/staff/login").headers["Cache-Control"] == "no-store"
    assert client.get("/staff/").headers["Cache-Control"] == "no-store"  # the redirect too
    sign_in(client, app, agent)
    for page in ["/staff/", "/staff/leads", "/staff/leads/999999"]:
        assert client.get(page).headers["Cache-Control"] == "no-store", page
