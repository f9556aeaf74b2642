"""Static files: fingerprinted URLs, gzip and brotli, far-future caching, all served by the app."""

from __future__ import annotations

import gzip
import re
from pathlib import Path

import brotli

from crm.platform.assets import build
from tests.test_site import ARTICLE

STATIC = Path(__file__).resolve().parent.parent / "crm" / "static"
YEAR = 365 * 24 * 3600


def linked_assets(client, path: str) -> list[str]:  # type: ignore[no-untyped-def]
    html = client.get(path).get_data(as_text=True)
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html)


def source_of(url: str) -> bytes:
    plain = re.sub(r"\.[0-9a-f]{12}(\.[a-z]+)$", r"\1", url.removeprefix("/static/"))
    return (STATIC / plain).read_bytes()


def as_written(served: bytes) -> bytes:
    """A hashed stylesheet refers to hashed names; the file in crm/static, to plain ones."""
    return re.sub(rb"\.[0-9a-f]{12}(\.\w+\))", rb"\1", served)


def test_pages_link_fingerprinted_assets_cached_for_a_year(client):
    assets = set(linked_assets(client, "/")) | set(linked_assets(client, ARTICLE))
    assert {re.sub(r"\.[0-9a-f]{12}", "", url) for url in assets} >= {
        "/static/css/site.css",
        "/static/js/reach-out.js",
        "/static/favicon.svg",
    }
    for url in assets:
        assert re.search(r"\.[0-9a-f]{12}\.[a-z]+$", url), url
        response = client.get(url)
        assert response.status_code == 200, url
        assert as_written(response.data) == source_of(url)
        cache = response.headers["Cache-Control"]
        assert "immutable" in cache and "public" in cache
        assert int(re.search(r"max-age=(\d+)", cache).group(1)) >= YEAR
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_text_assets_come_compressed_with_brotli_or_gzip(client):
    for url in linked_assets(client, ARTICLE):
        if not url.endswith((".css", ".js", ".svg")):
            continue
        original = client.get(url).data
        assert as_written(original) == source_of(url)
        with_brotli = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br"})
        assert with_brotli.headers["Content-Encoding"] == "br", url
        assert "Accept-Encoding" in with_brotli.headers["Vary"]
        assert brotli.decompress(with_brotli.data) == original
        assert len(with_brotli.data) < len(original)
        with_gzip = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert with_gzip.headers["Content-Encoding"] == "gzip", url
        assert gzip.decompress(with_gzip.data) == original
        plain = client.get(url)
        assert "Content-Encoding" not in plain.headers and plain.data == original


def test_plain_names_still_answer_with_a_short_cache(client):
    response = client.get("/static/css/site.css")
    assert response.status_code == 200
    assert response.data == (STATIC / "css" / "site.css").read_bytes()
    assert response.headers["Cache-Control"] == "max-age=3600, public"


def test_a_changed_file_gets_a_new_name(tmp_path):
    source, target = tmp_path / "static", tmp_path / "build"
    (source / "css").mkdir(parents=True)
    (source / "css" / "a.css").write_text("body { color: red; }\n" * 20)
    first = build(source, target)["css/a.css"]
    assert build(source, target)["css/a.css"] == first  # same content, same name
    (source / "css" / "a.css").write_text("body { color: blue; }\n" * 20)
    second = build(source, target)["css/a.css"]
    assert second != first
    assert (target / first).is_file() and (target / second).is_file()  # old pages still load
    assert (target / (second + ".br")).is_file() and (target / (second + ".gz")).is_file()
    assert (target / "css" / "a.css").read_text().startswith("body { color: blue; }")


def test_a_stylesheet_refers_to_the_fingerprinted_names_of_its_fonts(tmp_path):
    source, target = tmp_path / "static", tmp_path / "build"
    (source / "css").mkdir(parents=True)
    (source / "fonts").mkdir()
    (source / "fonts" / "a.woff2").write_bytes(b"wOF2 first")
    css = (
        "@font-face { src: url(../fonts/a.woff2) format('woff2'); }\n"
        '.x { background: url("data:image/png;base64,AAAA"); }\n'
        ".y { background: url(../img/missing.png); }\n"
    )
    (source / "css" / "a.css").write_text(css)
    manifest = build(source, target)
    hashed = (target / manifest["css/a.css"]).read_text()
    assert f"url(../fonts/{manifest['fonts/a.woff2'].rsplit('/', 1)[1]})" in hashed
    assert "data:image/png;base64,AAAA" in hashed and "url(../img/missing.png)" in hashed
    assert (target / "css" / "a.css").read_text() == css  # the plain name: as written
    (source / "fonts" / "a.woff2").write_bytes(b"wOF2 second")
    # A new font gives its stylesheet a new name too, or a cached stylesheet would ask for the old.
    assert build(source, target)["css/a.css"] != manifest["css/a.css"]
