"""Erasure covers appointments: their times stay for the counts; the address, the note, the
reason and the calendar files that named the person go."""

from __future__ import annotations

from sqlalchemy import select

from crm.models import Appointment, OutboxEmail
from crm.platform.extensions import db
from tests.appointment_helpers import appointments_of, book, next_monday
from tests.staff_helpers import csrf_token, enter_as, make_lead, make_staff

MON = next_monday()


def test_an_erased_persons_appointments_keep_their_times_and_lose_the_rest(app, runner):
    agent = enter_as(app.test_client(), app, make_staff(app, "agent", "bengaluru"))
    token = csrf_token(agent)
    lead = make_lead(app, phone="+919845012345", email="ravi@example.com")
    assert (
        book(
            agent,
            app,
            token,
            lead,
            starts_at=f"{MON}T10:00",
            kind="home",
            address="4 Lake View, Indiranagar",
            note="Dog at the gate",
        ).status_code
        == 303
    )
    assert book(agent, app, token, lead, starts_at=f"{MON}T16:00").status_code == 303
    second = appointments_of(app, lead)[1]
    agent.post(
        f"/staff/leads/{lead}/appointments/{second['id']}/cancel",
        data={"csrf_token": token, "sequence": 0, "reason": "Ravi is travelling"},
    )
    before = appointments_of(app, lead)

    result = runner.invoke(args=["leads", "erase", "--phone", "+919845012345"])
    assert result.exit_code == 0, result.output
    assert "appointment" in result.output

    after = appointments_of(app, lead)
    assert [a["starts_at"] for a in after] == [a["starts_at"] for a in before]
    assert [a["status"] for a in after] == ["booked", "cancelled"]
    assert all(a["address"] is None and a["note"] is None for a in after)
    with app.app_context():
        assert db.session.scalars(select(Appointment.cancel_reason)).all() == [None, None]
        emails = db.session.scalars(select(OutboxEmail).where(OutboxEmail.lead_id == lead)).all()
        assert emails and all(email.ics is None for email in emails)
        assert not any("Lake View" in (email.text_body or "") for email in emails)
    page = enter_as(app.test_client(), app, make_staff(app, "manager", "bengaluru"))
    html = page.get(f"/staff/leads/{lead}").get_data(as_text=True)
    assert "Lake View" not in html and "Dog at the gate" not in html and "travelling" not in html
