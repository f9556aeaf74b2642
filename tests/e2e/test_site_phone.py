"""The public site on a small phone (360 px wide): nothing scrolls sideways, the Call/WhatsApp bar
never covers the form or its answer, the form steps aside after a success, targets are big
enough to tap."""

from __future__ import annotations

import pytest

from crm.intake.forms import SUCCESS_MESSAGE
from tests.e2e.axe import describe, small_targets
from tests.e2e.journeys import ARTICLE, fill_reach_out, lead_count
from tests.e2e.test_accessibility import public_pages

pytestmark = pytest.mark.browser

SMALL_PHONE = {"width": 360, "height": 640}

OVERLAPS = """(selectors) => {
  const bar = document.querySelector('[data-phone-bar]').getBoundingClientRect();
  const hits = [];
  document.querySelectorAll(selectors).forEach(node => {
    const box = node.getBoundingClientRect();
    if (!box.width || !box.height) { return; }
    const apart = box.bottom <= bar.top || box.top >= bar.bottom ||
                  box.right <= bar.left || box.left >= bar.right;
    if (!apart) { hits.push(node.id || node.className || node.tagName); }
  });
  return hits;
}"""
FIELDS = "#reach-out input:not([type=hidden]):not(#website), #reach-out select, #reach-out textarea"


def bar_box(page):  # type: ignore[no-untyped-def]
    return page.locator("[data-phone-bar]").bounding_box()


@pytest.fixture
def phone(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(viewport=SMALL_PHONE)
    yield context.new_page()
    context.close()


def test_nothing_scrolls_sideways_at_360_px(phone, live_server):
    for path in public_pages():
        phone.goto(f"{live_server}{path}")
        width = phone.evaluate("document.documentElement.scrollWidth")
        assert width <= SMALL_PHONE["width"], (path, width)
    phone.goto(f"{live_server}{ARTICLE}")
    table = phone.locator(".prose table")
    assert table.evaluate("t => t.scrollWidth <= t.parentElement.clientWidth")
    # The diagrams shrink with the column and say in words what they show.
    for figure in phone.locator("figure.diagram svg").all():
        assert figure.bounding_box()["width"] <= SMALL_PHONE["width"]
        assert figure.get_attribute("role") == "img"
        described = figure.get_attribute("aria-labelledby").split()
        for node_id in described:
            assert len(phone.locator(f"[id='{node_id}']").text_content()) > 20


def test_the_call_bar_is_on_screen_while_reading_and_never_over_the_form(
    phone, live_server, app, screenshot
):
    phone.goto(f"{live_server}/branches/hyderabad")
    box = bar_box(phone)
    # Stuck to the bottom of the screen while the visitor reads the top of the page.
    assert box is not None and abs(box["y"] + box["height"] - SMALL_PHONE["height"]) <= 1
    assert box["height"] <= 70
    assert phone.get_attribute("[data-phone-bar] a[href^='tel:']", "href") == "tel:+914045678900"
    whatsapp = phone.get_attribute("[data-phone-bar] a[href*='wa.me']", "href")
    assert whatsapp.startswith("https://wa.me/914045678900?text=")

    phone.goto(f"{live_server}{ARTICLE}")
    fill_reach_out(phone)
    for field in phone.locator(FIELDS).all():
        field.scroll_into_view_if_needed()
        field.focus()
        assert phone.evaluate(OVERLAPS, FIELDS) == [], field.get_attribute("id")
    phone.click("[data-submit]")
    success = phone.locator("[data-form-status] .notice--success")
    success.wait_for()
    assert success.inner_text() == SUCCESS_MESSAGE
    assert phone.evaluate(OVERLAPS, "[data-form-status], [data-send-another]") == []
    assert lead_count(app) == 1
    screenshot(phone)


@pytest.mark.parametrize("form_script", [True, False], ids=["script", "no-script"])
def test_after_a_success_the_empty_form_waits_until_asked_for(
    browser, live_server, app, form_script
):
    context = browser.new_context(viewport=SMALL_PHONE)
    if not form_script:
        context.route("**/reach-out*.js", lambda route: route.abort())  # fingerprinted name
    page = context.new_page()
    page.goto(f"{live_server}/contact")
    assert not page.locator("[data-send-another]").is_visible()
    fill_reach_out(page)
    page.click("[data-submit]")
    page.locator("[data-form-status] .notice--success").wait_for()
    assert not page.locator("#name").is_visible()
    assert not page.locator("[data-submit]").is_visible()
    page.get_by_role("link", name="Send another message").click()
    page.locator("#name").wait_for(state="visible")
    assert page.input_value("#name") == ""
    assert not page.locator("[data-send-another]").is_visible()
    if form_script:
        assert page.evaluate("document.activeElement.id") == "name"
    assert lead_count(app) == 1
    context.close()


def test_the_article_preselects_its_topic_in_the_form(phone, live_server):
    phone.goto(f"{live_server}{ARTICLE}")
    assert phone.input_value("#interest") == "back_pain"
    phone.goto(f"{live_server}/blog/knee-pain-stairs")
    assert phone.input_value("#interest") == "knee_pain"
    phone.goto(f"{live_server}/contact")
    assert phone.input_value("#interest") == ""


def test_the_consent_box_sits_beside_its_label(phone, live_server):
    phone.goto(f"{live_server}/contact")
    box = phone.locator("#consent").bounding_box()
    label = phone.locator("label[for=consent]").bounding_box()
    assert label["x"] >= box["x"] + box["width"]
    assert abs(label["y"] - box["y"]) < 12


def test_tap_targets_are_at_least_24_px(phone, live_server):
    for path in [*public_pages(), "/no-such-page"]:
        phone.goto(f"{live_server}{path}")
        violations = small_targets(phone)
        assert not violations, f"{path}:\n{describe(violations)}"
