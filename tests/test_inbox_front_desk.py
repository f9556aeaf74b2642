"""The inbox for the front desk: how many leads match, a call or WhatsApp from each row, and
the bulk actions above the rows rather than after fifty of them."""

from __future__ import annotations

import re

import pytest

from tests.staff_helpers import enter_as, make_lead, make_staff


@pytest.fixture
def app_config() -> dict[str, object]:
    return {"INBOX_PAGE_SIZE": 2}


def test_the_count_covers_every_page_and_follows_the_filters(app):
    agent = make_staff(app, "agent", "bengaluru")
    client = enter_as(app.test_client(), app, agent)
    for _ in range(3):
        make_lead(app, "bengaluru", interest="back_pain")
    make_lead(app, "bengaluru", interest="sports_injury")
    make_lead(app, "hyderabad")

    html = client.get("/staff/leads").get_data(as_text=True)
    assert 'data-matching="4"' in html and "4 leads match; 2 on this page." in html
    html = client.get("/staff/leads?interest=sports_injury").get_data(as_text=True)
    assert 'data-matching="1"' in html and "1 lead matches." in html


def test_each_row_can_call_or_message_and_bulk_actions_come_first(app):
    agent = make_staff(app, "agent", "bengaluru")
    client = enter_as(app.test_client(), app, agent)
    make_lead(app, "bengaluru", phone="+919845012345")

    html = client.get("/staff/leads").get_data(as_text=True)
    row = re.search(r'<tr data-lead="\d+">.*?</tr>', html, re.DOTALL).group(0)
    assert '<a href="tel:+919845012345">' in row
    assert 'href="https://wa.me/919845012345"' in row
    assert html.index("With the selected leads") < html.index("<tr data-lead=")


def test_the_exports_page_offers_the_known_sources_of_its_branch(app):
    manager = enter_as(app.test_client(), app, make_staff(app, "manager", "bengaluru"))
    make_lead(app, "bengaluru", utm_source="google")
    make_lead(app, "bengaluru")
    make_lead(app, "hyderabad", utm_source="facebook")

    html = manager.get("/staff/exports").get_data(as_text=True)
    assert 'list="known-sources"' in html
    offered = re.search(r'<datalist id="known-sources">(.*?)</datalist>', html).group(1)
    assert re.findall(r'value="([^"]*)"', offered) == ["direct", "google"]
