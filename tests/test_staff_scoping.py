"""Branch scoping: Hyderabad staff never see or touch a Bengaluru lead, on any staff URL."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select, update

from crm.models import Appointment, FollowUp, OutboxEmail
from crm.platform.extensions import db
from tests.appointment_helpers import book
from tests.staff_helpers import csrf_token, enter_as, lead_state, make_lead, staff_cast


@pytest.fixture
def world(app):
    """Two branches, staff in each, leads in each, and a Bengaluru follow-up."""
    people = staff_cast(app)
    leads = {
        "blr": make_lead(
            app,
            "bengaluru",
            name="Bengaluru Person",
            phone="+919845011111",
            email="blr.person@example.com",
        ),
        "hyd": make_lead(app, "hyderabad", name="Hyderabad Person", phone="+919845022222"),
    }
    client = app.test_client()
    enter_as(client, app, people["blr_manager"])
    token = csrf_token(client)
    response = client.post(
        f"/staff/leads/{leads['blr']}/follow-ups",
        data={
            "csrf_token": token,
            "due_at": "2099-01-01T10:00",
            "assignee": str(people["blr_agent"]),
            "note": "call",
        },
    )
    assert response.status_code == 303
    # Booked on a lead of its own, so the leads above stay new for the counts below.
    booked = make_lead(app, "bengaluru", name="Booked Person", phone="+919845033333")
    assert book(client, app, token, booked).status_code == 303
    with app.app_context():
        follow_up = db.session.scalar(select(FollowUp.id))
        appointment = db.session.scalar(select(Appointment.id))
        # An email of each lead that could not be sent: the one thing staff may retry.
        emails = {
            key: db.session.scalar(
                select(OutboxEmail.id)
                .where(OutboxEmail.lead_id == lead_id, OutboxEmail.kind == "lead_alert")
                .order_by(OutboxEmail.id)
            )
            for key, lead_id in leads.items()
        }
        assert all(emails.values()), emails
        db.session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id.in_(emails.values()))
            .values(status="failed", last_error="550 mailbox unavailable")
        )
        db.session.commit()
    return {
        "people": people,
        "leads": leads,
        "follow_up": follow_up,
        "emails": emails,
        "appointment": appointment,
        "booked": booked,
    }


def email_status(app, email_id: int) -> str:
    with app.app_context():
        return db.session.get(OutboxEmail, email_id).status


def lead_rules(app) -> list[tuple[str, set[str]]]:
    """Every staff URL that names a lead, from the app's own URL map."""
    rules = [
        (rule.rule, rule.methods - {"HEAD", "OPTIONS"})
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/staff/") and "<int:lead_id>" in rule.rule
    ]
    assert len(rules) >= 7
    return rules


def test_every_lead_url_is_404_for_another_branchs_lead(app, world):
    client = app.test_client()
    enter_as(client, app, world["people"]["hyd_agent"])
    token = csrf_token(client)
    blr = world["leads"]["blr"]
    before = lead_state(app, blr)
    booked_before = lead_state(app, world["booked"])
    tried = []
    for rule, methods in lead_rules(app):
        # An appointment's URL names its own lead.
        lead_id = world["booked"] if "<int:appointment_id>" in rule else blr
        url = (
            rule.replace("<int:lead_id>", str(lead_id))
            .replace("<int:follow_up_id>", str(world["follow_up"]))
            .replace("<int:email_id>", str(world["emails"]["blr"]))
            .replace("<int:appointment_id>", str(world["appointment"]))
        )
        # Every placeholder is filled with a real id of the Bengaluru lead, so a 404 comes
        # from the branch check and never from a URL the router cannot match.
        assert "<" not in url and ">" not in url, url
        tried.append(url)
        for method in methods:
            data = {
                "csrf_token": token,
                "status": "contacted",
                "version": "1",
                "text": "x",
                "outcome": "answered",
                "assignee": str(world["people"]["hyd_agent"]),
                "due_at": "2099-01-01T10:00",
            }
            response = client.open(url, method=method, data=data if method == "POST" else None)
            assert response.status_code == 404, (method, url)
    assert f"/staff/leads/{blr}/emails/{world['emails']['blr']}/retry" in tried
    assert lead_state(app, blr) == before
    assert lead_state(app, world["booked"]) == booked_before
    assert email_status(app, world["emails"]["blr"]) == "failed"  # not queued again
    # while their own branch's lead opens fine, and its failed email can be retried
    hyd = world["leads"]["hyd"]
    assert client.get(f"/staff/leads/{hyd}").status_code == 200
    retry = client.post(
        f"/staff/leads/{hyd}/emails/{world['emails']['hyd']}/retry", data={"csrf_token": token}
    )
    assert retry.status_code == 303
    assert email_status(app, world["emails"]["hyd"]) == "pending"


