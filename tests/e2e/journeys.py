"""Steps the browser journeys share: a visitor filling in the reach-out form, staff signing in."""

from __future__ import annotations

from typing import Any

from flask import Flask
from sqlalchemy import func, select

from crm.intake.forms import SUCCESS_MESSAGE
from crm.models import Lead
from crm.platform.extensions import db
from tests.e2e.conftest import PHONE_VIEWPORT
from tests.staff_helpers import PASSWORD

ARTICLE = "/blog/acupressure-points-for-back-pain"


def lead_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Lead.id)))


def fill_reach_out(
    page: Any,
    *,
    name: str = "Kavya Hegde",
    phone: str = "98450 12345",
    email: str = "kavya@example.com",
    branch: str = "hyderabad",
    message: str = "Pain after long drives.",
    consent: bool = True,
) -> None:
    page.fill("#name", name)
    page.fill("#phone", phone)
    page.fill("#email", email)
    page.select_option("#branch", branch)
    page.select_option("#interest", "back_pain")
    page.fill("#message", message)
    if consent:
        page.check("#consent")


def typed_values(page: Any) -> dict[str, object]:
    """What the visitor sees in each field of the form now."""
    values: dict[str, object] = {
        field: page.input_value(f"#{field}")
        for field in ("name", "phone", "email", "branch", "interest", "message")
    }
    values["consent"] = page.is_checked("#consent")
    return values


def visitor_reaches_out(
    browser: Any, base: str, *, name: str, phone: str, branch: str, email: str
) -> None:
    """A visitor on a phone sends the form from the article, as the site's own users do."""
    context = browser.new_context(viewport=PHONE_VIEWPORT)
    page = context.new_page()
    page.goto(f"{base}{ARTICLE}")
    page.get_by_role("link", name="Reach out to us").first.click()
    fill_reach_out(page, name=name, phone=phone, email=email, branch=branch)
    page.click("[data-submit]")
    success = page.locator("[data-form-status] .notice--success")
    success.wait_for()
    assert success.inner_text() == SUCCESS_MESSAGE
    context.close()


def sign_in_by_keyboard(page: Any, base: str, email: str, landing: str = "/staff/leads") -> None:
    page.goto(f"{base}{landing}")
    assert page.url.startswith(f"{base}/staff/login")
    # The email field takes the focus on arrival, so a person can start typing at once.
    page.wait_for_function("document.activeElement && document.activeElement.id === 'email'")
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}{landing}")


def open_staff_page(page: Any, base: str, path: str) -> None:
    response = page.goto(f"{base}{path}")
    assert response is not None and response.status == 200, (path, response and response.status)
