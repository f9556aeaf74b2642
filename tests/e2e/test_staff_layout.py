"""Staff pages at a common laptop width: nothing pokes out of its card."""

from __future__ import annotations

import pytest

from tests.e2e.journeys import sign_in_by_keyboard
from tests.staff_helpers import email_of, make_staff

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
