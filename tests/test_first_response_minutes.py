"""Each lead keeps its working minutes to first response (``Lead.first_response_minutes``),
written when it is first answered; the dashboard's median of the week reads them. Checked
against ``working_minutes`` computed here from the leads' own times."""

from __future__ import annotations

import re
import statistics
from datetime import datetime, timedelta
from unittest import mock
from zoneinfo import ZoneInfo

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text, update

from crm.leads.dashboard import dashboard_figures, week_start
from crm.leads.response_time import working_minutes
from crm.models import WEEKDAYS, Branch, Lead, StaffUser
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.staff_helpers import csrf_token, enter_as, make_lead, make_staff

BEFORE = "e2c8a4f6b913"  # the revision before migration f9a2c4e6b817
# Hours ago each lead arrived, in one branch or the other: nights, weekends and hours.
ARRIVALS = (
    ("bengaluru", 1),
    ("bengaluru", 7),
    ("bengaluru", 20),
    ("bengaluru", 49),
    ("bengaluru", 100),
    ("hyderabad", 3),
    ("hyderabad", 30),
    ("hyderabad", 170),
)


def move(client: FlaskClient, lead_id: int, status: str, **extra: str) -> None:
    """A status change through the lead page, as staff make it."""
    version = re.search(
        r'name="version" type="hidden" value="(\d+)"',
        client.get(f"/staff/leads/{lead_id}").get_data(as_text=True),
    ).group(1)
    response = client.post(
        f"/staff/leads/{lead_id}/status",
        data={"csrf_token": csrf_token(client), "status": status, "version": version, **extra},
    )
    assert response.status_code == 303


def expected(app: Flask, branch_slug: str | None, since) -> list[float]:
    """Working minutes of the leads first answered since ``since``, from their own times."""
    with app.app_context():
        query = select(Lead).join(Branch).where(Lead.first_response_at >= since)
        if branch_slug:
            query = query.where(Branch.slug == branch_slug)
        return [
            working_minutes(lead.branch, lead.created_at, lead.first_response_at)
            for lead in db.session.scalars(query)
        ]


def figures(app: Flask, user_id: int, now):
    with app.app_context():
        return dashboard_figures(db.session.get(StaffUser, user_id), now)


def answered_leads(app: Flask, admin: int) -> list[int]:
    """The ARRIVALS, answered now through the app (contacted, lost or spam: any first move out
    of new), and one more answered last week, which no median of this week counts."""
    client = enter_as(app.test_client(), app, admin)
    now = utcnow()
    ids = [make_lead(app, slug, at=now - timedelta(hours=hours)) for slug, hours in ARRIVALS]
    for index, lead_id in enumerate(ids):
        if index % 3 == 1:
            move(client, lead_id, "lost", lost_reason="price")
        else:
            move(client, lead_id, "spam" if index % 3 == 2 else "contacted")
    old = make_lead(app, "bengaluru", at=week_start(now) - timedelta(days=3))
    with mock.patch("crm.leads.workflow.utcnow", return_value=week_start(now) - timedelta(hours=1)):
        move(client, old, "contacted")
    # Moves after the first leave the first response, and its minutes, as they were.
    move(client, ids[0], "appointment_booked")
    return [*ids, old]


def test_the_median_is_that_of_the_working_minutes_of_the_week(app):
    admin = make_staff(app, "admin", None, name="Ada Admin")
    manager = make_staff(app, "manager", "bengaluru", name="Bea Manager")
    ids = answered_leads(app, admin)
    now = utcnow()
    with app.app_context():
        for lead in db.session.scalars(select(Lead).where(Lead.id.in_(ids))):
            assert lead.first_response_minutes == working_minutes(
                lead.branch, lead.created_at, lead.first_response_at
            )
    everyone = expected(app, None, week_start(now))
    assert len(everyone) == len(ARRIVALS)  # an even count: the mean of the middle two
    found = figures(app, admin, now)
    assert found.responses_this_week == len(everyone)
    assert found.median_first_response_minutes == statistics.median(everyone)
    branch = expected(app, "bengaluru", week_start(now))
    assert len(branch) == 5  # odd: the middle one
    found = figures(app, manager, now)
    assert found.responses_this_week == 5
    assert found.median_first_response_minutes == statistics.median(branch)


def test_no_answer_this_week_shows_no_median(app):
    admin = make_staff(app, "admin", None, name="Ada Admin")
    make_lead(app, "bengaluru")
    found = figures(app, admin, utcnow())
    assert (found.responses_this_week, found.median_first_response_minutes) == (0, None)


