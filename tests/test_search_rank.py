"""A search lists its best matches first: the text in the lead's own name or email, then the
leads that only mention it in a message or a note, each group newest activity first."""

from __future__ import annotations

import base64
import html
import re
from datetime import timedelta

import pytest

from crm.leads import search
from crm.leads.inbox import Cursor
from crm.leads.workflow import add_note
from crm.models import StaffUser
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.staff_helpers import enter_as, make_lead, make_staff
from tests.test_search import MODES, common, listed

NEXT = re.compile(r'href="([^"]*)" rel="next"')


@pytest.fixture
def manager(app):
    return make_staff(app, "manager", "bengaluru", name="Bina Manager")


@pytest.fixture(params=[*MODES, "between"])
def client(app, manager, request, monkeypatch):
    """As in test_search: "many" reads every text in the inbox's order, "estimated" decides
    that from PostgreSQL's statistics; "between": the text is common, but the names and
    emails hold few of its matches, looked up by id. The order must not depend on the way."""
    if request.param == "between":
        # "ravikumar" has 6 index entries in all, 3 of them in names and emails.
        monkeypatch.setattr(search, "COMMON", 4)
    else:
        common(app, request.param, monkeypatch)
    return enter_as(app.test_client(), app, manager)


@pytest.fixture
def leads(app, manager):
    """Oldest activity first; the ones only mentioning "ravikumar" are the newest."""
    start = utcnow() - timedelta(hours=6)

    def lead(minutes: int, **fields: str | None) -> int:
        return make_lead(app, at=start + timedelta(minutes=minutes), **fields)

    made = {
        "named": lead(0, name="Ravikumar Das", message="Knee pain"),
        "emailed": lead(10, name="Meena Das", email="ravikumar.das@example.org", message=None),
        "named_and_said": lead(20, name="K Ravikumar", message="Ravikumar again, back pain"),
        "said": lead(30, name="Asha Iyer", message="My neighbour Ravikumar sent me"),
        "noted": lead(40, name="Farah Ali", message=None),
        "other": lead(50, name="Someone Else", message="Shoulder"),
    }
    with app.app_context():
        staff = db.session.get(StaffUser, manager)
        _ = staff.branch
        add_note(staff, made["noted"], "Referred by Dr Ravikumar at the hospital")
    return made


def test_the_persons_own_name_or_email_comes_before_a_mention(client, leads):
    page = client.get("/staff/leads", query_string={"q": "RAVIKUMAR"}).get_data(as_text=True)
    # Newest first within each group, the groups in that order, and nothing else.
    assert listed(page) == [
        leads["named_and_said"],
        leads["emailed"],
        leads["named"],
        leads["noted"],
        leads["said"],
    ]
    assert "5 leads match" in page


def test_pages_follow_the_same_order_across_the_two_groups(app, client, leads):
    app.config["INBOX_PAGE_SIZE"] = 2
    url, seen, pages = "/staff/leads?q=ravikumar", [], 0
    while url:
        page = client.get(url).get_data(as_text=True)
        seen += listed(page)
        pages += 1
        following = NEXT.search(page)
        url = html.unescape(following.group(1)) if following else None
    assert pages == 3
    expected = ["named_and_said", "emailed", "named", "noted", "said"]
    assert seen == [leads[name] for name in expected]


def test_a_cursor_says_which_group_it_is_in():
    moment = utcnow()
    for rank in (0, 1):
        cursor = Cursor(moment, 42, rank)
        assert Cursor.decode(cursor.encode()) == cursor
    # A cursor made before there were groups is one in the first group.
    assert Cursor.decode(Cursor(moment, 42).encode()) == Cursor(moment, 42, 0)
    for rank in ("2", "-1", "x", ""):
        raw = f"{moment.isoformat()}|42|{rank}".encode()
        assert Cursor.decode(base64.urlsafe_b64encode(raw).decode()) is None, rank
