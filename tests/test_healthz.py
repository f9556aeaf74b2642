"""/healthz: up or down for anyone; the database and outbox figures for this machine only,
or for a monitor holding the configured token."""

from __future__ import annotations

import pytest

from tests.conftest import make_app
from tests.helpers import submit_reach_out

OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}
TOKEN = "health-token-0123456789abcdef"


def health(client, *, environ=OUTSIDE, headers=None):
    response = client.get("/healthz", environ_base=environ, headers=headers or {})
    assert response.headers["Cache-Control"] == "no-store"
    return response.status_code, response.get_json()


def test_a_stranger_learns_only_that_the_service_is_up(client):
    assert submit_reach_out(client, json=True).status_code == 201  # two emails waiting
    assert health(client) == (200, {"status": "ok"})


def test_a_caller_on_this_machine_sees_the_figures(client):
    assert submit_reach_out(client, json=True).status_code == 201
    for address in ("127.0.0.1", "::1"):
        status, body = health(client, environ={"REMOTE_ADDR": address})
        assert status == 200
        assert body["database"] == "ok"
        assert body["outbox"]["pending"] == 2


@pytest.mark.parametrize("app_config", [{"HEALTH_TOKEN": TOKEN}])
def test_the_configured_token_shows_the_figures_to_a_monitor_elsewhere(client):
    status, body = health(client, headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 200
    assert body["outbox"]["pending"] == 0


@pytest.mark.parametrize("app_config", [{"HEALTH_TOKEN": TOKEN}])
@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {TOKEN[:-1]}", f"Bearer {TOKEN}x", f"Basic {TOKEN}", "Bearer ", TOKEN],
)
def test_a_wrong_token_is_a_stranger(client, authorization):
    assert health(client, headers={"Authorization": authorization}) == (200, {"status": "ok"})


@pytest.mark.parametrize("authorization", ["Bearer ", "Bearer None", "Bearer null"])
def test_without_a_configured_token_no_token_opens_the_figures(client, authorization):
    assert health(client, headers={"Authorization": authorization}) == (200, {"status": "ok"})


def test_a_forged_forwarded_address_is_not_this_machine(client):
    headers = {"X-Forwarded-For": "127.0.0.1"}
    assert health(client, headers=headers) == (200, {"status": "ok"})


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1}])
def test_a_request_the_proxy_forwarded_from_outside_is_not_this_machine(client):
    # The proxy runs on this machine, so every request it forwards comes from loopback.
    proxy = {"REMOTE_ADDR": "127.0.0.1"}
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    assert health(client, environ=proxy, headers=forwarded) == (200, {"status": "ok"})
    forged = {"X-Forwarded-For": "127.0.0.1, 203.0.113.9"}  # the client wrote the first one
    assert health(client, environ=proxy, headers=forged) == (200, {"status": "ok"})
    local = {"X-Forwarded-For": "127.0.0.1"}  # a request from this machine, through the proxy
    assert health(client, environ=proxy, headers=local)[1]["database"] == "ok"


def test_a_database_that_does_not_answer_is_503_with_no_detail_for_strangers(tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_INSTANCE_PATH", str(tmp_path / "instance"))
    app = make_app(f"sqlite:///{tmp_path / 'missing' / 'crm.sqlite3'}")
    client = app.test_client()
    assert health(client) == (503, {"status": "error"})
    local = health(client, environ={"REMOTE_ADDR": "127.0.0.1"})
    assert local == (503, {"status": "error", "database": "unavailable"})
