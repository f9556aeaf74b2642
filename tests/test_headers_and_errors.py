"""Security headers on every response, and error pages in the site's design (JSON for JSON)."""

from __future__ import annotations

import re

import pytest

from tests.helpers import form_fields
from tests.staff_helpers import csrf_token, enter_as, make_lead, make_staff

# The stylesheet, under its fingerprinted name (crm/platform/assets.py).
SITE_CSS = re.compile(r'href="/static/css/site\.[0-9a-f]{12}\.css"')
HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
}


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/blog/acupressure-points-for-back-pain",
        "/healthz",
        "/nowhere",
        "/static/css/site.css",
        "/staff/login",
        "/staff/",
    ],
)
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    policy = response.headers["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ):
        assert directive in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    for name, value in HEADERS.items():
        assert response.headers[name] == value
    assert "Strict-Transport-Security" not in response.headers


def test_hsts_only_over_https(client):
    response = client.get("/", base_url="https://clinic.test")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.fixture
def errors(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/boom")
    def boom():  # a bug somewhere: the visitor sees our page, not a traceback
        raise RuntimeError("secret internals")

    agent = make_staff(app, "agent", "bengaluru", name="Bala Agent")
    return enter_as(app.test_client(), app, agent)


CASES = [
    ("post", "/staff/leads/bulk", {}, 400, "Bad request"),
    ("get", "/staff/users", None, 403, "Not allowed"),
    ("get", "/no/such/page", None, 404, "Page not found"),
    ("get", "/leads", None, 405, "Not allowed"),
    ("post", "/staff/leads/bulk", {"x": "y" * 100_000}, 413, "Too large"),
    ("get", "/boom", None, 500, "Something went wrong"),
]


@pytest.mark.parametrize(("method", "path", "data", "status", "title"), CASES)
def test_error_pages_are_in_the_site_design(errors, method, path, data, status, title):
    response = getattr(errors, method)(path, data=data)
    assert response.status_code == status
    html = response.get_data(as_text=True)
    assert f"<h1>{title}</h1>" in html and SITE_CSS.search(html)
    assert "secret internals" not in html and "Traceback" not in html


@pytest.mark.parametrize(("method", "path", "data", "status", "title"), CASES)
def test_json_callers_get_json_errors(errors, method, path, data, status, title):
    response = getattr(errors, method)(path, data=data, headers={"Accept": "application/json"})
    assert response.status_code == status
    body = response.get_json()
    assert body["ok"] is False and body["message"]
    assert "secret internals" not in response.get_data(as_text=True)


# --- 422 and 429 through real routes ------------------------------------------------------------


def in_site_design(html: str) -> None:
    assert SITE_CSS.search(html)
    assert "secret internals" not in html and "Traceback" not in html


def test_a_refused_staff_form_is_shown_again_in_the_site_design_as_422(app, errors):
    """A form that cannot be accepted is not an error page: its own page comes back, saying why."""
    lead = make_lead(app, name="Asha Rao")
    response = errors.post(
        f"/staff/leads/{lead}/notes", data={"csrf_token": csrf_token(errors), "text": "x" * 2001}
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    in_site_design(html)
    assert "<title>L-000001 · Physiotattva CRM</title>" in html
    assert "<h1>Asha Rao</h1>" in html
    assert '<p class="notice notice--error">Please keep it under 2000 characters.</p>' in html


@pytest.mark.parametrize("as_json", [False, True])
def test_too_many_failed_sign_ins_get_a_429_in_the_site_design(app, as_json):
    app.config["RATELIMIT_LOGIN_PER_ADDRESS"] = "2 per 15 minutes"  # read on each request
    client = app.test_client()
    fields = form_fields(client.get("/staff/login").get_data(as_text=True), ("method", "post"))
    fields.update(email="nobody@clinic.example", password="wrong")
    for _ in range(2):
        assert client.post("/staff/login", data=fields).status_code == 401
    headers = {"Accept": "application/json"} if as_json else {}
    response = client.post("/staff/login", data=fields, headers=headers)
    assert response.status_code == 429
    assert response.headers["Retry-After"]
    message = "There have been too many attempts from here. Please wait a little and try again."
    if as_json:
        assert response.get_json() == {"ok": False, "message": message}
        return
    html = response.get_data(as_text=True)
    in_site_design(html)
    assert "<h1>Too many attempts</h1>" in html
    assert "<title>Too many attempts · Physiotattva</title>" in html
    assert message in html
