"""What search engines, feed readers and link previews read, checked by parsing it.

JSON-LD blocks are parsed with json and compared with the data they were built from (the branch
rows, the articles' front matter); the sitemap and feed with an XML parser.
"""

from __future__ import annotations

import json
import re
import struct
from html.parser import HTMLParser
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import select

from crm.clinic.seed import seed_branches
from crm.models import WEEKDAYS, Branch
from crm.platform.extensions import db
from crm.site.blog import all_articles, find_article
from tests.test_site import ARTICLE, PAGES

SITE = "https://www.physiotattva.example"
ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
SCHEMA_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@pytest.fixture
def app_config() -> dict[str, object]:
    return {"SITE_URL": SITE, "TRUSTED_HOSTS": ["clinic.test", "localhost"]}


class Head(HTMLParser):
    """The head's title, meta tags, links and JSON-LD blocks, and the page's h2/h3 headings."""

    def __init__(self) -> None:
        super().__init__()
        self.title = ""
        self.meta: dict[str, list[str]] = {}
        self.links: list[dict[str, str]] = []
        self.json_ld: list[object] = []
        self.headings: list[tuple[str, str]] = []
        self.nav_links: list[str] = []
        self._in: str | None = None
        self._text: list[str] = []
        self._in_nav = False

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        attributes = {name: value or "" for name, value in attrs}
        if tag == "meta":
            key = attributes.get("property") or attributes.get("name")
            if key:
                self.meta.setdefault(key, []).append(attributes.get("content", ""))
        elif tag == "link":
            self.links.append(attributes)
        elif tag == "nav" and attributes.get("aria-label") == "Main":
            self._in_nav = True
        elif tag == "a" and self._in_nav:
            self.nav_links.append(attributes["href"])
        elif (tag == "script" and attributes.get("type") == "application/ld+json") or tag in (
            "title",
            "h2",
            "h3",
        ):
            self._in, self._text = tag, []

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self._in:
            self._text.append(data)

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        if tag == "nav":
            self._in_nav = False
        if tag != self._in:
            return
        text = "".join(self._text)
        if tag == "script":
            self.json_ld.append(json.loads(text))
        elif tag == "title":
            self.title = self.title or text  # the document's, not an inline SVG's
        else:
            self.headings.append((tag, text.strip()))
        self._in = None


def head_of(client, path: str) -> Head:  # type: ignore[no-untyped-def]
    response = client.get(path)
    assert response.status_code == 200, path
    parser = Head()
    parser.feed(response.get_data(as_text=True))
    return parser


def blocks_of(head: Head, kind: str) -> list[dict]:
    return [block for block in head.json_ld if block["@type"] == kind]  # type: ignore[index]


def branches(app) -> list[Branch]:  # type: ignore[no-untyped-def]
    with app.app_context():
        rows = list(db.session.scalars(select(Branch).order_by(Branch.sort_order)))
        db.session.expunge_all()
        return rows


def test_every_page_has_its_own_title_and_description(client):
    heads = {path: head_of(client, path) for path in PAGES}
    titles = [head.title for head in heads.values()]
    descriptions = [head.meta["description"][0] for head in heads.values()]
    assert len(set(titles)) == len(PAGES), titles
    assert len(set(descriptions)) == len(PAGES), descriptions
    assert all(50 <= len(text) <= 200 for text in descriptions), descriptions
    for article in all_articles():
        head = heads[f"/blog/{article.slug}"]
        assert head.meta["description"] == [article.summary]
        assert head.title.startswith(article.title)


def test_canonical_link_and_previews_use_the_public_address(client):
    for path in PAGES:
        # Campaign tags and other query strings never make a second address for one page.
        head = head_of(client, f"{path}?utm_source=whatsapp&x=1")
        canonical = [link["href"] for link in head.links if link.get("rel") == "canonical"]
        assert canonical == [SITE + path]
        assert head.meta["og:url"] == [SITE + path]
        assert head.meta["og:title"] == [head.title]
        assert head.meta["twitter:card"] == ["summary_large_image"]
        assert head.meta["og:description"] == head.meta["description"]
        feeds = [link for link in head.links if link.get("type") == "application/atom+xml"]
        assert [link["href"] for link in feeds] == ["/blog/feed.xml"]
    article = head_of(client, ARTICLE)
    assert article.meta["og:type"] == ["article"]
    assert article.meta["article:published_time"] == ["2026-10-14"]


def test_the_share_image_is_a_png_the_app_serves(client):
    head = head_of(client, "/")
    (image,) = head.meta["og:image"]
    assert head.meta["twitter:image"] == [image]
    assert image.startswith(SITE)
    response = client.get(urlsplit(image).path)
    assert response.status_code == 200 and response.mimetype == "image/png"
    png = response.data
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1200, 630)
    assert head.meta["og:image:width"] == [str(width)]
    assert head.meta["og:image:height"] == [str(height)]


