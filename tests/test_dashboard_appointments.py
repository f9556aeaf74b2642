"""The dashboard's appointment figures over HTTP: today's appointments in each branch's zone, the
no-show rate over 30 days, and the funnel new → contacted → booked → attended by branch and by
source. The expected figures are worked out here from the data each test makes."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from crm.models import Branch, Lead
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.appointment_helpers import add_appointment
from tests.staff_helpers import enter_as, make_lead, make_staff

# Far from India and from UTC, so "today" at Bengaluru is not the server's nor Hyderabad's day.
FAR_ZONE = ZoneInfo("Pacific/Kiritimati")


@dataclass
class Spec:
    branch: str
    source: str | None
    status: str = "new"
    answered: bool = False
    appointments: list[str] = field(default_factory=list)  # their statuses, in the past week
    days_old: int = 3

    @property
    def label(self) -> str:
        return self.source or "direct"

    # How far the lead got, by the dashboard's own words: contacted = answered (or further);
    # booked = given an appointment or marked booked; attended = came to one or marked visited.
    @property
    def attended(self) -> bool:
        return self.status == "visited" or "attended" in self.appointments

    @property
    def booked(self) -> bool:
        return self.status in {"appointment_booked", "visited"} or bool(self.appointments)

    @property
    def contacted(self) -> bool:
        return self.answered or self.booked

    @property
    def counted(self) -> bool:
        return self.status != "spam" and self.days_old <= 30


SPECS = [
    Spec("bengaluru", "google"),
    Spec("bengaluru", "google", "contacted", answered=True),
    Spec("bengaluru", "google", "lost", answered=True, appointments=["cancelled"]),
    Spec("bengaluru", "google", "contacted", answered=True, appointments=["no_show"]),
    Spec("bengaluru", "google", "visited", answered=True, appointments=["attended"]),
    Spec("bengaluru", None, "appointment_booked", answered=True, appointments=["booked"]),
    Spec("bengaluru", None, "visited", answered=True, appointments=["no_show", "attended"]),
    Spec("bengaluru", None, "contacted", answered=True),
    Spec("bengaluru", "instagram", "visited", answered=True),  # marked visited by hand
    Spec("bengaluru", "google", "spam", answered=True),
    Spec("bengaluru", "google", "visited", answered=True, days_old=40),
    Spec("hyderabad", "google", "visited", answered=True, appointments=["attended"]),
    Spec("hyderabad", "google", "contacted", answered=True, appointments=["no_show"]),
    Spec("hyderabad", None),
]


def make_specs(app, specs: list[Spec]) -> list[int]:
    now = utcnow()
    ids = []
    for number, spec in enumerate(specs):
        lead_id = make_lead(
            app,
            spec.branch,
            name=f"Person {number}",
            utm_source=spec.source,
            at=now - timedelta(days=spec.days_old),
        )
        with app.app_context():
            db.session.execute(
                update(Lead)
                .where(Lead.id == lead_id)
                .values(
                    status=spec.status,
                    lost_reason="price" if spec.status == "lost" else None,
                    first_response_at=now - timedelta(days=spec.days_old)
                    if spec.answered
                    else None,
                )
            )
            db.session.commit()
        for days_ago, status in enumerate(spec.appointments, start=1):
            add_appointment(app, lead_id, now - timedelta(days=days_ago), status)
        ids.append(lead_id)
    return ids


def funnel_rows(page: str) -> dict[str, dict[str, str]]:
    """Each funnel row of the page: its cells' text by step, e.g. {"booked": "3 (75%)"}."""
    rows = {}
    for key, cells in re.findall(r'<tr data-funnel="([^"]+)">(.*?)</tr>', page, re.DOTALL):
        found = re.findall(r'data-step="(\w+)">(.*?)</td>', cells, re.DOTALL)
        rows[key] = {step: " ".join(re.sub(r"<[^>]+>", "", text).split()) for step, text in found}
    return rows


def percent(part: int, whole: int) -> str:
    return f"{part / whole * 100:.0f}%" if whole else "–"


def expected_funnel(specs: list[Spec]) -> dict[str, dict[str, str]]:
    tallies: dict[str, Counter[str]] = {}
    for spec in specs:
        if not spec.counted:
            continue
        # Every lead here came through the website form.
        for row in (
            f"branch:{spec.branch.capitalize()}",
            f"source:{spec.label}",
            "channel:Website",
        ):
            tally = tallies.setdefault(row, Counter())
            tally["new"] += 1
            tally["contacted"] += spec.contacted
            tally["booked"] += spec.booked
            tally["attended"] += spec.attended
    steps = ["new", "contacted", "booked", "attended"]
    return {
        row: {
            "new": str(t["new"]),
            **{
                step: f"{t[step]} ({percent(t[step], t[before])})"
                for before, step in pairwise(steps)
            },
            "rate": percent(t["attended"], t["new"]),
        }
        for row, t in tallies.items()
    }


