"""First-party page views: daily totals per page, nothing about the visitor, bots left out,
written in batches; and the dashboard's Content panel built on them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import event, inspect, select, update
from sqlalchemy.exc import OperationalError

from crm.models import Lead, PageViewDay
from crm.platform.database import utcnow
from crm.platform.extensions import db
from crm.site.page_views import flush
from tests.appointment_helpers import add_appointment
from tests.dblock import locked_by_another_process
from tests.staff_helpers import enter_as, make_lead, make_staff
from tests.test_site import ARTICLE

BROWSER = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
BOTS = [
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "WhatsApp/2.23.20.0",
    "facebookexternalhit/1.1",
    "curl/8.5.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/131.0.0.0 Safari/537.36 Chrome-Lighthouse",
    "",
]


def views_in_table(app) -> dict[str, int]:  # type: ignore[no-untyped-def]
    with app.app_context():
        return {row.path: row.views for row in db.session.scalars(select(PageViewDay))}


def visit(client, path: str, agent: str = BROWSER):  # type: ignore[no-untyped-def]
    with client.get(path, headers={"User-Agent": agent}) as response:
        return response


def test_people_are_counted_per_page_and_day_bots_and_errors_are_not(app, client):
    for _ in range(3):
        visit(client, ARTICLE)
    visit(client, "/?utm_source=whatsapp")
    visit(client, "/")
    for agent in BOTS:
        visit(client, ARTICLE, agent)
    visit(client, "/no-such-page")
    visit(client, "/sitemap.xml")
    visit(client, "/staff/login")
    with app.app_context():
        assert flush(app) == 5
    assert views_in_table(app) == {ARTICLE: 3, "/": 2}
    with app.app_context():
        (row,) = db.session.scalars(select(PageViewDay).where(PageViewDay.path == "/"))
        assert row.day == utcnow().astimezone(row_zone()).date()


def row_zone():  # type: ignore[no-untyped-def]
    from crm.clinic.branches import DEFAULT_ZONE

    return DEFAULT_ZONE


def test_counting_keeps_nothing_about_the_visitor(app, client):
    def cookie_names(agent: str) -> set[str]:
        response = visit(app.test_client(), "/contact", agent)
        return {value.split("=")[0] for value in response.headers.getlist("Set-Cookie")}

    # A counted visit sets no cookie beyond the form's own session (its CSRF token), which a
    # bot, not counted, gets just the same.
    assert cookie_names(BROWSER) == cookie_names(BOTS[0]) == {"session"}
    with app.app_context():
        columns = {column["name"] for column in inspect(db.engine).get_columns("page_view_day")}
    assert columns == {"id", "day", "path", "views"}


def test_views_wait_in_memory_and_a_flush_adds_to_the_days_total(app, client):
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", record)
    try:
        for _ in range(20):
            visit(client, "/blog/")
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", record)
    # Twenty page views, not one write: nothing to queue behind the form for the write lock.
    assert not [s for s in statements if re.match(r"\s*(INSERT|UPDATE)", s, re.I)]
    assert views_in_table(app) == {}
    with app.app_context():
        assert flush(app) == 20
        visit(client, "/blog/")
        visit(client, "/blog/")
        assert flush(app) == 2
        assert flush(app) == 0
    assert views_in_table(app) == {"/blog/": 22}


@pytest.mark.parametrize("app_config", [{"PAGE_VIEW_FLUSH_SECONDS": 0}])
def test_a_due_batch_is_written_after_the_response(app, client):
    visit(client, "/privacy")
    visit(client, "/privacy")
    assert views_in_table(app) == {"/privacy": 2}


def test_a_busy_database_keeps_the_counts_for_the_next_flush(app, client, database_url):
    app.config["DATABASE_LOCK_TIMEOUT_MS"] = 200
    for _ in range(4):
        visit(client, "/contact")
    with (
        locked_by_another_process(database_url),
        app.app_context(),
        pytest.raises(OperationalError),
    ):
        flush(app)
    with app.app_context():
        db.session.rollback()
        assert flush(app) == 4
    assert views_in_table(app) == {"/contact": 4}


# --- The dashboard's Content panel --------------------------------------------------------------


def content_rows(html: str, table: str) -> dict[str, list[str]]:
    block = re.search(rf'data-content="{re.escape(table)}">(.*?)</table>', html, re.S)
    assert block, table
    return {
        page: re.findall(r'<td class="num">([^<]*)</td>', cells)
        for page, cells in re.findall(r'<tr data-page="([^"]+)">(.*?)</tr>', block.group(1), re.S)
    }


def set_status(app, lead_id: int, status: str) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        db.session.execute(update(Lead).where(Lead.id == lead_id).values(status=status))
        db.session.commit()


def test_the_content_panel_shows_views_enquiries_conversion_and_appointments(app, client):
    now = utcnow()
    for _ in range(8):
        visit(client, ARTICLE)
    for _ in range(4):
        visit(client, "/branches/hyderabad")
    visit(client, "/branches/bengaluru")
    with app.app_context():
        flush(app)
        # Views from 60 days ago count in the 90-day table only.
        db.session.add(PageViewDay(day=(now - timedelta(days=60)).date(), path=ARTICLE, views=12))
        db.session.commit()
    booked = make_lead(app, "bengaluru", source_page=ARTICLE, at=now - timedelta(days=2))
    visited = make_lead(app, "bengaluru", source_page=ARTICLE, at=now - timedelta(days=3))
    make_lead(app, "bengaluru", source_page=f"{ARTICLE}?utm_source=x", at=now - timedelta(days=1))
    spam = make_lead(app, "bengaluru", source_page=ARTICLE, at=now - timedelta(days=1))
    make_lead(app, "bengaluru", source_page=ARTICLE, at=now - timedelta(days=45))
    make_lead(app, "hyderabad", source_page="/branches/hyderabad", at=now - timedelta(days=1))
    # Booked through a real appointment; the other one only by its status (booked before
    # appointments were kept); a lead whose person came to their appointment counts as attended.
    add_appointment(app, booked, now + timedelta(days=1))
    set_status(app, visited, "visited")
    set_status(app, spam, "spam")
    # A second enquiry from another page does not move the lead's first page.
    make_lead(app, "bengaluru", phone=None, source_page="/contact", at=now - timedelta(days=1))

    manager = make_staff(app, "manager", "bengaluru", name="Mona Manager")
    html = enter_as(app.test_client(), app, manager).get("/staff/").get_data(as_text=True)
    assert "data-content-panel" in html
    assert 'data-content="Hyderabad' not in html  # a manager sees their branch only
    last30 = content_rows(html, "Bengaluru:30")
    # views, enquiries, conversion, booked, attended
    assert last30[ARTICLE] == ["8", "3", "37.5%", "2", "1"]
    assert last30["/contact"] == ["0", "1", "–", "0", "0"]
    assert "/branches/hyderabad" not in last30  # another clinic's page
    assert last30["/branches/bengaluru"] == ["1", "0", "0.0%", "0", "0"]
    last90 = content_rows(html, "Bengaluru:90")
    assert last90[ARTICLE] == ["20", "4", "20.0%", "2", "1"]

    admin = make_staff(app, "admin", None, name="Ada Admin")
    html = enter_as(app.test_client(), app, admin).get("/staff/").get_data(as_text=True)
    assert content_rows(html, "Hyderabad:30")["/branches/hyderabad"] == [
        "4",
        "1",
        "25.0%",
        "0",
        "0",
    ]