def check_physiotherapy(block: dict, branch: Branch) -> None:
    assert block["@type"] == "Physiotherapy"
    assert block["name"] == branch.name
    assert block["telephone"] == branch.phone
    assert block["url"] == f"{SITE}/branches/{branch.slug}"
    assert block["geo"] == {
        "@type": "GeoCoordinates",
        "latitude": branch.latitude,
        "longitude": branch.longitude,
    }
    address = block["address"]
    assert address["addressLocality"] == branch.city
    assert address["addressCountry"] == "IN"
    # Every part comes from the stored address, nothing else.
    for part in ("streetAddress", "postalCode", "addressRegion"):
        for piece in address[part].split(", "):
            assert piece in branch.address, (part, piece)
    expected_hours = [
        (f"https://schema.org/{SCHEMA_DAYS[WEEKDAYS.index(day)]}", start, end)
        for day in WEEKDAYS
        for start, end in branch.opening_hours.get(day, [])
    ]
    assert [
        (spec["dayOfWeek"], spec["opens"], spec["closes"])
        for spec in block["openingHoursSpecification"]
    ] == expected_hours


def check_breadcrumbs(client, block: dict, trail: list[tuple[str, str]]) -> None:  # type: ignore[no-untyped-def]
    items = block["itemListElement"]
    assert [(item["position"], item["name"], item["item"]) for item in items] == [
        (position, name, SITE + path) for position, (name, path) in enumerate(trail, start=1)
    ]
    for _name, path in trail:
        assert client.get(path).status_code == 200


def test_branch_pages_describe_the_branch_as_a_physiotherapy_business(app, client):
    for branch in branches(app):
        head = head_of(client, f"/branches/{branch.slug}")
        assert {block["@context"] for block in head.json_ld} == {"https://schema.org"}
        (business,) = blocks_of(head, "Physiotherapy")
        check_physiotherapy(business, branch)
        (trail,) = blocks_of(head, "BreadcrumbList")
        check_breadcrumbs(
            client,
            trail,
            [("Home", "/"), ("Clinics", "/contact"), (branch.name, f"/branches/{branch.slug}")],
        )


def test_the_organisation_lists_every_branch(app, client):
    for path in ("/", "/contact"):
        (organisation,) = blocks_of(head_of(client, path), "MedicalOrganization")
        assert organisation["name"] == app.config["CLINIC_NAME"]
        assert organisation["url"] == SITE + "/"
        assert client.get(urlsplit(organisation["logo"]).path).mimetype == "image/png"
        rows = branches(app)
        assert len(organisation["department"]) == len(rows)
        for block, branch in zip(organisation["department"], rows, strict=True):
            check_physiotherapy(block, branch)
            assert block["parentOrganization"] == {"@id": organisation["@id"]}


def test_articles_are_blog_postings_with_author_reviewer_and_breadcrumbs(client):
    for article in all_articles():
        path = f"/blog/{article.slug}"
        head = head_of(client, path)
        (posting,) = blocks_of(head, "BlogPosting")
        assert posting["headline"] == article.title
        assert posting["description"] == article.summary
        assert posting["datePublished"] == article.date.isoformat()
        assert posting["dateModified"] == max(article.date, article.last_reviewed).isoformat()
        assert posting["author"]["name"] == article.author
        page = posting["mainEntityOfPage"]
        assert page["@id"] == SITE + path
        assert page["reviewedBy"] == {"@type": "Person", "name": article.reviewed_by}
        assert page["lastReviewed"] == article.last_reviewed.isoformat()
        (trail,) = blocks_of(head, "BreadcrumbList")
        check_breadcrumbs(
            client, trail, [("Home", "/"), ("Articles", "/blog/"), (article.title, path)]
        )


def test_health_content_shows_who_wrote_and_reviewed_it_and_when(client):
    article = find_article("acupressure-points-for-back-pain")
    html = client.get(ARTICLE).get_data(as_text=True)
    assert "<dt>Medically reviewed by</dt><dd>Dr. Kavya Nair, MPT (Musculoskeletal)</dd>" in html
    assert article is not None and article.reviewed_by == "Dr. Kavya Nair, MPT (Musculoskeletal)"
    assert f'<time datetime="{article.last_reviewed.isoformat()}">20 November 2026</time>' in html
    assert f"<dt>Written by</dt><dd>{article.author}</dd>" in html


