"""Every page the app serves is valid HTML by the Nu Html Checker.

The pages are fetched through the real app with realistic data: every public page, the reach-out
form's states, the error pages, and every staff page as an administrator, a manager and an agent.
Staff and public GET routes are read from ``app.url_map``, so a page added later is checked
without anyone remembering to list it here (and the test fails until it is reachable).
"""

from __future__ import annotations

import itertools
import re
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError
from werkzeug.routing import Rule

from crm.leads import workflow
from crm.leads.appointments import book_appointment, cancel_appointment
from crm.leads.capture import FilterReason, Submission, capture_lead
from crm.leads.demo import seed_demo
from crm.leads.privacy import erase_lead
from crm.models import Branch, Clinician, FollowUp, Lead, LeadStatus, OutboxEmail, StaffUser
from crm.platform.database import utcnow
from crm.platform.extensions import db
from crm.platform.i18n import PREFIXED, is_language_aware
from crm.site.blog import all_articles
from tests.helpers import form_fields, reach_out_fields, submit_reach_out
from tests.nu_checker import check_folder, checker_command
from tests.smtp import free_port
from tests.staff_helpers import csrf_token, enter_as, make_lead

pytestmark = pytest.mark.client

# GET routes that do not answer with an HTML page, so there is nothing to check. The files for
# machines are parsed as what they are (XML, plain text, an icon) in test_site_seo.py.
NOT_PAGES = {
    "static",
    "site.healthz",
    "site.sitemap",  # XML
    "site.robots",  # plain text
    "site.feed",  # Atom XML
    "site.favicon",  # an icon
}
# Routes this test adds to reach the 500 and 503 pages.
TEST_ONLY = "/test-only/"
# Pages only an administrator opens; the other roles get the 403 page (checked on its own).
ADMIN_ONLY = {"staff.users", "staff.user_detail"}
# Pages an agent does not open.
MANAGERS_AND_ADMINS = {"staff.exports", "staff.lead_merge_review"}
# Pages that need a query to be more than an error: opened in staff_form_errors.
OPENED_WITH_A_QUERY = {"staff.lead_merge_review"}


@pytest.fixture
def app_config() -> dict[str, object]:
    # No mail server listens here, so every email fails once and shows as failed on the lead page;
    # a small inbox page makes the inbox show its "next page" link.
    return {
        "MAIL_SERVER": "127.0.0.1",
        "MAIL_PORT": free_port(),
        "OUTBOX_MAX_ATTEMPTS": 1,
        "INBOX_PAGE_SIZE": 5,
    }


class Pages:
    """Saves each fetched page under a name that says what it is, and notes the routes seen."""

    def __init__(self, app: Flask, folder: Path) -> None:
        self.app = app
        self.folder = folder
        self.adapter = app.url_map.bind("clinic.test")
        self.counter = itertools.count(1)
        self.seen: dict[str, set[str]] = {}  # endpoint -> who opened it with a 200

    def save(self, label: str, response, status: int = 200) -> str:  # type: ignore[no-untyped-def]
        html = response.get_data(as_text=True)
        assert response.status_code == status, (label, response.status_code, html[:500])
        assert response.mimetype == "text/html", (label, response.mimetype)
        name = f"{next(self.counter):03d}-{re.sub(r'[^A-Za-z0-9]+', '-', label).strip('-')}.html"
        (self.folder / name).write_text(html, encoding="utf-8")
        return html

    def get(self, client: FlaskClient, who: str, url: str, status: int = 200) -> str:
        html = self.save(f"{who} {url}", client.get(url), status)
        if status == 200:
            endpoint, _args = self.adapter.match(urlsplit(url).path, method="GET")
            self.seen.setdefault(endpoint, set()).add(who)
        return html


def get_rules(app: Flask, *, staff: bool) -> list[Rule]:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and rule.endpoint not in NOT_PAGES
        and not rule.rule.startswith(TEST_ONLY)
        and rule.rule.startswith("/staff/") == staff
    ]


