"""The triage inbox: filters in the URL, search, keyset pagination, response-time flags."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import update

from crm.models import Lead
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.staff_helpers import enter_as, make_lead, make_staff


def listed(html: str) -> list[int]:
    return [int(value) for value in re.findall(r'<tr data-lead="(\d+)"', html)]


def set_fields(app, lead_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(update(Lead).where(Lead.id == lead_id).values(**values))
        db.session.commit()


@pytest.fixture
def manager(app):
    person = make_staff(app, "manager", "bengaluru", name="Bina Manager")
    return person, enter_as(app.test_client(), app, person)


def test_newest_activity_first_and_spam_hidden_unless_asked(app, manager):
    _, client = manager
    old = make_lead(app, at=utcnow() - timedelta(days=2))
    new = make_lead(app)
    spam = make_lead(app, name="Cheap Pills")
    set_fields(app, spam, status="spam")
    assert listed(client.get("/staff/leads").get_data(as_text=True)) == [new, old]
    assert listed(client.get("/staff/leads?status=spam").get_data(as_text=True)) == [spam]
    assert listed(client.get("/staff/leads?status=any").get_data(as_text=True)) == [spam, new, old]


def test_a_returning_enquiry_brings_a_lead_back_to_the_top(app, manager):
    _, client = manager
    first = make_lead(app, phone="+919845099999", at=utcnow() - timedelta(days=3))
    second = make_lead(app)
    assert listed(client.get("/staff/leads").get_data(as_text=True)) == [second, first]
    make_lead(app, phone="+919845099999")
    assert listed(client.get("/staff/leads").get_data(as_text=True)) == [first, second]


def test_filters_select_exactly_the_matching_leads(app, manager):
    person, client = manager
    agent = make_staff(app, "agent", "bengaluru", name="Bala Agent")
    mine = make_lead(app, interest="knee_pain")
    theirs = make_lead(app, interest="back_pain")
    nobody = make_lead(app, interest="back_pain", at=utcnow() - timedelta(days=10))
    set_fields(app, mine, assignee_id=person, status="contacted")
    set_fields(app, theirs, assignee_id=agent)
    cases = {
        "?mine=1": [mine],
        f"?assignee={agent}": [theirs],
        "?assignee=none": [nobody],
        "?status=contacted": [mine],
        "?status=new": [theirs, nobody],
        "?status=open": [mine, theirs, nobody],
        "?interest=back_pain": [theirs, nobody],
        f"?since={(utcnow() - timedelta(days=1)).date()}": [mine, theirs],
        f"?until={(utcnow() - timedelta(days=5)).date()}": [nobody],
        "?interest=back_pain&status=new&assignee=none": [nobody],
    }
    for query, expected in cases.items():
        assert sorted(listed(client.get(f"/staff/leads{query}").get_data(as_text=True))) == sorted(
            expected
        ), query


def test_search_by_name_phone_and_email(app, manager):
    _, client = manager
    ravi = make_lead(app, name="Ravi Kumar", phone="+919845012345", email="ravi.k@example.com")
    anu = make_lead(app, name="అనూష రెడ్డి", phone="+919900011122")
    for query, expected in {
        "ravi": [ravi],
        "KUMAR": [ravi],
        "98450 12345": [ravi],
        "+91 98450-12345": [ravi],
        "12345": [ravi],
        "ravi.k@example.com": [ravi],
        "RAVI.K@": [ravi],
        "అనూష": [anu],
        "99000111": [anu],
        "nobody": [],
    }.items():
        html = client.get("/staff/leads", query_string={"q": query}).get_data(as_text=True)
        assert listed(html) == expected, query


@pytest.mark.parametrize(
    "query",
    [
        {"q": "' OR 1=1 --"},
        {"q": "%"},
        {"q": "_"},
        {"q": "\\"},
        {"q": "x" * 500},
        {"status": "new' OR '1'='1"},
        {"assignee": "1 OR 1=1"},
        {"since": "2026-13-45"},
        {"until": "yesterday"},
        {"branch": "'; DROP TABLE lead; --"},
        {"after": "not-a-cursor"},
        {"after": "MjAyNi0xMS0yM3w5OTk"},
        {"interest": "<script>"},
        {"mine": "yes please"},
    ],
)
def test_bad_filter_values_are_ignored_and_named(app, manager, query):
    _, client = manager
    lead = make_lead(app)
    response = client.get("/staff/leads", query_string=query)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    if set(query) - {"q", "after"}:
        assert "Some filters were not understood" in html
    if query.get("q") in ("%", "_", "\\", "' OR 1=1 --"):
        assert listed(html) == []
    elif "q" not in query:
        assert listed(html) == [lead]
    with app.app_context():
        assert db.session.get(Lead, lead) is not None


def test_keyset_pages_cover_every_lead_once_even_when_new_ones_arrive(app, manager):
    _, client = manager
    app.config["INBOX_PAGE_SIZE"] = 3
    base = utcnow() - timedelta(hours=1)
    leads = [make_lead(app, at=base + timedelta(minutes=index)) for index in range(8)]
    seen: list[int] = []
    url = "/staff/leads?interest=back_pain"
    pages = 0
    while url:
        html = client.get(url).get_data(as_text=True)
        seen += listed(html)
        pages += 1
        if pages == 1:
            make_lead(app)  # arrives while someone is paging: lands on the first page, not here
        found = re.search(r'href="([^"]+)" rel="next"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert pages == 3
    assert seen == list(reversed(leads))
    assert (
        "interest=back_pain"
        in client.get("/staff/leads?interest=back_pain")
        .get_data(as_text=True)
        .split('rel="next"')[0]
        .rsplit("href=", 1)[1]
    )


def test_rows_show_age_assignee_follow_up_count_and_a_late_flag(app, manager):
    person, client = manager
    late = make_lead(app, name="Waiting Long", at=utcnow() - timedelta(days=3))
    fresh = make_lead(app, name="Just Arrived")
    set_fields(app, fresh, assignee_id=person, next_follow_up_at=utcnow() + timedelta(days=1))
    html = client.get("/staff/leads").get_data(as_text=True)
    rows = dict(zip(listed(html), html.split('<tr data-lead="')[1:], strict=True))
    assert "late</span>" in rows[late] and "3 days ago" in rows[late]
    assert "on time</span>" in rows[fresh]
    assert "Bina Manager" in rows[fresh]
    assert "overdue" not in rows[fresh]
    assert '<td data-label="Enquiries" class="num">1</td>' in rows[fresh]
