"""Erasure from the lead page: an administrator's action, confirmed, and complete."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from crm.models import FollowUp, Lead
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.staff_helpers import csrf_token, enter_as, lead_state, make_lead, make_staff


@pytest.fixture
def setting(app):
    admin = make_staff(app, "admin", None, name="Ada Admin")
    manager = make_staff(app, "manager", "bengaluru", name="Bina Manager")
    lead = make_lead(app, name="Kavya Hegde", phone="+919845012345", email="kavya@example.com")
    elsewhere = make_lead(app, "hyderabad", name="Kavya Hegde", phone="+919845012345")
    other = make_lead(app, name="Someone Else")
    boss = enter_as(app.test_client(), app, manager)
    boss.post(
        f"/staff/leads/{lead}/follow-ups",
        data={
            "csrf_token": csrf_token(boss),
            "due_at": "2099-01-01T10:00",
            "assignee": str(manager),
        },
    )
    with app.app_context():  # make the follow-up overdue, so the dashboard counts it
        db.session.execute(update(FollowUp).values(due_at=utcnow() - timedelta(hours=1)))
        db.session.execute(
            update(Lead)
            .where(Lead.id == lead)
            .values(next_follow_up_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()
    return {
        "admin": enter_as(app.test_client(), app, admin),
        "manager": boss,
        "lead": lead,
        "elsewhere": elsewhere,
        "other": other,
    }


def test_only_admins_see_and_may_use_the_erase_action(app, setting):
    lead = setting["lead"]
    assert "Erase this person" not in setting["manager"].get(f"/staff/leads/{lead}").get_data(
        as_text=True
    )
    before = lead_state(app, lead)
    response = setting["manager"].post(
        f"/staff/leads/{lead}/erase",
        data={"csrf_token": csrf_token(setting["manager"]), "confirm": "y"},
    )
    assert response.status_code == 403
    assert lead_state(app, lead) == before


def test_erasure_needs_the_box_ticked(app, setting):
    lead = setting["lead"]
    before = lead_state(app, lead)
    response = setting["admin"].post(
        f"/staff/leads/{lead}/erase", data={"csrf_token": csrf_token(setting["admin"])}
    )
    assert response.status_code == 422
    assert "Please tick the box to confirm the erasure." in response.get_data(as_text=True)
    assert lead_state(app, lead) == before


def test_an_admin_erases_the_person_everywhere_and_the_pages_say_so(app, setting):
    admin, lead = setting["admin"], setting["lead"]
    assert 'data-figure="overdue-follow-ups">1<' in admin.get("/staff/").get_data(as_text=True)
    response = admin.post(
        f"/staff/leads/{lead}/erase", data={"csrf_token": csrf_token(admin), "confirm": "y"}
    )
    assert response.status_code == 303
    page = admin.get(f"/staff/leads/{lead}").get_data(as_text=True)
    assert "Erased person" in page and "Kavya" not in page and "98450" not in page
    assert "Personal data erased on request." in page
    with app.app_context():
        for lead_id in (lead, setting["elsewhere"]):
            erased = db.session.get(Lead, lead_id)
            assert (erased.name, erased.phone, erased.email) == ("", "", None)
            assert erased.erased_at is not None and erased.next_follow_up_at is None
        assert db.session.get(Lead, setting["other"]).name == "Someone Else"
        assert db.session.scalar(select(FollowUp.done_at)) is not None
    dashboard = admin.get("/staff/").get_data(as_text=True)
    assert 'data-figure="overdue-follow-ups">0<' in dashboard
    inbox = admin.get("/staff/leads").get_data(as_text=True)
    assert "(erased)" in inbox and "Kavya" not in inbox
    # Nothing left to do on an erased lead: no actions, and a change is refused.
    assert "Log a call" not in page and "Erase this person" not in page
    response = admin.post(
        f"/staff/leads/{lead}/notes", data={"csrf_token": csrf_token(admin), "text": "x"}
    )
    assert response.status_code == 422
