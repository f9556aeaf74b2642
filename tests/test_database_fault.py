"""A write the database refuses outright: the visitor keeps the form and what they typed, and
nothing is stored half-way."""

from __future__ import annotations

from sqlalchemy import func, select

from crm.extensions import db
from crm.intake.forms import FAILURE_MESSAGE
from crm.intake.views import BUSY_MESSAGE, FAULT_MESSAGE
from crm.models import Enquiry, Lead, OutboxEmail
from tests.dbfault import table_out_of_reach
from tests.helpers import VALID_FIELDS, form_fields, form_notice, reach_out_fields


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

    # SQLite reports a missing table as an operational error (a 503, "busy"), PostgreSQL as a
    # programming error (a 500, "a fault"): either way the visitor is told nothing was saved.
    assert as_json.status_code in (500, 503)
    answer = as_json.get_json()
    assert answer["ok"] is False and answer["message"] in (BUSY_MESSAGE, FAULT_MESSAGE)
    assert as_page.status_code == as_json.status_code
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
