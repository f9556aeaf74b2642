"""Retention: lost and spam leads untouched for RETENTION_DAYS are anonymised; nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from crm.leads.privacy import erase_person
from crm.models import Enquiry, EventKind, Lead, LeadEvent, OutboxEmail, OutboxStatus
from crm.platform.database import utcnow, write_transaction
from crm.platform.extensions import db
from tests.helpers import submit_reach_out
from tests.test_privacy_erasure import snapshot, traces_of

# (key, branch, phone, status, days since last touched)
LEADS = [
    ("lost_181", "bengaluru", "+919845010001", "lost", 181),
    ("spam_181", "hyderabad", "+919845010002", "spam", 181),
    ("lost_179", "bengaluru", "+919845010003", "lost", 179),
    ("spam_179", "hyderabad", "+919845010004", "spam", 179),
    ("new_400", "bengaluru", "+919845010005", "new", 400),
    ("contacted_400", "hyderabad", "+919845010006", "contacted", 400),
    ("booked_400", "bengaluru", "+919845010007", "appointment_booked", 400),
    ("visited_400", "hyderabad", "+919845010008", "visited", 400),
    ("erased_400", "bengaluru", "+919845010009", "lost", 400),
    # One person with an old lost lead at one clinic and an open one at the other.
    ("returning_old", "bengaluru", "+919845010010", "lost", 200),
    ("returning_open", "hyderabad", "+919845010010", "new", 0),
]
PURGED = {"lost_181", "spam_181", "returning_old"}


def name_of(key: str) -> str:
    return "Patient " + "".join(part.capitalize() for part in key.split("_")) + "zz"


def message_of(key: str) -> str:
    return f"Unique complaint {key} qq"


@pytest.fixture
def leads(app, client):
    """Leads in every state and age; returns {key: lead id}."""
    for key, branch, phone, _status, days in LEADS:
        email = "returning@example.com" if key.startswith("returning") else f"{key}@example.com"
        submitted = utcnow()
        response = submit_reach_out(
            client,
            json=True,
            name=name_of(key),
            phone=phone,
            email=email,
            branch=branch,
            message=message_of(key),
        )
        assert response.status_code == 201
        # Its emails were queued back then: an acknowledgement 200 days ago does not hold back
        # the next one to the same address (one a day per address).
        with app.app_context(), write_transaction() as session:
            session.execute(
                update(OutboxEmail)
                .where(OutboxEmail.created_at >= submitted)
                .values(created_at=submitted - timedelta(days=days))
            )
    ids = {}
    with app.app_context():
        rows = db.session.scalars(select(Lead).order_by(Lead.id)).all()
        assert len(rows) == len(LEADS)
        for (key, *_), lead in zip(LEADS, rows, strict=True):
            ids[key] = lead.id
    assert erase_phone(app, "+919845010009")
    now = utcnow()
    with app.app_context(), write_transaction() as session:
        for key, _branch, _phone, status, days in LEADS:
            session.execute(
                update(Lead)
                .where(Lead.id == ids[key])
                .values(status=status, updated_at=now - timedelta(days=days))
            )
    return ids


def erase_phone(app, phone: str) -> bool:
    with app.app_context():
        return erase_person(phone=phone, operator="test").changed


def erased_keys(app, ids) -> set[str]:
    with app.app_context():
        erased = set(db.session.scalars(select(Lead.id).where(Lead.erased_at.is_not(None))))
    return {key for key, lead_id in ids.items() if lead_id in erased}


def ref(lead_id: int) -> str:
    return f"L-{lead_id:06d}"


def test_a_dry_run_lists_exactly_the_eligible_leads_and_changes_nothing(app, runner, leads):
    with app.app_context():
        before = snapshot(db.session)
    result = runner.invoke(args=["retention", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    listed = sorted(ref(leads[key]) for key in PURGED)
    assert "Would anonymise 3 lost or spam leads untouched since " in result.output
    assert ": " + ", ".join(listed) + "." in result.output
    assert "Would delete the bodies of 0 emails" in result.output
    with app.app_context():
        assert snapshot(db.session) == before


def test_purge_anonymises_exactly_the_lost_and_spam_leads_past_the_period(app, runner, leads):
    with app.app_context():
        before = snapshot(db.session)
    result = runner.invoke(args=["retention", "purge"])
    assert result.exit_code == 0, result.output
    assert "Anonymised 3 lost or spam leads" in result.output
    assert erased_keys(app, leads) == PURGED | {"erased_400"}

    with app.app_context():
        session = db.session
        gone = [name_of(k) for k in PURGED] + [message_of(k) for k in PURGED]
        gone += ["+919845010001", "+919845010002", "lost_181@example.com"]
        assert traces_of(session, gone) == []
        # Every other lead, and everything about it, is exactly as it was.
        after = snapshot(session)
        purged_ids = {leads[key] for key in PURGED}
        for table in ("lead", "enquiry", "follow_up", "lead_event", "outbox_email"):
            column = "id" if table == "lead" else "lead_id"
            kept_before = [row for row in before[table] if row[column] not in purged_ids]
            kept_after = [row for row in after[table] if row[column] not in purged_ids]
            if table == "lead_event":
                kept_after = [row for row in kept_after if row["kind"] != EventKind.ERASED]
                kept_before = [row for row in kept_before if row["kind"] != EventKind.ERASED]
            assert kept_after == kept_before, table

        purged = session.scalars(select(Lead).where(Lead.id.in_(purged_ids))).all()
        old = {row["id"]: row for row in before["lead"]}
        for lead in purged:
            assert (lead.name, lead.phone, lead.email) == ("", "", None)
            assert lead.status == old[lead.id]["status"]
            assert lead.updated_at == old[lead.id]["updated_at"]
            assert lead.created_at == old[lead.id]["created_at"]
        tombstones = session.scalars(
            select(LeadEvent).where(
                LeadEvent.kind == EventKind.ERASED, LeadEvent.lead_id.in_(purged_ids)
            )
        ).all()
        assert len(tombstones) == 3
        assert all(t.actor_id is None for t in tombstones)
        assert all(t.detail == {"reason": "retention", "via": "retention"} for t in tombstones)

        # The same person's open enquiry elsewhere keeps its details and its emails.
        returning = session.get(Lead, leads["returning_open"])
        assert returning.phone == "+919845010010" and returning.email == "returning@example.com"
        assert returning.name == name_of("returning_open")
        open_emails = session.scalars(
            select(OutboxEmail).where(OutboxEmail.lead_id == returning.id)
        ).all()
        assert sorted((e.kind, e.to_address == "returning@example.com") for e in open_emails) == [
            ("acknowledgement", True),
            ("lead_alert", False),
        ]
        # Still to be rendered from the kept enquiry when sent.
        assert all(e.status == OutboxStatus.PENDING and e.compose for e in open_emails)
        kept = session.get(Enquiry, open_emails[0].compose["enquiry_id"])
        assert kept.phone == "+919845010010"

    again = runner.invoke(args=["retention", "purge"])
    assert again.exit_code == 0
    assert "No lost or spam lead has been left untouched since" in again.output
    with app.app_context():
        assert snapshot(db.session) == after


def test_the_period_comes_from_the_configuration(app, runner, leads):
    app.config["RETENTION_DAYS"] = 178
    result = runner.invoke(args=["retention", "purge"])
    assert result.exit_code == 0, result.output
    assert erased_keys(app, leads) == PURGED | {"lost_179", "spam_179", "erased_400"}


def test_sent_email_bodies_go_after_the_outbox_period_and_nothing_else(app, runner, leads):
    now = utcnow()
    ages = {"new_400": 31, "contacted_400": 29, "booked_400": 60, "visited_400": 60}
    states = {
        "new_400": OutboxStatus.SENT,
        "contacted_400": OutboxStatus.SENT,
        "booked_400": OutboxStatus.PENDING,
        "visited_400": OutboxStatus.FAILED,
    }
    with app.app_context(), write_transaction() as session:
        for key, days in ages.items():
            session.execute(
                update(OutboxEmail)
                .where(OutboxEmail.lead_id == leads[key])
                .values(
                    status=states[key],
                    # Bodies as stored by an email rendered when queued (an intake email is
                    # rendered when sent, and keeps none).
                    text_body="Hello",
                    html_body="<p>Hello</p>",
                    created_at=now - timedelta(days=days),
                    sent_at=(now - timedelta(days=days)) if states[key] == "sent" else None,
                )
            )
    # Sent 31 days ago, and given up on 60 days ago: 2 emails each; pending ones are kept.
    dry = runner.invoke(args=["retention", "purge", "--dry-run"])
    assert "Would delete the bodies of 4 emails sent (or given up on) before" in dry.output
    result = runner.invoke(args=["retention", "purge"])
    assert "Deleted the bodies of 4 emails sent (or given up on) before" in result.output
    with app.app_context():
        for key in ages:
            for email in db.session.scalars(
                select(OutboxEmail).where(OutboxEmail.lead_id == leads[key])
            ):
                emptied = key in ("new_400", "visited_400")
                assert (email.text_body == "" and email.html_body is None) == emptied, key
                # The row stays: the lead's timeline can still say what was sent, and when.
                assert email.status == states[key] and email.subject and email.to_address
    again = runner.invoke(args=["retention", "purge"])
    assert "Deleted the bodies of 0 emails" in again.output
