"""Erasure on request: every trace of the person goes, from every table; the figures stay."""

from __future__ import annotations

import json
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import JSON, String, func, select, update

from crm.accounts.staff import create_staff_user
from crm.leads.anonymise import CANCELLED, ERASED
from crm.leads.dashboard import dashboard_figures
from crm.leads.privacy import ErasureNotAllowed, erase_lead, erase_person
from crm.leads.queries import LeadNotFound
from crm.mail.outbox import queue_email
from crm.models import (
    Branch,
    Enquiry,
    EventKind,
    FollowUp,
    Lead,
    LeadEvent,
    LeadStatus,
    OutboxEmail,
    OutboxStatus,
    StaffUser,
)
from crm.platform.database import utcnow, write_transaction
from crm.platform.extensions import db
from tests.export_helpers import cli_export, csv_records, xlsx_records
from tests.helpers import submit_reach_out

# The person who asks to be erased, writing to both clinics with two addresses.
TARGET = {
    "name": "Ishaan Verghese",
    "phone": "98450 12345",
    "email": "ishaan.target@example.com",
    "message": "My left knee clicks on the stairs since Diwali.",
}
TARGET_AGAIN = {
    "name": "Ishaan V.",
    "phone": "+91 98450-12345",
    "email": "ishaan.second@example.org",
    "message": "Shoulder stiffness after weekend cricket.",
}
# Someone else entirely, whose data must come through untouched.
OTHER = {
    "name": "Meera Raghunathan",
    "phone": "98860 54321",
    "email": "meera.other@example.net",
    "message": "Neck pain from long drives to Mysuru.",
}
THIRD = {
    "name": "Joseph Fernandes",
    "phone": "+91 91234 56780",
    "email": "",
    "message": "Ankle sprain from football.",
}

# Every way the target could still be found.
TRACES = [
    "+919845012345",
    "9845012345",
    "98450 12345",
    "98450-12345",
    "ishaan.target@example.com",
    "ishaan.second@example.org",
    "Ishaan",
    "Verghese",
    "knee clicks",
    "Diwali",
    "Shoulder stiffness",
    "Kannada",
    "198.51.100.7",
    "TargetBrowser",
]
OTHER_TRACES = ["+919886054321", "meera.other@example.net", "Meera Raghunathan", "long drives"]


def text_values(session) -> list[tuple[str, str, Any, str]]:
    """(table, column, primary key, text) for every text and JSON value in the database."""
    found = []
    for table in db.metadata.sorted_tables:
        columns = [c for c in table.columns if isinstance(c.type, String | JSON)]
        key = next(iter(table.primary_key.columns))
        for row in session.execute(select(key, *columns)):
            for column, value in zip(columns, row[1:], strict=True):
                if value is None:
                    continue
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                found.append((table.name, column.name, row[0], text))
    return found


def traces_of(session, needles: list[str]) -> list[tuple[str, str, Any, str]]:
    lowered = [needle.lower() for needle in needles]
    return [
        (table, column, key, needle)
        for table, column, key, text in text_values(session)
        for needle in lowered
        if needle in text.lower()
    ]


