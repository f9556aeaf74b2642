"""The funnel and pages counts kept per branch and day (``lead_funnel_day``) stay equal to a
recount from the leads, their enquiries and their appointments, whatever happens; and the
dashboard's windows read from them equal a count of the leads created since the moment."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text, update

from crm.leads.appointments import book_appointment, cancel_appointment, mark_attended, mark_no_show
from crm.leads.capture import Submission, capture_lead
from crm.leads.funnel_days import DAY_ZONE, counts_since
from crm.leads.merge import merge_leads
from crm.leads.pipeline import TRANSITIONS
from crm.leads.privacy import erase_lead
from crm.leads.retention import purge_expired
from crm.leads.workflow import WorkflowError, bulk_change_status, change_status
from crm.models import Appointment, Branch, Enquiry, Lead, LeadFunnelDay, StaffUser
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.staff_helpers import make_lead, make_staff

BRANCHES = ("bengaluru", "hyderabad")
PAGES = ("/", "/blog/back-pain", "/blog/back-pain?utm_source=x", "/branches/hyderabad", None)
SOURCES = (None, "google", "instagram")
BOOKED = {"appointment_booked", "visited"}
BEFORE = "c7d3e9a1f4b8"  # the revision before migration e1f5a7c3b9d2

Key = tuple[int, object, str, str, str]


def kept(app: Flask) -> dict[Key, tuple[int, int, int, int]]:
    """The kept rows that hold leads; a row all of whose leads moved away stays at nought."""
    with app.app_context():
        rows = db.session.execute(select(LeadFunnelDay)).scalars().all()
        found = {}
        for row in rows:
            counts = (row.leads, row.contacted, row.booked, row.attended)
            assert min(counts) >= 0 and max(counts) <= row.leads, (row.day, counts)
            if row.leads:
                found[row.branch_id, row.day, row.source, row.channel, row.page] = counts
        return found


def _reference_leads(app: Flask) -> list[dict[str, object]]:
    """Each counted lead as the dashboard defined it before anything was kept: its first
    enquiry's page (lowest id) and its appointments read from their own tables."""
    with app.app_context():
        leads = db.session.scalars(
            select(Lead).where(Lead.merged_into_id.is_(None), Lead.status != "spam")
        ).all()
        first_page: dict[int, str | None] = {}
        for lead_id, page in db.session.execute(
            select(Enquiry.lead_id, Enquiry.source_page).order_by(Enquiry.id)
        ):
            first_page.setdefault(lead_id, page)
        had, came = set(), set()
        for lead_id, status in db.session.execute(select(Appointment.lead_id, Appointment.status)):
            had.add(lead_id)
            if status == "attended":
                came.add(lead_id)
        found = []
        for lead in leads:
            booked = lead.status in BOOKED or lead.id in had
            found.append(
                {
                    "branch_id": lead.branch_id,
                    "created_at": lead.created_at,
                    "source": lead.source,
                    "channel": lead.channel,
                    "page": first_page.get(lead.id),
                    "counts": (
                        1,
                        int(lead.first_response_at is not None or booked),
                        int(booked),
                        int(lead.status == "visited" or lead.id in came),
                    ),
                }
            )
        return found


def _stored_page(page: str | None) -> str:
    return "" if page is None else page or "/"


def _add(tallies: dict, key: tuple, counts: tuple[int, ...]) -> None:
    tallies[key] = tuple(a + b for a, b in zip(tallies.get(key, (0, 0, 0, 0)), counts, strict=True))


def recounted(app: Flask) -> dict[Key, tuple[int, int, int, int]]:
    tallies: dict = {}
    for lead in _reference_leads(app):
        day = lead["created_at"].astimezone(ZoneInfo("Asia/Kolkata")).date()
        key = (lead["branch_id"], day, lead["source"], lead["channel"], _stored_page(lead["page"]))
        _add(tallies, key, lead["counts"])
    return tallies


def windows_recounted(app: Flask, since: datetime) -> dict[tuple, tuple[int, int, int, int]]:
    tallies: dict = {}
    for lead in _reference_leads(app):
        if lead["created_at"] >= since:
            key = (lead["branch_id"], lead["source"], lead["channel"], _stored_page(lead["page"]))
            _add(tallies, key, lead["counts"])
    return tallies


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
    """One operation picked at random, through the functions the staff pages and jobs call."""
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


