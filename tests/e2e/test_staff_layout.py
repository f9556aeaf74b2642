"""Staff pages at a common laptop width: nothing pokes out of its card."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PHONE_VIEWPORT
from tests.e2e.journeys import sign_in_by_keyboard
from tests.staff_helpers import email_of, make_lead, make_staff

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}


def test_the_staff_list_fits_its_card_at_1366_px(browser, live_server, app, screenshot):
    admin = make_staff(app, "admin", None, name="Ada Admin")
    for role, branch in (("manager", "bengaluru"), ("agent", "hyderabad")):
        make_staff(
            app,
            role,
            branch,
            name="Venkataraghavan Subramaniam Iyer",
            email=f"venkataraghavan.subramaniam.iyer.{role}@physio-clinic.example",
        )
    page = browser.new_context(viewport=LAPTOP).new_page()
    sign_in_by_keyboard(page, live_server, email_of(app, admin), landing="/staff/users")
    overflow = page.evaluate(
        """() => {
            const card = document.querySelector('[aria-labelledby=people-title]');
            const table = card.querySelector('table');
            return table.getBoundingClientRect().right - card.getBoundingClientRect().right;
        }"""
    )
    screenshot(page)
    assert overflow <= 0, f"the table is {overflow:.0f} px wider than its card"


def test_the_dashboard_chart_is_legible_on_a_phone(browser, live_server, app, screenshot):
    manager = make_staff(app, "manager", "bengaluru", name="Bina Manager")
    make_lead(app, "bengaluru")
    page = browser.new_context(viewport=PHONE_VIEWPORT).new_page()
    sign_in_by_keyboard(page, live_server, email_of(app, manager), landing="/staff/")
    heights = page.evaluate(
        "() => [...document.querySelectorAll('.chart__label, .chart__value')]"
        ".map(text => text.getBoundingClientRect().height)"
    )
    screenshot(page)
    assert heights and min(heights) >= 10, heights
