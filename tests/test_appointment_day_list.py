"""The day's list and the clinicians list: scoped to the branch, filters, editors."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.appointment_helpers import add_clinician, book, next_monday
from tests.staff_helpers import csrf_token, enter_as, make_lead, make_staff

MON = next_monday()


@pytest.fixture
def booked(app):
    """Appointments in both branches on the same Monday, and one on Tuesday in Bengaluru."""
    clients = {}
    for branch in ("bengaluru", "hyderabad"):
        agent = make_staff(app, "agent", branch)
        client = enter_as(app.test_client(), app, agent)
        clients[branch] = (client, csrf_token(client))
    asha = add_clinician(app, "bengaluru", "Dr Asha Rao")
    leads = {
        "blr_clinic": make_lead(app, "bengaluru", name="Ravi Clinic"),
        "blr_home": make_lead(app, "bengaluru", name="Meena Home"),
        "blr_tuesday": make_lead(app, "bengaluru", name="Tara Tuesday"),
        "hyd": make_lead(app, "hyderabad", name="Hyderabad Person"),
    }
    client, token = clients["bengaluru"]
    for name, fields in (
        ("blr_clinic", {"starts_at": f"{MON}T10:00", "clinician": asha}),
        ("blr_home", {"starts_at": f"{MON}T15:30", "kind": "home", "address": "4 Lake View"}),
        ("blr_tuesday", {"starts_at": f"{MON + timedelta(days=1)}T09:00"}),
    ):
        assert book(client, app, token, leads[name], **fields).status_code == 303
    client, token = clients["hyderabad"]
    assert book(client, app, token, leads["hyd"], starts_at=f"{MON}T10:00").status_code == 303
    return {"leads": leads, "asha": asha, "clients": clients}


def test_the_day_list_shows_the_branchs_appointments_and_never_anothers(app, booked):
    client, _token = booked["clients"]["bengaluru"]
    page = client.get(f"/staff/appointments?day={MON}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Ravi Clinic" in html and "Meena Home" in html and "4 Lake View" in html
    assert "Dr Asha Rao" in html and "tel:+91" in html and "https://wa.me/" in html
    assert "Hyderabad Person" not in html and "Tara Tuesday" not in html
    assert html.index("Ravi Clinic") < html.index("Meena Home")
    # Another branch, asked for by name, does not exist for this person.
    assert client.get(f"/staff/appointments?day={MON}&branch=hyderabad").status_code == 404


def test_the_week_view_and_the_filters(app, booked):
    client, _token = booked["clients"]["bengaluru"]
    week = client.get(f"/staff/appointments?day={MON}&week=y").get_data(as_text=True)
    assert "Tara Tuesday" in week and "Ravi Clinic" in week
    homes = client.get(f"/staff/appointments?day={MON}&kind=home").get_data(as_text=True)
    assert "Meena Home" in homes and "Ravi Clinic" not in homes
    asha = client.get(f"/staff/appointments?day={MON}&clinician={booked['asha']}")
    assert "Ravi Clinic" in asha.get_data(as_text=True)
    assert "Meena Home" not in asha.get_data(as_text=True)


def test_an_admin_chooses_the_branch(app, booked):
    admin = enter_as(app.test_client(), app, make_staff(app, "admin", None))
    html = admin.get(f"/staff/appointments?day={MON}&branch=hyderabad").get_data(as_text=True)
    assert "Hyderabad Person" in html and "Ravi Clinic" not in html
    assert admin.get("/staff/appointments?branch=nowhere").status_code == 404


def test_the_printed_list_has_no_staff_menu(app, booked):
    client, _token = booked["clients"]["bengaluru"]
    html = client.get(f"/staff/appointments?day={MON}").get_data(as_text=True)
    # The stylesheet the page links (its fingerprinted name) hides the staff menu in print.
    linked = re.search(r'href="(/static/css/appointments[^"]*\.css)"', html)
    assert linked, "the day's list links its print stylesheet"
    css = client.get(linked.group(1)).get_data(as_text=True)
    assert "@media print" in css and ".staff-header" in css


def test_managers_edit_their_branchs_clinicians_and_agents_only_read_them(app):
    manager = enter_as(app.test_client(), app, make_staff(app, "manager", "bengaluru"))
    token = csrf_token(manager)
    assert (
        manager.post("/staff/clinicians", data={"csrf_token": token, "name": "Dr New"}).status_code
        == 303
    )
    assert "Dr New" in manager.get("/staff/clinicians").get_data(as_text=True)
    duplicate = manager.post("/staff/clinicians", data={"csrf_token": token, "name": "dr new"})
    assert duplicate.status_code == 422

    agent = enter_as(app.test_client(), app, make_staff(app, "agent", "bengaluru"))
    agent_token = csrf_token(agent)
    page = agent.get("/staff/clinicians").get_data(as_text=True)
    assert "Dr New" in page and "Add a clinician" not in page
    assert (
        agent.post("/staff/clinicians", data={"csrf_token": agent_token, "name": "X"}).status_code
        == 403
    )

    theirs = add_clinician(app, "hyderabad", "Dr Far")
    other_manager = make_staff(app, "manager", "hyderabad")
    assert (
        manager.post(
            f"/staff/clinicians/{theirs}", data={"csrf_token": token, "name": "Renamed"}
        ).status_code
        == 404
    )
    hyd = enter_as(app.test_client(), app, other_manager)
    hyd_token = csrf_token(hyd)
    # Retired: no longer offered for booking, still listed.
    assert (
        hyd.post(
            f"/staff/clinicians/{theirs}", data={"csrf_token": hyd_token, "name": "Dr Far"}
        ).status_code
        == 303
    )
    lead = make_lead(app, "hyderabad")
    lead_page = hyd.get(f"/staff/leads/{lead}").get_data(as_text=True)
    assert "Dr Far" not in lead_page
    assert "Dr Far" in hyd.get("/staff/clinicians").get_data(as_text=True)
