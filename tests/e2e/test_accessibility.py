"""axe-core on every public page and the main staff pages; the reach-out form by keyboard alone,
and what a screen reader is told about its labels, errors and answer."""

from __future__ import annotations

import pytest

from crm.intake.forms import FAILURE_MESSAGE, SUCCESS_MESSAGE
from crm.site.blog import all_articles
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import PHONE_VIEWPORT
from tests.e2e.journeys import (
    ARTICLE,
    fill_reach_out,
    lead_count,
    open_staff_page,
    sign_in_by_keyboard,
)
from tests.staff_helpers import email_of, make_lead, make_staff

pytestmark = pytest.mark.browser

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": PHONE_VIEWPORT}


def public_pages() -> list[str]:
    articles = [f"/blog/{article.slug}" for article in all_articles()]
    branches = ["/branches/bengaluru", "/branches/hyderabad"]
    return ["/", "/blog/", *articles, *branches, "/contact", "/privacy"]


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_every_public_page_passes_axe(browser, live_server, viewport):
    page = browser.new_context(viewport=VIEWPORTS[viewport]).new_page()
    for path in public_pages():
        page.goto(f"{live_server}{path}")
        assert_accessible(page, f"{path} ({viewport})")
    page.context.close()


@pytest.mark.parametrize("form_script", [True, False], ids=["script", "no-script"])
def test_the_form_in_its_error_and_success_states_passes_axe(
    browser, live_server, app, form_script, screenshot
):
    context = browser.new_context()
    if not form_script:
        # axe itself needs JavaScript, so the server-rendered states are reached by keeping
        # the form's own script away rather than by switching JavaScript off.
        context.route("**/reach-out*.js", lambda route: route.abort())  # fingerprinted name
    page = context.new_page()
    page.goto(f"{live_server}/contact")
    fill_reach_out(page, phone="12345", consent=False)
    page.click("[data-submit]")
    page.locator("[data-form-status] .notice--error").wait_for()
    page.locator("#phone-error").wait_for()
    assert_accessible(page, "/contact with field errors")

    page.fill("#phone", "98450 12345")
    page.check("#consent")
    page.click("[data-submit]")
    page.locator("[data-form-status] .notice--success").wait_for()
    assert_accessible(page, "/contact after sending")
    assert lead_count(app) == 1
    screenshot(page)
    context.close()


def test_the_main_staff_pages_pass_axe(browser, live_server, app, screenshot):
    admin = make_staff(app, "admin", None, name="Ada Admin")
    make_staff(app, "agent", "hyderabad", name="Hari Agent")
    lead_id = make_lead(app, "hyderabad", name="Lakshmi Naidu", email="lakshmi@example.com")
    make_lead(app, "bengaluru", name="Ravi Kumar")
    page = browser.new_context().new_page()

    page.goto(f"{live_server}/staff/login")
    assert_accessible(page, "the sign-in page")
    page.click("button[type=submit]")
    page.locator("#email-error").wait_for()
    assert page.get_attribute("#email", "aria-describedby") == "email-error"
    assert_accessible(page, "the sign-in page with errors")
    sign_in_by_keyboard(page, live_server, email_of(app, admin))
    for path, where in [
        ("/staff/", "the dashboard"),
        ("/staff/leads", "the inbox"),
        (f"/staff/leads/{lead_id}", "the lead page"),
        ("/staff/exports", "the exports page"),
        ("/staff/users", "the staff accounts page"),
    ]:
        open_staff_page(page, live_server, path)
        assert_accessible(page, where)
    screenshot(page)


def test_the_form_can_be_completed_and_sent_by_keyboard_alone(
    browser, live_server, app, screenshot
):
    page = browser.new_context(viewport=PHONE_VIEWPORT).new_page()
    page.goto(f"{live_server}{ARTICLE}")
    page.wait_for_load_state("load")

    # From the top of the page: the skip link first, then the header's "Reach out to us".
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Reach out to us":
            break
    else:
        pytest.fail("Tab never reached the header's 'Reach out to us' link")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}{ARTICLE}#reach-out")

    def tab_to(field_id: str) -> None:
        for _ in range(40):
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == field_id:
                return
        pytest.fail(f"Tab never reached #{field_id}")

    tab_to("name")
    page.keyboard.type("Meera Iyer")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "phone"
    page.keyboard.type("98450 67890")
    page.keyboard.press("Tab")
    page.keyboard.type("meera@example.com")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "branch"
    page.keyboard.press("ArrowDown")  # Bengaluru, the first clinic after the prompt
    page.keyboard.press("Tab")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Tab")
    page.keyboard.type("Stiff neck in the mornings.")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "consent"
    page.keyboard.press("Space")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "privacy notice"
    page.keyboard.press("Tab")  # past the hidden honeypot, which keeps out of the tab order
    assert page.evaluate("document.activeElement.textContent") == "Send"
    page.keyboard.press("Enter")

    success = page.locator("[data-form-status] .notice--success")
    success.wait_for()
    assert success.inner_text() == SUCCESS_MESSAGE
    # The answer takes the focus, so a screen reader reads it out and the keyboard stays near.
    assert page.evaluate("document.activeElement.matches('[data-form-status]')")
    assert lead_count(app) == 1
    screenshot(page)


def test_labels_errors_and_answers_are_announced(browser, live_server, app):
    page = browser.new_context().new_page()
    page.goto(f"{live_server}/contact")

    status = page.locator("[data-form-status]")
    assert status.get_attribute("role") == "status"
    assert status.get_attribute("aria-live") == "polite"
    # Every field a person fills in is found by its label, as assistive technology finds it.
    for label in ["Your name", "Phone number", "Email (optional)", "Nearest clinic"]:
        assert page.get_by_label(label, exact=True).count() == 1, label
    assert page.get_by_label("How can we help? (optional)").count() == 1
    assert page.get_by_label("Message (optional)").count() == 1
    assert page.get_by_role("checkbox").count() == 1
    assert page.get_by_role("checkbox").get_attribute("id") == "consent"
    assert page.get_by_label("I agree", exact=False).get_attribute("id") == "consent"

    fill_reach_out(page, phone="12345", consent=False)
    page.click("[data-submit]")
    page.locator("[data-form-status] .notice--error").wait_for()
    assert FAILURE_MESSAGE in status.inner_text()
    for field_id in ["phone", "consent"]:
        field = page.locator(f"#{field_id}")
        assert field.get_attribute("aria-invalid") == "true"
        described_by = field.get_attribute("aria-describedby").split()
        assert f"{field_id}-error" in described_by
        assert page.locator(f"#{field_id}-error").is_visible()
    # The accessible description a screen reader reads with the field includes the reason.
    description = page.evaluate(
        """() => document.getElementById('phone').getAttribute('aria-describedby')
            .split(' ').map(id => document.getElementById(id).textContent.trim()).join(' ')"""
    )
    assert "valid phone number" in description
    assert lead_count(app) == 0
