"""Rate limits on the public form and the staff sign-in, and whose address counts."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from crm import create_app
from crm.intake.forms import FAILURE_MESSAGE
from crm.models import Enquiry, StaffSession
from crm.platform.extensions import db, limiter
from tests.conftest import BASE_CONFIG
from tests.helpers import VALID_FIELDS, form_fields, reach_out_fields
from tests.staff_helpers import PASSWORD, email_of, make_staff


def post_form(client, *, phone: str, address: str = "203.0.113.5", headers=None, json=True):
    data = reach_out_fields(client, "/contact")
    data.update(VALID_FIELDS, phone=phone)
    merged = {"Accept": "application/json"} if json else {}
    merged.update(headers or {})
    return client.post("/leads", data=data, headers=merged, environ_base={"REMOTE_ADDR": address})


def stored(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Enquiry.id)))


@pytest.fixture
def app_config():
    return {
        "RATELIMIT_INTAKE_PER_ADDRESS": "4 per minute",
        "RATELIMIT_INTAKE_PER_PHONE": "2 per hour",
        "RATELIMIT_LOGIN_PER_ADDRESS": "30 per 15 minutes",
        "RATELIMIT_LOGIN_PER_ACCOUNT_ADDRESS": "10 per 15 minutes",
        "RATELIMIT_LOGIN_PER_ACCOUNT": "50 per 15 minutes",
    }


def test_one_address_is_limited_and_told_so(client, app):
    for index in range(4):
        assert post_form(client, phone=f"98450 1100{index}").status_code == 201
    response = post_form(client, phone="98450 11009")
    assert response.status_code == 429
    assert response.get_json()["ok"] is False
    assert "wait a little" in response.get_json()["message"]
    assert "Retry-After" in response.headers
    assert stored(app) == 4
    # another address is not affected
    assert post_form(client, phone="98450 11008", address="198.51.100.7").status_code == 201


def test_the_limiter_keeps_and_logs_no_address_in_clear(client, app, caplog):
    caplog.set_level(logging.INFO, logger="flask-limiter")
    for index in range(5):
        post_form(client, phone=f"98450 1100{index}", address="203.0.113.77")
    exceeded = [
        record.getMessage() for record in caplog.records if "exceeded" in record.getMessage()
    ]
    assert exceeded, "the limiter said nothing when the limit was passed"
    assert not any("203.0.113.77" in line for line in exceeded)
    storage = limiter._storage.storage  # the in-memory counters, keyed by the limits' keys
    assert storage and not any("203.0.113.77" in key for key in storage)


def test_without_javascript_the_limit_keeps_what_was_typed(client, app):
    for index in range(4):
        post_form(client, phone=f"98450 1100{index}")
    response = post_form(client, phone="98450 22222", json=False)
    assert response.status_code == 429
    html = response.get_data(as_text=True)
    assert FAILURE_MESSAGE in html and "wait a little" in html
    assert 'value="98450 22222"' in html
    assert stored(app) == 4


def test_one_phone_is_limited_across_addresses_however_it_is_written(client, app):
    assert post_form(client, phone="98450 12345", address="198.51.100.1").status_code == 201
    assert post_form(client, phone="+91-98450-12345", address="198.51.100.2").status_code == 201
    response = post_form(client, phone="098450 12345", address="198.51.100.3")
    assert response.status_code == 429
    assert stored(app) == 2


def test_a_forged_forwarded_for_header_changes_nothing(client, app):
    for index in range(4):
        post_form(
            client, phone=f"98450 1100{index}", headers={"X-Forwarded-For": f"10.0.0.{index}"}
        )
    response = post_form(client, phone="98450 11009", headers={"X-Forwarded-For": "10.9.9.9"})
    assert response.status_code == 429


def test_behind_one_trusted_proxy_the_forwarded_address_counts(database_url):
    app = create_app(
        {
            **BASE_CONFIG,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "TRUSTED_PROXIES": 1,
            "RATELIMIT_INTAKE_PER_ADDRESS": "2 per minute",
        }
    )
    client = app.test_client()
    proxy = "127.0.0.1"
    for index in range(2):
        response = post_form(
            client,
            phone=f"98450 1100{index}",
            address=proxy,
            headers={"X-Forwarded-For": "203.0.113.10"},
        )
        assert response.status_code == 201
    blocked = post_form(
        client, phone="98450 11005", address=proxy, headers={"X-Forwarded-For": "203.0.113.10"}
    )
    assert blocked.status_code == 429
    # a second visitor behind the same proxy is their own address
    other = post_form(
        client, phone="98450 11006", address=proxy, headers={"X-Forwarded-For": "203.0.113.11"}
    )
    assert other.status_code == 201
    # a client that adds its own header cannot pick its address: only the proxy's hop counts
    spoofed = post_form(
        client,
        phone="98450 11007",
        address=proxy,
        headers={"X-Forwarded-For": "1.2.3.4, 203.0.113.10"},
    )
    assert spoofed.status_code == 429


def test_limits_can_be_switched_off_for_load_tests(database_url):
    app = create_app(
        {
            **BASE_CONFIG,
            "SQLALCHEMY_DATABASE_URI": database_url,
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_INTAKE_PER_ADDRESS": "1 per minute",
        }
    )
    client = app.test_client()
    for index in range(5):
        assert post_form(client, phone=f"98450 1100{index}").status_code == 201


# --- Sign-in -------------------------------------------------------------------------------


def attempt(client, email: str, password: str, address: str = "203.0.113.5"):
    fields = form_fields(client.get("/staff/login").get_data(as_text=True), ("method", "post"))
    fields.update(email=email, password=password)
    return client.post("/staff/login", data=fields, environ_base={"REMOTE_ADDR": address})


def live_sessions(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(StaffSession.id)))


def test_101_failed_sign_ins_stop_the_guesser_not_the_person_who_knows_the_password(app):
    agent = make_staff(app, "agent", "hyderabad", name="Hari Agent")
    email = email_of(app, agent)
    attacker = app.test_client()
    answers = [attempt(attacker, email, f"guess {n}").status_code for n in range(101)]
    assert answers[:10] == [401] * 10
    assert set(answers[10:]) == {429}
    # even the right password is refused from the guesser's address; nothing was signed in
    assert attempt(attacker, email, PASSWORD).status_code == 429
    assert live_sessions(app) == 0
    # the owner, anywhere else, is not locked out by a stranger (tests/test_sign_in_lockout.py)
    assert attempt(app.test_client(), email, PASSWORD, address="198.51.100.9").status_code == 303
    assert live_sessions(app) == 1


def test_successful_sign_ins_do_not_count(app):
    agent = make_staff(app, "agent", "hyderabad", name="Hari Agent")
    for _ in range(12):
        client = app.test_client()
        assert attempt(client, email_of(app, agent), PASSWORD).status_code == 303
    assert live_sessions(app) == 12


def test_one_address_guessing_many_accounts_is_stopped(app):
    people = [make_staff(app, "agent", "bengaluru", name=f"Agent {n}") for n in range(4)]
    client = app.test_client()
    answers = []
    for round_ in range(9):
        for person in people:
            answers.append(attempt(client, email_of(app, person), f"guess {round_}").status_code)
    assert answers[:30] == [401] * 30
    assert set(answers[30:]) == {429}
    # from elsewhere, those accounts are not locked (nine failures each) and others sign in
    assert (
        attempt(
            app.test_client(), email_of(app, people[0]), "x", address="198.51.100.1"
        ).status_code
        == 401
    )
    newcomer = make_staff(app, "agent", "bengaluru", name="Fresh Person")
    assert (
        attempt(
            app.test_client(), email_of(app, newcomer), PASSWORD, address="198.51.100.1"
        ).status_code
        == 303
    )