def snapshot(session) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, to compare before and after."""
    return {
        table.name: [
            dict(row._mapping)
            for row in session.execute(table.select().order_by(*table.primary_key.columns))
        ]
        for table in db.metadata.sorted_tables
    }


def figures(session) -> dict[str, Any]:
    """What a dashboard counts: leads per branch and status, enquiries, follow-ups."""
    per_status = session.execute(
        select(Branch.slug, Lead.status, func.count(Lead.id))
        .join(Lead, Lead.branch_id == Branch.id)
        .group_by(Branch.slug, Lead.status)
    ).all()
    return {
        "leads": Counter({(slug, status): n for slug, status, n in per_status}),
        "enquiries": session.scalar(select(func.count(Enquiry.id))),
        "enquiry_count": session.scalar(select(func.sum(Lead.enquiry_count))),
        "follow_ups": session.scalar(select(func.count(FollowUp.id))),
        "sources": sorted(session.scalars(select(Enquiry.source_page))),
        "utm": sorted(
            session.scalars(select(Enquiry.utm_campaign).where(Enquiry.utm_campaign.is_not(None)))
        ),
    }


def leads_of(session, phone: str) -> list[Lead]:
    return list(session.scalars(select(Lead).where(Lead.phone == phone).order_by(Lead.id)))


@pytest.fixture
def people(app, client):
    """Enquiries from three people, with staff work and emails in every state."""
    headers = {"User-Agent": "TargetBrowser/1.0"}
    client.environ_base.update(
        {"HTTP_USER_AGENT": headers["User-Agent"], "REMOTE_ADDR": "198.51.100.7"}
    )
    assert (
        submit_reach_out(client, "/blog/?utm_campaign=knee-care", json=True, **TARGET).status_code
        == 201
    )
    # The same person again at the same clinic (merged) and at the other one (a second lead).
    assert (
        submit_reach_out(client, json=True, **{**TARGET_AGAIN, "branch": "bengaluru"}).status_code
        == 201
    )
    assert (
        submit_reach_out(
            client, "/branches/hyderabad", json=True, **{**TARGET_AGAIN, "branch": "hyderabad"}
        ).status_code
        == 201
    )
    client.environ_base.update(
        {"HTTP_USER_AGENT": "OtherBrowser/2.0", "REMOTE_ADDR": "203.0.113.9"}
    )
    assert submit_reach_out(client, json=True, **OTHER).status_code == 201
    assert (
        submit_reach_out(client, json=True, **{**THIRD, "branch": "hyderabad"}).status_code == 201
    )

    with app.app_context():
        admin = create_staff_user(
            email="admin@clinic.example",
            name="Asha Admin",
            role="admin",
            branch_slug=None,
            password="a long admin password",
        )
        agent = create_staff_user(
            email="agent@clinic.example",
            name="Ravi Agent",
            role="agent",
            branch_slug="bengaluru",
            password="a long agent password",
        )
        admin_id, agent_id = admin.id, agent.id

    with app.app_context(), write_transaction() as session:
        [bengaluru, hyderabad] = leads_of(session, "+919845012345")
        [other] = leads_of(session, "+919886054321")
        now = utcnow()
        for lead, text, language in [
            (bengaluru, "Ishaan Verghese", "Kannada"),
            (other, "Meera Raghunathan", "Tamil"),
        ]:
            session.add_all(
                [
                    LeadEvent(
                        lead_id=lead.id,
                        actor_id=agent.id,
                        kind=EventKind.ASSIGNED,
                        detail={"to": agent.id, "to_name": "Ravi Agent"},
                        created_at=now,
                    ),
                    LeadEvent(
                        lead_id=lead.id,
                        actor_id=agent.id,
                        kind=EventKind.CALL,
                        detail={
                            "outcome": "answered",
                            "note": f"Spoke to {text}, prefers {language}",
                        },
                        created_at=now,
                    ),
                    LeadEvent(
                        lead_id=lead.id,
                        actor_id=agent.id,
                        kind=EventKind.STATUS,
                        detail={"from": "new", "to": "contacted"},
                        created_at=now,
                    ),
                    FollowUp(
                        lead_id=lead.id,
                        assignee_id=agent.id,
                        due_at=now + timedelta(days=1),
                        note=f"Call {text} after 6pm",
                        outcome_note=f"{text} feels better",
                        created_by_id=agent.id,
                        created_at=now,
                    ),
                ]
            )
            lead.status = LeadStatus.CONTACTED
        hyderabad.status = LeadStatus.LOST
        hyderabad.lost_reason = "distance"
        # The acknowledgement to the first address went out; the one to the second (one a day
        # per address: none for the Hyderabad enquiry) bounced.
        session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.to_address == TARGET["email"])
            .values(status=OutboxStatus.SENT, sent_at=now, attempts=1)
        )
        session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.to_address == TARGET_AGAIN["email"])
            .values(
                status=OutboxStatus.FAILED, last_error=f"550 {TARGET_AGAIN['email']}: no such user"
            )
        )
        # A digest to staff that is about several people, and a note sent to the person alone.
        queue_email(
            session,
            kind="digest",
            to="bengaluru@clinic.example",
            subject="Follow-ups due today",
            text_body="Ishaan Verghese +91 98450 12345\nMeera Raghunathan +91 98860 54321\n",
            html_body=(
                "<li>Ishaan Verghese, +91 98450 12345</li>"
                "<li>Meera Raghunathan, +91 98860 54321</li>"
            ),
        )
        queue_email(
            session,
            kind="manual",
            to=TARGET["email"],
            subject="Your appointment, Ishaan",
            text_body="See you on Monday.",
        )
    return {"admin": admin_id, "agent": agent_id}


def other_peoples_rows(session) -> dict[str, list[dict[str, Any]]]:
    ids = [
        lead.id for phone in ("+919886054321", "+919123456780") for lead in leads_of(session, phone)
    ]
    rows = snapshot(session)
    return {
        "lead": [row for row in rows["lead"] if row["id"] in ids],
        "enquiry": [row for row in rows["enquiry"] if row["lead_id"] in ids],
        "lead_event": [row for row in rows["lead_event"] if row["lead_id"] in ids],
        "follow_up": [row for row in rows["follow_up"] if row["lead_id"] in ids],
        "outbox_email": [row for row in rows["outbox_email"] if row["lead_id"] in ids],
        "staff_user": rows["staff_user"],
        "branch": rows["branch"],
    }


def test_erasing_by_phone_removes_every_trace_and_keeps_the_figures(app, runner, people):
    with app.app_context():
        assert traces_of(db.session, TRACES)  # the scan does find them while they are there
        before = figures(db.session)
        others = other_peoples_rows(db.session)
        events_before = db.session.scalar(select(func.count(LeadEvent.id)))
        refs = [lead.reference for lead in leads_of(db.session, "+919845012345")]
        admin = db.session.get(StaffUser, people["admin"])
        moment = utcnow()
        dashboard_before = dashboard_figures(admin, moment)
        assert sum(dashboard_before.by_status.values()) == len(
            db.session.scalars(select(Lead)).all()
        )

    result = runner.invoke(
        args=["leads", "erase", "--phone", "98450 12345", "--by", "ADMIN@Clinic.Example"]
    )
    assert result.exit_code == 0, result.output
    assert f"Erased 2 leads: {refs[0]}, {refs[1]}." in result.output
    assert "enquiry           3" in result.output
    assert "follow_up         1" in result.output
    assert "2 erasure records added" in result.output
    assert "5 cancelled before sending; 1 other email with mentions replaced" in result.output

    with app.app_context():
        session = db.session
        assert traces_of(session, TRACES) == []
        assert figures(session) == before
        assert other_peoples_rows(session) == others
        assert session.scalar(select(func.count(LeadEvent.id))) == events_before + 2
        # The dashboard itself counts the same; only the person's open follow-up is closed.
        dashboard_after = dashboard_figures(session.get(StaffUser, people["admin"]), moment)
        assert dashboard_after.overdue_follow_ups <= dashboard_before.overdue_follow_ups
        dashboard_after.overdue_follow_ups = dashboard_before.overdue_follow_ups
        assert dashboard_after == dashboard_before

        erased = session.scalars(
            select(Lead).where(Lead.erased_at.is_not(None)).order_by(Lead.id)
        ).all()
        assert [lead.reference for lead in erased] == refs
        assert [(lead.branch.slug, lead.status, lead.lost_reason) for lead in erased] == [
            ("bengaluru", "contacted", None),
            ("hyderabad", "lost", "distance"),
        ]
        assert all(lead.name == "" and lead.phone == "" and lead.email is None for lead in erased)
        assert [lead.enquiry_count for lead in erased] == [2, 1]
        enquiries = session.scalars(select(Enquiry).where(Enquiry.lead_id == erased[0].id)).all()
        assert [e.source_page for e in enquiries] == ["/blog/", "/"]
        assert enquiries[0].utm_campaign == "knee-care"
        assert enquiries[0].consent_version == "2026-11-01"

        tombstones = session.scalars(
            select(LeadEvent).where(LeadEvent.kind == EventKind.ERASED)
        ).all()
        assert {t.lead_id for t in tombstones} == {lead.id for lead in erased}
        admin_id = people["admin"]
        for tombstone in tombstones:
            assert tombstone.actor_id == admin_id
            assert tombstone.detail["reason"] == "request" and tombstone.detail["via"] == "cli"
            assert tombstone.detail["operator"]
        call = session.scalar(
            select(LeadEvent).where(
                LeadEvent.lead_id == erased[0].id, LeadEvent.kind == EventKind.CALL
            )
        )
        assert call.detail == {"outcome": "answered"}
        follow_up = session.scalar(select(FollowUp).where(FollowUp.lead_id == erased[0].id))
        assert follow_up.note is None and follow_up.outcome_note is None and follow_up.due_at

        # What the outbox would still send: nothing to, or about, the person.
        theirs = session.scalars(
            select(OutboxEmail).where(OutboxEmail.lead_id.in_([lead.id for lead in erased]))
        ).all()
        assert {e.status for e in theirs} == {"sent", "failed"}
        for email in theirs:
            assert (email.to_address, email.subject, email.text_body, email.html_body) == (
                "",
                ERASED,
                "",
                None,
            )
            assert email.last_error == (None if email.status == "sent" else CANCELLED)
        manual = session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "manual"))
        assert manual.status == "failed" and manual.to_address == ""
        digest = session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "digest"))
        assert digest.status == "pending" and digest.to_address == "bengaluru@clinic.example"
        assert digest.text_body == f"{ERASED} {ERASED}\nMeera Raghunathan +91 98860 54321\n"
        assert "Meera Raghunathan, +91 98860 54321" in digest.html_body
        pending = session.scalars(select(OutboxEmail).where(OutboxEmail.status == "pending")).all()
        assert pending  # the other people's alerts still go out
        for email in pending:
            text = " ".join(
                filter(None, [email.to_address, email.subject, email.text_body, email.html_body])
            )
            assert not any(needle.lower() in text.lower() for needle in TRACES), email.kind


def test_erase_lead_is_for_administrators_only(app, people):
    with app.app_context():
        [lead, _] = leads_of(db.session, "+919845012345")
        before = snapshot(db.session)
        agent = db.session.get(StaffUser, people["agent"])
        with pytest.raises(ErasureNotAllowed, match="Only an administrator"):
            erase_lead(agent, lead.id)
        admin = db.session.get(StaffUser, people["admin"])
        admin.active = False
        with pytest.raises(ErasureNotAllowed):
            erase_lead(admin, lead.id)
        with pytest.raises(ErasureNotAllowed):
            erase_person(phone="98450 12345", actor=agent)
        db.session.rollback()
        assert snapshot(db.session) == before
        with pytest.raises(LeadNotFound):
            erase_lead(db.session.get(StaffUser, people["admin"]), 999_999)


def test_erase_lead_erases_the_person_behind_it_at_every_branch(app, people):
    with app.app_context():
        [bengaluru, hyderabad] = leads_of(db.session, "+919845012345")
        before = figures(db.session)
        admin = db.session.get(StaffUser, people["admin"])
        report = erase_lead(admin, hyderabad.id)
        assert report.leads == (bengaluru.reference, hyderabad.reference)
        assert report.counts == {
            "lead": 2,
            "enquiry": 3,
            "follow_up": 1,
            "appointment": 0,
            "lead_event": 2,
            "outbox_email": 7,
        }
        assert report.cancelled_emails == 5 and report.redacted_emails == 1
        assert report.summary().startswith(
            f"Erased the person's details from {bengaluru.reference}"
        )
        assert traces_of(db.session, TRACES) == []
        assert traces_of(db.session, OTHER_TRACES)
        assert figures(db.session) == before
        tombstones = db.session.scalars(
            select(LeadEvent).where(LeadEvent.kind == EventKind.ERASED)
        ).all()
        assert [(t.actor_id, t.detail) for t in tombstones] == [
            (admin.id, {"reason": "request", "via": "staff"})
        ] * 2

        again = erase_lead(admin, hyderabad.id)
        assert again.leads == () and again.already_erased == (hyderabad.reference,)
        assert not again.changed and again.matched
        assert again.summary() == "Nothing left to erase: these details were erased before."
        assert (
            db.session.scalar(
                select(func.count(LeadEvent.id)).where(LeadEvent.kind == EventKind.ERASED)
            )
            == 2
        )


def exported_cells(runner, form: str) -> tuple[list[dict], list[str]]:
    data = cli_export(runner, "--branch", "all", "--format", form)
    rows = csv_records(data) if form == "csv" else xlsx_records(data)
    return rows, [str(value) for row in rows for value in row.values() if value is not None]


@pytest.mark.parametrize("form", ["csv", "xlsx"])
def test_later_exports_hold_no_trace_of_an_erased_person(app, runner, people, form):
    _rows, cells = exported_cells(runner, form)
    assert any(trace in cell for trace in TRACES for cell in cells)  # found while there
    assert runner.invoke(args=["leads", "erase", "--phone", "98450 12345"]).exit_code == 0
    rows, cells = exported_cells(runner, form)
    for trace in TRACES:
        assert not any(trace in cell for cell in cells), trace
    # The erased leads are still rows (the figures count them), only without the person.
    with app.app_context():
        erased = db.session.scalars(select(Lead).where(Lead.erased_at.is_not(None))).all()
        assert len(erased) == 2
        references = {lead.reference for lead in erased}
    assert references <= {row["Reference"] for row in rows}
