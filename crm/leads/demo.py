"""A demo CRM: staff for each role and a few hundred leads with believable histories."""

from __future__ import annotations

import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import phonenumbers
from sqlalchemy import func, select

from crm.accounts.staff import create_staff_user
from crm.leads.catalogue import INTERESTS
from crm.leads.operations import record_event
from crm.leads.pipeline import change_lead_status
from crm.models import (
    Branch,
    Enquiry,
    EventKind,
    FollowUp,
    Lead,
    LeadStatus,
    LostReason,
    Role,
    StaffUser,
)
from crm.platform.database import utcnow, write_transaction
from crm.platform.extensions import db

DEMO_DOMAIN = "demo.clinic-crm.example"

FIRST_NAMES = [
    "Aarav",
    "Ananya",
    "Vikram",
    "Priya",
    "Rohan",
    "Sneha",
    "Karthik",
    "Divya",
    "Arjun",
    "Meera",
    "Suresh",
    "Lakshmi",
    "Rahul",
    "Kavya",
    "Imran",
    "Fatima",
    "Joseph",
    "Neha",
    "Sandeep",
    "Pooja",
    "Venkatesh",
    "Swathi",
    "Manoj",
    "Aisha",
    "Harish",
    "Deepa",
    "Nikhil",
    "Shreya",
    "Ganesh",
    "Ritu",
]
SURNAMES = [
    "Sharma",
    "Reddy",
    "Iyer",
    "Nair",
    "Rao",
    "Gowda",
    "Khan",
    "Menon",
    "Patel",
    "Kulkarni",
    "Naidu",
    "Hegde",
    "Das",
    "Pillai",
    "Varma",
    "Shetty",
    "Joshi",
    "Chowdary",
    "D'Souza",
    "Bhat",
]
# Some visitors write their names in their own script.
NATIVE_NAMES = ["अनन्या शर्मा", "राहुल वर्मा", "శ్రీనివాస్ రెడ్డి", "లక్ష్మి నాయుడు", "ಕಾವ್ಯ ಹೆಗ್ಡೆ"]
MESSAGES = [
    "Lower back pain for two weeks after lifting a heavy suitcase.",
    "My mother has knee pain when climbing stairs. Can someone visit at home?",
    "Neck stiffness from long hours at the laptop. Looking for evening slots.",
    "Recovering from ACL surgery, need a rehab plan.",
    "Interested in acupressure for chronic back ache.",
    "Shoulder pain while playing badminton.",
    "",
    "Sciatica pain down my left leg, worse in the morning.",
    "What are the charges for a first consultation?",
    "",
]
PAGES = [
    "/",
    "/blog/acupressure-points-for-back-pain",
    "/blog/desk-posture-neck-pain",
    "/blog/knee-pain-stairs",
    "/contact",
    "/branches/bengaluru",
    "/branches/hyderabad",
]
CAMPAIGNS = [
    {},
    {},
    {"utm_source": "google", "utm_medium": "cpc", "utm_campaign": "back-pain"},
    {"utm_source": "instagram", "utm_medium": "social", "utm_campaign": "acupressure-reel"},
    {"utm_source": "newsletter", "utm_medium": "email", "utm_campaign": "monsoon-care"},
]
STATUS_WEIGHTS = {
    LeadStatus.NEW: 14,
    LeadStatus.CONTACTED: 24,
    LeadStatus.APPOINTMENT_BOOKED: 18,
    LeadStatus.VISITED: 27,
    LeadStatus.LOST: 14,
    LeadStatus.SPAM: 3,
}
STATUSES = list(STATUS_WEIGHTS)
PATH_TO = {
    LeadStatus.NEW: [],
    LeadStatus.CONTACTED: [LeadStatus.CONTACTED],
    LeadStatus.APPOINTMENT_BOOKED: [LeadStatus.CONTACTED, LeadStatus.APPOINTMENT_BOOKED],
    LeadStatus.VISITED: [
        LeadStatus.CONTACTED,
        LeadStatus.APPOINTMENT_BOOKED,
        LeadStatus.VISITED,
    ],
    LeadStatus.LOST: [LeadStatus.CONTACTED, LeadStatus.LOST],
    LeadStatus.SPAM: [LeadStatus.SPAM],
}


@dataclass(frozen=True)
class DemoAccount:
    email: str
    role: str
    branch: str | None
    password: str


def seed_demo(
    leads_per_branch: int = 150, seed: int | None = None
) -> tuple[list[DemoAccount], int]:
    """Create demo staff and leads. Returns the new accounts (with passwords) and leads added."""
    rng = random.Random(seed)
    accounts = _demo_staff()
    if db.session.scalar(select(func.count(Lead.id))):
        return accounts, 0
    now = utcnow()
    added = 0
    with write_transaction() as session:
        for branch in session.scalars(select(Branch).order_by(Branch.sort_order)):
            staff = list(
                session.scalars(
                    select(StaffUser).where(
                        StaffUser.branch_id == branch.id, StaffUser.active.is_(True)
                    )
                )
            )
            for index in range(leads_per_branch):
                # Every stage appears in each branch's demo, however few leads are asked for.
                status = STATUSES[index] if index < len(STATUSES) else _weighted_status(rng)
                _demo_lead(session, rng, branch, staff, now, status)
                added += 1
    return accounts, added


