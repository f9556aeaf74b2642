"""Automatic assignment: a branch that has it on gives each new lead to its next active agent
in turn, says so on the timeline, and tells the agent by email; a returning person's lead
keeps its assignee."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from crm.models import Branch, EventKind, Lead, OutboxEmail, StaffUser
from crm.platform.extensions import db
from tests.staff_helpers import csrf_token, enter_as, make_lead, make_staff


@pytest.fixture
def branch(app):
    people = {
        "manager": make_staff(app, "manager", "bengaluru", name="Bina Manager"),
        "agent_a": make_staff(app, "agent", "bengaluru", name="Anil Agent"),
        "agent_b": make_staff(app, "agent", "bengaluru", name="Bala Agent"),
        "agent_c": make_staff(app, "agent", "bengaluru", name="Chitra Agent"),
        "hyd_manager": make_staff(app, "manager", "hyderabad", name="Hema Manager"),
        "hyd_agent": make_staff(app, "agent", "hyderabad", name="Hari Agent"),
    }
    clients = {role: enter_as(app.test_client(), app, person) for role, person in people.items()}
    return {"people": people, "clients": clients}


def switch(client, slug: str, on: bool):
    with client.application.app_context():
        branch_id = db.session.scalar(select(Branch.id).where(Branch.slug == slug))
    return client.post(
        f"/staff/branches/{branch_id}/auto-assign",
        data={"csrf_token": csrf_token(client), "on": "1" if on else "0"},
    )


def assignee(app, lead_id: int) -> int | None:
    with app.app_context():
        return db.session.get(Lead, lead_id).assignee_id


def test_new_leads_go_round_the_active_agents_skipping_an_inactive_one(app, branch):
    people = branch["people"]
    assert switch(branch["clients"]["manager"], "bengaluru", True).status_code == 303
    with app.app_context():
        db.session.get(StaffUser, people["agent_b"]).active = False
        db.session.commit()

    leads = [make_lead(app, "bengaluru") for _ in range(5)]

    assert [assignee(app, lead) for lead in leads] == [
        people["agent_a"],
        people["agent_c"],
        people["agent_a"],
        people["agent_c"],
        people["agent_a"],
    ]
    with app.app_context():
        lead = db.session.get(Lead, leads[0])
        assigned = [event for event in lead.events if event.kind == EventKind.ASSIGNED]
        assert len(assigned) == 1 and assigned[0].actor_id is None
        assert assigned[0].detail["automatic"] is True
        alerts = db.session.scalars(
            select(OutboxEmail).where(
                OutboxEmail.lead_id == leads[0], OutboxEmail.kind == "assignee_alert"
            )
        ).all()
        assert [email.to_address for email in alerts] == ["anil.agent.bengaluru@clinic.example"]
        assert f"/staff/leads/{leads[0]}" in alerts[0].text_body
    page = branch["clients"]["manager"].get(f"/staff/leads/{leads[0]}").get_data(as_text=True)
    assert "Assigned to Anil Agent automatically, in turn." in page


def test_off_by_default_and_a_returning_person_keeps_their_assignee(app, branch):
    people = branch["people"]
    first = make_lead(app, "bengaluru", phone="+919845000001")
    assert assignee(app, first) is None

    switch(branch["clients"]["manager"], "bengaluru", True)
    returning = make_lead(app, "bengaluru", phone="+919845000001")
    assert returning == first and assignee(app, first) is None

    held = make_lead(app, "bengaluru", phone="+919845000002")
    assert assignee(app, held) == people["agent_a"]
    again = make_lead(app, "bengaluru", phone="+919845000002")
    assert again == held and assignee(app, held) == people["agent_a"]
    # The returning person took no turn: the next new lead goes to the next agent.
    assert assignee(app, make_lead(app, "bengaluru")) == people["agent_b"]


def test_only_the_branch_managers_and_admins_switch_it(app, branch):
    clients = branch["clients"]
    assert switch(clients["agent_a"], "bengaluru", True).status_code == 404
    assert switch(clients["hyd_manager"], "bengaluru", True).status_code == 404
    assert assignee(app, make_lead(app, "bengaluru")) is None

    inbox = clients["manager"].get("/staff/leads").get_data(as_text=True)
    assert 'data-auto-assign="off"' in inbox
    assert "data-auto-assign" not in clients["agent_a"].get("/staff/leads").get_data(as_text=True)
    switch(clients["manager"], "bengaluru", True)
    inbox = clients["manager"].get("/staff/leads").get_data(as_text=True)
    assert 'data-auto-assign="on"' in inbox
    # Hyderabad is unaffected.
    assert assignee(app, make_lead(app, "hyderabad")) is None
