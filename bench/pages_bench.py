"""Public pages: server time of the home page and an article, and what a first visit downloads.

    .venv/bin/python bench/pages_bench.py [--repeat 300]

Server time is the whole request through the Flask test client (routing, session, template,
reach-out form, headers), on a fresh migrated SQLite database with the branches seeded.

First-visit bytes are what a browser fetches for the page before any photo: the HTML, then
every stylesheet, script, icon and manifest it links, every image that is not a photo (SVG),
and whatever the stylesheets pull in with ``url(...)`` or ``@import`` (fonts: those whose
``unicode-range`` has a letter on the page, as a browser fetches them). Raw bytes are
the figure held against the 60 KB target; gzip (level 6, what a typical proxy applies) and what
is actually sent (the app's brotli static files plus proxy-gzipped HTML) are printed alongside.

The first visit to the home page and the acupressure article is also measured per language
(``case``: en, kn, te, hi): a page in Kannada, Telugu or Hindi links its script's web fonts
(templates/site/_fonts.html), and what it sends, as served, is held against a 120 KB target. A
font whose ``unicode-range`` has no letter of the page is left out, as a browser leaves it.
"""

from __future__ import annotations

import argparse
import gzip
import re
import statistics
import tempfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

from benchkit import emit, note, percentile, time_ms
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade

from crm import create_app
from crm.clinic.seed import seed_branches
from crm.platform.extensions import db

BENCH = "pages"
PAGES = {"home": "/", "article": "/blog/acupressure-points-for-back-pain"}
LANGUAGES = ("en", "kn", "te", "hi")
LANGUAGE_TARGET = 120 * 1024  # bytes as served, for a first visit to a page in kn, te or hi
PHOTO = re.compile(r"\.(?:jpe?g|png|webp|avif|gif)$", re.IGNORECASE)
LINK_RELS = {"stylesheet", "icon", "shortcut", "apple-touch-icon", "manifest", "preload"}
CSS_REFERENCE = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)|@import\s+['"]([^'"]+)['"]""")
FONT_FACE = re.compile(r"@font-face\s*{([^}]*)}")
UNICODE_RANGE = re.compile(r"unicode-range:\s*([^;}]+)")


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        rels = set(attributes.get("rel", "").lower().split())
        if tag == "link" and rels & LINK_RELS and attributes.get("href"):
            self.urls.append(attributes["href"])
        elif tag in ("script", "img", "source") and attributes.get("src"):
            self.urls.append(attributes["src"])


def _unused_faces(css: str, base: str, letters: set[int]) -> set[str]:
    """Fonts of ``@font-face`` rules whose ``unicode-range`` has none of the page's letters: a
    browser never fetches them."""
    unused: set[str] = set()
    for face in FONT_FACE.findall(css):
        ranges = UNICODE_RANGE.search(face)
        if not ranges:
            continue
        claimed = set()
        for part in ranges.group(1).split(","):
            first, _, last = part.strip().removeprefix("U+").partition("-")
            claimed |= set(range(int(first, 16), int(last or first, 16) + 1))
        if not claimed & letters:
            unused |= {urljoin(base, found.group(1)) for found in CSS_REFERENCE.finditer(face)}
    return unused


def first_visit(client: FlaskClient, path: str) -> dict[str, bytes]:
    """Every response body a first visit to ``path`` downloads, photos left out.

    A font whose ``unicode-range`` has no letter of the page is left out, as a browser leaves it.
    """
    html = client.get(path).get_data()
    letters = {ord(letter) for letter in html.decode()}
    skipped: set[str] = set()
    bodies = {path: html}
    parser = _Assets()
    parser.feed(html.decode())
    queue = [urljoin(path, url) for url in parser.urls]
    while queue:
        url = queue.pop(0)
        target = urlsplit(url)
        if url in bodies or url in skipped or PHOTO.search(target.path):
            continue
        if target.netloc:
            raise SystemExit(f"{path} loads {url} from another site; count it by hand")
        answer = client.get(url)
        if answer.status_code != 200:
            raise SystemExit(f"{url} (linked from {path}) answered {answer.status_code}")
        bodies[url] = answer.get_data()
        if target.path.endswith(".css"):
            skipped |= _unused_faces(answer.get_data(as_text=True), url, letters)
            for found in CSS_REFERENCE.finditer(answer.get_data(as_text=True)):
                reference = found.group(1) or found.group(2)
                if not reference.startswith("data:"):
                    queue.append(urljoin(url, reference))
    return bodies


def as_served(client: FlaskClient, page: str, bodies: dict[str, bytes]) -> int:
    """What travels to a browser that accepts brotli: the app's own compressed static files
    (crm/platform/assets.py), and the HTML as the README's proxy compresses it (gzip level 6)."""
    total = 0
    for url, body in bodies.items():
        if url == page:
            total += len(gzip.compress(body, compresslevel=6))
            continue
        answer = client.get(url, headers={"Accept-Encoding": "br, gzip"})
        total += len(answer.get_data())
    return total


