"""A page's language is part of its address: /kn/, /te/ and /hi/ hold the same pages."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

LINKS = re.compile(r'(?:href|action|src)="([^"#]+)')


@pytest.mark.parametrize(
    ("prefix", "lang"), [("", "en-IN"), ("/kn", "kn-IN"), ("/te", "te-IN"), ("/hi", "hi-IN")]
)
def test_every_public_page_exists_in_every_language(
    client: FlaskClient, prefix: str, lang: str
) -> None:
    for path in ("/", "/blog/", "/blog/acupressure-points-for-back-pain", "/contact", "/privacy"):
        response = client.get(prefix + path)
        assert response.status_code == 200, prefix + path
        assert f'<html lang="{lang}">' in response.get_data(as_text=True)


def test_links_stay_in_the_page_language_and_shared_files_do_not(client: FlaskClient) -> None:
    links = LINKS.findall(client.get("/te/contact").get_data(as_text=True))
    pages = [link for link in links if link.startswith("/") and not link.startswith("/static/")]
    assert "/te/blog/" in pages and "/te/leads" in pages and "/te/privacy" in pages
    assert "/blog/feed.xml" in links  # one feed whatever the language
    assert any(link.startswith("/static/css/site.") for link in links)
    assert not any(link.startswith("/te/static/") for link in links)


@pytest.mark.parametrize(
    "path",
    ["/kn/staff/", "/kn/staff/login", "/te/static/css/site.css", "/hi/sitemap.xml", "/hi/healthz"],
)
def test_staff_and_shared_files_have_no_language_copies(client: FlaskClient, path: str) -> None:
    assert client.get(path).status_code == 404
