"""The per-branch status counts (the dashboard's figures, the inbox's "N leads match") stay
equal to a full recount, whatever happens."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from sqlalchemy import func, select, update

from crm.leads.dashboard import dashboard_figures
from crm.leads.filters import ANY, OPEN, LeadFilters, filtered_leads
from crm.leads.inbox import inbox_page
from crm.models import Lead, LeadStatus, LeadStatusCount
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.lead_walk import BRANCHES, actor, walk
from tests.staff_helpers import make_lead, make_staff


def kept(app) -> Counter:
    with app.app_context():
        rows = db.session.execute(
            select(LeadStatusCount.branch_id, LeadStatusCount.status, LeadStatusCount.leads)
        )
        return Counter({(branch, status): leads for branch, status, leads in rows if leads})


def recounted(app) -> Counter:
    with app.app_context():
        rows = db.session.execute(
            select(Lead.branch_id, Lead.status, func.count(Lead.id))
            .where(Lead.merged_into_id.is_(None))
            .group_by(Lead.branch_id, Lead.status)
        )
        return Counter({(branch, status): count for branch, status, count in rows})


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_counts_equal_a_recount_after_random_operations(app, seed):
    rng = random.Random(seed)
    admin = make_staff(app, "admin", None, name="Ada Admin")
    manager = make_staff(app, "manager", "hyderabad", name="Hari Manager")
    for step, done in walk(app, rng, admin, 40):
        assert kept(app) == recounted(app), done
        if step % 10 == 9:
            assert_inbox_counts_match(app, [admin, manager])
    # the sequence really did each kind of change (intake: on the website and at the desk)
    for kind in ("web", "desk", "status", "merge", "erase"):
        assert done[kind], done


def assert_inbox_counts_match(app, people: list[int]) -> None:
    """The inbox's "N leads match", read from the kept rows, equals a count of the leads."""
    now = utcnow()
    with app.app_context():
        for person_id in people:
            person = actor(person_id)
            branches = ("", *BRANCHES) if person.branch_id is None else ("",)
            for status in ("", OPEN, ANY, *LeadStatus):
                for branch in branches:
                    filters = LeadFilters(status=status, branch=branch)
                    query = filtered_leads(person, filters, now).query
                    counted = db.session.scalar(
                        query.with_only_columns(func.count(Lead.id)).order_by(None)
                    )
                    page = inbox_page(
                        person, filters, after=None, limit=1, now=now, target_minutes=120
                    )
                    assert page.matching == counted, (person.role, status, branch)


def test_the_dashboard_counts_come_from_the_kept_rows(app):
    manager = make_staff(app, "manager", "bengaluru", name="Bina Manager")
    for _ in range(3):
        make_lead(app, "bengaluru")
    make_lead(app, "hyderabad")
    with app.app_context():
        assert dashboard_figures(actor(manager), utcnow()).by_status["new"] == 3
        # the figure is read from the kept rows, not recounted from the leads
        db.session.execute(update(LeadStatusCount).values(leads=LeadStatusCount.leads + 10))
        assert dashboard_figures(actor(manager), utcnow()).by_status["new"] == 13
        # and so is the inbox's "N leads match" as it opens
        page = inbox_page(
            actor(manager), LeadFilters(), after=None, limit=1, now=utcnow(), target_minutes=120
        )
        assert page.matching == 13
        db.session.rollback()