def urls_for(app: Flask, rule: Rule, values: dict[str, list[object]]) -> list[str]:
    """The rule's URL for every combination of real values of its parameters."""
    unknown = rule.arguments - values.keys()
    assert not unknown, f"{rule.rule}: say which real values fill {sorted(unknown)} in this test"
    names = sorted(rule.arguments)
    with app.test_request_context():
        adapter = app.url_map.bind("clinic.test")
        return [
            adapter.build(rule.endpoint, dict(zip(names, combination, strict=True)))
            for combination in itertools.product(*(values[name] for name in names))
        ]


# --- Realistic data ------------------------------------------------------------------------------


def build_data(app: Flask, client: FlaskClient) -> dict[str, object]:
    """Demo leads in every status, plus one visitor's lead with a full history."""
    with app.app_context():
        seed_demo(leads_per_branch=8, seed=20261202)
    # A visitor's enquiry through the real form, and a second one from the same person.
    assert submit_reach_out(client, "/blog/", email="ravi@example.com").status_code == 303
    assert submit_reach_out(client, "/contact", message="Still in pain.").status_code == 303
    runner = app.test_cli_runner()
    assert runner.invoke(args=["outbox", "send"]).exit_code == 0  # fails: nothing listens
    with app.app_context():
        staff = {user.email.split("@")[0]: user for user in db.session.scalars(select(StaffUser))}
        ids = {name: user.id for name, user in staff.items()}
        manager, agent = staff["manager.bengaluru"], staff["agent.bengaluru"]
        visitor = db.session.scalar(select(Lead.id).where(Lead.email == "ravi@example.com"))
        workflow.assign_lead(manager, visitor, agent.id, expected_version=None)
        workflow.log_call(agent, visitor, "no_answer", "Rang twice, <no answer> & no voicemail.")
        workflow.add_note(agent, visitor, "Prefers evenings.\nAsks about home visits.")
        done = workflow.schedule_follow_up(agent, visitor, utcnow() + timedelta(hours=2))
        workflow.complete_follow_up(agent, visitor, done.id, "Booked for Monday.")
        workflow.schedule_follow_up(
            agent, visitor, utcnow() + timedelta(days=1), note="Confirm the appointment"
        )
        workflow.change_status(
            agent, visitor, LeadStatus.CONTACTED, expected_version=None, note="Spoke to Ravi."
        )
        # Appointments: the lead page's panel, and the day list with a clinic and a home visit.
        bengaluru_id = manager.branch_id
        asha = Clinician(branch_id=bengaluru_id, name="Dr Asha Rao", active=True)
        db.session.add_all([asha, Clinician(branch_id=bengaluru_id, name="Dr Old", active=False)])
        db.session.commit()
        tomorrow = (utcnow() + timedelta(days=1)).replace(second=0, microsecond=0)
        book_appointment(
            agent,
            visitor,
            starts_at=tomorrow,
            minutes=45,
            kind="clinic",
            address=None,
            clinician_id=asha.id,
            note="Bring the X-ray <b>",
            expected_version=None,
        )
        moved = book_appointment(
            agent,
            visitor,
            starts_at=tomorrow + timedelta(hours=2),
            minutes=30,
            kind="home",
            address="4 Lake View,\nIndiranagar",
            clinician_id=None,
            note=None,
            expected_version=None,
        )
        cancel_appointment(agent, visitor, moved.id, "Feeling better", expected_sequence=None)
        # One soon, so the dashboard lists today's appointments (unless the run is at midnight).
        book_appointment(
            agent,
            visitor,
            starts_at=utcnow().replace(second=0, microsecond=0) + timedelta(minutes=10),
            minutes=20,
            kind="clinic",
            address=None,
            clinician_id=None,
            note=None,
            expected_version=None,
        )
    spam = make_lead(app, name="Cheap Pills", message="http://spam.example")
    with app.app_context():
        manager, admin = (
            db.session.get(StaffUser, ids[name]) for name in ("manager.bengaluru", "admin")
        )
        workflow.change_status(manager, spam, LeadStatus.SPAM, expected_version=None)
        filtered = capture_lead(
            Submission(
                name="Too Fast",
                phone="+919845099999",
                email=None,
                branch_slug="bengaluru",
                interest=None,
                message="Buy now",
                submission_token="html-check-filtered-token",
                consent_version="2026-11-01",
                received_at=utcnow(),
                filtered_reason=FilterReason.TOO_FAST,
            )
        ).lead_id
        erased = make_lead(app, name="Forget Me", email="forget@example.com")
        erase_lead(admin, erased)
        # One lead of each status in each branch, besides the visitor's and the ones above.
        samples = db.session.execute(
            select(Lead.branch_id, func.min(Lead.id)).group_by(Lead.branch_id, Lead.status)
        ).all()
        bengaluru = db.session.scalar(select(Branch.id).where(Branch.slug == "bengaluru"))
        assert db.session.scalar(select(func.count(FollowUp.id))) > 0
        assert db.session.scalar(
            select(func.count(OutboxEmail.id)).where(OutboxEmail.status == "failed")
        )
        every_lead = [visitor, spam, filtered, erased, *(lead for _branch, lead in samples)]
        return {
            "staff": ids,
            "visitor": visitor,
            "leads": {
                "admin": every_lead,
                "bengaluru": [visitor, spam, filtered, erased]
                + [lead for branch, lead in samples if branch == bengaluru],
            },
            "hyderabad_lead": next(lead for branch, lead in samples if branch != bengaluru),
            "branches": list(db.session.scalars(select(Branch.slug))),
        }


