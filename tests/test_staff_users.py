"""Staff accounts managed by an administrator."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm.accounts.staff import password_matches
from crm.models import StaffSession, StaffUser
from crm.platform.extensions import db
from tests.staff_helpers import PASSWORD, csrf_token, enter_as, make_staff, sign_in


@pytest.fixture
def admin(app):
    person = make_staff(app, "admin", None, name="Ada Admin")
    return person, enter_as(app.test_client(), app, person)


def account(app, user_id) -> StaffUser:
    with app.app_context():
        user = db.session.get(StaffUser, user_id)
        db.session.expunge(user)
        return user


def live_sessions(app, user_id) -> int:
    with app.app_context():
        return db.session.scalar(
            select(func.count(StaffSession.id)).where(
                StaffSession.user_id == user_id, StaffSession.ended_at.is_(None)
            )
        )


def test_an_admin_adds_an_agent_who_can_then_sign_in(app, admin):
    _, client = admin
    response = client.post(
        "/staff/users",
        data={
            "csrf_token": csrf_token(client),
            "name": "Kavya Hegde",
            "email": "Kavya@Clinic.Example",
            "role": "agent",
            "branch": "bengaluru",
            "password": "a long enough password",
        },
    )
    assert response.status_code == 303
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == "kavya@clinic.example"))
        assert user.branch.slug == "bengaluru" and user.role == "agent"
    newcomer = app.test_client()
    assert sign_in(newcomer, app, user.id, "a long enough password").status_code == 303


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"role": "agent", "branch": ""}, "needs a branch"),
        ({"role": "admin", "branch": "bengaluru"}, "do not give them one"),
        ({"role": "agent", "branch": "mumbai"}, "Please choose one of the branches."),
        ({"role": "owner", "branch": "bengaluru"}, "Please choose a role."),
        ({"role": "agent", "branch": "bengaluru", "password": "short"}, "at least 12 characters"),
        ({"role": "agent", "branch": "bengaluru", "email": "not-an-email"}, "not a valid email"),
    ],
)
def test_bad_accounts_are_refused_and_nothing_is_created(app, admin, fields, message):
    _, client = admin
    data = {
        "csrf_token": csrf_token(client),
        "name": "X Person",
        "email": "x@clinic.example",
        "password": "a long enough password",
        **fields,
    }
    response = client.post("/staff/users", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(StaffUser.id))) == 1


def test_deactivating_ends_live_sessions_at_once(app, admin):
    _, client = admin
    agent = make_staff(app, "agent", "hyderabad", name="Hari Agent")
    desk = enter_as(app.test_client(), app, agent)
    assert desk.get("/staff/").status_code == 200
    response = client.post(
        f"/staff/users/{agent}/deactivate", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 303
    assert live_sessions(app, agent) == 0
    assert desk.get("/staff/").status_code == 302
    assert sign_in(app.test_client(), app, agent).status_code == 401

    client.post(f"/staff/users/{agent}/activate", data={"csrf_token": csrf_token(client)})
    assert account(app, agent).active
    assert sign_in(app.test_client(), app, agent).status_code == 303


def test_changing_role_or_branch_ends_sessions_and_moves_the_scope(app, admin):
    _, client = admin
    agent = make_staff(app, "agent", "hyderabad", name="Hari Agent")
    desk = enter_as(app.test_client(), app, agent)
    response = client.post(
        f"/staff/users/{agent}",
        data={
            "csrf_token": csrf_token(client),
            "name": "Hari Agent",
            "role": "manager",
            "branch": "bengaluru",
        },
    )
    assert response.status_code == 303
    person = account(app, agent)
    assert person.role == "manager" and person.branch_id is not None
    assert desk.get("/staff/").status_code == 302


def test_a_password_reset_ends_sessions_and_sets_the_new_password(app, admin):
    _, client = admin
    agent = make_staff(app, "agent", "hyderabad", name="Hari Agent")
    desk = enter_as(app.test_client(), app, agent)
    response = client.post(
        f"/staff/users/{agent}/password",
        data={"csrf_token": csrf_token(client), "password": "another long password"},
    )
    assert response.status_code == 303
    assert desk.get("/staff/").status_code == 302
    person = account(app, agent)
    assert password_matches(person, "another long password")
    assert not password_matches(person, PASSWORD)


def test_the_last_admin_and_oneself_cannot_be_deactivated(app, admin):
    person, client = admin
    response = client.post(
        f"/staff/users/{person}/deactivate", data={"csrf_token": csrf_token(client)}
    )
    assert response.status_code == 422
    assert "cannot deactivate your own account" in response.get_data(as_text=True)
    response = client.post(
        f"/staff/users/{person}",
        data={
            "csrf_token": csrf_token(client),
            "name": "Ada Admin",
            "role": "agent",
            "branch": "bengaluru",
        },
    )
    assert response.status_code == 422
    assert "At least one active administrator must remain." in response.get_data(as_text=True)
    assert account(app, person).role == "admin"


def test_unknown_accounts_are_404(app, admin):
    _, client = admin
    assert client.get("/staff/users/9999").status_code == 404
    token = csrf_token(client)
    for action in ("deactivate", "activate", "password"):
        data = {"csrf_token": token, "password": "a long enough password"}
        assert client.post(f"/staff/users/9999/{action}", data=data).status_code == 404