def test_new_hours_leave_past_answers_as_they_were_counted(app):
    """The minutes are those of the hours in force when the lead was answered."""
    admin = make_staff(app, "admin", None, name="Ada Admin")
    answered_leads(app, admin)
    now = utcnow()
    before = figures(app, admin, now).median_first_response_minutes
    with app.app_context():
        db.session.execute(
            update(Branch).values(opening_hours={day: [["00:00", "23:59"]] for day in WEEKDAYS})
        )
        db.session.commit()
    assert (
        expected(app, None, week_start(now)) != []
        and statistics.median(expected(app, None, week_start(now))) != before
    )
    assert figures(app, admin, now).median_first_response_minutes == before


def test_upgrade_fills_in_the_minutes_of_leads_already_answered(app):
    admin = make_staff(app, "admin", None, name="Ada Admin")
    ids = answered_leads(app, admin)
    waiting = make_lead(app, "hyderabad", at=utcnow() - timedelta(hours=5))
    with app.app_context():
        triggers = _triggers()
        downgrade(revision=BEFORE)
        upgrade()
        db.session.remove()
        assert _triggers() == triggers
        for lead in db.session.scalars(select(Lead).where(Lead.id.in_(ids))):
            assert lead.first_response_minutes == working_minutes(
                lead.branch, lead.created_at, lead.first_response_at
            )
        assert db.session.get(Lead, waiting).first_response_minutes is None
    now = utcnow()
    found = figures(app, admin, now)
    assert found.median_first_response_minutes == statistics.median(
        expected(app, None, week_start(now))
    )


def _triggers() -> list[str]:
    """The triggers on lead, which a rebuild of the table on SQLite would drop."""
    if db.engine.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'lead'"
    else:
        sql = "SELECT tgname FROM pg_trigger WHERE tgrelid = 'lead'::regclass"
    return sorted(db.session.scalars(text(sql)))


IST = ZoneInfo("Asia/Kolkata")
# Monday 23 November 2026, when Bengaluru opens 08:00-20:00.
ARRIVED = datetime(2026, 11, 23, 10, 0, tzinfo=IST)
ANSWERED = ARRIVED + timedelta(hours=3)


def response_line(client: FlaskClient, lead_id: int) -> str:
    """The lead page's line on the first response, its late badge included."""
    with mock.patch("crm.staff.lead_page.utcnow", return_value=ANSWERED):
        html = client.get(f"/staff/leads/{lead_id}").get_data(as_text=True)
    line = re.search(r"First response:(.*?)</p>", html, re.DOTALL).group(1)
    return " ".join(re.sub(r"<[^>]+>", " ", line).split())


def test_the_lead_page_shows_the_minutes_counted_when_the_lead_was_answered(app):
    """New hours leave an answered lead's response time as it was counted, as on the
    dashboard; a lead nobody has answered yet is counted under the hours in force."""
    admin = make_staff(app, "admin", None, name="Ada Admin")
    client = enter_as(app.test_client(), app, admin)
    answered = make_lead(app, "bengaluru", at=ARRIVED)
    with mock.patch("crm.leads.workflow.utcnow", return_value=ANSWERED):
        move(client, answered, "contacted")
    waiting = make_lead(app, "bengaluru", at=ARRIVED)
    before = response_line(client, answered)
    assert "after 3 h 0 min of opening hours" in before
    assert "over the 2 h 0 min target" in before
    assert response_line(client, waiting) == (
        "not yet, 3 h 0 min of opening hours so far over the 2 h 0 min target"
    )

    with app.app_context():
        db.session.execute(
            update(Branch)
            .where(Branch.slug == "bengaluru")
            .values(opening_hours={"mon": [["12:00", "20:00"]]})
        )
        db.session.commit()
        lead = db.session.get(Lead, answered)
        # Counted again under the new hours, the answer would now look on time.
        assert working_minutes(lead.branch, lead.created_at, lead.first_response_at) == 60
        assert lead.first_response_minutes == 180

    assert response_line(client, answered) == before
    assert response_line(client, waiting) == "not yet, 1 h 0 min of opening hours so far"

    # A row without its minutes (answered before they were kept) is counted from its times.
    with app.app_context():
        db.session.execute(
            update(Lead).where(Lead.id == answered).values(first_response_minutes=None)
        )
        db.session.commit()
    assert "after 1 h 0 min of opening hours" in response_line(client, answered)