# --- The pages -----------------------------------------------------------------------------------


def public_pages(app: Flask, pages: Pages, data: dict) -> None:
    visitor = app.test_client()
    values = {
        "site.article": {"slug": [article.slug for article in all_articles()]},
        "site.branch": {"slug": data["branches"]},
    }
    for rule in get_rules(app, staff=False):
        for url in urls_for(app, rule, values.get(rule.endpoint, {})):
            pages.get(visitor, "visitor", url)
    # The reach-out form refused (no JavaScript) and accepted.
    fields = reach_out_fields(visitor, "/contact")
    fields.update(name="", phone="12", email="not-an-email", branch="nowhere", message="x" * 3000)
    pages.save("visitor refused form", visitor.post("/leads", data=fields), 422)
    response = submit_reach_out(visitor, "/privacy", phone="98450 77777")
    assert response.status_code == 303
    html = pages.get(visitor, "visitor thanked", response.headers["Location"])
    assert "Thank you! Your submission has been received!" in html
    language_pages(app, pages, values)


def language_pages(app: Flask, pages: Pages, values: dict[str, dict[str, list[object]]]) -> None:
    """Every public page again under /kn/, /te/ and /hi/, a refused form in Telugu, and an
    English page suggesting its Kannada version."""
    visitor = app.test_client()
    for prefix in (f"/{code}" for code in PREFIXED):
        for rule in get_rules(app, staff=False):
            if not is_language_aware(rule.endpoint):
                continue
            for url in urls_for(app, rule, values.get(rule.endpoint, {})):
                pages.save(f"visitor {prefix}{url}", visitor.get(prefix + url))
    fields = reach_out_fields(visitor, "/te/contact")
    fields.update(name="", phone="12", email="not-an-email", message="x" * 3000)
    pages.save("visitor refused form in Telugu", visitor.post("/te/leads", data=fields), 422)
    pages.save("visitor 404 in Hindi", visitor.get("/hi/no-such-page"), 404)
    suggested = visitor.get("/", headers={"Accept-Language": "kn-IN,kn;q=0.9,en;q=0.5"})
    assert "language-suggestion" in pages.save("visitor offered Kannada", suggested)


