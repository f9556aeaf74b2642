"""The inbox's "Export this view" link exports exactly the leads the inbox lists, page by page.

The inbox and the export read one filter vocabulary: no status is every status but spam, an
assignee is a staff id, and days are whole days in the lead's branch's time zone.
"""

from __future__ import annotations

import html
import re
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from crm.models import Branch, Lead
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.export_helpers import csv_records, export_records
from tests.helpers import form_fields
from tests.staff_helpers import enter_as, make_lead, make_staff

KOLKATA = ZoneInfo("Asia/Kolkata")  # both branches' zone
EXPORT_LINK = re.compile(r'href="([^"]+)">Export this view<')


def listed(page: str) -> list[int]:
    return [int(value) for value in re.findall(r'<tr data-lead="(\d+)"', page)]


def set_fields(app, lead_id: int, **values) -> None:
    with app.app_context():
        db.session.execute(update(Lead).where(Lead.id == lead_id).values(**values))
        db.session.commit()


def inbox_leads(client, query: str) -> tuple[list[int], str | None]:
    """Every lead the inbox lists for ``query``, following "Older leads" to the last page, and
    the first page's export link."""
    url: str | None = f"/staff/leads?{query}"
    seen: list[int] = []
    export_link = None
    pages = 0
    while url:
        page = client.get(url)
        assert page.status_code == 200
        text = page.get_data(as_text=True)
        assert "Some filters were not understood" not in text
        seen += listed(text)
        if pages == 0:
            found = EXPORT_LINK.search(text)
            export_link = html.unescape(found.group(1)) if found else None
        pages += 1
        following = re.search(r'href="([^"]+)" rel="next"', text)
        url = html.unescape(following.group(1)) if following else None
    assert len(seen) == len(set(seen)), "a lead listed on two pages"
    return seen, export_link


def exported_leads(app, client, link: str) -> set[int]:
    """Follow the link to the exports page, leave the form as it was filled in, press Download."""
    page = client.get(link)
    assert page.status_code == 200
    assert export_records(app) == [], "opening the exports page must not export anything"
    fields = form_fields(page.get_data(as_text=True), ("action", "/staff/exports"))
    response = client.post("/staff/exports", data=fields)
    assert response.status_code == 200, response.get_data(as_text=True)
    return {int(row["Reference"].removeprefix("L-")) for row in csv_records(response.data)}


@pytest.fixture
def world(app):
    app.config["INBOX_PAGE_SIZE"] = 2
    agent = make_staff(app, "agent", "hyderabad", name="Hari Agent")
    manager = make_staff(app, "manager", "hyderabad", name="Hema Manager")
    admin = make_staff(app, "admin", None, name="Ada Admin")
    today = utcnow().astimezone(KOLKATA).date()
    day = today - timedelta(days=3)
    midnight = datetime.combine(day, time(0), KOLKATA)
    minute = timedelta(minutes=1)
    plan = {
        # name: (created, status, assignee, interest, email)
        "Asha Rao": (midnight - minute, "new", None, "back_pain", None),
        "Bhavna Rao": (midnight, "contacted", agent, "knee_pain", None),
        "Cheap Pills": (midnight + timedelta(hours=10), "spam", None, "back_pain", None),
        "Deepa Nair": (midnight + timedelta(days=1) - minute, "lost", agent, "back_pain", None),
        "Esha Iyer": (
            midnight + timedelta(days=1),
            "appointment_booked",
            manager,
            "knee_pain",
            None,
        ),
        "Farah Khan": (midnight + timedelta(days=2), "new", None, "back_pain", "farah@example.com"),
        "Gita Rao": (midnight - timedelta(days=5), "visited", agent, "back_pain", None),
    }
    leads = {}
    for name, (created, status, assignee, interest, email) in plan.items():
        lead_id = make_lead(app, "hyderabad", name=name, interest=interest, email=email, at=created)
        set_fields(
            app,
            lead_id,
            status=status,
            assignee_id=assignee,
            lost_reason="price" if status == "lost" else None,
        )
        leads[name] = lead_id
    leads["Bengaluru Rao"] = make_lead(app, "bengaluru", name="Bengaluru Rao", at=midnight)
    return {
        "app": app,
        "agent": agent,
        "day": day,
        "leads": leads,
        "manager": enter_as(app.test_client(), app, manager),
        "admin": enter_as(app.test_client(), app, admin),
        "agent_client": enter_as(app.test_client(), app, agent),
    }


