"""In Chromium on a machine without Indic fonts: a page in Kannada, Telugu or Hindi draws its
text with the shipped Noto subset and fetches no other script's font (only the tiny faces of
the other languages' names); an English page with the language switcher fetches only the three
tiny faces of the language names.

The pages are the site's layout, told their language through ``current_language`` as the
translated pages will be, with a heading, a paragraph and the switcher's three names. Chromium
runs with a fontconfig that knows DejaVu only, whatever fonts this machine has installed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask, render_template_string

from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path

pytestmark = pytest.mark.browser

FONTCONFIG = """<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir>/usr/share/fonts/truetype/dejavu</dir>
  <cachedir>{cache}</cachedir>
</fontconfig>
"""

PAGE = """{% extends "layout.html" %}
{% block main %}
<h1 id="heading">{{ heading }}</h1>
<p id="text">{{ text }}</p>
<p id="switcher"><a href="#" lang="kn">ಕನ್ನಡ</a> <a href="#" lang="te">తెలుగు</a>
<a href="#" lang="hi">हिन्दी</a></p>
{% endblock %}"""
TEXT = {
    "en": ("Back pain", "Gentle exercises for the lower back."),
    "kn": ("ಬೆನ್ನು ನೋವು", "ಕೆಳ ಬೆನ್ನಿಗೆ ಸರಳ ವ್ಯಾಯಾಮಗಳು ಮತ್ತು ಚಿಕಿತ್ಸೆ."),
    "te": ("వెన్నునొప్పి", "నడుము కోసం సులభమైన వ్యాయామాలు మరియు చికిత్స."),
    "hi": ("कमर दर्द", "कमर के निचले हिस्से के लिए आसान व्यायाम और इलाज।"),
}
SCRIPT = {
    "kn": ("kannada", "Kannada"),
    "te": ("telugu", "Telugu"),
    "hi": ("devanagari", "Devanagari"),
}
FETCHED_FONTS = """() => document.fonts.ready.then(() =>
  performance.getEntriesByType('resource').map(e => e.name).filter(n => n.endsWith('.woff2')))"""


@pytest.fixture(scope="module")
def bare_browser(browser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:  # type: ignore[no-untyped-def]
    """Chromium that sees no Indic font on the machine, as most phones' browsers see ours.

    Launched through the session's Playwright: a second one cannot run beside it.
    """
    folder: Path = tmp_path_factory.mktemp("fontconfig")
    conf = folder / "fonts.conf"
    conf.write_text(FONTCONFIG.format(cache=folder / "cache"))
    instance = browser.browser_type.launch(
        executable_path=chromium_path(),
        args=CHROMIUM_ARGS,
        env={**os.environ, "FONTCONFIG_FILE": str(conf)},
    )
    yield instance
    instance.close()


@pytest.fixture
def pages(app: Flask) -> Flask:
    @app.get("/font-check/<language>")
    def font_check(language: str) -> str:
        heading, text = TEXT[language]
        return render_template_string(PAGE, current_language=language, heading=heading, text=text)

    return app


def fonts_of(page, selector: str) -> list[dict]:  # type: ignore[no-untyped-def]
    """The fonts Chromium drew a node's own text with, as DevTools reports them."""
    session = page.context.new_cdp_session(page)
    session.send("DOM.enable")
    session.send("CSS.enable")
    root = session.send("DOM.getDocument")["root"]["nodeId"]
    node = session.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
    return session.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]


@pytest.mark.parametrize("language", ["kn", "te", "hi"])
def test_a_page_in_a_language_draws_it_with_the_shipped_font(
    pages, live_server, bare_browser, screenshot, language
):
    slug, name = SCRIPT[language]
    context = bare_browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server}/font-check/{language}")
    fetched = {url.rsplit("/", 1)[1].split(".")[0] for url in page.evaluate(FETCHED_FONTS)}
    # The page's own script, whole; the other two names from their tiny faces. The page's own
    # tiny face is drawn with nowhere, but it may be fetched while the whole font is still on
    # its way: with font-display: swap, Chromium then looks down the font list for a face that
    # covers the letters, and the last one does (seen under a loaded CI machine).
    names = {f"language-names-{other}" for other, _ in SCRIPT.values() if other != slug}
    expected = {f"noto-sans-{slug}-regular", f"noto-sans-{slug}-bold", *names}
    assert expected <= fetched <= expected | {f"language-names-{slug}"}
    for selector in ("#text", "#heading"):
        used = fonts_of(page, selector)
        indic = [font for font in used if font["familyName"] == f"Noto Sans {name}"]
        assert indic and all(font["isCustomFont"] for font in indic), (selector, used)
    screenshot(page)
    context.close()


def test_an_english_page_with_the_switcher_fetches_no_whole_indic_font(
    pages, live_server, bare_browser, screenshot
):
    context = bare_browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.goto(f"{live_server}/font-check/en")
    fetched = {url.rsplit("/", 1)[1].split(".")[0] for url in page.evaluate(FETCHED_FONTS)}
    assert fetched == {f"language-names-{slug}" for slug, _ in SCRIPT.values()}
    for language, (_slug, name) in SCRIPT.items():
        used = fonts_of(page, f"#switcher a[lang={language}]")
        assert [(f["familyName"], f["isCustomFont"]) for f in used] == [(f"Noto Sans {name}", True)]
    screenshot(page)
    context.close()