def assert_windows_match(app: Flask, rng: random.Random, admin: int, manager: int) -> None:
    """Windows starting at moments all through the day (so the edge day is read from either
    side) equal a count of the leads created since then, for an admin and for a manager."""
    with app.app_context():
        branch_ids = list(db.session.scalars(select(Branch.id).order_by(Branch.id)))
        manager_branch = actor(manager).branch_id
        for _ in range(4):
            since = [utcnow() - timedelta(minutes=rng.randrange(60 * 24 * 95)) for _ in range(2)]
            everyone = counts_since(actor(admin), branch_ids, since)
            theirs = counts_since(actor(manager), [manager_branch], since[:1])
            for moment, window in zip(since, everyone, strict=True):
                assert {k: tuple(v) for k, v in window.items()} == windows_recounted(app, moment)
            assert {k: tuple(v) for k, v in theirs[0].items()} == {
                key: counts
                for key, counts in windows_recounted(app, since[0]).items()
                if key[0] == manager_branch
            }


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_kept_counts_equal_a_recount_after_random_operations(app, seed):
    rng = random.Random(seed)
    admin = make_staff(app, "admin", None, name="Ada Admin")
    manager = make_staff(app, "manager", "hyderabad", name="Hari Manager")
    phones: list[str] = []
    for _ in range(6):
        made = web_lead(app, rng, None)
        with app.app_context():
            phones.append(db.session.get(Lead, made).phone)
    done: Counter[str] = Counter()
    for step in range(80):
        done[one_step(app, rng, admin, phones)] += 1
        assert kept(app) == recounted(app), done
        if step % 20 == 19:
            assert_windows_match(app, rng, admin, manager)
    # the sequence really did each kind of change
    for kind in ("web", "desk", "status", "book", "attend", "merge", "erase", "retention"):
        assert done[kind], done


def test_a_change_of_created_at_or_branch_moves_the_lead(app):
    """Writers outside the operations (a correction in SQL, say) move the counts too."""
    lead_id = make_lead(app, "bengaluru", source_page="/blog/back-pain")
    with app.app_context():
        hyderabad = db.session.scalar(select(Branch.id).where(Branch.slug == "hyderabad"))
        db.session.execute(
            update(Lead)
            .where(Lead.id == lead_id)
            .values(branch_id=hyderabad, created_at=utcnow() - timedelta(days=40))
        )
        db.session.execute(
            update(Enquiry).where(Enquiry.lead_id == lead_id).values(source_page="/about")
        )
        db.session.commit()
    assert kept(app) == recounted(app)
    ((key, counts),) = kept(app).items()
    assert key[0] == hyderabad and key[4] == "/about" and counts == (1, 0, 0, 0)
    with app.app_context():
        db.session.execute(text("DELETE FROM lead_event WHERE lead_id = :id"), {"id": lead_id})
        db.session.execute(text("DELETE FROM outbox_email WHERE lead_id = :id"), {"id": lead_id})
        db.session.execute(text("DELETE FROM enquiry WHERE lead_id = :id"), {"id": lead_id})
        db.session.execute(text("DELETE FROM lead WHERE id = :id"), {"id": lead_id})
        db.session.commit()
    assert kept(app) == recounted(app) == {}


def test_the_day_is_the_report_zones_to_the_second(app):
    """A lead at 23:59:59.9995 clinic time is counted on that day, not the next (SQLite's date
    functions round to the millisecond), and one at midnight on the next."""
    zone = ZoneInfo("Asia/Kolkata")
    midnight = datetime(2026, 6, 10, tzinfo=zone).astimezone(ZoneInfo("UTC"))
    make_lead(app, "bengaluru", at=midnight - timedelta(microseconds=400))
    make_lead(app, "bengaluru", at=midnight)
    days = sorted(key[1].isoformat() for key in kept(app))
    assert days == ["2026-06-09", "2026-06-10"]
    with app.app_context():
        # each intake wrote its lead's row once: no row left behind at nought
        assert len(db.session.scalars(select(LeadFunnelDay)).all()) == 2
    assert kept(app) == recounted(app)


