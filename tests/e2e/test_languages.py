"""The site in Kannada, Telugu and Hindi in a real browser: axe on every page on a 320-pixel
phone, the language switcher by keyboard, and a visitor on a phone who switches to Telugu and
reaches out, told what to fix in Telugu, with JavaScript and without.

The Telugu the journey expects is read from the Telugu catalogue, so the test follows the
translators' wording instead of a copy of it; a missing catalogue or entry fails it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from crm.intake.forms import FAILURE_MESSAGE, SUCCESS_MESSAGE
from crm.models import Enquiry
from crm.platform.extensions import db
from crm.platform.i18n import LANGUAGES, PREFIXED
from tests.catalogues import compile_catalogues, translation
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import PHONE_VIEWPORT
from tests.e2e.journeys import fill_reach_out, lead_count
from tests.e2e.test_accessibility import public_pages

pytestmark = pytest.mark.browser

NARROWEST = {"width": 320, "height": 640}
# What crm.platform.contact.normalise_phone says about a number too short to be one.
BAD_PHONE = "12345"
PHONE_ERROR = "That does not look like a valid phone number. Please check the digits."
JOURNEY_MESSAGES = (PHONE_ERROR, FAILURE_MESSAGE, SUCCESS_MESSAGE)


@pytest.fixture(autouse=True, scope="module")
def _compiled() -> None:
    compile_catalogues()


@pytest.mark.parametrize("code", PREFIXED)
def test_every_translated_page_passes_axe_on_the_narrowest_phone(browser, live_server, code):
    page = browser.new_context(viewport=NARROWEST).new_page()
    for path in public_pages():
        page.goto(f"{live_server}/{code}{path}")
        assert_accessible(page, f"/{code}{path} (320 px)")
        # Nothing wider than the screen: the switcher wraps onto its own row.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= NARROWEST["width"], (path, width)
        # A table (the article's) wraps its longer words inside the column instead of
        # spilling out of it, where the page's own width would not show it.
        for table in page.locator(".prose table").all():
            assert table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth"), path
    page.context.close()


def test_the_language_switcher_works_by_keyboard(browser, live_server):
    page = browser.new_context(viewport=NARROWEST).new_page()
    page.goto(f"{live_server}/contact")
    switcher = page.get_by_role("navigation", name="Language")
    links = switcher.get_by_role("link")
    assert links.all_inner_texts() == [language.native_name for language in LANGUAGES.values()]
    assert switcher.locator("[aria-current]").inner_text() == "English"
    telugu = links.nth(2)
    for _ in range(40):  # Tab through the page until the Telugu link has the focus
        page.keyboard.press("Tab")
        if telugu.evaluate("link => link === document.activeElement"):
            break
    else:
        raise AssertionError("the Telugu link is never reached by Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/te/contact")
    assert page.locator("html").get_attribute("lang") == "te-IN"
    assert page.locator(".language-switcher [aria-current]").inner_text() == "తెలుగు"
    page.context.close()


def phone_context(browser: Any, *, javascript: bool = True) -> Any:
    """A phone as a visitor holds it: narrow, touch, a mobile browser."""
    return browser.new_context(
        viewport=PHONE_VIEWPORT, has_touch=True, is_mobile=True, java_script_enabled=javascript
    )


def switch_language(page: Any, code: str) -> None:
    """Taps the header's link to the language, found as a reader finds it: by its own script
    (or by its hreflang, which the switcher carries for search engines and screen readers)."""
    language = LANGUAGES[code]
    link = (
        page.locator(f'a[hreflang="{language.html_lang}"]')
        .or_(page.get_by_role("link", name=language.native_name, exact=True))
        .filter(visible=True)
    )
    if link.count() == 0:
        pytest.fail(
            f"No visible link to {language.english_name} ({language.native_name}, "
            f'hreflang="{language.html_lang}") on {page.url}: every page needs the switcher.'
        )
    link.first.tap()


JAVASCRIPT = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])


@JAVASCRIPT
def test_a_phone_visitor_switches_to_telugu_and_reaches_out_in_telugu(
    browser, live_server, app, javascript, screenshot
):
    telugu = {msgid: translation("te", msgid) for msgid in JOURNEY_MESSAGES}
    context = phone_context(browser, javascript=javascript)
    page = context.new_page()

    page.goto(f"{live_server}/")
    switch_language(page, "te")
    page.wait_for_url(f"{live_server}/te/")
    assert page.get_attribute("html", "lang") == "te-IN"

    page.locator("header a[href$='/te/contact']").filter(visible=True).first.tap()
    page.wait_for_url(f"{live_server}/te/contact")
    assert page.get_attribute("html", "lang") == "te-IN"

    fill_reach_out(page, name="Lakshmi Naidu", phone=BAD_PHONE)
    page.tap("[data-submit]")
    notice = page.locator("[data-form-status] .notice--error")
    notice.wait_for()
    assert notice.inner_text().startswith(telugu[FAILURE_MESSAGE])
    expect(notice).to_be_in_viewport()
    assert page.inner_text("#phone-error").strip() == telugu[PHONE_ERROR]
    assert page.get_attribute("#phone", "aria-invalid") == "true"
    summary = page.locator("[data-form-status] .error-summary a")
    assert summary.count() == 1 and telugu[PHONE_ERROR] in summary.first.inner_text()
    for english in JOURNEY_MESSAGES:
        assert english not in page.inner_text("#reach-out"), english
    # Without JavaScript the answer is the page drawn again by the server: still in Telugu.
    assert page.url.startswith(f"{live_server}/te/")
    assert page.get_attribute("html", "lang") == "te-IN"
    assert lead_count(app) == 0

    page.fill("#phone", "98450 12345")
    page.tap("[data-submit]")
    success = page.locator("[data-form-status] .notice--success")
    success.wait_for()
    assert success.inner_text().strip() == telugu[SUCCESS_MESSAGE]
    expect(success).to_be_in_viewport()
    assert page.locator("#phone-error").is_hidden()
    if not javascript:
        # Sent back to the page it was written on, in the language it was written in.
        assert page.url == f"{live_server}/te/contact#reach-out", "left Telugu after sending"
    assert page.get_attribute("html", "lang") == "te-IN"
    # And another message is written in Telugu too.
    another = page.get_attribute("[data-send-another] a", "href")
    assert another.startswith("/te/contact"), f"'Send another message' leaves Telugu: {another}"
    screenshot(page)
    context.close()

    assert lead_count(app) == 1
    with app.app_context():
        enquiry = db.session.scalar(select(Enquiry))
        assert enquiry is not None and enquiry.lead.name == "Lakshmi Naidu"
        assert hasattr(Enquiry, "language"), (
            "Enquiry has no language attribute: the enquiry must record the language it was "
            "written in (enquiry.language), so the right person calls back."
        )
        assert enquiry.language == "te"
