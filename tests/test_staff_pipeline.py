"""The pipeline through the lead page: transitions, first response, calls, notes, stale edits."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select, update

from crm.models import EventKind, Lead, LeadEvent, LeadStatus
from crm.platform.extensions import db
from tests.staff_helpers import csrf_token, enter_as, lead_state, make_lead, make_staff


@pytest.fixture
def desk(app):
    """A signed-in Bengaluru agent and one new lead."""
    agent = make_staff(app, "agent", "bengaluru", name="Bala Agent")
    client = app.test_client()
    enter_as(client, app, agent)
    return {"client": client, "agent": agent, "lead": make_lead(app), "token": csrf_token(client)}


def set_status(app, lead_id: int, status: str) -> None:
    with app.app_context():
        db.session.execute(
            update(Lead)
            .where(Lead.id == lead_id)
            .values(status=status, lost_reason="price" if status == "lost" else None)
        )
        db.session.commit()


def post_status(desk, status: str, *, version=None, lost_reason="", note="", lead=None):
    lead = lead or desk["lead"]
    if version is None:
        version = lead_state_version(desk, lead)
    return desk["client"].post(
        f"/staff/leads/{lead}/status",
        data={
            "csrf_token": desk["token"],
            "status": status,
            "version": version,
            "lost_reason": lost_reason,
            "note": note,
        },
    )


def lead_state_version(desk, lead_id):
    html = desk["client"].get(f"/staff/leads/{lead_id}").get_data(as_text=True)
    import re

    return re.search(r'name="version" type="hidden" value="(\d+)"', html).group(1)


# The pipeline rule, stated in full here rather than read from crm.leads.pipeline, so that a
# change to the code's table cannot change what is tested:
# new → contacted → appointment_booked → visited; any open status → lost or spam;
# lost and spam can be reopened to contacted; visited is the end of the road.
# crm.leads.pipeline.TRANSITIONS agrees row for row. Releasing a lead from spam to *new*
# (or contacted, if it was answered before) is a separate operation, release_from_spam,
# not a status move, and has its own tests; it is not a row of this table.
ALLOWED = [
    ("new", "contacted"),
    ("new", "lost"),
    ("new", "spam"),
    ("contacted", "appointment_booked"),
    ("contacted", "lost"),
    ("contacted", "spam"),
    ("appointment_booked", "visited"),
    ("appointment_booked", "lost"),
    ("appointment_booked", "spam"),
    ("lost", "contacted"),  # a lost lead can be reopened
    ("spam", "contacted"),  # so can one marked as spam
]
REFUSED = [
    (a.value, b.value)
    for a, b in itertools.product(LeadStatus, LeadStatus)
    if (a.value, b.value) not in ALLOWED
]
assert len(ALLOWED) + len(REFUSED) == len(LeadStatus) ** 2 == 36


@pytest.mark.parametrize(("current", "target"), ALLOWED)
def test_each_pipeline_transition_is_allowed(app, desk, current, target):
    set_status(app, desk["lead"], current)
    reason = "distance" if target == LeadStatus.LOST else ""
    response = post_status(desk, target, lost_reason=reason)
    assert response.status_code == 303
    state = lead_state(app, desk["lead"])
    assert state["status"] == target
    assert state["lost_reason"] == (reason or None)
    with app.app_context():
        event = db.session.scalars(
            select(LeadEvent)
            .where(LeadEvent.kind == EventKind.STATUS)
            .order_by(LeadEvent.id.desc())
        ).first()
        assert (event.detail["from"], event.detail["to"]) == (current, target)
        assert event.actor_id == desk["agent"]


@pytest.mark.parametrize(("current", "target"), REFUSED)
def test_every_other_transition_is_refused_with_a_clear_message(app, desk, current, target):
    set_status(app, desk["lead"], current)
    before = lead_state(app, desk["lead"])
    # The lead page offers only the allowed moves; a forged one is refused by the form.
    response = post_status(desk, target, lost_reason="price")
    assert response.status_code == 422
    assert lead_state(app, desk["lead"]) == before
    html = response.get_data(as_text=True)
    # The page says why, and does not claim the move happened.
    assert '<p class="notice notice--error">Please choose a status.</p>' in html
    assert "Status updated." not in html


def test_the_operation_itself_refuses_a_move_outside_the_pipeline(app, desk):
    from crm.leads.workflow import WorkflowError, change_status
    from crm.models import StaffUser

    set_status(app, desk["lead"], LeadStatus.VISITED)
    with app.app_context():
        agent = db.session.get(StaffUser, desk["agent"])
        with pytest.raises(WorkflowError, match="visited is closed"):
            change_status(agent, desk["lead"], "contacted", expected_version=None)
        set_status(app, desk["lead"], LeadStatus.NEW)
        with pytest.raises(WorkflowError, match="cannot become visited; it can become: contacted"):
            change_status(agent, desk["lead"], "visited", expected_version=None)


def test_lost_needs_a_reason(app, desk):
    before = lead_state(app, desk["lead"])
    response = post_status(desk, "lost")
    assert response.status_code == 422
    assert "Please choose why the lead was lost." in response.get_data(as_text=True)
    assert lead_state(app, desk["lead"]) == before


def test_first_response_is_stamped_once(app, desk):
    assert lead_state(app, desk["lead"])["first_response_at"] is None
    assert post_status(desk, "contacted").status_code == 303
    first = lead_state(app, desk["lead"])["first_response_at"]
    assert first is not None
    assert post_status(desk, "lost", lost_reason="price").status_code == 303
    assert post_status(desk, "contacted").status_code == 303
    assert post_status(desk, "appointment_booked").status_code == 303
    assert lead_state(app, desk["lead"])["first_response_at"] == first


def test_an_answered_call_marks_a_new_lead_contacted(app, desk):
    response = desk["client"].post(
        f"/staff/leads/{desk['lead']}/calls",
        data={"csrf_token": desk["token"], "outcome": "answered", "note": "Wants Saturday"},
    )
    assert response.status_code == 303
    state = lead_state(app, desk["lead"])
    assert state["status"] == LeadStatus.CONTACTED
    assert state["first_response_at"] is not None
    page = desk["client"].get(f"/staff/leads/{desk['lead']}").get_data(as_text=True)
    assert "Call: answered." in page and "Wants Saturday" in page


def test_an_unanswered_call_is_recorded_and_leaves_the_status(app, desk):
    response = desk["client"].post(
        f"/staff/leads/{desk['lead']}/calls",
        data={"csrf_token": desk["token"], "outcome": "no_answer"},
    )
    assert response.status_code == 303
    assert lead_state(app, desk["lead"])["status"] == LeadStatus.NEW
    assert "Call: no answer." in desk["client"].get(f"/staff/leads/{desk['lead']}").get_data(
        as_text=True
    )


def test_notes_are_kept_as_text(app, desk):
    note = '<script>alert("x")</script> {{ 7*7 }} Prefers Telugu: తెలుగు'
    response = desk["client"].post(
        f"/staff/leads/{desk['lead']}/notes", data={"csrf_token": desk["token"], "text": note}
    )
    assert response.status_code == 303
    page = desk["client"].get(f"/staff/leads/{desk['lead']}").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; {{ 7*7 }} Prefers Telugu: తెలుగు" in page
    assert "<script>alert" not in page


def test_an_empty_note_is_refused(app, desk):
    before = lead_state(app, desk["lead"])
    response = desk["client"].post(
        f"/staff/leads/{desk['lead']}/notes", data={"csrf_token": desk["token"], "text": "   "}
    )
    assert response.status_code == 422
    assert "Please write the note." in response.get_data(as_text=True)
    assert lead_state(app, desk["lead"]) == before


def test_a_stale_edit_is_refused_and_says_so(app, desk):
    manager = make_staff(app, "manager", "bengaluru", name="Bina Manager")
    other = app.test_client()
    enter_as(other, app, manager)
    seen = lead_state_version(desk, desk["lead"])
    # The manager assigns the lead while the agent still has the old page open.
    response = other.post(
        f"/staff/leads/{desk['lead']}/assign",
        data={"csrf_token": csrf_token(other), "version": seen, "assignee": str(manager)},
    )
    assert response.status_code == 303
    after_manager = lead_state(app, desk["lead"])

    response = post_status(desk, "contacted", version=seen)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert "Someone else saved this lead while you had it open" in html
    assert "Bina Manager" in html  # the page shows the latest state
    assert lead_state(app, desk["lead"]) == after_manager
    # With the latest version the agent's change goes through.
    assert post_status(desk, "contacted").status_code == 303


def test_assignment_rules_for_agents(app, desk):
    colleague = make_staff(app, "agent", "bengaluru", name="Chitra Agent")
    version = lead_state_version(desk, desk["lead"])
    response = desk["client"].post(
        f"/staff/leads/{desk['lead']}/assign",
        data={"csrf_token": desk["token"], "version": version, "assignee": str(colleague)},
    )
    # A refusal of who may do it (crm.policy), not of what was typed.
    assert response.status_code == 403
    assert "Only a manager can assign leads to someone else." in response.get_data(as_text=True)
    assert lead_state(app, desk["lead"])["assignee_id"] is None
    response = desk["client"].post(
        f"/staff/leads/{desk['lead']}/assign",
        data={"csrf_token": desk["token"], "version": version, "assignee": str(desk["agent"])},
    )
    assert response.status_code == 303
    assert lead_state(app, desk["lead"])["assignee_id"] == desk["agent"]


def test_bulk_status_changes_what_it_can_and_names_what_it_skipped(app, desk):
    second = make_lead(app)
    set_status(app, second, LeadStatus.VISITED)
    response = desk["client"].post(
        "/staff/leads/bulk",
        data={
            "csrf_token": desk["token"],
            "lead_ids": [str(desk["lead"]), str(second)],
            "action": "status",
            "status": "contacted",
            "return_to": "/staff/leads?status=new",
        },
    )
    assert response.status_code == 303
    assert response.headers["Location"] == "/staff/leads?status=new"
    assert lead_state(app, desk["lead"])["status"] == LeadStatus.CONTACTED
    assert lead_state(app, second)["status"] == LeadStatus.VISITED
    page = desk["client"].get("/staff/leads").get_data(as_text=True)
    assert f"L-{desk['lead']:06d}" in page and "is closed and cannot change status" in page


def test_bulk_assign_is_for_managers(app, desk):
    manager = make_staff(app, "manager", "bengaluru", name="Bina Manager")
    leads = [desk["lead"], make_lead(app), make_lead(app)]
    response = desk["client"].post(
        "/staff/leads/bulk",
        data={
            "csrf_token": desk["token"],
            "lead_ids": [str(i) for i in leads],
            "action": "assign",
            "assignee": str(desk["agent"]),
        },
        follow_redirects=True,
    )
    assert "Only a manager can assign leads in bulk." in response.get_data(as_text=True)
    assert all(lead_state(app, i)["assignee_id"] is None for i in leads)

    boss = app.test_client()
    enter_as(boss, app, manager)
    response = boss.post(
        "/staff/leads/bulk",
        data={
            "csrf_token": csrf_token(boss),
            "lead_ids": [str(i) for i in leads],
            "action": "assign",
            "assignee": str(desk["agent"]),
        },
    )
    assert response.status_code == 303
    assert all(lead_state(app, i)["assignee_id"] == desk["agent"] for i in leads)
