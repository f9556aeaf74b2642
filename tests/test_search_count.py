"""A search's "N leads match" stops counting at a bound; the list and the export do not."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from crm.leads import inbox
from crm.leads.privacy import erase_lead
from crm.leads.workflow import add_note, log_call
from crm.models import Lead, LeadStatus, StaffUser
from crm.platform.extensions import db
from tests.staff_helpers import enter_as, make_lead, make_staff
from tests.test_inbox_export_link import exported_leads, inbox_leads
from tests.test_search import MODES, common

COUNT = re.compile(r'<p class="inbox__count"[^>]*>(.*?)</p>', re.DOTALL)


@pytest.fixture(params=MODES)
def world(app, request, monkeypatch):
    """A manager's client, the inbox counting searches up to 3, and 2 leads a page.

    "many": every text counts as common, read in the inbox's order rather than by id;
    "estimated": the same, decided by PostgreSQL's statistics (tests.test_search.common)."""
    common(app, request.param, monkeypatch)
    monkeypatch.setattr(inbox, "COUNTED", 3)
    app.config["INBOX_PAGE_SIZE"] = 2
    manager = make_staff(app, "manager", "bengaluru", name="Bina Manager")
    admin = make_staff(app, "admin", None, name="Ada Admin")
    return {"client": enter_as(app.test_client(), app, manager), "admin": admin}


def count_line(client, query: str) -> tuple[str, str]:
    html = client.get("/staff/leads", query_string={"q": query}).get_data(as_text=True)
    found = COUNT.search(html)
    assert found is not None, html
    return " ".join(found.group(1).split()), found.group(0)


def test_past_the_bound_the_count_says_more_than(app, world):
    client = world["client"]
    evening = [make_lead(app, message="Knee pain, free after 6 pm") for _ in range(5)]
    make_lead(app, "hyderabad", message="Back pain, free after 6 pm")  # not the manager's
    make_lead(app, message="Free in the mornings")
    with app.app_context():
        erase_lead(db.session.get(StaffUser, world["admin"]), evening.pop())

    words, paragraph = count_line(client, "after 6 pm")
    assert words == (
        "More than 3 leads match; 2 on this page. Add words or filters to narrow the search."
    )
    assert 'data-matching="3"' in paragraph and "data-matching-more" in paragraph
    # Only the number is bounded: every page lists, and the export takes, each match.
    listed, link = inbox_leads(client, "q=after+6+pm")
    assert sorted(listed) == sorted(evening)
    assert listed == sorted(listed, reverse=True), "newest activity first"
    assert link is not None
    assert exported_leads(app, client, link) == set(evening)


def test_up_to_the_bound_the_count_is_exact(app, world):
    client = world["client"]
    for _ in range(2):
        make_lead(app, name="Meera Iyer")
    make_lead(app, name="Meenakshi Rao")
    make_lead(app, "hyderabad", name="Meera Shah")  # not the manager's
    # Found by name, message and notes at once: still one lead.
    again = make_lead(app, name="Meera Nair", message="Booking for Meera and her mother")
    with app.app_context():
        admin = db.session.get(StaffUser, world["admin"])
        add_note(admin, again, "Meera prefers Saturdays")
        log_call(admin, again, "no_answer", "Meera's number was busy")

    words, paragraph = count_line(client, "meera")
    assert words == "3 leads match; 2 on this page."
    assert "data-matching-more" not in paragraph
    assert count_line(client, "meenakshi")[0] == "1 lead matches."


def test_names_past_the_bound_count_only_the_leads_the_person_may_see(app, world):
    """A common name can reach the bound on the leads' own names: erased, other branches'
    and spam leads are not among them, and below the bound messages still count."""
    client = world["client"]
    named = [make_lead(app, name=f"Meera {surname}") for surname in ("Iyer", "Nair", "Rao")]
    make_lead(app, "hyderabad", name="Meera Shah")  # not the manager's
    spam = make_lead(app, name="Meera Spam")
    erased = make_lead(app, name="Meera Gone")
    with app.app_context():
        admin = db.session.get(StaffUser, world["admin"])
        erase_lead(admin, erased)
        db.session.execute(update(Lead).where(Lead.id == spam).values(status=LeadStatus.SPAM))
        db.session.commit()
    assert count_line(client, "meera")[0] == "3 leads match; 2 on this page."

    make_lead(app, name="Kavya Hegde", message="Calling for my aunt Meera")  # a message alone
    words, paragraph = count_line(client, "meera")
    assert words.startswith("More than 3 leads match")
    assert "data-matching-more" in paragraph
    make_lead(app, name="Meera Menon")
    assert count_line(client, "meera")[0].startswith("More than 3 leads match")
    listed, _link = inbox_leads(client, "q=meera")
    assert len(listed) == 5 and erased not in listed and spam not in listed
    assert set(named) < set(listed)
