"""`crm leads escalate`: a new lead nobody answered within the response target, counted in
opening hours, is emailed to its branch's managers once, with a link to it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from crm.models import Branch, Lead, OutboxEmail, StaffUser
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.staff_helpers import csrf_token, enter_as, make_lead, make_staff

ALWAYS_OPEN = {
    day: [["00:00", "23:59"]] for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
}


@pytest.fixture
def branches(app):
    with app.app_context():
        for branch in db.session.scalars(select(Branch)):
            # Bengaluru never closes, Hyderabad never opens: the hours decide, not the clock.
            branch.opening_hours = ALWAYS_OPEN if branch.slug == "bengaluru" else {}
        db.session.commit()
    return {
        "manager": make_staff(app, "manager", "bengaluru", name="Bina Manager"),
        "former": make_staff(app, "manager", "bengaluru", name="Old Manager"),
        "agent": make_staff(app, "agent", "bengaluru", name="Anil Agent"),
        "hyd_manager": make_staff(app, "manager", "hyderabad", name="Hema Manager"),
    }


def escalations(app) -> list[tuple[int, str]]:
    with app.app_context():
        return [
            (email.lead_id, email.to_address)
            for email in db.session.scalars(
                select(OutboxEmail).where(OutboxEmail.kind == "escalation").order_by("id")
            )
        ]


def test_a_late_new_lead_is_escalated_to_its_managers_exactly_once(app, runner, branches):
    with app.app_context():
        db.session.get(StaffUser, branches["former"]).active = False
        db.session.commit()
    hours_ago = utcnow() - timedelta(hours=3)
    late = make_lead(app, "bengaluru", name="Late Person", at=hours_ago)
    make_lead(app, "bengaluru", name="Recent Person", at=utcnow() - timedelta(minutes=30))
    # Three hours ago, but all of them while the branch was closed: not late.
    make_lead(app, "hyderabad", name="Closed Branch", at=hours_ago)

    first = runner.invoke(args=["leads", "escalate"])
    assert first.exit_code == 0, first.output
    assert "Late leads escalated: 1." in first.output
    again = runner.invoke(args=["leads", "escalate"])
    assert "Late leads escalated: 0." in again.output

    assert escalations(app) == [(late, "bina.manager.bengaluru@clinic.example")]
    with app.app_context():
        email = db.session.scalars(
            select(OutboxEmail).where(OutboxEmail.kind == "escalation")
        ).one()
        assert f"http://clinic.test/staff/leads/{late}" in email.text_body
        assert db.session.get(Lead, late).escalated_at is not None


@pytest.mark.parametrize("outcome", ["answered", "no_answer"])
def test_a_lead_someone_has_called_is_not_escalated(app, runner, branches, outcome):
    lead = make_lead(app, "bengaluru", at=utcnow() - timedelta(hours=3))
    client = enter_as(app.test_client(), app, branches["agent"])
    response = client.post(
        f"/staff/leads/{lead}/calls",
        data={"csrf_token": csrf_token(client), "outcome": outcome},
    )
    assert response.status_code == 303

    result = runner.invoke(args=["leads", "escalate"])
    assert "Late leads escalated: 0." in result.output
    assert escalations(app) == []
