"""The reach-out form in a real Chromium, with JavaScript on and off."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm.extensions import db
from crm.intake.forms import FAILURE_MESSAGE, SUCCESS_MESSAGE
from crm.models import Enquiry, Lead

pytestmark = pytest.mark.browser
ARTICLE = "/blog/acupressure-points-for-back-pain"


def lead_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Lead.id)))


def fill(page, *, name="Kavya Hegde", phone="98450 12345", consent=True) -> None:
    page.fill("#name", name)
    page.fill("#phone", phone)
    page.fill("#email", "kavya@example.com")
    page.select_option("#branch", "hyderabad")
    page.select_option("#interest", "back_pain")
    page.fill("#message", "Pain after long drives.")
    if consent:
        page.check("#consent")


def test_with_javascript_the_form_sends_in_place(browser, live_server, app):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server}{ARTICLE}?utm_source=newsletter")
    page.click("text=Reach out to us")
    fill(page)
    page.click("[data-submit]")
    status = page.locator("[data-form-status] .notice--success")
    status.wait_for()
    assert status.inner_text() == SUCCESS_MESSAGE
    # sent without leaving the article; the form is cleared for another message
    assert page.url.startswith(f"{live_server}{ARTICLE}")
    assert page.input_value("#name") == ""
    assert page.locator("[data-submit]").is_enabled()
    assert lead_count(app) == 1
    with app.app_context():
        enquiry = db.session.scalar(select(Enquiry))
        assert (enquiry.source_page, enquiry.utm_source) == (ARTICLE, "newsletter")

    # A second, different message from the same page is stored too (a fresh submission token).
    fill(page, phone="99000 11223")
    page.click("[data-submit]")
    page.wait_for_function(
        "() => document.querySelectorAll('[data-form-status] .notice--success').length === 1"
        " && !document.querySelector('[data-submit]').disabled"
    )
    with app.app_context():
        assert db.session.scalar(select(func.count(Enquiry.id))) == 2
    context.close()


def test_with_javascript_field_errors_appear_inline_and_input_is_kept(browser, live_server, app):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server}/contact")
    fill(page, phone="12345", consent=False)
    page.click("[data-submit]")
    error = page.locator("[data-form-status] .notice--error")
    error.wait_for()
    assert error.inner_text() == FAILURE_MESSAGE
    assert "valid phone number" in page.inner_text("#phone-error")
    assert "tick the box" in page.inner_text("#consent-error")
    assert page.get_attribute("#phone", "aria-invalid") == "true"
    assert page.input_value("#name") == "Kavya Hegde"
    # focus moves to the first field that needs attention
    assert page.evaluate("document.activeElement.id") == "phone"
    assert lead_count(app) == 0

    page.fill("#phone", "98450 12345")
    page.check("#consent")
    page.click("[data-submit]")
    page.locator("[data-form-status] .notice--success").wait_for()
    assert page.locator("#phone-error").is_hidden()
    assert lead_count(app) == 1
    context.close()


def test_without_javascript_the_form_posts_and_the_page_answers(browser, live_server, app):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}{ARTICLE}")
    fill(page, phone="not a phone")
    page.click("[data-submit]")
    assert FAILURE_MESSAGE in page.inner_text("[data-form-status]")
    assert "Please enter a phone number" in page.inner_text("#phone-error")
    assert page.input_value("#name") == "Kavya Hegde"
    assert "Commanding Middle" in page.content()
    assert lead_count(app) == 0

    page.fill("#phone", "+91 98450 12345")
    page.check("#consent")
    page.click("[data-submit]")
    assert page.url == f"{live_server}{ARTICLE}#reach-out"
    assert page.inner_text("[data-form-status]").strip() == SUCCESS_MESSAGE
    assert lead_count(app) == 1
    context.close()