def test_the_funnel_counts_each_step_by_branch_and_by_source(app):
    make_specs(app, SPECS)
    manager = enter_as(app.test_client(), app, make_staff(app, "manager", "bengaluru"))
    rows = funnel_rows(manager.get("/staff/").get_data(as_text=True))
    assert rows == expected_funnel([spec for spec in SPECS if spec.branch == "bengaluru"])
    # The figures are not all alike, so a step counted wrongly shows.
    assert len({cells["booked"] for cells in rows.values()}) > 1


def test_an_admin_sees_the_funnel_of_both_branches_and_sources_added_up(app):
    make_specs(app, SPECS)
    admin = enter_as(app.test_client(), app, make_staff(app, "admin", None))
    rows = funnel_rows(admin.get("/staff/").get_data(as_text=True))
    assert rows == expected_funnel(SPECS)
    assert {"branch:Bengaluru", "branch:Hyderabad", "source:google"} <= set(rows)


def test_the_no_show_rate_counts_decided_appointments_of_the_last_30_days(app):
    now = utcnow()
    [lead_id] = make_specs(app, [Spec("bengaluru", None, "contacted", answered=True)])
    [other] = make_specs(app, [Spec("hyderabad", None, "contacted", answered=True)])
    made = [
        (1, "no_show"),
        (2, "attended"),
        (3, "attended"),
        (10, "no_show"),
        (29, "attended"),
        (5, "cancelled"),  # never counts
        (6, "booked"),  # no outcome recorded yet
        (31, "no_show"),  # outside the window
        (-1, "booked"),  # tomorrow
    ]
    for days_ago, status in made:
        add_appointment(app, lead_id, now - timedelta(days=days_ago), status)
    for days_ago in (1, 2, 3):
        add_appointment(app, other, now - timedelta(days=days_ago), "no_show")
    window = [status for days_ago, status in made if 0 <= days_ago <= 30]
    no_shows, attended = window.count("no_show"), window.count("attended")

    agent = enter_as(app.test_client(), app, make_staff(app, "agent", "bengaluru"))
    page = agent.get("/staff/").get_data(as_text=True)
    figure = re.search(r'data-figure="no-show-rate">([^<]*)<', page).group(1)
    assert figure == percent(no_shows, no_shows + attended)
    assert f"({no_shows} of {no_shows + attended} appointments with an outcome)" in page
    assert f"{window.count('booked')} past appointment still without an outcome" in page

    admin = enter_as(app.test_client(), app, make_staff(app, "admin", None))
    page = admin.get("/staff/").get_data(as_text=True)
    everyone = no_shows + 3, attended
    figure = re.search(r'data-figure="no-show-rate">([^<]*)<', page).group(1)
    assert figure == percent(everyone[0], sum(everyone))
    hyderabad = re.search(r'<tr data-no-shows="Hyderabad">(.*?)</tr>', page).group(1)
    assert re.findall(r'class="num">([^<]*)<', hyderabad) == ["3", "0", "100%", "0"]


@pytest.fixture
def far_bengaluru(app):
    with app.app_context():
        db.session.execute(
            update(Branch).where(Branch.slug == "bengaluru").values(time_zone=FAR_ZONE.key)
        )
        db.session.commit()


def test_todays_appointments_are_the_branchs_own_day_in_its_zone(app, far_bengaluru):
    [lead_id] = make_specs(app, [Spec("bengaluru", None, "appointment_booked", answered=True)])
    [theirs] = make_specs(app, [Spec("hyderabad", None, "appointment_booked", answered=True)])
    today = utcnow().astimezone(FAR_ZONE).date()

    def local(day, hh, mm):
        return datetime.combine(day, time(hh, mm), FAR_ZONE)

    early = add_appointment(app, lead_id, local(today, 0, 15), "booked")
    late = add_appointment(app, lead_id, local(today, 23, 30), "attended")
    add_appointment(app, lead_id, local(today, 12, 0), "cancelled")
    add_appointment(app, lead_id, local(today - timedelta(days=1), 23, 45), "booked")
    add_appointment(app, lead_id, local(today + timedelta(days=1), 0, 0), "booked")
    india_today = utcnow().astimezone(ZoneInfo("Asia/Kolkata")).date()
    hyderabad = add_appointment(
        app, theirs, datetime.combine(india_today, time(12, 0), ZoneInfo("Asia/Kolkata"))
    )

    agent = enter_as(app.test_client(), app, make_staff(app, "agent", "bengaluru"))
    page = agent.get("/staff/").get_data(as_text=True)
    table = re.search(r'<table class="data" data-today="bengaluru">.*?</table>', page, re.DOTALL)
    listed = re.findall(
        r'<tr data-appointment="(\d+)">.*?<time[^>]*>([^<]*)<', table.group(0), re.DOTALL
    )
    assert listed == [(str(early), "00:15"), (str(late), "23:30")]
    assert f"{today:%a %d %b}: 2 appointments" in table.group(0)
    assert 'data-today="hyderabad"' not in page
    assert f'data-appointment="{hyderabad}"' not in page

    admin = enter_as(app.test_client(), app, make_staff(app, "admin", None))
    page = admin.get("/staff/").get_data(as_text=True)
    assert re.findall(r'data-today="(\w+)"', page) == ["bengaluru", "hyderabad"]
    assert f'data-appointment="{hyderabad}"' in page
    assert "/staff/appointments?branch=hyderabad" in page