def test_the_report_zone_keeps_the_offset_the_sqlite_triggers_use():
    """Migration e1f5a7c3b9d2 counts days at UTC+05:30 on SQLite (it has no zone database)."""
    assert str(DAY_ZONE) == "Asia/Kolkata"
    start = datetime(2000, 1, 1, tzinfo=ZoneInfo("UTC"))
    offsets = {
        (start + timedelta(days=day)).astimezone(DAY_ZONE).utcoffset() for day in range(0, 40000, 7)
    }
    assert offsets == {timedelta(hours=5, minutes=30)}


def test_upgrade_counts_the_leads_already_there(app):
    """The migration fills in each lead's first page and appointments and counts existing
    leads, including ones written while the triggers did not exist."""
    rng = random.Random(5)
    admin = make_staff(app, "admin", None, name="Ada Admin")
    phones: list[str] = []
    for _ in range(8):
        web_lead(app, rng, None)
    for _ in range(25):
        one_step(app, rng, admin, phones)
    with app.app_context():
        downgrade(revision=BEFORE)
        # Written with no triggers to keep anything: a lead, its enquiry and its appointment.
        db.session.execute(
            text(
                "INSERT INTO lead (branch_id, name, phone, source, channel, status, created_at,"
                " updated_at, last_enquiry_at, enquiry_count, version)"
                " SELECT id, 'Old Lead', '+919811100000', 'google', 'web', 'contacted',"
                " :at, :at, :at, 1, 1 FROM branch WHERE slug = 'hyderabad'"
            ),
            {"at": utcnow() - timedelta(days=3)},
        )
        old = db.session.scalar(text("SELECT max(id) FROM lead"))
        db.session.execute(
            text(
                "INSERT INTO enquiry (lead_id, name, source_page, consent_version, consented_at,"
                " submission_token, created_at)"
                " VALUES (:lead, 'Old Lead', '/blog/old', '2026-11-01', :at, 'old-token', :at)"
            ),
            {"lead": old, "at": utcnow() - timedelta(days=3)},
        )
        db.session.execute(
            text(
                "INSERT INTO appointment (lead_id, branch_id, starts_at, minutes, kind, status,"
                " uid, sequence, created_at, updated_at)"
                " SELECT id, branch_id, :at, 30, 'clinic', 'attended', 'old-uid', 0, :at, :at"
                " FROM lead WHERE id = :lead"
            ),
            {"lead": old, "at": utcnow() - timedelta(days=2)},
        )
        db.session.commit()
        upgrade()
        db.session.remove()
        lead = db.session.get(Lead, old)
        assert (lead.first_page, lead.had_appointment, lead.attended_appointment) == (
            "/blog/old",
            True,
            True,
        )
    found = kept(app)
    assert found == recounted(app)
    assert sum(counts[0] for counts in found.values()) == len(_reference_leads(app)) >= 4
    # and the triggers keep counting after it
    for _ in range(10):
        one_step(app, rng, admin, phones)
    assert kept(app) == recounted(app)


def test_the_dashboard_reads_the_kept_rows(app):
    manager = make_staff(app, "manager", "bengaluru", name="Bina Manager")
    make_lead(app, "bengaluru", source_page="/blog/back-pain", utm_source="google")
    from crm.leads.content import content_figures
    from crm.leads.dashboard import dashboard_figures

    with app.app_context():
        db.session.execute(
            update(LeadFunnelDay)
            .where(LeadFunnelDay.leads > 0)
            .values(leads=LeadFunnelDay.leads + 10)
        )
        figures = dashboard_figures(actor(manager), utcnow())
        assert [(f.label, f.new) for f in figures.funnel_by_source] == [("google", 11)]
        assert figures.leads_per_day[-1][1] == 11
        pages = defaultdict(int)
        for table in content_figures(actor(manager), utcnow()):
            for row in table.rows:
                pages[table.days, row.path] += row.enquiries
        assert pages[30, "/blog/back-pain"] == pages[90, "/blog/back-pain"] == 11
        db.session.rollback()