def languages(app: Flask) -> None:
    for language in LANGUAGES:
        for page, english_path in PAGES.items():
            path = english_path if language == "en" else f"/{language}{english_path}"
            bodies = first_visit(app.test_client(), path)
            raw = sum(len(body) for body in bodies.values())
            served = as_served(app.test_client(), path, bodies)
            fonts = sum(len(body) for url, body in bodies.items() if url.endswith(".woff2"))
            case = {"page": page, "case": language, "path": path}
            emit(BENCH, "first_visit_bytes", raw, "bytes", encoding="identity", **case)
            emit(BENCH, "first_visit_bytes", served, "bytes", encoding="as_served", **case)
            emit(BENCH, "first_visit_font_bytes", fonts, "bytes", **case)
            verdict = "" if language == "en" or served <= LANGUAGE_TARGET else "  OVER 120 KB"
            note(
                f"  {page}/{language} first visit {served / 1024:6.1f} KB as served, "
                f"fonts {fonts / 1024:5.1f} KB ({len(bodies)} files){verdict}"
            )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pages-bench-") as folder:
        app = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{Path(folder) / 'crm.sqlite3'}",
                "SECRET_KEY": "bench",
            }
        )
        with app.app_context():
            upgrade()
            seed_branches()
        client = app.test_client()
        for name, path in PAGES.items():
            samples = time_ms(lambda p=path: client.get(p), args.repeat, warmup=5)
            p50 = statistics.median(samples)
            emit(BENCH, "server_time_p50", p50, "ms", page=name, path=path)
            emit(BENCH, "server_time_p95", percentile(samples, 0.95), "ms", page=name, path=path)
            bodies = first_visit(app.test_client(), path)
            raw = sum(len(body) for body in bodies.values())
            packed = sum(len(gzip.compress(body, compresslevel=6)) for body in bodies.values())
            for url, body in bodies.items():
                emit(BENCH, "asset_bytes", len(body), "bytes", page=name, asset=url)
            emit(BENCH, "first_visit_bytes", raw, "bytes", page=name, encoding="identity")
            emit(BENCH, "first_visit_bytes", packed, "bytes", page=name, encoding="gzip")
            served = as_served(app.test_client(), path, bodies)
            emit(BENCH, "first_visit_bytes", served, "bytes", page=name, encoding="as_served")
            note(f"  {name:<8} p50 {p50:6.2f} ms  first visit {raw / 1024:6.1f} KB raw,")
            note(f"{'':<29}{packed / 1024:6.1f} KB gzip ({len(bodies)} files),")
            note(f"{'':<29}{served / 1024:6.1f} KB as served (app: br assets; proxy: gzip HTML)")
        languages(app)
        with app.app_context():
            db.engine.dispose()


if __name__ == "__main__":
    main()
