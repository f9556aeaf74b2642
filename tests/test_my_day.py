"""An agent's dashboard opens with their own day: follow-ups due today and overdue,
appointments today and new leads of theirs, nobody else's."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from crm.clinic.branches import branch_zone
from crm.models import Appointment, FollowUp, Lead
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.staff_helpers import enter_as, make_lead, make_staff


def give(app, lead_id: int, person: int) -> None:
    # Setup only: who holds what is tested in test_staff_assignment.py.
    with app.app_context():
        db.session.get(Lead, lead_id).assignee_id = person
        db.session.commit()


def test_my_day_lists_only_my_work(app):
    me = make_staff(app, "agent", "bengaluru", name="Anil Agent")
    colleague = make_staff(app, "agent", "bengaluru", name="Bala Agent")
    mine, theirs, later = (make_lead(app, "bengaluru", name=n) for n in ("Mine", "Theirs", "Later"))
    give(app, mine, me)
    give(app, theirs, colleague)
    give(app, later, me)
    with app.app_context():
        zone = branch_zone(None)
        noon = datetime.combine(utcnow().astimezone(zone).date(), time(12), zone)
        db.session.get(Lead, later).status = "contacted"
        for lead_id, person, due in (
            (mine, me, utcnow() - timedelta(hours=1)),  # overdue
            (theirs, colleague, utcnow() - timedelta(hours=1)),
            (later, me, utcnow() + timedelta(days=3)),  # not due yet
        ):
            db.session.add(
                FollowUp(lead_id=lead_id, assignee_id=person, due_at=due, created_by_id=person)
            )
        db.session.add(
            Appointment(
                lead_id=later,
                branch_id=db.session.get(Lead, later).branch_id,
                starts_at=noon,
                uid="my-day-test@clinic.test",
            )
        )
        db.session.commit()

    html = enter_as(app.test_client(), app, me).get("/staff/").get_data(as_text=True)
    day = re.search(r"<section[^>]*data-my-day>.*?</section>", html, re.DOTALL).group(0)

    assert re.findall(r'data-my-follow-up="\d+"><a[^>]*>(\w+)</a>', day) == ["Mine"]
    assert "overdue" in day
    assert re.findall(r'data-my-appointment="\d+"><a[^>]*>(\w+)</a>', day) == ["Later"]
    assert re.findall(r'data-my-new-lead="\d+"><a[^>]*>(\w+)</a>', day) == ["Mine"]
    assert "Theirs" not in day
