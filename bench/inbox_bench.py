"""Triage at scale: the staff inbox and dashboard at 10,000 and at 1,000,000 leads.

    .venv/bin/python bench/inbox_bench.py [--leads 10000 1000000] [--repeat 25]
        [--only-searches | --only-dashboard] [--cpu] [--postgres [--times 10]]

For each size, over two branches, times (a) the query functions alone (``inbox_page``,
``dashboard_figures``) and (b) the whole page through the Flask test client, signed in through
the real sign-in form: the first page, a page 200 pages deep (the keyset cursor followed 200
times; at 10,000 leads the list is shorter, so the last page), a branch and status filter, and
the dashboard, and searches (a common name, a phrase in every message: the count stops at
``crm.leads.inbox.COUNTED``).

The data and the clock are pinned to ``dataset.END``, so "the last 30 days" on the dashboard
hold the same share of leads whenever this runs. Prints p50 and p95 (ms) per case, and the
1M/10k ratio of the p50s when both sizes run. With ``--cpu`` the times are this process's CPU
time instead of the wall clock (lines marked ``"clock": "cpu"``): on a shared machine under
load, wall times move by a factor of two or more from run to run, CPU time much less.

With ``--postgres`` the same runs on a throwaway PostgreSQL cluster, each size's SQLite data
copied in (``pgcopy``); ``--times 10`` repeats it there, so 100,000 built leads make a million
(the figures' ``leads`` is the number on PostgreSQL). Lines carry ``"database"``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from unittest import mock
from urllib.parse import urlencode

from benchkit import RESULTS, csrf_token, emit, note, percentile, time_ms
from dataset import END, build
from flask import Flask
from flask.testing import FlaskClient
from pgcopy import copied, postgres_cluster
from sqlalchemy import select

from crm import create_app
from crm.accounts.staff import hash_password
from crm.leads.dashboard import dashboard_figures
from crm.leads.filters import LeadFilters
from crm.leads.inbox import Cursor, inbox_page
from crm.models import StaffUser
from crm.platform.extensions import db

BENCH = "triage"
PASSWORD = "bench password, not a secret"  # noqa: S105 (benchmark accounts only)
PAGE_SIZE = 50
DATABASE = "sqlite"  # or "postgresql" (--postgres)
DEPTH = 200
CLOCK = {"wall": time.perf_counter, "cpu": time.process_time}
clock = "wall"


@dataclass(frozen=True)
class Case:
    name: str
    role: str  # "manager" (one branch) or "admin" (all branches)
    filters: LeadFilters
    deep: bool = False


CASES = [
    Case("first_page", "manager", LeadFilters()),
    Case("deep_page", "manager", LeadFilters(), deep=True),
    Case("admin_first_page", "admin", LeadFilters()),
    Case("branch_status_first_page", "admin", LeadFilters(branch="bengaluru", status="new")),
    Case(
        "branch_status_deep_page",
        "admin",
        LeadFilters(branch="bengaluru", status="new"),
        deep=True,
    ),
    Case("status_open_first_page", "manager", LeadFilters(status="open")),
]
SEARCHES = {
    "search_whole_phone": LeadFilters(text="+919800001234"),
    "search_email": LeadFilters(text="person1234@example.com"),
    "search_name_common": LeadFilters(text="Meera"),
    "search_name_no_match": LeadFilters(text="Nobody Here"),
    "search_part_of_phone": LeadFilters(text="0001234"),
    # every enquiry in the data set says this: the worst case for an index of words
    "search_message_every_lead": LeadFilters(text="after 6 pm"),
}


def staff(app: Flask) -> dict[str, StaffUser]:
    """A Bengaluru manager and an admin who sign in with ``PASSWORD``."""
    password_hash = hash_password(PASSWORD)
    people = {}
    with app.app_context():
        for role, branch_id in (("manager", 1), ("admin", None)):
            email = f"{role}@bench.example"
            person = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
            if person is None:
                person = StaffUser(email=email, name=role.title(), role=role, branch_id=branch_id)
                db.session.add(person)
            person.password_hash = password_hash
            person.active = True
            people[role] = person
        db.session.commit()
        for person in people.values():
            db.session.refresh(person)
            # The filters read the manager's branch after this session is gone.
            _ = person.branch
            db.session.expunge(person)
    return people


def signed_in(app: Flask, person: StaffUser) -> FlaskClient:
    client = app.test_client()
    token = csrf_token(client.get("/staff/login").get_data(as_text=True))
    answer = client.post(
        "/staff/login", data={"email": person.email, "password": PASSWORD, "csrf_token": token}
    )
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in as {person.email} answered {answer.status_code}")
    return client


def page(person: StaffUser, filters: LeadFilters, after: Cursor | None = None):  # type: ignore[no-untyped-def]
    return inbox_page(person, filters, after=after, limit=PAGE_SIZE, now=END, target_minutes=120)


def deep_cursor(person: StaffUser, filters: LeadFilters) -> tuple[Cursor | None, int]:
    """The cursor of the page ``DEPTH`` pages in, or of the last page if there are fewer."""
    cursor, depth = None, 0
    while depth < DEPTH:
        following = page(person, filters, cursor).next_cursor
        if following is None:
            break
        cursor, depth = following, depth + 1
    return cursor, depth


def query_samples(call: Callable[[], object], repeat: int) -> list[float]:
    """Each call in a fresh session, as each request gets one."""

    def fresh() -> None:
        call()
        db.session.remove()

    return time_ms(fresh, repeat, clock=CLOCK[clock])


def inbox_url(filters: LeadFilters, cursor: Cursor | None) -> str:
    query = {"status": filters.status, "branch": filters.branch, "q": filters.text}
    if cursor is not None:
        query["after"] = cursor.encode()
    return "/staff/leads?" + urlencode({key: value for key, value in query.items() if value})


def render_samples(client: FlaskClient, url: str, repeat: int) -> list[float]:
    def fetch() -> None:
        answer = client.get(url)
        if answer.status_code != 200:
            raise RuntimeError(f"{url} answered {answer.status_code}")

    return time_ms(fetch, repeat, clock=CLOCK[clock])


def report(leads: int, kind: str, case: str, samples: list[float], **extra: object) -> float:
    p50 = statistics.median(samples)
    extra = {"database": DATABASE, **extra}
    if clock != "wall":
        extra["clock"] = clock
    emit(BENCH, f"{kind}_p50", p50, "ms", leads=leads, case=case, **extra)
    emit(BENCH, f"{kind}_p95", percentile(samples, 0.95), "ms", leads=leads, case=case, **extra)
    note(f"  {leads:>9,} {kind:<7} {case:<26} p50 {p50:8.1f} ms")
    return p50


def run_size(
    leads: int,
    repeat: int,
    only_searches: bool,
    only_dashboard: bool = False,
    cluster: object = None,
    times: int = 1,
) -> dict[tuple[str, str], float]:
    path = build(RESULTS / f"bench-{leads}.sqlite3", leads)
    url = f"sqlite:///{path}" if cluster is None else copied(cluster, path, leads, times)
    leads *= times
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url,
            "SECRET_KEY": "bench",
            "RATELIMIT_ENABLED": False,
        }
    )
    people = staff(app)
    medians: dict[tuple[str, str], float] = {}
    with (
        mock.patch("crm.staff.inbox_views.utcnow", return_value=END),
        mock.patch("crm.staff.dashboard_views.utcnow", return_value=END),
    ):
        clients = {role: signed_in(app, person) for role, person in people.items()}
        for case in [] if only_searches or only_dashboard else CASES:
            person = people[case.role]
            with app.app_context():
                cursor, depth = deep_cursor(person, case.filters) if case.deep else (None, 0)
                samples = query_samples(
                    lambda p=person, f=case.filters, c=cursor: page(p, f, c), repeat
                )
            extra = {"depth": depth} if case.deep else {}
            medians["query", case.name] = report(leads, "query", case.name, samples, **extra)
            url = inbox_url(case.filters, cursor)
            samples = render_samples(clients[case.role], url, repeat)
            medians["render", case.name] = report(leads, "render", case.name, samples, **extra)
        for role in () if only_searches else ("manager", "admin"):
            person = people[role]
            with app.app_context():
                samples = query_samples(lambda p=person: dashboard_figures(p, END), repeat)
            case = f"dashboard_{role}"
            medians["query", case] = report(leads, "query", case, samples)
            samples = render_samples(clients[role], "/staff/", repeat)
            medians["render", case] = report(leads, "render", case, samples)
        manager = people["manager"]
        for name, filters in {} if only_dashboard else SEARCHES.items():
            with app.app_context():
                samples = query_samples(lambda f=filters: page(manager, f), repeat)
            medians["query", name] = report(leads, "query", name, samples)
            samples = render_samples(clients["manager"], inbox_url(filters, None), repeat)
            medians["render", name] = report(leads, "render", name, samples)
    with app.app_context():
        db.engine.dispose()
    return medians


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--only-searches", action="store_true", help="the search cases alone")
    parser.add_argument("--only-dashboard", action="store_true", help="the dashboard alone")
    parser.add_argument("--cpu", action="store_true", help="CPU time, not wall time")
    parser.add_argument(
        "--postgres", action="store_true", help="on PostgreSQL, each size's data copied in"
    )
    parser.add_argument(
        "--times", type=int, default=1, help="with --postgres: the copied leads this many times"
    )
    args = parser.parse_args()
    global clock
    clock = "cpu" if args.cpu else "wall"
    RESULTS.mkdir(exist_ok=True)
    sizes = sorted(args.leads)
    global DATABASE
    DATABASE = "postgresql" if args.postgres else "sqlite"
    with postgres_cluster() if args.postgres else nullcontext() as cluster:
        by_size = {
            leads: run_size(
                leads, args.repeat, args.only_searches, args.only_dashboard, cluster, args.times
            )
            for leads in sizes
        }
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        for (kind, case), p50 in by_size[large].items():
            emit(
                BENCH,
                f"{kind}_p50_ratio",
                p50 / by_size[small][kind, case],
                "x",
                leads=f"{large * args.times}/{small * args.times}",
                case=case,
                database=DATABASE,
                **({} if clock == "wall" else {"clock": clock}),
            )


if __name__ == "__main__":
    main()