MANAGER_VIEWS = [
    pytest.param("", id="default-no-spam"),
    pytest.param("status=any", id="with-spam"),
    pytest.param("status=open", id="open"),
    pytest.param("status=spam", id="spam"),
    pytest.param("status=lost", id="lost"),
    pytest.param("assignee={agent}", id="assignee"),
    pytest.param("assignee=none", id="unassigned"),
    pytest.param("mine=1", id="mine"),
    pytest.param("since={day}", id="since-midnight"),
    pytest.param("until={day}", id="until-midnight"),
    pytest.param("since={day}&until={day}", id="one-day"),
    pytest.param("since={next_day}&status=any", id="next-day-with-spam"),
    pytest.param("q=rao", id="search-name"),
    pytest.param("q=farah%40example.com", id="search-email"),
    pytest.param("interest=knee_pain", id="interest"),
    pytest.param("interest=back_pain&status=any&since={day}&assignee=none", id="combined"),
    pytest.param("q=nobody-here", id="nothing"),
]


def fill(query: str, world) -> str:
    return query.format(
        agent=world["agent"], day=world["day"], next_day=world["day"] + timedelta(days=1)
    )


@pytest.mark.parametrize("query", MANAGER_VIEWS)
def test_a_managers_export_link_exports_exactly_what_the_inbox_lists(world, query):
    client = world["manager"]
    shown, link = inbox_leads(client, fill(query, world))
    assert link is not None
    assert exported_leads(world["app"], client, link) == set(shown)


def test_the_views_above_are_not_trivial(world):
    """Guards the cases themselves: pages, midnights and spam really are in play."""
    leads = world["leads"]
    client = world["manager"]
    shown, _ = inbox_leads(client, fill("since={day}&until={day}", world))
    assert sorted(shown) == sorted([leads["Bhavna Rao"], leads["Deepa Nair"]])
    everything, _ = inbox_leads(client, "status=any")
    assert len(everything) == 7  # four pages of two
    default, _ = inbox_leads(client, "")
    assert leads["Cheap Pills"] not in default and len(default) == 6
    assert sorted(inbox_leads(client, fill("assignee={agent}", world))[0]) == sorted(
        [leads["Bhavna Rao"], leads["Deepa Nair"], leads["Gita Rao"]]
    )


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("", id="every-branch"),
        pytest.param("branch=hyderabad&since={day}", id="one-branch-since"),
        pytest.param("status=any&q=rao", id="search-every-branch"),
        pytest.param("branch=bengaluru", id="other-branch"),
    ],
)
def test_an_admins_export_link_exports_exactly_what_the_inbox_lists(world, query):
    client = world["admin"]
    shown, link = inbox_leads(client, fill(query, world))
    assert link is not None
    assert exported_leads(world["app"], client, link) == set(shown)
    assert shown


def test_agents_get_no_export_link(world):
    _, link = inbox_leads(world["agent_client"], "")
    assert link is None


def test_days_are_cut_in_the_leads_branch_zone(app, world):
    """A branch in another zone: the inbox and the export cut its days at its own midnight."""
    with app.app_context():
        db.session.execute(
            update(Branch).where(Branch.slug == "bengaluru").values(time_zone="Asia/Dubai")
        )
        db.session.commit()
    dubai = ZoneInfo("Asia/Dubai")
    day = world["day"]
    # 23:30 in Dubai on ``day`` is already 01:00 the next day in Kolkata.
    late = datetime.combine(day, time(23, 30), dubai)
    lead = make_lead(app, "bengaluru", name="Late In Dubai", at=late)
    client = world["admin"]
    on_the_day, link = inbox_leads(client, f"branch=bengaluru&since={day}&until={day}")
    assert lead in on_the_day
    assert exported_leads(app, client, link) == set(on_the_day)
    next_day = day + timedelta(days=1)
    assert lead not in inbox_leads(client, f"branch=bengaluru&since={next_day}")[0]
