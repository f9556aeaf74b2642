"""Public pages in Kannada, Telugu and Hindi: lang and hreflang, canonical links, the switcher,
the Accept-Language suggestion, translated and untranslated articles, the sitemap and dates.

These check structure and addresses, never words a translator chose, so they hold whatever the
catalogues say (and before they exist).
"""

from __future__ import annotations

import json
import re
import shutil
import xml.etree.ElementTree as ET
from datetime import date
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.dates import format_date
from flask.testing import FlaskClient

from crm.platform.i18n import LANGUAGES, PREFIXED
from crm.site import blog
from crm.site.blog import all_articles, languages_of

SITE = "https://www.physiotattva.example"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
XHTML = "{http://www.w3.org/1999/xhtml}"
JSON_LD = re.compile(r'<script type="application/ld\+json">(.*?)</script>', re.S)
PREFIX = {code: "" if code == "en" else f"/{code}" for code in LANGUAGES}
TRANSLATED = "knee-pain-stairs"  # given a Kannada version by the fixture below
KANNADA_ARTICLE = """---
title: "ಮೆಟ್ಟಿಲು ಹತ್ತುವಾಗ ಮೊಣಕಾಲು ನೋವು"
slug: knee-pain-stairs
date: 2026-08-30
author: ಫಿಸಿಯೋತತ್ವ ತಂಡ
reviewed_by: "Dr. Kavya Nair, MPT (Musculoskeletal)"
last_reviewed: 2026-11-02
summary: "ಮೆಟ್ಟಿಲುಗಳು ಮೊಣಕಾಲಿಗೆ ಏಕೆ ಹೆಚ್ಚು ಭಾರ ಕೊಡುತ್ತವೆ."
interest: knee_pain
---

ಮೊದಲ ಪ್ಯಾರಾ.

## ಸಾಮಾನ್ಯ ಕಾರಣಗಳು {#common-reasons-stairs-hurt}

ಕಾರಣಗಳು.

## ಪದೇ ಪದೇ ಕೇಳುವ ಪ್ರಶ್ನೆಗಳು {#frequently-asked-questions}

### ಮೆಟ್ಟಿಲು ಹತ್ತುವುದು ಸುರಕ್ಷಿತವೇ? {#is-it-safe}

ಹೌದು, ನಿಧಾನವಾಗಿ ಹತ್ತಿ ಮತ್ತು **ಕೈಹಿಡಿ** ಬಳಸಿ.
"""


@pytest.fixture
def app_config() -> dict[str, object]:
    return {"SITE_URL": SITE, "TRUSTED_HOSTS": ["clinic.test", "localhost"]}


