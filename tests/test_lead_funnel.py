"""The funnel and pages counts kept per branch and day (``lead_funnel_day``) stay equal to a
recount from the leads, their enquiries and their appointments, whatever happens; and the
dashboard's windows read from them equal a count of the leads created since the moment."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import select, text, update

from crm.leads.funnel_days import DAY_ZONE, counts_since
from crm.models import Appointment, Branch, Enquiry, Lead, LeadFunnelDay
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.lead_walk import actor, one_step, walk, web_lead
from tests.staff_helpers import make_lead, make_staff

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
    for step, done in walk(app, rng, admin, 80):
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