def test_the_acupressure_questions_are_an_faq_page_matching_what_the_page_shows(client):
    head = head_of(client, ARTICLE)
    (faq,) = blocks_of(head, "FAQPage")
    questions = [item["name"] for item in faq["mainEntity"]]
    # The questions are the h3 headings under the page's own "Frequently asked questions" h2.
    shown: list[str] = []
    inside = False
    for tag, text in head.headings:
        if tag == "h2":
            inside = text == "Frequently asked questions"
        elif inside:
            shown.append(text)
    assert questions == shown and len(questions) == 5
    for item in faq["mainEntity"]:
        assert item["@type"] == "Question"
        assert item["acceptedAnswer"]["@type"] == "Answer"
        assert len(item["acceptedAnswer"]["text"]) > 40
        assert "*" not in item["acceptedAnswer"]["text"]
    assert "LI 4" in faq["mainEntity"][4]["acceptedAnswer"]["text"]
    # Articles without such a section carry no FAQ.
    assert not blocks_of(head_of(client, "/blog/knee-pain-stairs"), "FAQPage")


def test_sitemap_lists_every_public_page_with_article_dates(client):
    response = client.get("/sitemap.xml")
    assert response.status_code == 200 and response.mimetype == "application/xml"
    root = ET.fromstring(response.data)  # noqa: S314  (our own app's answer)
    assert root.tag == f"{SITEMAP}urlset"
    entries = {
        url.findtext(f"{SITEMAP}loc"): url.findtext(f"{SITEMAP}lastmod")
        for url in root.iter(f"{SITEMAP}url")
    }
    # English pages here; their versions in other languages in test_language_pages.py.
    assert {loc for loc in entries if not re.match(rf"{SITE}/(kn|te|hi)/", loc)} == {
        SITE + path for path in PAGES
    }
    for article in all_articles():
        assert entries[f"{SITE}/blog/{article.slug}"] == article.modified.isoformat()
    for loc in entries:
        assert client.get(urlsplit(loc).path).status_code == 200


def test_robots_keeps_staff_pages_out_and_names_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    lines = response.get_data(as_text=True).splitlines()
    assert "User-agent: *" in lines
    assert "Disallow: /staff/" in lines
    assert f"Sitemap: {SITE}/sitemap.xml" in lines


def test_atom_feed_has_every_article(client):
    response = client.get("/blog/feed.xml")
    assert response.status_code == 200 and response.mimetype == "application/atom+xml"
    feed = ET.fromstring(response.data)  # noqa: S314  (our own app's answer)
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == f"{SITE}/blog/feed.xml"
    assert feed.find(f"{ATOM}link[@rel='self']").get("href") == f"{SITE}/blog/feed.xml"
    entries = feed.findall(f"{ATOM}entry")
    articles = all_articles()
    assert [entry.findtext(f"{ATOM}title") for entry in entries] == [a.title for a in articles]
    for entry, article in zip(entries, articles, strict=True):
        url = f"{SITE}/blog/{article.slug}"
        assert entry.findtext(f"{ATOM}id") == url
        assert entry.find(f"{ATOM}link").get("href") == url
        assert entry.findtext(f"{ATOM}published").startswith(article.date.isoformat())
        assert entry.findtext(f"{ATOM}updated").startswith(article.modified.isoformat())
        assert entry.findtext(f"{ATOM}summary") == article.summary
        assert entry.findtext(f"{ATOM}author/{ATOM}name") == article.author
    newest = max(article.modified for article in articles).isoformat()
    assert feed.findtext(f"{ATOM}updated").startswith(newest)


def test_favicon_ico_is_an_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response.mimetype == "image/vnd.microsoft.icon"
    reserved, kind, count = struct.unpack("<HHH", response.data[:6])
    assert (reserved, kind, count) == (0, 1, 1)
    width, height, *_rest, size, offset = struct.unpack("<BBBBHHII", response.data[6:22])
    assert (width, height) == (32, 32)
    assert response.data[offset : offset + 8] == b"\x89PNG\r\n\x1a\n"
    assert offset + size == len(response.data)


def test_the_404_page_keeps_the_site_menu_and_is_not_indexed(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    parser = Head()
    parser.feed(response.get_data(as_text=True))
    assert parser.nav_links == ["/", "/blog/", "/contact"]
    assert parser.meta["robots"] == ["noindex"]
    assert not [link for link in parser.links if link.get("rel") == "canonical"]
    # No form on the error page: its "Reach out" link leads to the contact page's.
    assert 'href="/contact#reach-out"' in response.get_data(as_text=True)


def test_seed_fills_a_branch_location_left_blank_but_never_overwrites(app):
    with app.app_context():
        bengaluru = db.session.scalar(select(Branch).where(Branch.slug == "bengaluru"))
        hyderabad = db.session.scalar(select(Branch).where(Branch.slug == "hyderabad"))
        bengaluru.latitude = bengaluru.longitude = bengaluru.parking = None
        hyderabad.parking = "Ask at the gate."
        db.session.commit()
        assert seed_branches() == []
        db.session.expire_all()
        assert bengaluru.latitude == pytest.approx(12.978395)
        assert bengaluru.parking and "Two-wheeler" in bengaluru.parking
        assert hyderabad.parking == "Ask at the gate."
