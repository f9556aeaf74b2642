"""The staff walk-through in a real Chromium, driven from the keyboard where a person would."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.extensions import db
from crm.models import Lead
from tests.staff_helpers import PASSWORD, email_of, make_lead, make_staff

pytestmark = pytest.mark.browser


def sign_in_by_keyboard(page, base: str, email: str) -> None:
    page.goto(f"{base}/staff/leads")
    assert page.url.startswith(f"{base}/staff/login")
    # The email field takes the focus on arrival, so a person can start typing at once.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'email'")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/staff/leads")


def test_manager_assigns_agent_calls_books_and_the_dashboard_moves(browser, live_server, app):
    manager = make_staff(app, "manager", "hyderabad", name="Hema Manager")
    agent = make_staff(app, "agent", "hyderabad", name="Hari Agent")
    lead_id = make_lead(app, "hyderabad", name="Lakshmi Naidu", phone="+919845012345")
    make_lead(app, "bengaluru", name="Someone Elsewhere")

    boss = browser.new_context().new_page()
    sign_in_by_keyboard(boss, live_server, email_of(app, manager))
    inbox = boss.inner_text("main")
    assert "Lakshmi Naidu" in inbox and "Someone Elsewhere" not in inbox
    boss.click("text=Lakshmi Naidu")
    boss.select_option("#assignee", label="Hari Agent")
    boss.focus("text=Save assignment")
    boss.keyboard.press("Enter")
    boss.wait_for_selector("text=Assignment saved.")
    assert "Assigned to Hari Agent." in boss.inner_text(".timeline")

    desk = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    sign_in_by_keyboard(desk, live_server, email_of(app, agent))
    desk.click("text=Lakshmi Naidu")
    assert desk.get_attribute("a[href^='tel:']", "href") == "tel:+919845012345"
    assert desk.get_attribute("text=WhatsApp", "href") == "https://wa.me/919845012345"
    desk.select_option("#outcome", "answered")
    desk.fill("textarea[name=note] >> nth=0", "Prefers Saturday morning")
    desk.click("text=Save call")
    desk.wait_for_selector("text=Call recorded.")
    desk.select_option("select[name=status]", "appointment_booked")
    desk.click("text=Change status")
    desk.wait_for_selector("text=Status updated.")
    desk.fill("#due_at", "2099-01-02T10:00")
    desk.click("text=Schedule follow-up")
    desk.wait_for_selector("text=Follow-up scheduled.")

    boss.goto(f"{live_server}/staff/")
    assert boss.inner_text("[data-figure=new-waiting]") == "0"
    assert boss.inner_text("[data-status-count=appointment_booked]") == "1"
    with app.app_context():
        lead = db.session.scalar(select(Lead).where(Lead.id == lead_id))
        assert (lead.status, lead.assignee_id) == ("appointment_booked", agent)
        assert lead.first_response_at is not None and lead.next_follow_up_at is not None


def test_the_first_tab_reaches_the_skip_link_and_focus_is_visible(browser, live_server, app):
    manager = make_staff(app, "manager", "bengaluru", name="Bina Manager")
    page = browser.new_context().new_page()
    sign_in_by_keyboard(page, live_server, email_of(app, manager))
    page.goto(f"{live_server}/staff/")
    page.wait_for_load_state("load")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none"
