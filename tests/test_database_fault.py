"""A write the database refuses outright: the visitor keeps the form and what they typed, and
nothing is stored half-way."""

from __future__ import annotations

from sqlalchemy import func, select

from crm.intake.forms import FAILURE_MESSAGE
from crm.intake.views import FAULT_MESSAGE
from crm.models import Enquiry, Lead, OutboxEmail
from crm.platform.extensions import db
from tests.dbfault import table_out_of_reach
from tests.helpers import VALID_FIELDS, form_fields, form_notice, reach_out_fields
from tests.staff_helpers import csrf_token, enter_as, make_lead, make_staff


def stored(app) -> tuple[int, ...]:
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Lead, Enquiry, OutboxEmail)
        )


def test_a_refused_write_answers_with_the_form_and_stores_nothing(app):
    client = app.test_client()
    data = reach_out_fields(client, "/contact")
    data.update(VALID_FIELDS, name="Meera Nair")
    with table_out_of_reach(app):
        as_json = client.post("/leads", data=data, headers={"Accept": "application/json"})
        as_page = client.post("/leads", data=data)

    # A missing table is a fault, not a busy moment (SQLite calls it an operational error, as it
    # does a lock; PostgreSQL a programming error): a 500 that says nothing was saved.
    assert as_json.status_code == 500
    answer = as_json.get_json()
    assert answer == {"ok": False, "message": FAULT_MESSAGE, "errors": {}}
    assert as_page.status_code == 500
    assert FAULT_MESSAGE in as_page.get_data(as_text=True)
    kind, notice = form_notice(as_page.get_data(as_text=True))
    assert kind == "error" and notice.startswith(FAILURE_MESSAGE)
    kept = form_fields(as_page.get_data(as_text=True))
    # The phone number comes back as the form understood it, in international form.
    expected = VALID_FIELDS | {"name": "Meera Nair", "phone": "+919845012345"}
    assert {name: kept.get(name) for name in VALID_FIELDS} == expected
    assert stored(app) == (0, 0, 0)

    # Once the database is whole again, the same form goes through.
    assert client.post("/leads", data=data).status_code == 303
    assert stored(app)[:2] == (1, 1)


def test_a_damaged_table_behind_a_staff_page_is_a_fault_not_a_busy_moment(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer as in production, not raise to the test
    agent = make_staff(app, "agent", "bengaluru", name="Bala Agent")
    lead = make_lead(app)
    client = enter_as(app.test_client(), app, agent)
    token = csrf_token(client)
    with table_out_of_reach(app):
        response = client.post(
            f"/staff/leads/{lead}/notes", data={"csrf_token": token, "text": "Called back"}
        )
    # "Try again in a few seconds" would be untrue: nothing will change until someone looks.
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Something went wrong" in page and "Busy right now" not in page
    assert "Retry-After" not in response.headers
    assert client.get(f"/staff/leads/{lead}").status_code == 200
