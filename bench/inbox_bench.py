"""How long the staff inbox takes to read a page, and the dashboard its figures, at a million leads.

    .venv/bin/python bench/inbox_bench.py [--leads 1000000]

Prints the time per inbox page (median of repeated runs) for the first page, a page deep in
the list (via the keyset cursor), common filters and searches.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from dataset import build  # bench/ is on sys.path when this file is run
from sqlalchemy import select

from crm import create_app
from crm.database import utcnow
from crm.extensions import db
from crm.leads.dashboard import dashboard_figures
from crm.leads.inbox import InboxFilters, inbox_page
from crm.models import StaffUser

RESULTS = Path(__file__).resolve().parent / "results"


def timed(function, repeat: int = 7) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=1_000_000)
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    path = build(RESULTS / f"bench-{args.leads}.sqlite3", args.leads)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", "SECRET_KEY": "bench"})
    with app.app_context():
        for role, branch_id in (("manager", 1), ("admin", None)):
            user = StaffUser(
                email=f"{role}@bench.example",
                name=role,
                role=role,
                branch_id=branch_id,
                password_hash="x",
                active=True,
            )
            if not db.session.scalar(select(StaffUser).where(StaffUser.email == user.email)):
                db.session.add(user)
        db.session.commit()
        manager = db.session.scalar(select(StaffUser).where(StaffUser.role == "manager"))
        admin = db.session.scalar(select(StaffUser).where(StaffUser.role == "admin"))
        now = utcnow()

        def page(user, filters=None, after=None):
            filters = filters or InboxFilters()
            return inbox_page(user, filters, after=after, limit=50, now=now, target_minutes=120)

        deep = None
        cursor = None
        for _ in range(200):  # walk 200 pages in, to time a page 10,000 rows deep
            cursor = page(manager, after=cursor).next_cursor
        deep = cursor

        cases = {
            "first page, one branch": lambda: page(manager),
            "page 201 (10,000 rows in), one branch": lambda: page(manager, after=deep),
            "first page, admin, all branches": lambda: page(admin),
            "status = new": lambda: page(manager, InboxFilters(status="new")),
            "open leads": lambda: page(manager, InboxFilters(status="open")),
            "search by whole phone": lambda: page(manager, InboxFilters(text="+919800012345")),
            "search by email": lambda: page(manager, InboxFilters(text="person12344@example.com")),
            "search by name, common": lambda: page(manager, InboxFilters(text="Meera")),
            "search by name, no match (full scan)": lambda: page(
                manager, InboxFilters(text="Nobody Here")
            ),
            "search by part of a phone (full scan)": lambda: page(
                manager, InboxFilters(text="0012345")
            ),
        }
        print(f"inbox at {args.leads:,} leads (50 rows a page, median of 7 runs)")
        for label, case in cases.items():
            print(f"  {label:<42} {timed(case):8.1f} ms")
        print("dashboard figures (median of 3 runs)")
        for label, user in (("one branch", manager), ("admin, all branches", admin)):
            print(f"  {label:<42} {timed(lambda u=user: dashboard_figures(u, now), 3):8.1f} ms")


if __name__ == "__main__":
    main()
