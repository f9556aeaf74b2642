"""Who may move a lead: an agent takes a free lead or keeps their own; a colleague's lead moves
only when a manager of its branch (or an admin) moves it, on the lead page and in bulk alike."""

from __future__ import annotations

import re

import pytest

from tests.helpers import form_fields
from tests.staff_helpers import csrf_token, enter_as, lead_state, make_lead, make_staff


@pytest.fixture
def branch(app):
    """A Bengaluru lead the manager has given to agent B, and agent A who would like it."""
    people = {
        "manager": make_staff(app, "manager", "bengaluru", name="Bina Manager"),
        "agent_a": make_staff(app, "agent", "bengaluru", name="Anil Agent"),
        "agent_b": make_staff(app, "agent", "bengaluru", name="Bala Agent"),
        "other_manager": make_staff(app, "manager", "hyderabad", name="Hema Manager"),
        "admin": make_staff(app, "admin", None, name="Ada Admin"),
    }
    clients = {}
    for role, person in people.items():
        clients[role] = app.test_client()
        enter_as(clients[role], app, person)
    lead = make_lead(app, "bengaluru")
    response = assign(clients["manager"], app, lead, people["agent_b"])
    assert response.status_code == 303
    assert lead_state(app, lead)["assignee_id"] == people["agent_b"]
    return {"people": people, "clients": clients, "lead": lead}


def assign(client, app, lead: int, assignee: int | None):
    return client.post(
        f"/staff/leads/{lead}/assign",
        data={
            "csrf_token": csrf_token(client),
            "version": lead_state(app, lead)["version"],
            "assignee": str(assignee or ""),
        },
    )


def assign_options(html: str, lead: int) -> list[str] | None:
    """The assignees the lead page's assignment form offers, or None when it shows no form."""
    form = re.search(
        rf'<form[^>]*action="/staff/leads/{lead}/assign".*?</form>', html, flags=re.DOTALL
    )
    if form is None:
        return None
    return re.findall(r'<option[^>]*value="([^"]*)"', form.group(0))


def test_an_agent_cannot_take_a_lead_a_colleague_holds(app, branch):
    people, clients, lead = branch["people"], branch["clients"], branch["lead"]
    before = lead_state(app, lead)

    response = assign(clients["agent_a"], app, lead, people["agent_a"])

    assert response.status_code == 403
    assert "only a manager can move it" in response.get_data(as_text=True)
    after = lead_state(app, lead)
    assert after["assignee_id"] == people["agent_b"]
    assert after["version"] == before["version"] and after["events"] == before["events"]
    # Nor can they give it back on the colleague's behalf.
    assert assign(clients["agent_a"], app, lead, None).status_code == 403
    assert lead_state(app, lead)["assignee_id"] == people["agent_b"]


def test_the_lead_page_offers_an_agent_nothing_to_take_from_a_colleague(app, branch):
    people, clients, lead = branch["people"], branch["clients"], branch["lead"]
    html = clients["agent_a"].get(f"/staff/leads/{lead}").get_data(as_text=True)
    assert assign_options(html, lead) is None
    assert "Bala Agent" in html  # who holds it is still shown

    # The holder may give it back, and so still sees the form.
    html = clients["agent_b"].get(f"/staff/leads/{lead}").get_data(as_text=True)
    assert set(assign_options(html, lead)) == {"", str(people["agent_b"])}


def test_an_agent_takes_a_free_lead_and_gives_it_back(app, branch):
    people, clients = branch["people"], branch["clients"]
    free = make_lead(app, "bengaluru")
    html = clients["agent_a"].get(f"/staff/leads/{free}").get_data(as_text=True)
    assert set(assign_options(html, free)) == {"", str(people["agent_a"])}
    assert assign(clients["agent_a"], app, free, people["agent_a"]).status_code == 303
    assert lead_state(app, free)["assignee_id"] == people["agent_a"]
    # Handing it to a colleague is the manager's call.
    assert assign(clients["agent_a"], app, free, people["agent_b"]).status_code in (403, 422)
    assert lead_state(app, free)["assignee_id"] == people["agent_a"]
    assert assign(clients["agent_a"], app, free, None).status_code == 303
    assert lead_state(app, free)["assignee_id"] is None


def test_a_manager_of_the_branch_and_an_admin_move_a_held_lead(app, branch):
    people, clients, lead = branch["people"], branch["clients"], branch["lead"]
    html = clients["manager"].get(f"/staff/leads/{lead}").get_data(as_text=True)
    assert str(people["agent_a"]) in assign_options(html, lead)
    assert assign(clients["manager"], app, lead, people["agent_a"]).status_code == 303
    assert lead_state(app, lead)["assignee_id"] == people["agent_a"]
    assert assign(clients["admin"], app, lead, people["agent_b"]).status_code == 303
    assert lead_state(app, lead)["assignee_id"] == people["agent_b"]
    # Another branch's manager does not even see the lead.
    assert assign(clients["other_manager"], app, lead, None).status_code == 404
    assert lead_state(app, lead)["assignee_id"] == people["agent_b"]


def test_bulk_assignment_follows_the_same_rule(app, branch):
    people, clients, lead = branch["people"], branch["clients"], branch["lead"]
    free = make_lead(app, "bengaluru")
    agent = clients["agent_a"]
    inbox = agent.get("/staff/leads").get_data(as_text=True)
    bulk = form_fields(inbox, ("action", "/staff/leads/bulk"))
    assert "assignee" not in bulk  # the inbox offers an agent no one to assign to
    response = agent.post(
        "/staff/leads/bulk",
        data={
            "csrf_token": csrf_token(agent),
            "lead_ids": [str(lead), str(free)],
            "action": "assign",
            "assignee": str(people["agent_a"]),
        },
        follow_redirects=True,
    )
    assert "Only a manager can assign leads in bulk." in response.get_data(as_text=True)
    assert lead_state(app, lead)["assignee_id"] == people["agent_b"]
    assert lead_state(app, free)["assignee_id"] is None

    manager = clients["manager"]
    response = manager.post(
        "/staff/leads/bulk",
        data={
            "csrf_token": csrf_token(manager),
            "lead_ids": [str(lead), str(free)],
            "action": "assign",
            "assignee": str(people["agent_a"]),
        },
    )
    assert response.status_code == 303
    assert lead_state(app, lead)["assignee_id"] == people["agent_a"]
    assert lead_state(app, free)["assignee_id"] == people["agent_a"]
