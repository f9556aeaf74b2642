"""Branch pages for a person on a phone, and the form's manners, as the server renders them."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import select

from crm.models import Branch
from crm.platform.extensions import db
from tests.helpers import form_fields, submit_reach_out
from tests.test_site import ARTICLE


def links(html: str) -> list[str]:
    return [unescape(href) for href in re.findall(r'<a\b[^>]*\bhref="([^"]*)"', html)]


def test_branch_page_gives_directions_landmarks_parking_and_ways_to_reach_us(app, client):
    with app.app_context():
        branch = db.session.scalar(select(Branch).where(Branch.slug == "bengaluru"))
        latitude, longitude, landmarks, parking = (
            branch.latitude,
            branch.longitude,
            branch.landmarks,
            branch.parking,
        )
    html = client.get("/branches/bengaluru").get_data(as_text=True)
    hrefs = links(html)
    maps = [href for href in hrefs if href.startswith("https://www.google.com/maps/dir/")]
    assert maps and parse_qs(urlsplit(maps[0]).query)["destination"] == [f"{latitude},{longitude}"]
    assert f"geo:{latitude},{longitude}?q={latitude},{longitude}(Physiotattva%20Bengaluru)" in hrefs
    assert f"{latitude:.6f}, {longitude:.6f}" in html
    assert unescape(html).count(landmarks) == 1 and unescape(html).count(parking) == 1
    assert "tel:+918045678900" in hrefs
    whatsapp = [href for href in hrefs if href.startswith("https://wa.me/")]
    assert whatsapp and {urlsplit(href).path for href in whatsapp} == {"/918045678900"}
    message = parse_qs(urlsplit(whatsapp[0]).query)["text"][0]
    assert message.startswith("Hello Physiotattva Bengaluru, I would like to book")
    # Plain links: no map widget or frame from another site.
    assert "<iframe" not in html


def test_a_branch_without_coordinates_still_gets_directions_by_address(app, client):
    with app.app_context():
        branch = db.session.scalar(select(Branch).where(Branch.slug == "hyderabad"))
        branch.latitude = branch.longitude = None
        db.session.commit()
    html = client.get("/branches/hyderabad").get_data(as_text=True)
    maps = [href for href in links(html) if href.startswith("https://www.google.com/maps/dir/")]
    destination = parse_qs(urlsplit(maps[0]).query)["destination"][0]
    assert destination.startswith("Plot 22, Road No. 36, Jubilee Hills")
    assert not [href for href in links(html) if href.startswith("geo:")]


def test_the_phone_bar_calls_the_branch_of_the_page_or_the_first_one(client):
    def bar(path: str) -> list[str]:
        html = client.get(path).get_data(as_text=True)
        block = re.search(r'<div class="phone-bar" data-phone-bar>(.*?)</div>', html, re.S)
        assert block, path
        return links(block.group(1))

    assert bar("/branches/hyderabad")[0] == "tel:+914045678900"
    assert bar("/")[0] == "tel:+918045678900"
    assert bar(ARTICLE)[1].startswith("https://wa.me/918045678900?text=")


def test_an_article_preselects_its_interest_in_the_form(client):
    assert form_fields(client.get(ARTICLE).get_data(as_text=True))["interest"] == "back_pain"
    knee = client.get("/blog/knee-pain-stairs").get_data(as_text=True)
    assert form_fields(knee)["interest"] == "knee_pain"
    assert form_fields(client.get("/contact").get_data(as_text=True))["interest"] == ""


def test_after_a_success_the_form_is_hidden_behind_a_send_another_link(client):
    fresh = client.get("/privacy").get_data(as_text=True)
    assert re.search(r"<p class=\"send-another\" data-send-another hidden>", fresh)
    assert re.search(r'<div class="reach-out__fields" data-fields>', fresh)
    response = submit_reach_out(client, "/privacy")
    assert response.status_code == 303
    thanked = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thank you! Your submission has been received!" in thanked
    assert re.search(r'<div class="reach-out__fields" data-fields hidden>', thanked)
    assert re.search(r"<p class=\"send-another\" data-send-another>", thanked)
    assert "/privacy?again=1#reach-out" in links(thanked)
    again = client.get("/privacy?again=1").get_data(as_text=True)
    assert re.search(r'<div class="reach-out__fields" data-fields>', again)
