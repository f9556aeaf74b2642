"""Dashboard figures against fixtures whose answers were worked out by hand."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, update

from crm.leads.dashboard import dashboard_figures
from crm.leads.response_time import working_minutes
from crm.models import FollowUp, Lead, StaffUser
from crm.platform.extensions import db
from tests.staff_helpers import csrf_token, enter_as, make_lead, make_staff

IST = ZoneInfo("Asia/Kolkata")
# Thursday 26 November 2026, 15:00 in Bengaluru. The week began Monday the 23rd.
NOW = datetime(2026, 11, 26, 15, 0, tzinfo=IST)


def ist(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=IST)


def lead(app, branch, *, created, status="new", first_response=None, source=None, name="P"):
    """A lead written straight into its state, with the minutes the pipeline would keep."""
    lead_id = make_lead(app, branch, name=name, utm_source=source, at=created)
    with app.app_context():
        home = db.session.get(Lead, lead_id).branch
        minutes = None if first_response is None else working_minutes(home, created, first_response)
        db.session.execute(
            update(Lead)
            .where(Lead.id == lead_id)
            .values(
                status=status,
                lost_reason="price" if status == "lost" else None,
                first_response_at=first_response,
                first_response_minutes=minutes,
            )
        )
        db.session.commit()
    return lead_id


@pytest.fixture
def fixtures(app):
    """Eight Bengaluru leads and two Hyderabad ones; the expected figures are written below."""
    blr = [
        # new, waiting: two of them
        lead(app, "bengaluru", created=ist(26, 10), source="google"),
        lead(app, "bengaluru", created=ist(25, 12)),
        # answered this week after 30, 60 and 90 working minutes -> median 60
        lead(
            app,
            "bengaluru",
            created=ist(23, 10),
            status="contacted",
            first_response=ist(23, 10, 30),
            source="google",
        ),
        lead(
            app,
            "bengaluru",
            created=ist(24, 19, 30),
            status="visited",
            first_response=ist(25, 8, 30),
            source="google",
        ),  # 30 before closing + 30 after opening
        lead(
            app, "bengaluru", created=ist(25, 9), status="visited", first_response=ist(25, 10, 30)
        ),
        # answered last week: not in this week's median
        lead(app, "bengaluru", created=ist(18, 9), status="lost", first_response=ist(18, 17)),
        lead(
            app,
            "bengaluru",
            created=ist(16, 9),
            status="appointment_booked",
            first_response=ist(16, 9, 5),
            source="instagram",
        ),
        # spam: counted by status, left out of conversion and the chart
        lead(app, "bengaluru", created=ist(26, 11), status="spam"),
    ]
    hyd = [
        lead(app, "hyderabad", created=ist(26, 9), status="visited", first_response=ist(26, 9, 10)),
        lead(app, "hyderabad", created=ist(20, 9)),
    ]
    agent = make_staff(app, "agent", "bengaluru", name="Bala Agent")
    with app.app_context():
        for lead_id, due in ((blr[2], ist(26, 12)), (blr[3], ist(27, 10)), (hyd[1], ist(25, 10))):
            db.session.add(
                FollowUp(lead_id=lead_id, assignee_id=None, due_at=due, created_at=ist(20, 9))
            )
        db.session.add(
            FollowUp(lead_id=blr[4], due_at=ist(24, 10), done_at=ist(24, 11), created_at=ist(20, 9))
        )
        db.session.commit()
    return {"blr": blr, "hyd": hyd, "agent": agent}


def figures_for(app, user_id):
    with app.app_context():
        return dashboard_figures(db.session.get(StaffUser, user_id), NOW)


def test_branch_figures_match_the_hand_count(app, fixtures):
    figures = figures_for(app, fixtures["agent"])
    assert figures.new_waiting == 2
    assert figures.overdue_follow_ups == 1  # due 26th 12:00; the 27th is not yet due
    assert figures.by_status == {
        "new": 2,
        "contacted": 1,
        "appointment_booked": 1,
        "visited": 2,
        "lost": 1,
        "spam": 1,
    }
    assert figures.responses_this_week == 3
    assert figures.median_first_response_minutes == 60
    # created in the last 30 days, spam left out: 7 leads, 2 visited
    assert [(f.label, f.attended, f.new) for f in figures.funnel_by_branch] == [("Bengaluru", 2, 7)]
    assert [(f.label, f.attended, f.new) for f in figures.funnel_by_source] == [
        ("direct", 1, 3),
        ("google", 1, 3),
        ("instagram", 0, 1),
    ]
    per_day = dict(figures.leads_per_day)
    assert len(per_day) == 30
    assert min(per_day) == date(2026, 10, 28) and max(per_day) == date(2026, 11, 26)
    assert per_day[date(2026, 11, 26)] == 1  # the spam lead of that day is not drawn
    assert per_day[date(2026, 11, 25)] == 2
    assert sum(per_day.values()) == 7


def test_admin_figures_cover_both_branches(app, fixtures):
    admin = make_staff(app, "admin", None, name="Ada Admin")
    figures = figures_for(app, admin)
    assert figures.new_waiting == 3
    assert figures.overdue_follow_ups == 2
    assert figures.responses_this_week == 4
    assert figures.median_first_response_minutes == 45  # 10, 30, 60, 90
    assert [(f.label, f.attended, f.new) for f in figures.funnel_by_branch] == [
        ("Bengaluru", 2, 7),
        ("Hyderabad", 1, 2),
    ]


def test_the_dashboard_page_shows_the_figures_and_they_move(app):
    """The issue's walk-through: a manager assigns, an agent calls and books; the numbers move."""
    manager = make_staff(app, "manager", "hyderabad", name="Hema Manager")
    agent = make_staff(app, "agent", "hyderabad", name="Hari Agent")
    lead_id = make_lead(app, "hyderabad", name="Lakshmi Naidu")
    make_lead(app, "bengaluru", name="Not Theirs")
    boss = enter_as(app.test_client(), app, manager)
    page = boss.get("/staff/").get_data(as_text=True)
    assert 'data-figure="new-waiting">1<' in page
    assert "Not Theirs" not in boss.get("/staff/leads").get_data(as_text=True)
    token = csrf_token(boss)
    assert (
        boss.post(
            f"/staff/leads/{lead_id}/assign",
            data={"csrf_token": token, "version": 1, "assignee": str(agent)},
        ).status_code
        == 303
    )

    desk = enter_as(app.test_client(), app, agent)
    token = csrf_token(desk)
    assert (
        desk.post(
            f"/staff/leads/{lead_id}/calls", data={"csrf_token": token, "outcome": "answered"}
        ).status_code
        == 303
    )
    version = re.search(
        r'name="version" type="hidden" value="(\d+)"',
        desk.get(f"/staff/leads/{lead_id}").get_data(as_text=True),
    ).group(1)
    assert (
        desk.post(
            f"/staff/leads/{lead_id}/status",
            data={"csrf_token": token, "status": "appointment_booked", "version": version},
        ).status_code
        == 303
    )
    due = (datetime.now(IST) + timedelta(days=1)).strftime("%Y-%m-%dT10:00")
    assert (
        desk.post(
            f"/staff/leads/{lead_id}/follow-ups",
            data={"csrf_token": token, "due_at": due, "assignee": str(agent)},
        ).status_code
        == 303
    )

    page = boss.get("/staff/").get_data(as_text=True)
    assert 'data-figure="new-waiting">0<' in page
    assert 'data-status-count="appointment_booked">1<' in page
    assert re.search(r'data-figure="median-first-response">\d+ min<', page)
    assert "in opening hours (1 lead)" in page
    with app.app_context():
        stored = db.session.scalar(select(Lead).where(Lead.id == lead_id))
        assert stored.status == "appointment_booked" and stored.assignee_id == agent
        assert stored.next_follow_up_at is not None
