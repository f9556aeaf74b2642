"""The site in Kannada, Telugu and Hindi in a real browser: axe on every page on a 320-pixel
phone, the language switcher by keyboard, and the reach-out form sent in Telugu on a phone."""

from __future__ import annotations

import pytest

from crm.intake.forms import FAILURE_MESSAGE, SUCCESS_MESSAGE
from crm.platform.i18n import LANGUAGES, PREFIXED
from tests.catalogues import compile_catalogues, translation
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import PHONE_VIEWPORT
from tests.e2e.journeys import fill_reach_out, lead_count
from tests.e2e.test_accessibility import public_pages

pytestmark = pytest.mark.browser

NARROWEST = {"width": 320, "height": 640}


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


def test_a_visitor_sends_the_form_in_telugu_on_a_phone(browser, live_server, app, screenshot):
    failure = translation("te", FAILURE_MESSAGE)
    wrong_phone = translation(
        "te", "That does not look like a valid phone number. Please check the digits."
    )
    thanks = translation("te", SUCCESS_MESSAGE)
    before = lead_count(app)
    page = browser.new_context(viewport=PHONE_VIEWPORT).new_page()
    page.goto(f"{live_server}/te/branches/hyderabad")
    fill_reach_out(page, name="సురేష్ రెడ్డి", phone="12345", message="మోకాలి నొప్పి.")
    page.click("[data-submit]")
    error = page.locator("[data-form-status] .notice--error")
    error.wait_for()
    assert error.inner_text() == failure
    assert page.locator("#phone-error").inner_text() == wrong_phone
    assert lead_count(app) == before

    page.fill("#phone", "98450 12345")
    page.click("[data-submit]")
    success = page.locator("[data-form-status] .notice--success")
    success.wait_for()
    assert success.inner_text() == thanks
    assert page.url == f"{live_server}/te/branches/hyderabad"  # sent in place, still in Telugu
    assert lead_count(app) == before + 1
    screenshot(page)
    page.context.close()
