"""A stranger guessing at a staff password cannot lock the owner out, and the owner hears of it.

These run with the shipped limits (crm/platform/config.py) unless a test says otherwise, so
they check
the figures README states. Addresses are varied the way a real client's would be: the test
client's REMOTE_ADDR, which is what the app sees with no trusted proxy configured.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm import models
from crm.accounts.staff import reset_staff_password
from crm.models import OutboxEmail, StaffSession, StaffUser
from crm.platform.extensions import db
from crm.platform.network import hash_client_address
from tests.helpers import form_fields
from tests.smtp import HOST, SMTPServer, free_port
from tests.staff_helpers import PASSWORD, email_of, make_staff

ADMIN_EMAIL = "admin@clinic.example"
# How a stranger might type the admin's address: every one is the same account.
VARIANTS = [ADMIN_EMAIL, " ADMIN@clinic.example", "Admin@Clinic.Example ", "\tadmin@CLINIC.example"]


def attempt(client, email: str, password: str, address: str):
    fields = form_fields(client.get("/staff/login").get_data(as_text=True), ("method", "post"))
    fields.update(email=email, password=password)
    return client.post("/staff/login", data=fields, environ_base={"REMOTE_ADDR": address})


def guess(app, email: str, times: int, address: str) -> list[int]:
    stranger = app.test_client()
    return [
        attempt(
            stranger,
            VARIANTS[n % len(VARIANTS)] if email == ADMIN_EMAIL else email,
            f"guess number {n}",
            address,
        ).status_code
        for n in range(times)
    ]


def sign_in_from(app, address: str, email: str = ADMIN_EMAIL, password: str = PASSWORD) -> int:
    return attempt(app.test_client(), email, password, address).status_code


def alerts(app) -> list[OutboxEmail]:
    with app.app_context():
        rows = db.session.scalars(select(OutboxEmail).where(OutboxEmail.kind == "sign_in_alert"))
        return [(row.to_address, row.subject, row.text_body, row.html_body) for row in rows]


@pytest.fixture
def admin(app) -> int:
    return make_staff(app, "admin", None, name="Ada Admin", email=ADMIN_EMAIL)


def test_a_strangers_failures_do_not_lock_the_admin_out(app, admin):
    # Twenty wrong passwords from one address, in every spelling of the email.
    answers = guess(app, ADMIN_EMAIL, 20, "203.0.113.66")
    assert answers == [401] * 10 + [429] * 10  # the spellings count as one account
    # The stranger's address is stopped, even with the right password...
    assert sign_in_from(app, "203.0.113.66") == 429
    # ...but the admin, from anywhere else, signs in.
    assert sign_in_from(app, "127.0.0.2") == 303
    # Keeping at it changes nothing for the owner.
    assert set(guess(app, ADMIN_EMAIL, 20, "203.0.113.66")) == {429}
    assert sign_in_from(app, "127.0.0.3") == 303


@pytest.fixture
def smtp_port() -> int:
    return free_port()


@pytest.fixture
def app_config(request, smtp_port):
    mail = {"MAIL_SERVER": HOST, "MAIL_PORT": smtp_port, "MAIL_TIMEOUT": 5}
    return {**mail, **getattr(request, "param", {})}


@pytest.mark.parametrize(
    "app_config",
    [
        {
            "RATELIMIT_LOGIN_PER_ACCOUNT_ADDRESS": "4 per 15 minutes",
            "RATELIMIT_LOGIN_PER_ACCOUNT": "12 per 15 minutes",
        }
    ],
    indirect=True,
)
def test_a_spread_out_guesser_reaches_the_account_limit_but_the_owners_usual_place_gets_in(
    app, admin
):
    assert sign_in_from(app, "127.0.0.2") == 303  # where the admin usually signs in
    answers = []
    for host in range(1, 6):  # five addresses, four tries each
        answers += guess(app, ADMIN_EMAIL, 4, f"203.0.113.{host}")
    assert answers.count(401) == 12 and answers[12:] == [429] * 8
    # A new place is refused while the account is under attack: a guesser could be anywhere.
    assert sign_in_from(app, "127.0.0.3") == 429
    # The owner's usual place still gets in with the right password, and only with it.
    assert sign_in_from(app, "127.0.0.2") == 303
    assert sign_in_from(app, "127.0.0.2", password="not the password") == 401
    with app.app_context():
        assert db.session.scalar(select(func.count(StaffSession.id))) == 2


def test_the_account_holder_is_told_once_per_window_and_never_the_password(app, admin):
    guess(app, ADMIN_EMAIL, 9, "203.0.113.7")
    assert alerts(app) == []  # a few typos are no news
    guess(app, ADMIN_EMAIL, 1, "203.0.113.8")
    sent = alerts(app)
    assert len(sent) == 1
    to, subject, text, html = sent[0]
    assert to == ADMIN_EMAIL
    assert "trying to sign in" in subject
    assert "10 times in the last 15 minutes" in text
    assert "<title>" in html and "10 times" in html
    for body in (text, html):
        assert "guess number" not in body and PASSWORD not in body
    # More guessing in the same window: still one email.
    guess(app, ADMIN_EMAIL, 10, "203.0.113.9")
    assert len(alerts(app)) == 1


def test_the_alert_reaches_the_account_holder_through_a_real_mail_server(
    app, admin, runner, smtp_port
):
    guess(app, ADMIN_EMAIL, 10, "203.0.113.20")
    with SMTPServer(port=smtp_port) as server:
        result = runner.invoke(args=["outbox", "send"])
        assert "Sent 1," in result.output, result.output
        received = server.messages
    assert [message.rcpt_tos for message in received] == [[ADMIN_EMAIL]]
    message = received[0]
    assert "trying to sign in" in message.message["Subject"]
    text, html = message.part("plain"), message.part("html")
    assert "10 times in the last 15 minutes" in text
    assert "<title>Someone is trying to sign in to your account</title>" in html
    assert "guess number" not in text + html


def test_an_unknown_account_gets_the_same_answers_and_no_email(app, admin):
    ghost = "nobody@clinic.example"
    answers = guess(app, ghost, 12, "203.0.113.10")
    assert answers == [401] * 10 + [429] * 2  # counted exactly like a real account
    real = guess(app, ADMIN_EMAIL, 12, "203.0.113.11")
    assert answers == real
    first = attempt(app.test_client(), ghost, "x", "203.0.113.12").get_data(as_text=True)
    second = attempt(app.test_client(), ADMIN_EMAIL, "x", "203.0.113.13").get_data(as_text=True)
    assert (
        "The email or password is not right." in first
        and "The email or password is not right." in second
    )
    assert [to for to, *_ in alerts(app)] == [ADMIN_EMAIL]


def test_known_addresses_are_hashed_and_bounded(app, admin):
    for host in range(1, 13):
        assert sign_in_from(app, f"198.51.100.{host}") == 303
    with app.app_context():
        stored = set(db.session.scalars(select(models.StaffSignInAddress.address_hash)))
        assert len(stored) == app.config["SIGN_IN_ADDRESSES_KEPT"] == 10
        assert stored == {hash_client_address(f"198.51.100.{host}") for host in range(3, 13)}
        assert not any("198.51.100" in value for value in stored)
    # Signing in again from a kept place refreshes it rather than adding a row.
    assert sign_in_from(app, "198.51.100.5") == 303
    with app.app_context():
        assert db.session.scalar(select(func.count(models.StaffSignInAddress.id))) == 10


def test_a_password_reset_forgets_the_known_addresses(app, admin):
    agent = make_staff(app, "agent", "hyderabad", name="Hari Agent")
    assert sign_in_from(app, "198.51.100.1", email=email_of(app, agent)) == 303
    with app.app_context():
        reset_staff_password(db.session.get(StaffUser, admin), agent, "a brand new passphrase")
        assert db.session.scalar(select(func.count(models.StaffSignInAddress.id))) == 0
