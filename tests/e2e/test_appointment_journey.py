"""A visitor's enquiry becomes a booked visit, in a real Chromium: the front desk books a home
visit from the lead page and finds it on that day's list, and nothing of another branch's."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from crm.models import Appointment, Lead
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.appointment_helpers import add_appointment, add_clinician
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import PHONE_VIEWPORT
from tests.e2e.journeys import sign_in_by_keyboard, visitor_reaches_out
from tests.staff_helpers import email_of, make_lead, make_staff

pytestmark = pytest.mark.browser

INDIA = ZoneInfo("Asia/Kolkata")
VISITOR = {
    "name": "Sunita Deshpande",
    "phone": "98450 67890",
    "email": "sunita@example.com",
    "branch": "bengaluru",
}


def test_a_visitors_enquiry_is_booked_and_shows_on_that_days_list(
    browser, live_server, app, screenshot
):
    agent = make_staff(app, "agent", "bengaluru", name="Bala Agent")
    add_clinician(app, "bengaluru", "Dr Asha Rao")
    day = (utcnow().astimezone(INDIA) + timedelta(days=2)).date()
    elsewhere = make_lead(app, "hyderabad", name="Someone In Hyderabad")
    add_appointment(app, elsewhere, datetime.combine(day, time(11, 30), INDIA))
    visitor_reaches_out(browser, live_server, **VISITOR)

    desk = browser.new_context(viewport=PHONE_VIEWPORT).new_page()
    sign_in_by_keyboard(desk, live_server, email_of(app, agent))
    desk.get_by_role("link", name=VISITOR["name"]).click()
    desk.fill("#book-starts_at", f"{day.isoformat()}T11:30")
    desk.select_option("#book-kind", "home")
    desk.fill("#book-address", "12 Lake Road, Indiranagar")
    desk.select_option("#book-clinician", label="Dr Asha Rao")
    desk.fill("#book-note", "Bring the MRI report")
    desk.get_by_role("button", name="Book", exact=True).click()
    desk.wait_for_selector("text=Appointment booked.")
    panel = desk.locator(".appointments-panel")
    assert "with Dr Asha Rao" in panel.inner_text() and "Booked" in panel.inner_text()

    with app.app_context():
        lead = db.session.scalar(select(Lead).where(Lead.name == VISITOR["name"]))
        [booked] = db.session.scalars(select(Appointment).where(Appointment.lead_id == lead.id))
        assert lead.status == "appointment_booked"
        # 11:30 in Bengaluru, stored as the moment it is.
        assert booked.starts_at == datetime.combine(day, time(11, 30), INDIA).astimezone(UTC)

    desk.get_by_role("link", name="Appointments", exact=True).click()
    desk.wait_for_url(f"{live_server}/staff/appointments")
    desk.fill("#day", day.isoformat())
    desk.get_by_role("button", name="Show").click()
    desk.wait_for_url(f"{live_server}/staff/appointments?*day={day.isoformat()}*")
    rows = desk.locator("table.day-list tbody tr")
    assert rows.count() == 1
    row = rows.first.inner_text()
    for expected in ("11:30", VISITOR["name"], "Home visit", "12 Lake Road", "Dr Asha Rao"):
        assert expected in row, (expected, row)
    assert rows.first.locator("a[href^='tel:']").get_attribute("href") == "tel:+919845067890"
    assert "Someone In Hyderabad" not in desk.inner_text("main")
    assert_accessible(desk, "the day's list with the booked visit, on a phone")
    rows.first.get_by_role("link", name=VISITOR["name"]).click()
    desk.wait_for_url(f"{live_server}/staff/leads/{lead.id}")
    screenshot(desk)
