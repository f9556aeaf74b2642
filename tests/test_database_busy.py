"""When another process holds the database, requests answer 503 and store nothing half-way."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm.intake.forms import FAILURE_MESSAGE
from crm.models import Enquiry, Lead, LeadEvent, OutboxEmail
from crm.platform.extensions import db
from tests.dblock import locked_by_another_process
from tests.helpers import VALID_FIELDS, reach_out_fields
from tests.staff_helpers import csrf_token, enter_as, make_lead, make_staff


@pytest.fixture
def app_config():
    return {"DATABASE_LOCK_TIMEOUT_MS": 300}


def snapshot(app) -> tuple[int, ...]:
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Lead, Enquiry, LeadEvent, OutboxEmail)
        )


def test_a_locked_database_answers_503_keeps_the_input_and_stores_nothing(app, database_url):
    client = app.test_client()
    data = reach_out_fields(client, "/contact")
    data.update(VALID_FIELDS, name="Meera Nair")
    before = snapshot(app)
    with locked_by_another_process(database_url):
        as_json = client.post("/leads", data=data, headers={"Accept": "application/json"})
        assert as_json.status_code == 503
        assert as_json.get_json()["ok"] is False
        assert int(as_json.headers["Retry-After"]) >= 5
        as_page = client.post("/leads", data=data)
        assert as_page.status_code == 503
        html = as_page.get_data(as_text=True)
        assert FAILURE_MESSAGE in html and "nothing was saved" in html
        assert 'value="Meera Nair"' in html
    assert snapshot(app) == before
    # Sent again once the lock is gone: stored exactly once.
    assert (
        client.post("/leads", data=data, headers={"Accept": "application/json"}).status_code == 201
    )
    assert (
        client.post("/leads", data=data, headers={"Accept": "application/json"}).status_code == 201
    )
    after = snapshot(app)
    assert after[:2] == (before[0] + 1, before[1] + 1)


def test_a_staff_change_during_a_lock_is_a_503_and_changes_nothing(app, database_url):
    agent = make_staff(app, "agent", "bengaluru", name="Bala Agent")
    lead = make_lead(app)
    client = enter_as(app.test_client(), app, agent)
    token = csrf_token(client)
    before = snapshot(app)
    with locked_by_another_process(database_url):
        response = client.post(
            f"/staff/leads/{lead}/notes", data={"csrf_token": token, "text": "hi"}
        )
        assert response.status_code == 503
        assert "Busy right now" in response.get_data(as_text=True)
    assert snapshot(app) == before
