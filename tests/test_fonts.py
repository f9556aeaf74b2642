"""The Kannada, Telugu and Devanagari web fonts: served by the app, whole where they are needed,
shaping as the source fonts do, and linked only by pages in their language.

A page's language comes from its address (``/kn/``, ``/te/``, ``/hi/``), which the layout reads
as the template global ``current_language``.
"""

from __future__ import annotations

import gzip
import io
import re
import unicodedata
from pathlib import Path
from urllib.parse import urljoin

import pytest
import uharfbuzz as hb
from flask.testing import FlaskClient
from fontTools.ttLib import TTFont

from tests.test_site import ARTICLE

STATIC = Path(__file__).resolve().parent.parent / "crm" / "static"
FONTS = STATIC / "fonts"
YEAR = 365 * 24 * 3600
FIRST_VISIT_TARGET = 120 * 1024  # bytes as served, for a page in kn, te or hi
NAMES_TARGET = 8 * 1024  # what the switcher's language names may cost an English page

SCRIPTS = {
    "kn": ("kannada", range(0x0C80, 0x0D00)),
    "te": ("telugu", range(0x0C00, 0x0C80)),
    "hi": ("devanagari", range(0x0900, 0x0980)),
}
NATIVE_NAMES = {"kn": "ಕನ್ನಡ", "te": "తెలుగు", "hi": "हिन्दी"}
# Letters Unicode added after the Noto release Debian packages (2020): historic, and rare.
NEWER_THAN_THE_FONTS = {0x0C3C, 0x0C5D, 0x0CDD, 0x0CF3}
# Words whose shaping needs GSUB and GPOS: conjuncts, reph, subjoined and pre-base forms.
# Each: (word, glyphs it shapes to) as the source font shapes it.
SHAPED = {
    "kn": [("ಕನ್ನಡ", 4), ("ಕಾರ್ಯ", 4), ("ಸ್ತ್ರೀ", 3), ("ಬೆನ್ನು", 4)],
    "te": [("తెలుగు", 5), ("స్త్రీ", 2), ("క్షేత్రం", 4), ("వెన్నునొప్పి", 7)],
    "hi": [("हिन्दी", 5), ("क्षत्रिय", 4), ("दर्द", 3), ("श्री", 2), ("शुद्ध", 3)],
}

FONT_FACE = re.compile(r"@font-face\s*{([^}]*)}")
CSS_URL = re.compile(r"""url\(\s*['"]?([^'")]+)['"]?\s*\)""")
ASSET = re.compile(r'<(?:link|script)\b[^>]*?(?:href|src)="(/static/[^"]+)"[^>]*>')


def in_language(language: str, path: str = "/") -> str:
    return path if language == "en" else f"/{language}{path}"


def assets(client: FlaskClient, path: str) -> dict[str, bytes]:
    """Every static file a first visit to ``path`` fetches: linked ones and what CSS names."""
    html = client.get(path).get_data(as_text=True)
    queue = ASSET.findall(html)
    found: dict[str, bytes] = {}
    while queue:
        url = queue.pop(0)
        if url in found:
            continue
        answer = client.get(url)
        assert answer.status_code == 200, url
        found[url] = answer.get_data()
        if url.endswith(".css"):
            queue += [urljoin(url, ref) for ref in CSS_URL.findall(answer.get_data(as_text=True))]
    return found


def plain(url: str) -> str:
    return re.sub(r"\.[0-9a-f]{12}(\.\w+)$", r"\1", url).rsplit("/", 1)[-1]


def font_faces(css: str) -> list[dict[str, str]]:
    faces = []
    for body in FONT_FACE.findall(css):
        pairs = (line.split(":", 1) for line in body.split(";") if ":" in line)
        faces.append({key.strip(): value.strip() for key, value in pairs})
    return faces


def code_points(ranges: str) -> set[int]:
    points: set[int] = set()
    for part in ranges.split(","):
        first, _, last = part.strip().removeprefix("U+").partition("-")
        points |= set(range(int(first, 16), int(last or first, 16) + 1))
    return points


