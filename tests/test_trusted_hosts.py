"""Only our own host names are served: a forged Host header never reaches a redirect or a link."""

from __future__ import annotations

import pytest

from crm.platform.config import ConfigError
from tests.conftest import make_app


def assert_refused(response) -> None:
    assert response.status_code == 400
    assert "Location" not in response.headers
    html = response.get_data(as_text=True)
    assert "Error 400" in html  # our own page, in the site's design...
    assert "evil.example" not in html
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]  # ...with headers
    assert response.headers["X-Frame-Options"] == "DENY"


@pytest.mark.parametrize("host", ["evil.example", "evil.example:80", "clinic.test.evil.example"])
@pytest.mark.parametrize("path", ["/blog", "/", "/staff/", "/nowhere"])
def test_a_request_for_another_host_is_refused(client, host, path):
    assert_refused(client.get(path, headers={"Host": host}))


def test_a_form_post_for_another_host_is_refused_before_anything_is_read(client):
    assert_refused(client.post("/leads", data={"name": "x"}, headers={"Host": "evil.example"}))


def test_json_callers_get_a_json_refusal(client):
    response = client.get("/blog", headers={"Host": "evil.example", "Accept": "application/json"})
    assert response.status_code == 400
    assert response.get_json() == {
        "ok": False,
        "message": "We could not read that request. Please go back and try again.",
    }


def test_redirects_name_the_site_host(client):
    response = client.get("/blog", headers={"Host": "clinic.test"})
    assert response.status_code == 308
    assert response.headers["Location"] == "http://clinic.test/blog/"


@pytest.mark.parametrize("app_config", [{"TRUSTED_PROXIES": 1}])
def test_a_host_forwarded_by_the_proxy_is_checked_too(client):
    refused = client.get(
        "/blog", headers={"Host": "clinic.test", "X-Forwarded-Host": "evil.example"}
    )
    assert_refused(refused)
    allowed = client.get("/blog", headers={"Host": "10.0.0.5", "X-Forwarded-Host": "clinic.test"})
    assert allowed.headers["Location"] == "http://clinic.test/blog/"


@pytest.mark.parametrize("app_config", [{"TRUSTED_HOSTS": ["www.clinic.test", ".cdn.test"]}])
def test_configured_hosts_are_served_as_well(client):
    assert client.get("/", headers={"Host": "clinic.test"}).status_code == 200
    assert client.get("/", headers={"Host": "www.clinic.test"}).status_code == 200
    assert client.get("/", headers={"Host": "edge.cdn.test"}).status_code == 200
    assert_refused(client.get("/", headers={"Host": "evil.example"}))


def test_loopback_is_served_outside_production(client):
    assert client.get("/", headers={"Host": "localhost"}).status_code == 200
    assert client.get("/", headers={"Host": "127.0.0.1:8000"}).status_code == 200


def test_production_serves_the_site_host_only(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_INSTANCE_PATH", str(tmp_path))
    app = make_app(database_url, ENV="production", SITE_URL="https://www.clinic.test")
    client = app.test_client()
    home = client.get("/", base_url="https://www.clinic.test")
    assert home.status_code == 200
    for host in ("localhost", "127.0.0.1", "clinic.test", "evil.example"):
        assert_refused(client.get("/", base_url=f"https://{host}"))


def test_trusted_hosts_from_the_environment(database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("CRM_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("CRM_TRUSTED_HOSTS", '["clinic-admin.test"]')
    app = make_app(database_url)
    assert app.test_client().get("/", headers={"Host": "clinic-admin.test"}).status_code == 200


@pytest.mark.parametrize(
    "settings",
    [{"TRUSTED_HOSTS": "www.clinic.test"}, {"TRUSTED_HOSTS": [""]}, {"SITE_URL": "clinic.test"}],
)
def test_unusable_host_settings_stop_the_start(database_url, tmp_path, monkeypatch, settings):
    monkeypatch.setenv("CRM_INSTANCE_PATH", str(tmp_path))
    with pytest.raises(ConfigError):
        make_app(database_url, **settings)