@pytest.fixture
def kannada_article(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The English articles, and a Kannada translation of one, in a folder of the test's own."""
    folder = tmp_path / "blog"
    shutil.copytree(blog.BLOG_DIR, folder, ignore=shutil.ignore_patterns(*PREFIXED))
    (folder / "kn").mkdir()
    (folder / "kn" / f"{TRANSLATED}.md").write_text(KANNADA_ARTICLE, encoding="utf-8")
    monkeypatch.setattr(blog, "BLOG_DIR", folder)
    return TRANSLATED


class Page(HTMLParser):
    """What these tests read off a page: lang attributes, head links, the language switcher."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.html_lang: str | None = None
        self.canonical: list[str] = []
        self.alternates: dict[str, str] = {}
        self.meta: dict[str, str] = {}
        self.switcher_label: str | None = None
        self.switcher: list[dict[str, str]] = []
        self.switcher_text: list[str] = []
        self.suggestion: dict[str, str] | None = None
        self.note = False
        self.prose_lang: str | None = None
        self._in_switcher = False
        self._in_link = False
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        classes = attributes.get("class", "").split()
        if tag == "html":
            self.html_lang = attributes.get("lang")
        elif tag == "link" and attributes.get("rel") == "canonical":
            self.canonical.append(attributes["href"])
        elif tag == "link" and attributes.get("rel") == "alternate" and "hreflang" in attributes:
            assert attributes["hreflang"] not in self.alternates, "one link per language"
            self.alternates[attributes["hreflang"]] = attributes["href"]
        elif tag == "meta" and "property" in attributes:
            self.meta[attributes["property"]] = attributes.get("content", "")
        elif tag == "nav" and "language-switcher" in classes:
            self._in_switcher = True
            self.switcher_label = attributes.get("aria-label")
        elif tag == "a" and self._in_switcher:
            self.switcher.append(attributes)
            self._in_link = True
            self.switcher_text.append("")
        elif tag == "p" and "language-suggestion" in classes:
            self.suggestion = {"lang": attributes.get("lang", "")}
        elif tag == "a" and self.suggestion is not None and "href" not in self.suggestion:
            self.suggestion.update(href=attributes["href"], hreflang=attributes.get("hreflang", ""))
        elif "translation-note" in classes:
            self.note = True
        elif tag == "div" and "prose" in classes:
            self.prose_lang = attributes.get("lang")

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._in_switcher = False
        elif tag == "a":
            self._in_link = False

    def handle_data(self, data: str) -> None:
        if self._in_link:
            self.switcher_text[-1] += data.strip()


def structured_data(html: str) -> list[dict]:
    return [json.loads(block) for block in JSON_LD.findall(html)]


def public_paths() -> list[str]:
    return [
        "/",
        "/blog/",
        *(f"/blog/{article.slug}" for article in all_articles()),
        "/branches/bengaluru",
        "/branches/hyderabad",
        "/contact",
        "/privacy",
    ]


def open_page(client: FlaskClient, url: str, **headers: str) -> Page:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, url
    return Page(response.get_data(as_text=True))


def check_page(client: FlaskClient, code: str, path: str) -> Page:
    page = open_page(client, PREFIX[code] + path)
    language = LANGUAGES[code]
    assert page.html_lang == language.html_lang, path
    versions = (
        languages_of(path.removeprefix("/blog/"))
        if path.startswith("/blog/") and path != "/blog/"
        else list(LANGUAGES)
    )
    content = code if code in versions else "en"
    # Canonical: this page's own address, or the English original it shows.
    assert page.canonical == [SITE + PREFIX[content] + path], (code, path)
    assert page.meta["og:url"] == page.canonical[0]
    assert page.meta["og:locale"] == LANGUAGES[content].html_lang.replace("-", "_")
    # hreflang: every version that exists, and English for everyone else; nothing else.
    expected = {LANGUAGES[other].html_lang: SITE + PREFIX[other] + path for other in versions}
    expected["x-default"] = SITE + path
    assert page.alternates == expected, (code, path)
    # The switcher: every language in its own name and script, this one marked current.
    assert page.switcher_label
    assert [link["href"] for link in page.switcher] == [PREFIX[other] + path for other in LANGUAGES]
    assert page.switcher_text == [other.native_name for other in LANGUAGES.values()]
    for link, other in zip(page.switcher, LANGUAGES.values(), strict=True):
        assert link["lang"] == link["hreflang"] == other.html_lang
        assert ("aria-current" in link) == (other.code == code)
    assert page.note == (content != code)
    return page


@pytest.mark.parametrize("code", list(LANGUAGES))
def test_every_public_page_names_its_language_and_its_versions(
    client: FlaskClient, code: str
) -> None:
    for path in public_paths():
        check_page(client, code, path)


def test_a_translated_article_is_shown_in_its_language_with_its_faq(
    client: FlaskClient, kannada_article: str
) -> None:
    path = f"/blog/{kannada_article}"
    assert languages_of(kannada_article) == ["en", "kn"]
    html = client.get(f"/kn{path}").get_data(as_text=True)
    page = check_page(client, "kn", path)
    assert "ಮೆಟ್ಟಿಲು ಹತ್ತುವಾಗ ಮೊಣಕಾಲು ನೋವು" in html
    assert page.prose_lang is None  # the page's own language
    assert 'id="frequently-asked-questions"' in html and 'id="is-it-safe"' in html
    # The FAQ is found by the heading's id, whatever its words, and read in Kannada.
    blocks = {block["@type"]: block for block in structured_data(html)}
    assert blocks["FAQPage"]["mainEntity"] == [
        {
            "@type": "Question",
            "name": "ಮೆಟ್ಟಿಲು ಹತ್ತುವುದು ಸುರಕ್ಷಿತವೇ?",
            "acceptedAnswer": {"@type": "Answer", "text": "ಹೌದು, ನಿಧಾನವಾಗಿ ಹತ್ತಿ ಮತ್ತು ಕೈಹಿಡಿ ಬಳಸಿ."},
        }
    ]
    assert blocks["BlogPosting"]["inLanguage"] == "kn-IN"
    assert blocks["BlogPosting"]["url"] == f"{SITE}/kn{path}"
    # Telugu has no version yet: the English text, marked as English, with a note.
    telugu = check_page(client, "te", path)
    assert telugu.note and telugu.prose_lang == "en-IN"
    assert "ಮೆಟ್ಟಿಲು" not in client.get(f"/te{path}").get_data(as_text=True)


def test_the_untranslated_article_note_names_the_language(
    client: FlaskClient, kannada_article: str
) -> None:
    # The fixture's folder has one Kannada translation; the other articles have none.
    slug = next(a.slug for a in all_articles() if a.slug != kannada_article)
    html = client.get(f"/kn/blog/{slug}").get_data(as_text=True)
    page = Page(html)
    assert page.note and page.prose_lang == "en-IN"
    note = html.split('translation-note">', 1)[1].split("</p>", 1)[0]
    assert LANGUAGES["kn"].native_name in note
    assert page.canonical == [f"{SITE}/blog/{slug}"]


def test_each_language_lists_every_article_its_own_first_in_its_words(
    client: FlaskClient, kannada_article: str
) -> None:
    english = all_articles()
    html = client.get("/kn/blog/").get_data(as_text=True)
    for article in english:
        assert f'href="/kn/blog/{article.slug}"' in html
    assert "ಮೆಟ್ಟಿಲು ಹತ್ತುವಾಗ ಮೊಣಕಾಲು ನೋವು" in html
    others = [a for a in english if a.slug != kannada_article]
    for article in others:
        assert f'<h2 lang="en-IN"><a href="/kn/blog/{article.slug}">' in html
    assert f'<h2><a href="/kn/blog/{kannada_article}">' in html


def test_dates_are_in_the_language_with_western_digits(
    client: FlaskClient, kannada_article: str
) -> None:
    for code in LANGUAGES:
        html = client.get(f"{PREFIX[code]}/blog/{kannada_article}").get_data(as_text=True)
        # The Kannada version was last reviewed later than the English one.
        reviewed = date(2026, 11, 2) if code == "kn" else date(2026, 10, 28)
        words = format_date(reviewed, "long", locale=LANGUAGES[code].html_lang.replace("-", "_"))
        assert f'<time datetime="{reviewed.isoformat()}">{words}</time>' in html
        assert "2026" in words and not any(ch.isdigit() and not ch.isascii() for ch in html)
    assert "2 November 2026" not in client.get(f"/kn/blog/{kannada_article}").get_data(as_text=True)


def test_the_sitemap_lists_each_language_version_with_its_alternates(
    client: FlaskClient, kannada_article: str
) -> None:
    root = ET.fromstring(client.get("/sitemap.xml").data)  # noqa: S314  (our own answer)
    entries = {
        url.findtext(f"{SITEMAP}loc"): {
            link.get("hreflang"): link.get("href") for link in url.iter(f"{XHTML}link")
        }
        for url in root.iter(f"{SITEMAP}url")
    }
    for path in public_paths():
        slug = (
            path.removeprefix("/blog/") if path.startswith("/blog/") and path != "/blog/" else None
        )
        versions = languages_of(slug) if slug else list(LANGUAGES)
        expected = {LANGUAGES[code].html_lang: SITE + PREFIX[code] + path for code in versions}
        expected["x-default"] = SITE + path
        for code in LANGUAGES:
            if code in versions:
                assert entries[SITE + PREFIX[code] + path] == expected, (code, path)
            else:  # shown in English there, with the English page as canonical
                assert SITE + PREFIX[code] + path not in entries
    assert SITE + f"/kn/blog/{kannada_article}" in entries
    assert SITE + f"/te/blog/{kannada_article}" not in entries


# --- Accept-Language ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "suggested"),
    [
        ("te-IN,te;q=0.9,en-IN;q=0.8,en;q=0.7", "te"),
        ("kn", "kn"),
        ("hi-IN,en;q=0.5", "hi"),
        ("en-IN,en;q=0.9,kn;q=0.8", None),  # English first: nothing to suggest
        ("fr-FR,fr;q=0.9", None),
        ("", None),
    ],
)
def test_an_english_page_suggests_the_visitors_language_and_stays_english(
    client: FlaskClient, accept: str, suggested: str | None
) -> None:
    for path in ("/", "/blog/", "/contact", "/branches/hyderabad"):
        response = client.get(path, headers={"Accept-Language": accept})
        assert response.status_code == 200  # never a redirect away from a shared link
        assert "Accept-Language" in response.headers.get("Vary", "")
        with client.session_transaction() as session:  # the choice is never remembered
            assert not [key for key in session if "lang" in key.lower()]
        assert "lang" not in response.headers.get("Set-Cookie", "").split("=", 1)[0].lower()
        page = Page(response.get_data(as_text=True))
        assert page.html_lang == "en-IN"
        if suggested is None:
            assert page.suggestion is None
            continue
        language = LANGUAGES[suggested]
        assert page.suggestion == {
            "lang": language.html_lang,
            "href": PREFIX[suggested] + path,
            "hreflang": language.html_lang,
        }
        assert (
            language.native_name
            in response.get_data(as_text=True)
            .split("language-suggestion", 1)[1]
            .split("</p>", 1)[0]
        )


def test_a_page_in_a_language_suggests_nothing(client: FlaskClient) -> None:
    response = client.get("/kn/contact", headers={"Accept-Language": "te,en;q=0.5"})
    assert response.status_code == 200
    assert Page(response.get_data(as_text=True)).suggestion is None
    assert "Accept-Language" not in response.headers.get("Vary", "")
