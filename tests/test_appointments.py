"""Booking, clash refusal, rescheduling, cancelling, attended and no-show, through the staff
pages; the patient's emails carry calendar files that icalendar reads back."""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from crm.models import FollowUp, LeadEvent
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.appointment_helpers import (
    KOLKATA,
    add_clinician,
    appointments_of,
    book,
    calendar_emails,
    local_input,
    next_monday,
    soon,
    the_event,
)
from tests.staff_helpers import csrf_token, enter_as, lead_state, make_lead, make_staff

MON = next_monday()
WED = MON + timedelta(days=2)
THU = MON + timedelta(days=3)


def at(day, hh_mm: str) -> datetime:
    return datetime.combine(day, time.fromisoformat(hh_mm), KOLKATA)


@pytest.fixture
def desk(app):
    agent = make_staff(app, "agent", "bengaluru", name="Bala Agent")
    client = enter_as(app.test_client(), app, agent)
    lead = make_lead(app, name="Ravi Kumar", email="ravi@example.com")
    return {
        "client": client,
        "agent": agent,
        "lead": lead,
        "token": csrf_token(client),
        "asha": add_clinician(app, "bengaluru", "Dr Asha Rao"),
    }


def events_of(app, lead_id, kind):
    with app.app_context():
        return [
            event.detail
            for event in db.session.scalars(
                select(LeadEvent)
                .where(LeadEvent.lead_id == lead_id, LeadEvent.kind == kind)
                .order_by(LeadEvent.id)
            )
        ]


def act(desk, appointment, action, **fields):
    return desk["client"].post(
        f"/staff/leads/{desk['lead']}/appointments/{appointment['id']}/{action}",
        data={"csrf_token": desk["token"], "sequence": appointment["sequence"], **fields},
    )


