"""A visitor reaching out from a real Chromium: on a phone, with JavaScript on and off, and when
the database fails under them."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from crm.intake.forms import FAILURE_MESSAGE, SUCCESS_MESSAGE
from crm.intake.views import FAULT_MESSAGE
from crm.models import Enquiry
from crm.platform.extensions import db
from tests.dbfault import table_out_of_reach
from tests.e2e.conftest import PHONE_VIEWPORT
from tests.e2e.journeys import ARTICLE, fill_reach_out, lead_count, typed_values

pytestmark = pytest.mark.browser

JAVASCRIPT = pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])


def success_notice(page):  # type: ignore[no-untyped-def]
    return page.locator("[data-form-status] .notice--success")


def error_notice(page):  # type: ignore[no-untyped-def]
    return page.locator("[data-form-status] .notice--error")


@JAVASCRIPT
def test_a_phone_visitor_reads_the_article_and_reaches_out(
    browser, live_server, app, javascript, screenshot
):
    context = browser.new_context(viewport=PHONE_VIEWPORT, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{live_server}/blog/")
    page.get_by_role("link", name="Six acupressure points for back pain").first.click()
    page.wait_for_url(f"{live_server}{ARTICLE}")
    assert "acupressure points" in page.get_by_role("heading", level=1).inner_text().lower()
    assert page.get_by_text("Commanding Middle").first.is_visible()

    page.get_by_role("link", name="Reach out to us").first.click()
    page.wait_for_url(f"{live_server}{ARTICLE}#reach-out")
    assert page.locator("#name").is_visible()
    fill_reach_out(page, phone="12345")
    typed = typed_values(page)
    page.click("[data-submit]")

    error_notice(page).wait_for()
    assert error_notice(page).inner_text().startswith(FAILURE_MESSAGE)
    assert "valid phone number" in page.inner_text("#phone-error")
    assert page.get_attribute("#phone", "aria-invalid") == "true"
    # After "Oops!" the status says what to fix, each reason linked to its field.
    summary = page.locator("[data-form-status] .error-summary a")
    assert summary.count() == 1
    assert summary.first.get_attribute("href") == "#phone"
    assert "valid phone number" in summary.first.inner_text()
    assert typed_values(page) == typed
    # Still the article around the form: in place with JavaScript, re-rendered by the server
    # (as the answer to the POST) without it.
    assert "acupressure points" in page.get_by_role("heading", level=1).inner_text().lower()
    # The answer opens at the form, not at the top of a long page the visitor must scroll.
    expect(error_notice(page)).to_be_in_viewport()
    if javascript:
        assert page.url.startswith(f"{live_server}{ARTICLE}")
        # Focus moves to the field that needs attention, so the reason is read out at once.
        assert page.evaluate("document.activeElement.id") == "phone"
    assert lead_count(app) == 0

    page.fill("#phone", "98450 12345")
    page.click("[data-submit]")
    success_notice(page).wait_for()
    assert success_notice(page).inner_text() == SUCCESS_MESSAGE
    expect(success_notice(page)).to_be_in_viewport()
    assert page.locator("#phone-error").is_hidden()
    assert page.input_value("#name") == ""  # cleared, ready for another message
    if javascript:
        assert page.url.startswith(f"{live_server}{ARTICLE}")
        assert page.evaluate("document.activeElement.matches('[data-form-status]')")
    else:
        assert page.url == f"{live_server}{ARTICLE}#reach-out"
    assert lead_count(app) == 1
    with app.app_context():
        enquiry = db.session.scalar(select(Enquiry))
        assert (enquiry.source_page, enquiry.lead.name) == (ARTICLE, "Kavya Hegde")
    screenshot(page)
    context.close()


def test_with_javascript_the_form_sends_in_place_and_again(browser, live_server, app):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server}{ARTICLE}?utm_source=newsletter")
    fill_reach_out(page)
    # Hold the request on its way, to see the form while it is being sent.
    held = []
    page.route("**/leads", lambda route: held.append(route))
    page.click("[data-submit]")
    page.wait_for_function("() => document.querySelector('[data-submit]').disabled")
    assert len(held) == 1  # one click, one request, and the button refuses a second press
    held[0].continue_()
    page.unroute("**/leads")
    success_notice(page).wait_for()
    assert page.locator("[data-submit]").is_enabled()
    with app.app_context():
        enquiry = db.session.scalar(select(Enquiry))
        assert (enquiry.source_page, enquiry.utm_source) == (ARTICLE, "newsletter")

    # A second, different message from the same page is stored too (a fresh submission token),
    # once the visitor asks for the form again: after a success it steps aside.
    assert not page.locator("#name").is_visible()
    page.get_by_role("link", name="Send another message").click()
    fill_reach_out(page, phone="99000 11223")
    page.click("[data-submit]")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-form-status] .notice--success').length === 1"
        " && !document.querySelector('[data-submit]').disabled"
    )
    with app.app_context():
        assert db.session.scalar(select(func.count(Enquiry.id))) == 2
    context.close()


@JAVASCRIPT
def test_a_database_failure_says_so_and_keeps_what_was_typed(
    browser, live_server, app, javascript, screenshot
):
    context = browser.new_context(viewport=PHONE_VIEWPORT, java_script_enabled=javascript)
    page = context.new_page()
    page.goto(f"{live_server}/contact")
    fill_reach_out(page, name="Meera Nair", message="Shoulder pain when lifting.")
    typed = typed_values(page)

    with table_out_of_reach(app):
        with page.expect_response(f"{live_server}/leads") as answer:
            page.click("[data-submit]")
        assert answer.value.status == 500
        error_notice(page).wait_for()
        assert error_notice(page).inner_text().startswith(FAILURE_MESSAGE)
        assert FAULT_MESSAGE in error_notice(page).inner_text()
        expect(error_notice(page)).to_be_in_viewport()
        kept = typed_values(page)
        if not javascript:
            # The page came back from the server, with the number as the form understood it.
            typed["phone"] = "+919845012345"
        assert kept == typed
        assert lead_count(app) == 0
        screenshot(page, "failure")

    # With the database whole again, pressing Send once more is all it takes.
    page.click("[data-submit]")
    success_notice(page).wait_for()
    assert lead_count(app) == 1
    screenshot(page)
    context.close()
