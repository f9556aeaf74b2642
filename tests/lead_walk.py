"""A random walk of the operations that change leads (intake on the website and at the desk,
status changes one at a time and in bulk, appointments, merges, erasure, retention), through
the functions the staff pages and jobs call. The tests of each kept aggregate walk it and, after
every step, compare what is kept to a full recount: one walk, so that an operation added here
is checked against every aggregate."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

from flask import Flask
from sqlalchemy import select

from crm.leads.appointments import book_appointment, cancel_appointment, mark_attended, mark_no_show
from crm.leads.capture import Submission, capture_lead
from crm.leads.merge import merge_leads
from crm.leads.pipeline import TRANSITIONS
from crm.leads.privacy import erase_lead
from crm.leads.retention import purge_expired
from crm.leads.workflow import WorkflowError, bulk_change_status, change_status
from crm.models import Appointment, Lead, StaffUser
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.staff_helpers import make_lead

BRANCHES = ("bengaluru", "hyderabad")
PAGES = ("/", "/blog/back-pain", "/blog/back-pain?utm_source=x", "/branches/hyderabad", None)
SOURCES = (None, "google", "instagram")


def actor(person_id: int) -> StaffUser:
    person = db.session.get(StaffUser, person_id)
    _ = person.branch
    return person


def desk_lead(app: Flask, rng: random.Random, admin: int, phone: str | None) -> int:
    """A lead staff entered at the desk: another channel, no page; sometimes one the spam
    defence keeps aside."""
    serial = rng.randrange(10**8)
    with app.app_context():
        return capture_lead(
            Submission(
                name="Desk Person",
                phone=phone or f"+91970{serial:08d}",
                email=None,
                branch_slug=rng.choice(BRANCHES),
                interest=None,
                message=None,
                submission_token=f"desk-{serial:08d}-{rng.random()}",
                consent_version="2026-11-01",
                received_at=utcnow() - timedelta(minutes=rng.randrange(60 * 24 * 100)),
                channel=rng.choice(["phone", "walk_in"]),
                recorded_by_id=admin,
                filtered_reason="honeypot" if rng.random() < 0.2 else None,
            )
        ).lead_id


def web_lead(app: Flask, rng: random.Random, phone: str | None) -> int:
    source = rng.choice(SOURCES)
    return make_lead(
        app,
        rng.choice(BRANCHES),
        phone=phone,
        source_page=rng.choice(PAGES),
        utm_source=source,
        at=utcnow() - timedelta(minutes=rng.randrange(60 * 24 * 100)),
    )


def appointment_step(rng: random.Random, admin: int, lead, appointments) -> str:
    """Book (now, so it can be marked at once), or mark attended or no-show, or cancel."""
    mine = [row for row in appointments if row.lead_id == lead.id and row.status == "booked"]
    if not mine or rng.random() < 0.4:
        book_appointment(
            actor(admin),
            lead.id,
            starts_at=utcnow() - timedelta(minutes=rng.randrange(1, 10)),
            minutes=30,
            kind="clinic",
            address=None,
            clinician_id=None,
            note=None,
            expected_version=lead.version,
        )
        return "book"
    appointment = rng.choice(mine)
    outcome = rng.choice(["attend", "attend", "attend", "no_show", "cancel"])
    if outcome == "attend":
        mark_attended(actor(admin), lead.id, appointment.id, expected_sequence=None)
    elif outcome == "no_show":
        mark_no_show(actor(admin), lead.id, appointment.id, expected_sequence=None)
    else:
        cancel_appointment(actor(admin), lead.id, appointment.id, "Unwell", expected_sequence=None)
    return outcome


def one_step(app: Flask, rng: random.Random, admin: int, phones: list[str]) -> str:
    """One operation picked at random; what it was ("web", "status", "book", ..., "none" when
    there was nothing to do, "<kind> refused" when the operation refused)."""
    with app.app_context():
        leads = db.session.execute(
            select(Lead.id, Lead.branch_id, Lead.status, Lead.version).where(
                Lead.merged_into_id.is_(None), Lead.erased_at.is_(None)
            )
        ).all()
        appointments = db.session.execute(
            select(Appointment.id, Appointment.lead_id, Appointment.status)
        ).all()
    choice = rng.choice(
        [
            *("web", "web", "desk", "status", "status", "bulk"),
            *("appointment", "appointment", "appointment", "merge", "merge", "erase", "retention"),
        ]
    )
    # a repeat of an earlier number joins that person's lead (or reopens a lost one)
    phone = rng.choice(phones) if phones and rng.random() < 0.3 else None
    if choice in ("web", "desk") or not leads:
        made = web_lead(app, rng, phone) if choice != "desk" else desk_lead(app, rng, admin, phone)
        with app.app_context():
            phones.append(db.session.get(Lead, made).phone)
        return choice
    lead = rng.choice(leads)
    waiting = {row.lead_id for row in appointments if row.status == "booked"}
    if choice == "appointment" and waiting and rng.random() < 0.6:
        # most leads have no appointment to mark: often take one that has
        lead = rng.choice([row for row in leads if row.id in waiting] or [lead])
    with app.app_context():
        try:
            if choice == "status":
                targets = sorted(TRANSITIONS[lead.status])
                if not targets:
                    return "none"
                target = rng.choice(targets)
                reason = "price" if target == "lost" else None
                change_status(
                    actor(admin), lead.id, target, expected_version=lead.version, lost_reason=reason
                )
            elif choice == "bulk":
                ids = [other.id for other in rng.sample(leads, min(3, len(leads)))]
                bulk_change_status(actor(admin), ids, rng.choice(["contacted", "spam", "lost"]))
            elif choice == "appointment":
                choice = appointment_step(rng, admin, lead, appointments)
            elif choice == "merge":
                same = [o for o in leads if o.branch_id == lead.branch_id and o.id != lead.id]
                if not same:
                    return "none"
                other = rng.choice(same)
                merge_leads(
                    actor(admin),
                    lead.id,
                    other.id,
                    survivor_version=lead.version,
                    merged_version=other.version,
                )
            elif choice == "erase":
                erase_lead(actor(admin), lead.id)
            else:
                # every lost or spam lead is past the retention period a year from now
                purge_expired(now=utcnow() + timedelta(days=365))
        except WorkflowError:
            return f"{choice} refused"
    return choice


def walk(
    app: Flask, rng: random.Random, admin: int, steps: int, first_leads: int = 6
) -> Iterator[tuple[int, Counter[str]]]:
    """``first_leads`` website leads, then ``steps`` operations by ``admin``, one at a time:
    after each, its number and what was done so far, so that the caller checks its aggregate
    against a recount at every step."""
    phones: list[str] = []
    for _ in range(first_leads):
        made = web_lead(app, rng, None)
        with app.app_context():
            phones.append(db.session.get(Lead, made).phone)
    done: Counter[str] = Counter()
    for step in range(steps):
        done[one_step(app, rng, admin, phones)] += 1
        yield step, done