def _demo_staff() -> list[DemoAccount]:
    wanted = [("admin", Role.ADMIN, None)]
    for slug in db.session.scalars(select(Branch.slug).order_by(Branch.sort_order)):
        wanted += [(f"manager.{slug}", Role.MANAGER, slug), (f"agent.{slug}", Role.AGENT, slug)]
    created = []
    for local, role, slug in wanted:
        email = f"{local}@{DEMO_DOMAIN}"
        if db.session.scalar(select(StaffUser.id).where(StaffUser.email == email)):
            continue
        password = secrets.token_urlsafe(12)
        name = local.replace(".", " ").title()
        create_staff_user(email=email, name=name, role=role, branch_slug=slug, password=password)
        created.append(DemoAccount(email, role.value, slug, password))
    return created


def _demo_phone(rng: random.Random) -> str:
    while True:
        candidate = f"+91{rng.choice('6789')}{rng.randrange(10**9):09d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate


def _weighted_status(rng: random.Random) -> LeadStatus:
    return rng.choices(STATUSES, weights=list(STATUS_WEIGHTS.values()))[0]


def _demo_lead(
    session,
    rng: random.Random,
    branch: Branch,
    staff: list[StaffUser],
    now: datetime,
    status: LeadStatus,
) -> None:  # type: ignore[no-untyped-def]
    created = now - timedelta(
        days=rng.uniform(0, 45) if status != LeadStatus.NEW else rng.uniform(0, 3)
    )
    if rng.random() < 0.1:
        name = rng.choice(NATIVE_NAMES)
    else:
        name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
    email = None
    if rng.random() < 0.7:
        email = f"{name.split()[0].lower()}.{rng.randrange(1000, 9999)}@example.com"
        if not email.isascii():
            email = f"visitor.{rng.randrange(10000, 99999)}@example.com"
    interest = rng.choice([*INTERESTS, None])
    first_campaign = rng.choice(CAMPAIGNS)
    agent = (
        rng.choice(staff) if staff and status != LeadStatus.NEW and rng.random() < 0.85 else None
    )
    lead = Lead(
        branch_id=branch.id,
        name=name,
        phone=_demo_phone(rng),
        email=email,
        interest=interest,
        source=first_campaign.get("utm_source", "direct"),
        status=LeadStatus.NEW,
        created_at=created,
        updated_at=created,
        last_enquiry_at=created,
        enquiry_count=0,
    )
    session.add(lead)
    session.flush()
    record_event(session, None, lead, EventKind.CREATED, created, {})

    for index in range(rng.choice([1, 1, 1, 2, 3])):
        at = created + timedelta(days=index * rng.uniform(1, 4))
        if at > now:
            break
        campaign = first_campaign if index == 0 else rng.choice(CAMPAIGNS)
        enquiry = Enquiry(
            lead_id=lead.id,
            name=name,
            phone=lead.phone,
            email=email,
            interest=interest,
            message=rng.choice(MESSAGES) or None,
            source_page=rng.choice(PAGES),
            consent_version="2026-11-01",
            consented_at=at,
            submission_token=secrets.token_urlsafe(24),
            user_agent="Mozilla/5.0 (Linux; Android 14) demo",
            created_at=at,
            **campaign,
        )
        session.add(enquiry)
        session.flush()
        lead.enquiry_count += 1
        lead.last_enquiry_at = at
        detail = {"enquiry_id": enquiry.id, "repeat": index > 0}
        record_event(session, None, lead, EventKind.ENQUIRY, at, detail)

    moment = created
    if agent is not None:
        moment += timedelta(minutes=rng.uniform(5, 90))
        lead.assignee_id = agent.id
        detail = {"to": agent.id, "to_name": agent.name}
        record_event(session, agent, lead, EventKind.ASSIGNED, moment, detail)
    for step in PATH_TO[status]:
        moment = min(now, moment + timedelta(hours=rng.uniform(0.2, 30)))
        reason = rng.choice(list(LostReason)) if step == LeadStatus.LOST else None
        if step == LeadStatus.CONTACTED:
            call = {"outcome": "answered", "note": "Discussed symptoms and timings."}
            record_event(session, agent, lead, EventKind.CALL, moment, call)
        change_lead_status(session, agent, lead, step, now=moment, lost_reason=reason)
    lead.updated_at = max(moment, lead.last_enquiry_at)

    if status in (LeadStatus.CONTACTED, LeadStatus.APPOINTMENT_BOOKED):
        due = now + timedelta(hours=rng.uniform(-72, 96))
        session.add(
            FollowUp(
                lead_id=lead.id,
                assignee_id=agent.id if agent else None,
                due_at=due,
                note=rng.choice(
                    ["Call back after the X-ray report", "Confirm the appointment", None]
                ),
                created_by_id=agent.id if agent else None,
                created_at=moment,
            )
        )
        lead.next_follow_up_at = due