def shaped(path: Path, word: str) -> list[int]:
    font = TTFont(path)
    font.flavor = None  # HarfBuzz reads no WOFF2
    out = io.BytesIO()
    font.save(out)
    buffer = hb.Buffer()
    buffer.add_str(word)
    buffer.guess_segment_properties()
    hb.shape(hb.Font(hb.Face(hb.Blob(out.getvalue()))), buffer, {})
    return [info.codepoint for info in buffer.glyph_infos]


def test_font_files_are_served_as_woff2_cached_for_a_year(client, app):
    manifest = app.extensions["static_manifest"]
    fonts = sorted(FONTS.glob("*.woff2"))
    assert len(fonts) == 9  # regular, bold and language name for each of three scripts
    for font in fonts:
        url = "/static/" + manifest[f"fonts/{font.name}"]
        response = client.get(url, headers={"Accept-Encoding": "br, gzip"})
        assert response.status_code == 200, url
        assert response.mimetype == "font/woff2"
        assert "Content-Encoding" not in response.headers  # WOFF2 is brotli inside already
        assert response.data == font.read_bytes()
        cache = response.headers["Cache-Control"]
        assert "immutable" in cache and "public" in cache
        assert int(re.search(r"max-age=(\d+)", cache).group(1)) >= YEAR
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert client.get("/static/fonts/OFL.txt").status_code == 200


@pytest.mark.parametrize("language", SCRIPTS)
def test_each_font_covers_its_script_and_keeps_its_shaping_tables(language):
    script, block = SCRIPTS[language]
    letters = {
        point
        for point in block
        if unicodedata.category(chr(point)) != "Cn" and point not in NEWER_THAN_THE_FONTS
    }
    for weight in ("regular", "bold"):
        font = TTFont(FONTS / f"noto-sans-{script}-{weight}.woff2")
        assert font.flavor == "woff2"
        cmap = set(font.getBestCmap())
        assert letters <= cmap, sorted(hex(p) for p in letters - cmap)
        assert {0x200C, 0x200D} <= cmap  # the joiners pick half forms and conjuncts
        assert not {p for p in cmap if p < 0x0900}  # Latin is the system font's
        for table in ("GSUB", "GPOS", "GDEF"):
            assert table in font, table
        gsub = font["GSUB"].table
        assert {"akhn", "blwf", "half", "rphf", "abvs", "blws", "psts"} <= {
            record.FeatureTag for record in gsub.FeatureList.FeatureRecord
        }
        assert "fpgm" not in font and "prep" not in font  # unhinted


@pytest.mark.parametrize("language", SCRIPTS)
def test_conjuncts_and_matras_still_shape(language):
    script, _block = SCRIPTS[language]
    for weight in ("regular", "bold"):
        path = FONTS / f"noto-sans-{script}-{weight}.woff2"
        dotted_circle = TTFont(path).getBestCmap()[0x25CC]
        for word, glyphs in SHAPED[language]:
            result = shaped(path, word)
            assert len(result) == glyphs, (weight, word, result)
            assert 0 not in result, (weight, word)  # no missing glyph
            dotted = TTFont(path).getReverseGlyphMap()[dotted_circle]
            assert dotted not in result, (weight, word)  # no broken cluster
    # A pre-base matra is drawn before its consonant: ि comes first in हिन्दी.
    if language == "hi":
        path = FONTS / "noto-sans-devanagari-regular.woff2"
        font = TTFont(path)
        ha = font.getReverseGlyphMap()[font.getBestCmap()[ord("ह")]]
        assert shaped(path, "हिन्दी")[1] == ha


def test_stylesheets_describe_the_fonts_they_load():
    faces = font_faces((STATIC / "css" / "site.css").read_text(encoding="utf-8"))
    for css in sorted((STATIC / "css").glob("fonts-*.css")):
        faces += font_faces(css.read_text(encoding="utf-8"))
    assert len(faces) == 9
    for face in faces:
        assert face["font-display"] == "swap"
        source = re.fullmatch(r'url\(\.\./fonts/([\w.-]+\.woff2)\) format\("woff2"\)', face["src"])
        assert source, face["src"]
        cmap = set(TTFont(FONTS / source.group(1)).getBestCmap())
        # A face claims exactly what it has: no letter falls in a hole, none is fetched for nothing.
        assert code_points(face["unicode-range"]) == cmap, source.group(1)


