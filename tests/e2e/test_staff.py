"""Staff in a real Chromium, working on a lead a visitor sent through the website: from the inbox
to a booked appointment, and into a manager's export."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from crm.models import Lead
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.e2e.axe import assert_accessible
from tests.e2e.conftest import PHONE_VIEWPORT
from tests.e2e.journeys import sign_in_by_keyboard, visitor_reaches_out
from tests.staff_helpers import email_of, make_lead, make_staff

pytestmark = pytest.mark.browser

VISITOR = {
    "name": "Lakshmi Naidu",
    "phone": "98450 12345",
    "email": "lakshmi@example.com",
    "branch": "hyderabad",
}


def test_a_visitors_lead_is_assigned_called_booked_and_the_dashboard_moves(
    browser, live_server, app, screenshot
):
    manager = make_staff(app, "manager", "hyderabad", name="Hema Manager")
    agent = make_staff(app, "agent", "hyderabad", name="Hari Agent")
    yesterday = utcnow() - timedelta(days=1)
    for name in ("Older Enquirer", "Earlier Caller"):
        make_lead(app, "hyderabad", name=name, at=yesterday)
    make_lead(app, "bengaluru", name="Someone Elsewhere")
    visitor_reaches_out(browser, live_server, **VISITOR)

    boss = browser.new_context().new_page()
    sign_in_by_keyboard(boss, live_server, email_of(app, manager), landing="/staff/")
    waiting_before = int(boss.inner_text("[data-figure=new-waiting]"))
    assert waiting_before == 3
    boss.get_by_role("link", name="Leads", exact=True).click()
    boss.wait_for_url(f"{live_server}/staff/leads")
    rows = boss.locator("table.inbox tbody tr")
    assert rows.first.locator(".inbox__name").inner_text() == VISITOR["name"]
    assert "Someone Elsewhere" not in boss.inner_text("main")
    rows.first.locator(".inbox__name").click()
    boss.select_option("#assignee", label="Hari Agent")
    boss.focus("text=Save assignment")
    boss.keyboard.press("Enter")
    boss.wait_for_selector("text=Assignment saved.")
    assert "Assigned to Hari Agent." in boss.inner_text(".timeline")

    desk = browser.new_context(viewport=PHONE_VIEWPORT).new_page()
    sign_in_by_keyboard(desk, live_server, email_of(app, agent))
    desk.get_by_role("link", name=VISITOR["name"]).click()
    assert desk.get_attribute("a[href^='tel:']", "href") == "tel:+919845012345"
    assert desk.get_attribute("text=WhatsApp", "href") == "https://wa.me/919845012345"
    # The call and the booking in one submit.
    desk.select_option("#log-outcome", "answered")
    desk.fill("#log-note", "Prefers Saturday morning")
    desk.select_option("#log-status", "appointment_booked")
    desk.click("[data-log-form] button[type=submit]")
    desk.wait_for_selector("text=Saved.")
    assert "Call: answered." in desk.inner_text(".timeline")
    desk.fill("#due_at", "2099-01-02T10:00")
    desk.fill("#follow-up-note", "Confirm the Saturday slot")
    desk.click("text=Schedule follow-up")
    desk.wait_for_selector("text=Follow-up scheduled.")
    assert "Confirm the Saturday slot" in desk.inner_text(".follow-ups")
    assert_accessible(desk, "the lead page with a call, a booking and a follow-up, on a phone")

    boss.goto(f"{live_server}/staff/")
    assert int(boss.inner_text("[data-figure=new-waiting]")) == waiting_before - 1
    assert boss.inner_text("[data-status-count=appointment_booked]") == "1"
    with app.app_context():
        lead = db.session.scalar(select(Lead).where(Lead.name == VISITOR["name"]))
        assert (lead.status, lead.assignee_id) == ("appointment_booked", agent)
        assert lead.first_response_at is not None and lead.next_follow_up_at is not None
    screenshot(boss)


def test_a_manager_exports_their_citys_leads_with_the_visitors_lead(
    browser, live_server, app, screenshot
):
    manager = make_staff(app, "manager", "hyderabad", name="Hema Manager")
    make_lead(app, "bengaluru", name="Someone Elsewhere")
    visitor_reaches_out(browser, live_server, **VISITOR)

    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    sign_in_by_keyboard(page, live_server, email_of(app, manager), landing="/staff/exports")
    assert page.get_by_label("Format").input_value() == "csv"
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".csv")
    with Path(download.path()).open(encoding="utf-8-sig", newline="") as exported:
        rows = list(csv.DictReader(exported))

    assert [(row["Name"], row["Branch"]) for row in rows] == [(VISITOR["name"], "Hyderabad")]
    row = rows[0]
    assert (row["Phone"], row["Email"], row["Status"]) == (
        "+91 98450 12345",  # spaced: a spreadsheet keeps it as text
        VISITOR["email"],
        "New",
    )
    assert row["First source page"] == "/blog/acupressure-points-for-back-pain"

    # The export is on the record, with its row count, for whoever looks next.
    page.reload()
    record = page.locator("table.exports tbody tr").first
    assert "Hema Manager" in record.inner_text() and record.locator("td.num").inner_text() == "1"
    screenshot(page)
    context.close()


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


def test_the_desk_records_a_phone_enquiry_sees_it_assigned_and_logs_the_call_in_one_submit(
    browser, live_server, app, screenshot
):
    manager = make_staff(app, "manager", "bengaluru", name="Bina Manager")
    agent = make_staff(app, "agent", "bengaluru", name="Anil Agent")

    boss = browser.new_context().new_page()
    sign_in_by_keyboard(boss, live_server, email_of(app, manager), landing="/staff/leads")
    boss.click("text=Assign new leads in turn")
    boss.wait_for_selector("[data-auto-assign=on]")

    boss.click("text=Record an enquiry")
    boss.wait_for_url(f"{live_server}/staff/leads/new")
    assert_accessible(boss, "the desk's form for an enquiry by phone or in person")
    boss.select_option("#channel", "phone")
    boss.fill("#name", "Ravi Shankar")
    boss.fill("#phone", "98450 55566")
    boss.fill("#message", "Shoulder pain since a fall.")
    boss.check("#consent")
    boss.click("button:has-text('Record')")
    boss.wait_for_selector("text=Enquiry recorded.")
    assert "came by Phone" in boss.inner_text(".lead-header")
    assert "Assigned to Anil Agent automatically, in turn." in boss.inner_text(".timeline")

    desk = browser.new_context(viewport=PHONE_VIEWPORT).new_page()
    sign_in_by_keyboard(desk, live_server, email_of(app, agent))
    desk.get_by_role("link", name="Ravi Shankar").click()
    desk.select_option("#log-outcome", "answered")
    desk.fill("#log-note", "Coming Thursday evening")
    desk.fill("#log-follow-up", "2099-01-02T18:00")
    desk.click("[data-log-form] button[type=submit]")
    desk.wait_for_selector("text=Saved.")
    timeline = desk.inner_text(".timeline")
    assert "Call: answered." in timeline and "Status: New → Contacted." in timeline
    with app.app_context():
        lead = db.session.scalar(select(Lead).where(Lead.name == "Ravi Shankar"))
        assert (lead.channel, lead.assignee_id, lead.status) == ("phone", agent, "contacted")
        assert lead.next_follow_up_at is not None
    screenshot(desk)