def test_unknown_lead_ids_are_404(app, world):
    client = app.test_client()
    enter_as(client, app, world["people"]["admin"])
    assert client.get("/staff/leads/999999").status_code == 404
    assert client.get("/staff/leads/0").status_code == 404
    assert client.get("/staff/leads/abc").status_code == 404


def test_bulk_actions_with_an_out_of_scope_lead_are_404_and_change_nothing(app, world):
    client = app.test_client()
    enter_as(client, app, world["people"]["hyd_manager"])
    token = csrf_token(client)
    hyd, blr = world["leads"]["hyd"], world["leads"]["blr"]
    before = {hyd: lead_state(app, hyd), blr: lead_state(app, blr)}
    for action in (
        {"action": "status", "status": "contacted"},
        {"action": "assign", "assignee": str(world["people"]["hyd_agent"])},
    ):
        response = client.post(
            "/staff/leads/bulk",
            data={"csrf_token": token, "lead_ids": [str(hyd), str(blr)], **action},
        )
        assert response.status_code == 404
    assert {hyd: lead_state(app, hyd), blr: lead_state(app, blr)} == before


@pytest.mark.parametrize("who", ["hyd_manager", "admin"])
def test_assigning_to_staff_of_another_branch_is_refused_even_for_an_admin(app, world, who):
    client = app.test_client()
    enter_as(client, app, world["people"][who])
    token = csrf_token(client)
    hyd = world["leads"]["hyd"]
    before = lead_state(app, hyd)
    response = client.post(
        f"/staff/leads/{hyd}/assign",
        data={
            "csrf_token": token,
            "version": before["version"],
            "assignee": str(world["people"]["blr_agent"]),
        },
    )
    assert response.status_code == 422
    assert "active staff of the lead&#39;s branch" in response.get_data(as_text=True)
    response = client.post(
        "/staff/leads/bulk",
        data={
            "csrf_token": token,
            "lead_ids": [str(hyd)],
            "action": "assign",
            "assignee": str(world["people"]["blr_agent"]),
        },
        follow_redirects=True,
    )
    assert "active staff of the lead&#39;s branch" in response.get_data(as_text=True)
    assert lead_state(app, hyd) == before


def test_the_inbox_lists_only_the_own_branch_whatever_the_filters(app, world):
    client = app.test_client()
    enter_as(client, app, world["people"]["hyd_agent"])
    for query in [
        "",
        "?branch=bengaluru",
        "?q=Bengaluru",
        "?q=9845011111",
        "?q=blr.person@example.com",
        "?status=any",
        "?assignee=" + str(world["people"]["blr_agent"]),
    ]:
        html = client.get(f"/staff/leads{query}").get_data(as_text=True)
        assert "Bengaluru Person" not in html, query
        assert f'data-lead="{world["leads"]["blr"]}"' not in html, query
    html = client.get("/staff/leads").get_data(as_text=True)
    assert "Hyderabad Person" in html


def test_the_dashboard_counts_only_the_own_branch(app, world):
    make_lead(app, "bengaluru")
    client = app.test_client()
    enter_as(client, app, world["people"]["hyd_agent"])
    html = client.get("/staff/").get_data(as_text=True)
    assert re.search(r'data-figure="new-waiting">1<', html)
    assert re.search(r'data-figure="overdue-follow-ups">0<', html)
    assert "Bengaluru" not in html.split("<main", 1)[1].split("Leads by status")[1]


def test_an_admin_sees_both_branches(app, world):
    client = app.test_client()
    enter_as(client, app, world["people"]["admin"])
    html = client.get("/staff/leads").get_data(as_text=True)
    assert "Bengaluru Person" in html and "Hyderabad Person" in html
    html = client.get("/staff/leads?branch=hyderabad").get_data(as_text=True)
    assert "Bengaluru Person" not in html and "Hyderabad Person" in html
    assert re.search(r'data-figure="new-waiting">2<', client.get("/staff/").get_data(as_text=True))


def test_agents_and_managers_cannot_reach_the_staff_admin(app, world):
    for role in ("hyd_agent", "blr_manager"):
        client = app.test_client()
        enter_as(client, app, world["people"][role])
        assert client.get("/staff/users").status_code == 403
        token = csrf_token(client)
        response = client.post(
            f"/staff/users/{world['people']['blr_agent']}/deactivate", data={"csrf_token": token}
        )
        assert response.status_code == 403
