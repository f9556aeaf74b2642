"""The marketing site: every page renders, carries the reach-out form and reads well."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path

import pytest

from crm.site.blog import ArticleError, _parse, all_articles
from tests.helpers import form_fields, form_notice, submit_reach_out

ARTICLE = "/blog/acupressure-points-for-back-pain"
PAGES = [
    "/",
    "/blog/",
    ARTICLE,
    "/blog/desk-posture-neck-pain",
    "/blog/knee-pain-stairs",
    "/branches/bengaluru",
    "/branches/hyderabad",
    "/contact",
    "/privacy",
]
PUBLIC_FIELDS = {
    "name",
    "phone",
    "email",
    "branch",
    "interest",
    "message",
    "csrf_token",
    "submission_token",
    "source_page",
    "shown_at",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "website",
}


@pytest.mark.parametrize("path", PAGES)
def test_every_page_renders_with_the_reach_out_form(client, path):
    response = client.get(path)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'href="#reach-out">Reach out to us</a>' in html
    assert 'id="reach-out"' in html
    assert "Get in touch" in html
    fields = form_fields(html)
    # consent is an unticked checkbox, so a browser would not send it
    assert set(fields) == PUBLIC_FIELDS
    assert 'name="consent"' in html
    assert fields["source_page"] == path
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", fields["submission_token"])


def test_each_page_view_gets_its_own_submission_token(client):
    first = form_fields(client.get("/").get_data(as_text=True))["submission_token"]
    second = form_fields(client.get("/").get_data(as_text=True))["submission_token"]
    assert first != second


def test_branch_choices_come_from_the_database(client):
    html = client.get("/").get_data(as_text=True)
    assert '<option value="bengaluru">Bengaluru</option>' in html
    assert '<option value="hyderabad">Hyderabad</option>' in html


def test_branch_page_preselects_its_branch_and_shows_address_phone_and_hours(client):
    html = client.get("/branches/hyderabad").get_data(as_text=True)
    assert form_fields(html)["branch"] == "hyderabad"
    assert "Jubilee Hills" in html
    assert 'href="tel:+914045678900"' in html
    assert "+91 40 4567 8900" in html
    assert "Sunday" in html and "9 am to 1 pm" in html


BLOG_FILES = Path(__file__).resolve().parent.parent / "crm" / "content" / "blog"


def newest_first() -> list[str]:
    """Article slugs, newest first, read straight from the files' front matter (not the app)."""
    dated = []
    for path in BLOG_FILES.glob("*.md"):
        front = path.read_text(encoding="utf-8").split("---\n")[1]
        fields = dict(line.split(": ", 1) for line in front.splitlines() if ": " in line)
        dated.append((date.fromisoformat(fields["date"].strip()), fields["slug"].strip()))
    assert len(dated) >= 3
    assert len({when for when, _slug in dated}) == len(dated)  # no ties: one right order
    return [slug for _when, slug in sorted(dated, reverse=True)]


def test_home_introduces_the_clinic_branches_and_latest_articles(client):
    html = client.get("/").get_data(as_text=True)
    assert "Bengaluru" in html and "Hyderabad" in html
    for article in all_articles()[:3]:
        assert f'href="/blog/{article.slug}"' in html
    latest = newest_first()[:3]
    assert [article.slug for article in all_articles()[:3]] == latest
    positions = [html.index(f'href="/blog/{slug}"') for slug in latest]
    assert positions == sorted(positions)


def test_blog_index_lists_every_article_newest_first(client):
    html = client.get("/blog/").get_data(as_text=True)
    positions = [html.index(f'href="/blog/{article.slug}"') for article in all_articles()]
    assert positions == sorted(positions)
    assert len(all_articles()) >= 3
    expected = newest_first()
    assert [article.slug for article in all_articles()] == expected
    positions = [html.index(f'href="/blog/{slug}"') for slug in expected]
    assert positions == sorted(positions)


