"""Follow-ups: scheduled, due, overdue, completed, and closed with the lead."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select, update

from crm.models import FollowUp, Lead
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.helpers import form_fields
from tests.staff_helpers import csrf_token, enter_as, lead_state, make_lead, make_staff

KOLKATA = ZoneInfo("Asia/Kolkata")


@pytest.fixture
def desk(app):
    agent = make_staff(app, "agent", "bengaluru", name="Bala Agent")
    client = enter_as(app.test_client(), app, agent)
    return {"client": client, "agent": agent, "lead": make_lead(app), "token": csrf_token(client)}


def schedule(desk, local: str, note: str = "Ask about the X-ray", lead=None):
    return desk["client"].post(
        f"/staff/leads/{lead or desk['lead']}/follow-ups",
        data={
            "csrf_token": desk["token"],
            "due_at": local,
            "assignee": str(desk["agent"]),
            "note": note,
        },
    )


def local_input(moment: datetime) -> str:
    return moment.astimezone(KOLKATA).strftime("%Y-%m-%dT%H:%M")


def test_a_follow_up_is_stored_in_utc_from_clinic_time(app, desk):
    response = schedule(desk, "2099-03-01T10:30")
    assert response.status_code == 303
    with app.app_context():
        follow_up = db.session.scalar(select(FollowUp))
        assert follow_up.due_at == datetime(2099, 3, 1, 5, 0, tzinfo=ZoneInfo("UTC"))
        assert follow_up.assignee_id == desk["agent"]
        assert follow_up.note == "Ask about the X-ray"
    assert lead_state(app, desk["lead"])["next_follow_up_at"] == follow_up.due_at
    page = desk["client"].get(f"/staff/leads/{desk['lead']}").get_data(as_text=True)
    assert "01 Mar 2099, 10:30" in page and "Follow-up scheduled." in page


def test_the_earliest_open_follow_up_is_the_next_one(app, desk):
    schedule(desk, "2099-03-05T10:00")
    schedule(desk, "2099-03-02T09:00")
    with app.app_context():
        first = db.session.scalar(select(FollowUp).order_by(FollowUp.due_at))
    assert lead_state(app, desk["lead"])["next_follow_up_at"] == first.due_at

    response = desk["client"].post(
        f"/staff/leads/{desk['lead']}/follow-ups/{first.id}/complete",
        data={"csrf_token": desk["token"], "outcome_note": "Report is fine"},
    )
    assert response.status_code == 303
    with app.app_context():
        done = db.session.get(FollowUp, first.id)
        assert done.done_at is not None and done.outcome_note == "Report is fine"
        later = db.session.scalar(select(FollowUp.due_at).where(FollowUp.done_at.is_(None)))
    assert lead_state(app, desk["lead"])["next_follow_up_at"] == later


def test_a_follow_up_in_the_past_is_refused(app, desk):
    response = schedule(desk, local_input(utcnow() - timedelta(hours=2)))
    assert response.status_code == 422
    assert "Please choose a time in the future" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(FollowUp)) is None


def test_a_nonsense_due_time_is_refused(app, desk):
    response = schedule(desk, "next tuesday-ish")
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalar(select(FollowUp)) is None


def test_completing_twice_or_someone_elses_follow_up_is_refused(app, desk):
    schedule(desk, "2099-03-05T10:00")
    other_lead = make_lead(app)
    with app.app_context():
        follow_up = db.session.scalar(select(FollowUp.id))
    # the follow-up belongs to another lead of the same branch: not found there
    wrong = desk["client"].post(
        f"/staff/leads/{other_lead}/follow-ups/{follow_up}/complete",
        data={"csrf_token": desk["token"]},
    )
    assert wrong.status_code == 404
    first = desk["client"].post(
        f"/staff/leads/{desk['lead']}/follow-ups/{follow_up}/complete",
        data={"csrf_token": desk["token"]},
    )
    assert first.status_code == 303
    again = desk["client"].post(
        f"/staff/leads/{desk['lead']}/follow-ups/{follow_up}/complete",
        data={"csrf_token": desk["token"]},
    )
    assert again.status_code == 422
    assert "already completed" in again.get_data(as_text=True)


def test_due_and_overdue_follow_ups_are_told_apart(app, desk):
    schedule(desk, "2099-03-05T10:00")
    overdue_lead = make_lead(app, name="Overdue Person")
    schedule(desk, "2099-03-05T10:00", lead=overdue_lead)
    with app.app_context():
        db.session.execute(
            update(FollowUp)
            .where(FollowUp.lead_id == overdue_lead)
            .values(due_at=utcnow() - timedelta(hours=3))
        )
        db.session.execute(
            update(Lead)
            .where(Lead.id == overdue_lead)
            .values(next_follow_up_at=utcnow() - timedelta(hours=3))
        )
        db.session.commit()
    overdue_page = desk["client"].get(f"/staff/leads/{overdue_lead}").get_data(as_text=True)
    assert "follow-ups__item--overdue" in overdue_page
    due_page = desk["client"].get(f"/staff/leads/{desk['lead']}").get_data(as_text=True)
    assert "follow-ups__item--overdue" not in due_page

    inbox = desk["client"].get("/staff/leads?overdue=1").get_data(as_text=True)
    assert "Overdue Person" in inbox
    assert f'data-lead="{desk["lead"]}"' not in inbox
    dashboard = desk["client"].get("/staff/").get_data(as_text=True)
    assert 'data-figure="overdue-follow-ups">1<' in dashboard


def test_closing_a_lead_closes_its_follow_ups(app, desk):
    schedule(desk, "2099-03-05T10:00")
    version = lead_state(app, desk["lead"])["version"]
    response = desk["client"].post(
        f"/staff/leads/{desk['lead']}/status",
        data={
            "csrf_token": desk["token"],
            "status": "lost",
            "lost_reason": "price",
            "version": version,
        },
    )
    assert response.status_code == 303
    with app.app_context():
        follow_up = db.session.scalar(select(FollowUp))
        assert follow_up.done_at is not None
        assert follow_up.outcome_note == "Closed: lead marked lost"
    assert lead_state(app, desk["lead"])["next_follow_up_at"] is None


def test_follow_ups_are_only_for_open_leads(app, desk):
    version = lead_state(app, desk["lead"])["version"]
    desk["client"].post(
        f"/staff/leads/{desk['lead']}/status",
        data={"csrf_token": desk["token"], "status": "spam", "version": version},
    )
    response = schedule(desk, "2099-03-05T10:00")
    assert response.status_code == 422
    assert "Follow-ups are for open leads" in response.get_data(as_text=True)


def test_an_agent_sends_the_follow_up_form_as_shown_for_a_colleagues_lead(app, desk):
    colleague = make_staff(app, "agent", "bengaluru", name="Chitra Agent")
    stranger = make_staff(app, "agent", "bengaluru", name="Dev Agent")
    with app.app_context():
        db.session.execute(
            update(Lead).where(Lead.id == desk["lead"]).values(assignee_id=colleague)
        )
        db.session.commit()
    page = desk["client"].get(f"/staff/leads/{desk['lead']}").get_data(as_text=True)
    shown = form_fields(page, ("action", f"/staff/leads/{desk['lead']}/follow-ups"))
    # The form offers the colleague the lead is with; sending it as shown reminds them.
    assert shown["assignee"] == str(colleague)
    response = desk["client"].post(f"/staff/leads/{desk['lead']}/follow-ups", data=shown)
    assert response.status_code == 303
    with app.app_context():
        assert db.session.scalar(select(FollowUp.assignee_id)) == colleague

    # Handing work to a third person is still a manager's call.
    shown["assignee"] = str(stranger)
    response = desk["client"].post(f"/staff/leads/{desk['lead']}/follow-ups", data=shown)
    assert response.status_code == 422
    assert "Leads can only be assigned to" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count(FollowUp.id))) == 1