def staff_pages(app: Flask, pages: Pages, data: dict) -> None:
    people = data["staff"]
    for who, leads in (
        ("admin", data["leads"]["admin"]),
        ("manager.bengaluru", data["leads"]["bengaluru"]),
        ("agent.bengaluru", data["leads"]["bengaluru"]),
    ):
        client = enter_as(app.test_client(), app, people[who])
        role = who.split(".")[0]
        values = {"lead_id": leads, "person_id": list(people.values())}
        for rule in get_rules(app, staff=True):
            if rule.endpoint == "staff.login" or rule.endpoint in OPENED_WITH_A_QUERY:
                continue  # the sign-in page is checked below, the others in staff_form_errors
            forbidden = (role != "admin" and rule.endpoint in ADMIN_ONLY) or (
                role == "agent" and rule.endpoint in MANAGERS_AND_ADMINS
            )
            if forbidden:
                continue
            for url in urls_for(app, rule, values):
                pages.get(client, who, url)
        inbox_variants(pages, client, who)
        staff_form_errors(app, pages, client, who, data)


def inbox_variants(pages: Pages, client: FlaskClient, who: str) -> None:
    for query in (
        "status=open&overdue=1",
        "status=any&assignee=none&interest=back_pain",
        "status=spam",
        "status=lost&since=2020-01-01&until=2030-12-31",
        "q=ravi",
        "q=nobody-matches-this",
        "mine=1",
        "status=bogus&since=not-a-date",  # refused filters are named on the page
    ):
        pages.get(client, who, f"/staff/leads?{query}")
    tomorrow = (utcnow() + timedelta(days=1)).date().isoformat()
    for query in (f"day={tomorrow}", f"day={tomorrow}&week=y&kind=home", "day=not-a-day"):
        pages.get(client, who, f"/staff/appointments?{query}")
    html = pages.get(client, who, "/staff/leads")
    following = re.search(r'href="(/staff/leads\?[^"]*after=[^"]+)"', html)
    assert following, "the inbox should have a next page with this much data"
    pages.get(client, who, following.group(1).replace("&amp;", "&"))


def staff_form_errors(app: Flask, pages: Pages, client: FlaskClient, who: str, data) -> None:
    token = csrf_token(client)
    lead = data["visitor"]
    pages.save(
        f"{who} refused note",
        client.post(f"/staff/leads/{lead}/notes", data={"csrf_token": token, "text": "x" * 2001}),
        422,
    )
    pages.save(
        f"{who} refused follow-up",
        client.post(
            f"/staff/leads/{lead}/follow-ups", data={"csrf_token": token, "due_at": "yesterday"}
        ),
        422,
    )
    if who.startswith("agent"):
        return
    other = next(other for other in data["leads"]["bengaluru"][4:] if other != lead)
    pages.get(client, who, f"/staff/leads/{lead}/merge?other=L-{other:06d}")
    pages.save(
        f"{who} refused merge",
        client.get(f"/staff/leads/{lead}/merge", query_string={"other": "L-999999"}),
        422,
    )
    branch = "all" if who == "admin" else who.split(".")[1]
    export = {"csrf_token": token, "branch": branch, "status": "", "assignee": "", "format": "csv"}
    with client.post("/staff/exports", data=export) as download:
        assert download.status_code == 200 and download.mimetype == "text/csv"
        assert "Ravi Kumar" in download.get_data(as_text=True)
    pages.get(client, who, "/staff/exports")  # now with a record of that export
    pages.save(
        f"{who} refused export",
        client.post(
            "/staff/exports", data={**export, "since": "2026-02-01", "until": "2026-01-01"}
        ),
        422,
    )
    if who != "admin":
        return
    pages.save(
        "admin the person's own data",
        client.post(f"/staff/leads/{lead}/access", data={"csrf_token": token, "format": "html"}),
    )
    pages.save(
        "admin refused new account",
        client.post("/staff/users", data={"csrf_token": token, "email": "nope", "role": "boss"}),
        422,
    )
    pages.save(
        "admin refused account change",
        client.post(
            f"/staff/users/{data['staff']['agent.bengaluru']}",
            data={"csrf_token": token, "name": "", "role": "boss"},
        ),
        422,
    )