def test_the_visitor_sees_the_exact_thank_you_and_oops_lines(client):
    # Without JavaScript: a valid form lands back on its page, which thanks the visitor...
    response = submit_reach_out(client, "/contact")
    assert response.status_code == 303
    landed = client.get(response.headers["Location"]).get_data(as_text=True)
    # (the form also carries both lines in data- attributes for its script: check the
    # visible status line itself)
    assert form_notice(landed) == ("success", "Thank you! Your submission has been received!")
    # ...and an invalid one is shown again with the failure line.
    refused = submit_reach_out(client, "/contact", phone="12345")
    assert refused.status_code == 422
    html = refused.get_data(as_text=True)
    assert form_notice(html) == ("error", "Oops! Something went wrong while submitting the form.")


def test_acupressure_article_covers_the_six_point_groups_cautions_and_faq(client):
    html = client.get(ARTICLE).get_data(as_text=True)
    for group in [
        "CV 6",
        "B 23 and B 47",
        "B 48 and GB 30",
        "B 53 and B 54",
        "LI 4 and TE 3",
        "LU 5",
    ]:
        assert group in html, group
    for name in [
        "Sea of Energy",
        "Sea of Vitality",
        "Womb and Vitals",
        "Commanding Middle",
        "Cubit Marsh",
    ]:
        assert name in html, name
    assert "pregnan" in html
    assert "high blood pressure" in html
    assert "Frequently asked questions" in html
    assert "5 minutes" in html and "30 seconds" in html and "10 to 15 minutes" in html


def test_privacy_notice_says_what_why_how_long_erasure_and_whom_to_contact(client):
    html = client.get("/privacy").get_data(as_text=True)
    for heading in [
        "What we collect",
        "Why we collect it",
        "How long we keep it",
        "Withdrawing consent and asking for erasure",
        "Whom to contact",
    ]:
        assert heading in html
    assert "mailto:privacy@" in html


@pytest.mark.parametrize(
    "path", ["/blog/no-such-article", "/blog/..%2Fsecret", "/branches/mumbai", "/nowhere"]
)
def test_unknown_pages_are_404_in_the_site_design(client, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "Page not found" in response.get_data(as_text=True)


def test_healthz_reports_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert json.loads(response.data)["database"] == "ok"


def test_pages_load_nothing_from_other_sites_and_run_no_inline_script(client):
    for path in PAGES:
        response = client.get(path)
        html = response.get_data(as_text=True)
        # Everything the page loads (scripts, styles, images, frames) comes from this app;
        # links a person may follow (<a href>) can go anywhere.
        # (The canonical link and the hreflang alternates name public addresses of this page;
        # nothing is loaded from them.)
        loaded = re.findall(
            r'<(?:script|link(?! rel="canonical")(?! rel="alternate" hreflang=)'
            r"|img|iframe|source|video|audio)\b[^>]*?"
            r'\b(?:src|href)="([^"]*)"',
            html,
        )
        assert loaded, path
        assert all(url.startswith("/") and not url.startswith("//") for url in loaded), (
            path,
            loaded,
        )
        # JSON-LD blocks are data: a browser never runs a script element of that type, so the
        # CSP's ban on inline script has nothing to stop. Every other script has a src.
        assert not re.search(r"<script(?![^>]*\b(?:src=|type=\"application/ld\+json\"))", html), (
            path
        )
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "unsafe-inline" not in policy


def test_static_assets_are_served_by_the_app(client):
    for asset in ["/static/css/site.css", "/static/js/reach-out.js", "/static/favicon.svg"]:
        assert client.get(asset).status_code == 200


def test_article_front_matter_is_checked(tmp_path):
    broken = tmp_path / "broken.md"
    broken.write_text("---\ntitle: No slug\n---\nBody\n", encoding="utf-8")
    with pytest.raises(ArticleError, match="slug"):
        _parse(broken)
    bad_slug = tmp_path / "bad.md"
    bad_slug.write_text(
        "---\ntitle: T\nslug: Not A Slug\ndate: 2026-01-01\nsummary: S\nauthor: A\n"
        "reviewed_by: R\nlast_reviewed: 2026-01-02\n---\nBody\n",
        encoding="utf-8",
    )
    with pytest.raises(ArticleError, match="not lower-case"):
        _parse(bad_slug)