def test_booking_stores_the_clinic_time_moves_the_lead_and_emails_a_calendar_request(app, desk):
    response = book(
        desk["client"],
        app,
        desk["token"],
        desk["lead"],
        starts_at=f"{MON}T10:30",
        clinician=desk["asha"],
        note="Knee, bring the MRI",
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith(f"/staff/leads/{desk['lead']}")
    [appointment] = appointments_of(app, desk["lead"])
    assert appointment["starts_at"] == at(MON, "10:30")
    assert appointment["minutes"] == 45 and appointment["kind"] == "clinic"
    assert appointment["clinician_id"] == desk["asha"] and appointment["status"] == "booked"
    state = lead_state(app, desk["lead"])
    assert state["status"] == "appointment_booked" and state["first_response_at"] is not None
    # One status move on the timeline, from new straight to booked.
    assert [(e["from"], e["to"]) for e in events_of(app, desk["lead"], "status")] == [
        ("new", "appointment_booked")
    ]
    [booked] = events_of(app, desk["lead"], "appointment")
    assert booked["action"] == "booked" and booked["clinician"] == "Dr Asha Rao"

    [(email, calendar)] = calendar_emails(app, desk["lead"])
    assert email.kind == "appointment_booked" and email.to_address == "ravi@example.com"
    assert f"{MON:%A %d %B %Y}, 10:30" in email.text_body
    assert "Knee" not in email.text_body  # staff notes stay with staff
    assert calendar["METHOD"] == "REQUEST"
    event = the_event(calendar)
    assert str(event["UID"]) == appointment["uid"] and event["SEQUENCE"] == 0
    start = event.decoded("DTSTART")
    assert start == at(MON, "10:30")
    assert str(start.tzinfo) == "Asia/Kolkata" and event["DTSTART"].params["TZID"] == "Asia/Kolkata"
    assert event.decoded("DTEND") - start == timedelta(minutes=45)
    assert calendar.walk("VTIMEZONE")[0]["TZID"] == "Asia/Kolkata"

    page = desk["client"].get(f"/staff/leads/{desk['lead']}").get_data(as_text=True)
    assert (
        f"{MON:%a %d %b %Y}, 10:30" in page and f"Appointment booked: {MON:%d %b %Y}, 10:30" in page
    )
    assert "https://wa.me/" in page and "text=Hello%20from" in page


def test_a_home_visit_needs_an_address_and_a_clinic_visit_keeps_none(app, desk):
    refused = book(desk["client"], app, desk["token"], desk["lead"], kind="home")
    assert refused.status_code == 422
    assert "A home visit needs the visit address." in refused.get_data(as_text=True)
    assert appointments_of(app, desk["lead"]) == []
    assert (
        book(
            desk["client"], app, desk["token"], desk["lead"], kind="home", address="12 Lake Road"
        ).status_code
        == 303
    )
    other = make_lead(app)
    assert (
        book(
            desk["client"], app, desk["token"], other, kind="clinic", address="ignored"
        ).status_code
        == 303
    )
    assert appointments_of(app, desk["lead"])[0]["address"] == "12 Lake Road"
    assert appointments_of(app, other)[0]["address"] is None


def test_a_clinician_booked_twice_at_overlapping_times_is_refused_naming_the_clash(app, desk):
    assert (
        book(
            desk["client"],
            app,
            desk["token"],
            desk["lead"],
            starts_at=f"{MON}T10:00",
            clinician=desk["asha"],
        ).status_code
        == 303
    )
    other = make_lead(app, name="Meena")
    clash = book(
        desk["client"],
        app,
        desk["token"],
        other,
        starts_at=f"{MON}T10:30",
        clinician=desk["asha"],
    )
    assert clash.status_code == 422
    text = clash.get_data(as_text=True)
    assert "Dr Asha Rao already has an appointment then" in text
    assert f"L-{desk['lead']:06d}" in text and f"{MON:%d %b %Y}, 10:00–10:45" in text
    assert appointments_of(app, other) == []
    assert lead_state(app, other)["status"] == "new"
    # Back to back is fine, and so is another clinician at the same time.
    assert (
        book(
            desk["client"],
            app,
            desk["token"],
            other,
            starts_at=f"{MON}T10:45",
            clinician=desk["asha"],
        ).status_code
        == 303
    )
    third = make_lead(app)
    ravi = add_clinician(app, "bengaluru", "Ravi Shetty")
    assert (
        book(
            desk["client"], app, desk["token"], third, starts_at=f"{MON}T10:15", clinician=ravi
        ).status_code
        == 303
    )


def test_another_branchs_clinician_cannot_be_booked(app, desk):
    theirs = add_clinician(app, "hyderabad", "Dr Other")
    response = book(desk["client"], app, desk["token"], desk["lead"], clinician=theirs)
    assert response.status_code == 422
    assert appointments_of(app, desk["lead"]) == []


def test_rescheduling_keeps_the_uid_raises_the_sequence_and_the_history(app, desk):
    book(desk["client"], app, desk["token"], desk["lead"], starts_at=f"{MON}T10:00")
    [first] = appointments_of(app, desk["lead"])
    response = act(desk, first, "reschedule", starts_at=f"{WED}T16:00", minutes=60)
    assert response.status_code == 303
    [moved] = appointments_of(app, desk["lead"])
    assert moved["starts_at"] == at(WED, "16:00")
    assert moved["minutes"] == 60 and moved["sequence"] == 1 and moved["uid"] == first["uid"]
    actions = events_of(app, desk["lead"], "appointment")
    assert [e["action"] for e in actions] == ["booked", "rescheduled"]
    assert actions[1]["from"].startswith(f"{MON}T04:30")  # 10:00 in India, in UTC

    emails = calendar_emails(app, desk["lead"])
    assert [email.kind for email, _cal in emails] == [
        "appointment_booked",
        "appointment_rescheduled",
    ]
    events = [the_event(calendar) for _email, calendar in emails]
    assert {str(e["UID"]) for e in events} == {first["uid"]}
    assert [e["SEQUENCE"] for e in events] == [0, 1]
    assert events[1].decoded("DTSTART") == at(WED, "16:00")

    # A form from before the move is out of date.
    stale = act(desk, first, "reschedule", starts_at=f"{THU}T16:00", minutes=60)
    assert stale.status_code == 409
    assert appointments_of(app, desk["lead"])[0]["sequence"] == 1


def test_cancelling_needs_a_reason_and_sends_a_calendar_cancel(app, desk):
    book(desk["client"], app, desk["token"], desk["lead"], starts_at=f"{MON}T10:00")
    [appointment] = appointments_of(app, desk["lead"])
    assert act(desk, appointment, "cancel", reason="").status_code == 422
    response = act(desk, appointment, "cancel", reason="Going out of town")
    assert response.status_code == 303
    [cancelled] = appointments_of(app, desk["lead"])
    assert cancelled["status"] == "cancelled" and cancelled["sequence"] == 1
    # Nothing else is booked, so the lead is no longer booked.
    assert lead_state(app, desk["lead"])["status"] == "contacted"
    _email, calendar = calendar_emails(app, desk["lead"])[-1]
    assert calendar["METHOD"] == "CANCEL"
    event = the_event(calendar)
    assert str(event["UID"]) == appointment["uid"] and event["SEQUENCE"] == 1
    assert event["STATUS"] == "CANCELLED"
    # And it cannot be cancelled twice.
    assert act(desk, cancelled, "cancel", reason="again").status_code == 422


def test_attended_makes_the_lead_visited(app, desk):
    just_now = local_input(utcnow() - timedelta(minutes=5))
    book(desk["client"], app, desk["token"], desk["lead"], starts_at=just_now)
    [appointment] = appointments_of(app, desk["lead"])
    response = act(desk, appointment, "attended")
    assert response.status_code == 303
    assert appointments_of(app, desk["lead"])[0]["status"] == "attended"
    assert lead_state(app, desk["lead"])["status"] == "visited"


def test_attended_or_no_show_waits_for_the_appointments_time(app, desk):
    book(desk["client"], app, desk["token"], desk["lead"], starts_at=soon(days=1))
    [appointment] = appointments_of(app, desk["lead"])
    for action in ("attended", "no-show"):
        assert act(desk, appointment, action).status_code == 422
    assert appointments_of(app, desk["lead"])[0]["status"] == "booked"


def test_a_no_show_goes_back_to_contacted_with_a_call_on_the_next_opening_day(app, desk):
    manager = make_staff(app, "manager", "bengaluru", name="Bina Manager")
    with app.app_context():
        from crm.leads import workflow
        from crm.models import StaffUser

        workflow.assign_lead(
            db.session.get(StaffUser, manager), desk["lead"], desk["agent"], expected_version=None
        )
    just_now = local_input(utcnow() - timedelta(minutes=5))
    book(desk["client"], app, desk["token"], desk["lead"], starts_at=just_now)
    [appointment] = appointments_of(app, desk["lead"])
    response = act(desk, appointment, "no-show")
    assert response.status_code == 303
    assert appointments_of(app, desk["lead"])[0]["status"] == "no_show"
    assert lead_state(app, desk["lead"])["status"] == "contacted"
    with app.app_context():
        follow_up = db.session.scalar(select(FollowUp).where(FollowUp.lead_id == desk["lead"]))
        assert follow_up.assignee_id == desk["agent"]
        due = follow_up.due_at.astimezone(KOLKATA)
    today = utcnow().astimezone(KOLKATA).date()
    # Bengaluru opens at 08:00 on weekdays, 09:00 on Saturday, and not on Sunday.
    expected = today + timedelta(days=1)
    if expected.weekday() == 6:
        expected += timedelta(days=1)
    assert due.date() == expected
    assert due.strftime("%H:%M") == ("09:00" if expected.weekday() == 5 else "08:00")


def test_next_opening_skips_closed_days_around_midnight(app):
    from crm.leads.appointments import next_opening
    from crm.models import Branch

    with app.app_context():
        branch = db.session.scalar(select(Branch).where(Branch.slug == "bengaluru"))
        # Saturday 23:50 in Bengaluru (18:20 UTC): Sunday is closed, so Monday 08:00.
        saturday_night = datetime(2099, 3, 7, 23, 50, tzinfo=KOLKATA)
        assert next_opening(branch, saturday_night) == datetime(2099, 3, 9, 8, 0, tzinfo=KOLKATA)
        # Just after midnight on Saturday it is already Saturday: Monday again, not Saturday.
        assert next_opening(branch, datetime(2099, 3, 7, 0, 10, tzinfo=KOLKATA)) == datetime(
            2099, 3, 9, 8, 0, tzinfo=KOLKATA
        )
        # Friday evening: Saturday, 09:00.
        assert next_opening(branch, datetime(2099, 3, 6, 19, 0, tzinfo=KOLKATA)) == datetime(
            2099, 3, 7, 9, 0, tzinfo=KOLKATA
        )


def test_another_branchs_staff_cannot_touch_the_appointment(app, desk):
    book(desk["client"], app, desk["token"], desk["lead"])
    [appointment] = appointments_of(app, desk["lead"])
    stranger = enter_as(app.test_client(), app, make_staff(app, "manager", "hyderabad"))
    token = csrf_token(stranger)
    url = f"/staff/leads/{desk['lead']}/appointments"
    assert stranger.post(url, data={"csrf_token": token}).status_code == 404
    response = stranger.post(
        f"{url}/{appointment['id']}/cancel",
        data={"csrf_token": token, "sequence": 0, "reason": "x"},
    )
    assert response.status_code == 404
    assert appointments_of(app, desk["lead"])[0]["status"] == "booked"


def test_an_appointment_of_another_lead_is_not_found_through_this_one(app, desk):
    other = make_lead(app)
    book(desk["client"], app, desk["token"], other)
    [theirs] = appointments_of(app, other)
    response = act(desk, theirs, "cancel", reason="wrong lead")
    assert response.status_code == 404