def test_english_pages_link_no_full_indic_font(client):
    for path in ("/", ARTICLE, "/contact", "/nowhere"):
        fonts = {url: body for url, body in assets(client, path).items() if url.endswith(".woff2")}
        assert all(plain(url).startswith("language-names-") for url in fonts), (path, fonts.keys())
        assert sum(len(body) for body in fonts.values()) <= NAMES_TARGET
        html = client.get(path).get_data(as_text=True)
        assert 'rel="preload"' not in html and "fonts-" not in html


def test_the_switchers_language_names_are_in_the_small_faces(client):
    css = (STATIC / "css" / "site.css").read_text(encoding="utf-8")
    covered: set[int] = set()
    for face in font_faces(css):
        assert face["font-family"] == '"Noto Sans Language Names"'
        covered |= code_points(face["unicode-range"])
    for language, name in NATIVE_NAMES.items():
        assert {ord(letter) for letter in name} <= covered, name
        script = SCRIPTS[language][0]
        small = shaped(FONTS / f"language-names-{script}.woff2", name)
        whole = shaped(FONTS / f"noto-sans-{script}-regular.woff2", name)
        assert 0 not in small and len(small) == len(whole), name
    # Any Indic letter an English page shows (the switcher) must be in those faces, or it would
    # fall to whatever font the phone has, or to boxes.
    for path in ("/", ARTICLE):
        text = client.get(path).get_data(as_text=True)
        indic = {ord(c) for c in text if 0x0900 <= ord(c) <= 0x0DFF}
        assert indic <= covered, sorted(hex(p) for p in indic - covered)


@pytest.mark.parametrize("language", SCRIPTS)
def test_a_page_in_a_language_links_that_scripts_font_only(app, client, language):
    script, _block = SCRIPTS[language]
    path = in_language(language)
    html = client.get(path).get_data(as_text=True)
    fetched = assets(client, path)
    fonts = {plain(url) for url in fetched if url.endswith(".woff2")}
    full = {name for name in fonts if name.startswith("noto-sans-")}
    assert full == {f"noto-sans-{script}-regular.woff2", f"noto-sans-{script}-bold.woff2"}
    preloads = re.findall(
        r'<link rel="preload" href="([^"]+)" as="font" type="font/woff2" crossorigin>', html
    )
    assert [plain(url) for url in preloads] == [f"noto-sans-{script}-regular.woff2"]
    # The preload is the very URL the stylesheet asks for, or the browser would fetch it twice.
    assert preloads[0] in fetched
    stylesheets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert [plain(url) for url in stylesheets] == ["site.css", f"fonts-{script}.css"]


@pytest.mark.parametrize("language", SCRIPTS)
def test_the_policy_lets_the_fonts_load_and_nothing_inline(app, client, language):
    response = client.get(in_language(language))
    directives = (
        part.strip().partition(" ")
        for part in response.headers["Content-Security-Policy"].split(";")
    )
    policy = {name: value for name, _space, value in directives}
    for directive in ("font-src", "style-src"):
        allowed = policy.get(directive, policy["default-src"])
        assert "'self'" in allowed.split(), directive
    html = response.get_data(as_text=True)
    assert "<style" not in html and " style=" not in html
    assert all(url.startswith("/static/") for url in ASSET.findall(html))


@pytest.mark.parametrize("page", ["/", "/blog/acupressure-points-for-back-pain"])
@pytest.mark.parametrize("language", SCRIPTS)
def test_a_first_visit_in_a_language_stays_under_120_kb(app, client, language, page):
    path = in_language(language, page)
    html = client.get(path).get_data()
    fetched = assets(client, path)
    # As served: static files as the app sends them to a browser that takes brotli, the HTML as
    # the README's proxy compresses it.
    total = len(gzip.compress(html, compresslevel=6))
    for url in fetched:
        total += len(client.get(url, headers={"Accept-Encoding": "br, gzip"}).data)
    assert total < FIRST_VISIT_TARGET, total
