"""The lead page reads its lead once per request, through the branch scope, however the request
ends: shown, refused by the operation and shown again, or refused by a form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from crm.platform.extensions import db
from tests.appointment_helpers import appointments_of, book, soon
from tests.staff_helpers import csrf_token, enter_as, lead_state, make_lead, make_staff

# A read of one lead through ``visible_leads``: the scope leaves merged leads out and names the id.
SCOPED_READ = re.compile(r"FROM lead\b.*lead\.merged_into_id IS NULL.*lead\.id = ", re.DOTALL)


@contextmanager
def scoped_lead_reads(app) -> Iterator[list[str]]:
    """The statements that read one lead through the branch scope while the block runs."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, _parameters, _context, _many) -> None:
        if SCOPED_READ.search(statement):
            seen.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_the_page_reads_the_lead_once(app):
    agent = enter_as(app.test_client(), app, make_staff(app, "agent", "bengaluru"))
    lead = make_lead(app, "bengaluru")
    with scoped_lead_reads(app) as reads:
        assert agent.get(f"/staff/leads/{lead}").status_code == 200
    assert len(reads) == 1


def test_a_refused_change_shows_the_page_without_reading_the_lead_again(app):
    agent = enter_as(app.test_client(), app, make_staff(app, "agent", "bengaluru"))
    lead = make_lead(app, "bengaluru")
    token = csrf_token(agent)
    stale = lead_state(app, lead)["version"] - 1
    with scoped_lead_reads(app) as reads:
        response = agent.post(
            f"/staff/leads/{lead}/status",
            data={"csrf_token": token, "version": stale, "status": "contacted"},
        )
    assert response.status_code == 409
    # The page's one read, and the operation's own read under lock in its transaction.
    assert len(reads) == 2
    # The page shows the lead as it is now, so the next try carries the latest version.
    version = lead_state(app, lead)["version"]
    assert re.search(rf'name="version"[^>]*value="{version}"', response.get_data(as_text=True))


def test_a_form_error_shows_the_page_from_the_one_read(app):
    manager = enter_as(app.test_client(), app, make_staff(app, "manager", "bengaluru"))
    lead = make_lead(app, "bengaluru")
    token = csrf_token(manager)
    with scoped_lead_reads(app) as reads:
        note = manager.post(f"/staff/leads/{lead}/notes", data={"csrf_token": token, "text": ""})
        merge = manager.get(f"/staff/leads/{lead}/merge?other=")
    assert (note.status_code, merge.status_code) == (422, 422)
    assert len(reads) == 2  # one for each request


def test_a_lead_outside_the_scope_is_not_found_for_every_action(app):
    agent = enter_as(app.test_client(), app, make_staff(app, "agent", "hyderabad"))
    lead = make_lead(app, "bengaluru")
    token = csrf_token(agent)
    assert agent.get(f"/staff/leads/{lead}").status_code == 404
    for action in ["status", "release", "erase", "access", "assign", "notes", "calls"]:
        response = agent.post(f"/staff/leads/{lead}/{action}", data={"csrf_token": token})
        assert response.status_code == 404, action


def test_the_appointments_panel_comes_from_the_one_read(app):
    agent = enter_as(app.test_client(), app, make_staff(app, "agent", "bengaluru"))
    lead = make_lead(app, "bengaluru")
    token = csrf_token(agent)
    assert book(agent, app, token, lead, starts_at=soon(hour=11), note="bring x-rays").status_code
    with scoped_lead_reads(app) as reads:
        page = agent.get(f"/staff/leads/{lead}")
    assert page.status_code == 200 and "bring x-rays" in page.get_data(as_text=True)
    assert len(reads) == 1


def test_refused_appointment_forms_keep_what_was_typed(app):
    agent = enter_as(app.test_client(), app, make_staff(app, "agent", "bengaluru"))
    lead = make_lead(app, "bengaluru")
    token = csrf_token(agent)
    home = book(agent, app, token, lead, kind="home", note="second floor, no lift")
    assert home.status_code == 422
    assert re.search(r'id="book-note"[^>]*>\s*second floor, no lift', home.get_data(as_text=True))

    assert book(agent, app, token, lead, starts_at=soon(hour=10)).status_code == 303
    [appointment] = appointments_of(app, lead)
    base = f"/staff/leads/{lead}/appointments/{appointment['id']}"
    moved = agent.post(
        f"{base}/reschedule",
        data={"csrf_token": token, "sequence": 0, "starts_at": soon(hour=15), "minutes": "5"},
    )
    assert moved.status_code == 422
    text = moved.get_data(as_text=True)
    key = f"appt{appointment['id']}-move"
    assert re.search(rf'id="{key}-minutes"[^>]*value="5"', text)
    assert re.search(rf'id="{key}-starts_at"[^>]*value="{soon(hour=15)}"', text)