def sign_in_pages(app: Flask, pages: Pages) -> None:
    stranger = app.test_client()
    pages.get(stranger, "stranger", "/staff/login?next=/staff/leads")
    fields = form_fields(stranger.get("/staff/login").get_data(as_text=True), ("method", "post"))
    pages.save("sign-in empty", stranger.post("/staff/login", data=fields), 422)
    fields.update(email="nobody@clinic.example", password="wrong")
    pages.save("sign-in refused", stranger.post("/staff/login", data=fields), 401)


def error_pages(app: Flask, pages: Pages, data: dict) -> None:
    agent = enter_as(app.test_client(), app, data["staff"]["agent.bengaluru"])
    visitor = app.test_client()
    pages.save("400", agent.post("/staff/leads/bulk", data={}), 400)
    pages.save("403", agent.get("/staff/users"), 403)
    pages.save("404", visitor.get("/no/such/page"), 404)
    pages.save("404 other branch", agent.get(f"/staff/leads/{data['hyderabad_lead']}"), 404)
    pages.save("405", visitor.get("/leads"), 405)
    pages.save("413", agent.post("/staff/leads/bulk", data={"x": "y" * 100_000}), 413)
    pages.save("500", visitor.get(f"{TEST_ONLY}boom"), 500)
    pages.save("503", visitor.get(f"{TEST_ONLY}busy"), 503)
    # Last: from here on, sign-ins from this address are refused.
    app.config["RATELIMIT_LOGIN_PER_ADDRESS"] = "1 per 15 minutes"
    fields = form_fields(visitor.get("/staff/login").get_data(as_text=True), ("method", "post"))
    fields.update(email="nobody@clinic.example", password="wrong")
    visitor.post("/staff/login", data=fields)
    pages.save("429", visitor.post("/staff/login", data=fields), 429)


def add_failing_routes(app: Flask) -> None:
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get(f"{TEST_ONLY}boom")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("a bug somewhere")

    @app.get(f"{TEST_ONLY}busy")
    def busy():  # type: ignore[no-untyped-def]
        raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database away"))


def assert_every_route_seen(app: Flask, seen: dict[str, set[str]]) -> None:
    missing = []
    for rule in get_rules(app, staff=False):
        if not seen.get(rule.endpoint):
            missing.append(f"{rule.rule} (public)")
    for rule in get_rules(app, staff=True):
        wanted = {"admin", "manager.bengaluru", "agent.bengaluru"}
        if rule.endpoint == "staff.login":
            wanted = {"stranger"}
        elif rule.endpoint in ADMIN_ONLY:
            wanted = {"admin"}
        elif rule.endpoint in MANAGERS_AND_ADMINS:
            wanted = {"admin", "manager.bengaluru"}
        if not wanted <= seen.get(rule.endpoint, set()):
            missing.append(
                f"{rule.rule} (not opened by {sorted(wanted - seen.get(rule.endpoint, set()))})"
            )
    assert not missing, "pages not checked: " + ", ".join(missing)


def test_every_page_is_valid_html(app: Flask, client: FlaskClient, tmp_path: Path) -> None:
    checker_command()  # skip (or fail in CI) before the slow part when Java is missing
    add_failing_routes(app)
    folder = tmp_path / "pages"
    folder.mkdir()
    pages = Pages(app, folder)
    data = build_data(app, client)
    public_pages(app, pages, data)
    staff_pages(app, pages, data)
    sign_in_pages(app, pages)
    error_pages(app, pages, data)
    assert_every_route_seen(app, pages.seen)

    errors = [finding for finding in check_folder(folder) if finding.is_error]
    assert not errors, f"{len(errors)} HTML errors:\n" + "\n".join(map(str, errors))
