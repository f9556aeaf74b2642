"""Bad input everywhere a stranger or a staff member can type: the exact answer, and that
nothing stored changed (or, for text we keep, that it was stored as typed and shown escaped)."""

from __future__ import annotations

import re
import time

import pytest
from markupsafe import escape
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from crm.intake.forms import FAILURE_MESSAGE, NAME_ADDRESS_ERROR
from crm.models import Enquiry, FollowUp, Lead, LeadEvent, OutboxEmail
from crm.platform.extensions import db
from tests.conftest import make_app
from tests.helpers import VALID_FIELDS, reach_out_fields
from tests.smtp import HOST, deliver
from tests.staff_helpers import csrf_token, enter_as, lead_state, make_lead, make_staff

# --- What "nothing changed" means ---------------------------------------------------------------


def stored(app) -> dict[str, list[tuple]]:
    """Every row of every table, except staff sessions (their last-seen time moves by design)."""
    with app.app_context():
        state = {}
        for table in db.metadata.sorted_tables:
            if table.name == "staff_session":
                continue
            query = select(table).order_by(*table.primary_key.columns)
            state[table.name] = [tuple(row) for row in db.session.execute(query)]
        return state


def public_post(client, fields: dict | list, *, json: bool = True, page: str = "/contact"):
    """Post the form with valid values overridden by ``fields`` (pairs may repeat a name)."""
    data = reach_out_fields(client, page)
    data.update(VALID_FIELDS)
    if isinstance(fields, dict):
        data.update(fields)
        body: dict | MultiDict = data
    else:  # a list of pairs: repeated parameters
        names = {name for name, _ in fields}
        body = MultiDict([(k, v) for k, v in data.items() if k not in names] + list(fields))
    headers = {"Accept": "application/json"} if json else {}
    return client.post("/leads", data=body, headers=headers)


# --- The public form ----------------------------------------------------------------------------

KEPT_AS_TEXT = [
    ("name", '=HYPERLINK("#x","Ravi")'),
    ("name", "+SUM(A1) Ravi"),
    ("message", "+1+1"),
    ("message", "-2+3"),
    ("message", "\t=1+1"),
    ("name", "<script>alert(1)</script> Ravi"),
    ("name", '" onmouseover="alert(1)" x="Ravi'),
    ("message", "<img src=x onerror=alert(1)>"),
    ("name", "{{ config }} Ravi"),
    ("message", "{{ 7*7 }} {% raw %} ${7*7} #{7*7}"),
    ("name", "Robert'); DROP TABLE lead;--"),
    ("message", "' OR 1=1 -- ; SELECT * FROM staff_user"),
    ("name", "अनन्या\u200dशर्मा"),  # a joiner inside Devanagari is part of the name
]


@pytest.mark.parametrize(("field", "value"), KEPT_AS_TEXT)
def test_hostile_text_is_stored_as_typed_and_shown_escaped(
    client, app, database_url, smtp_server, field, value
):
    response = public_post(client, {field: value})
    assert response.status_code == 201
    with app.app_context():
        lead = db.session.scalar(select(Lead))
        enquiry = db.session.scalar(select(Enquiry))
        stored_value = lead.name if field == "name" else enquiry.message
        alert = db.session.scalar(select(OutboxEmail).where(OutboxEmail.kind == "lead_alert"))
        lead_id = lead.id
    value = value.strip()  # leading and trailing white space is trimmed, nothing else
    assert stored_value == value
    assert "\n" not in alert.subject and "\r" not in alert.subject
    sender = make_app(database_url, MAIL_SERVER=HOST, MAIL_PORT=smtp_server.port)
    sent = [
        m
        for m in deliver(sender.test_cli_runner(), smtp_server)
        if m.rcpt_tos == [alert.to_address]
    ]
    assert str(escape(value)) in sent[0].part("html")

    manager = make_staff(app, "manager", "bengaluru", name="Bina Manager")
    page = enter_as(app.test_client(), app, manager).get(f"/staff/leads/{lead_id}")
    html = page.get_data(as_text=True)
    assert str(escape(value)) in html
    if "<" in value or '"' in value:
        assert value not in html
    if field == "message":  # shown literally: no template ever evaluates it
        assert f'<p class="enquiry__message">{escape(value)}</p>' in html


def test_line_breaks_in_a_name_cannot_become_headers(client, app):
    response = public_post(client, {"name": "Ravi\r\nX-Mailer: Kumar"})
    assert response.status_code == 201
    with app.app_context():
        assert db.session.scalar(select(Lead.name)) == "Ravi X-Mailer: Kumar"
        subjects = db.session.scalars(select(OutboxEmail.subject)).all()
    assert all("\n" not in subject and "\r" not in subject for subject in subjects)


REFUSED = [
    ("name", "Ra\x00vi", "Please remove invisible or control characters from your name."),
    ("name", "Ravi\u202e Kumar", "Please remove invisible or control characters from your name."),
    ("name", "Ra\u200bvi", "Please remove invisible or control characters from your name."),
    ("name", "\ufeffRavi", "Please remove invisible or control characters from your name."),
    ("message", "hello\x00", "Please remove invisible or control characters from your message."),
    (
        "message",
        "\u202egnp.exe",
        "Please remove invisible or control characters from your message.",
    ),
    ("name", "x" * 10_000, "Please keep your name under 120 characters."),
    # A name never holds a web or email address (the acknowledgement goes to strangers).
    ("name", '=HYPERLINK("http://evil.example","x")', NAME_ADDRESS_ERROR),
    ("name", "@SUM(A1) Ravi", NAME_ADDRESS_ERROR),
    ("name", "Ravi\r\nBcc: evil@example.com", NAME_ADDRESS_ERROR),
    ("message", "x" * 5_000, "Please keep your message under 2000 characters."),
    ("phone", "9" * 1_000, "Please enter a phone number such as 98450 12345."),
    ("email", "a" * 1_000 + "@example.com", "That email address is too long."),
    (
        "email",
        "ravi@example.com\r\nBcc: evil@example.com",
        "Please enter an email address such as name@example.com.",
    ),
    (
        "email",
        "ravi@example.com, evil@example.com",
        "Please enter an email address such as name@example.com.",
    ),
    ("branch", "bengaluru' OR '1'='1", "Please choose one of our clinics from the list."),
    ("branch", "../hyderabad", "Please choose one of our clinics from the list."),
    ("branch", "mumbai", "Please choose one of our clinics from the list."),
    ("interest", "back_pain; DROP TABLE lead", "Please choose one of the options."),
    ("submission_token", "../../etc/passwd", "This form is out of date."),
]


@pytest.mark.parametrize(("field", "value", "message"), REFUSED)
@pytest.mark.parametrize("as_json", [True, False], ids=["json", "page"])
def test_refused_input_gets_its_reason_and_changes_nothing(
    client, app, field, value, message, as_json
):
    before = stored(app)
    response = public_post(client, {field: value}, json=as_json)
    assert response.status_code == 422
    if as_json:
        body = response.get_json()
        assert body["message"] == FAILURE_MESSAGE
        assert message in body["errors"][field]
    else:
        html = response.get_data(as_text=True)
        assert FAILURE_MESSAGE in html
        assert str(escape(message)) in html
    assert stored(app) == before


def test_hidden_page_metadata_is_cut_to_length_never_refused(client, app):
    response = public_post(
        client,
        {"utm_source": "x" * 5_000, "utm_campaign": "a\x00b", "source_page": "/" + "p" * 900},
    )
    assert response.status_code == 201
    with app.app_context():
        enquiry = db.session.scalar(select(Enquiry))
        assert enquiry.utm_source == "x" * 200
        assert enquiry.utm_campaign == "ab"
        assert enquiry.source_page == ("/" + "p" * 900)[:500]


def test_repeated_parameters_use_the_first_value(client, app):
    response = public_post(
        client,
        [
            ("phone", "98450 12345"),
            ("phone", "99000 11223"),
            ("branch", "hyderabad"),
            ("branch", "bengaluru"),
        ],
    )
    assert response.status_code == 201
    with app.app_context():
        lead = db.session.scalar(select(Lead))
        assert lead.phone == "+919845012345"
        assert lead.branch.slug == "hyderabad"


def test_extra_fields_are_ignored(client, app):
    extra = {
        "status": "visited",
        "assignee": "1",
        "assignee_id": "1",
        "branch_id": "2",
        "lead_id": "7",
        "id": "7",
        "created_at": "2001-01-01",
        "erased_at": "x",
        "version": "9",
    }
    assert public_post(client, extra).status_code == 201
    with app.app_context():
        lead = db.session.scalar(select(Lead))
        assert (lead.status, lead.assignee_id, lead.branch.slug, lead.version) == (
            "new",
            None,
            "bengaluru",
            1,
        )
        assert lead.erased_at is None and lead.created_at.year >= 2026


# --- CSRF, sizes and methods, everywhere ----------------------------------------------------------


@pytest.fixture
def world(app):
    agent = make_staff(app, "agent", "bengaluru", name="Bala Agent")
    manager = make_staff(app, "manager", "bengaluru", name="Bina Manager")
    admin = make_staff(app, "admin", None, name="Ada Admin")
    lead = make_lead(app, email="visitor@example.com")
    client = enter_as(app.test_client(), app, manager)
    token = csrf_token(client)
    response = client.post(
        f"/staff/leads/{lead}/follow-ups",
        data={"csrf_token": token, "due_at": "2099-01-01T10:00", "assignee": str(agent)},
    )
    assert response.status_code == 303
    with app.app_context():
        follow_up = db.session.scalar(select(FollowUp.id))
        email = db.session.scalar(select(OutboxEmail.id))
    admin_client = enter_as(app.test_client(), app, admin)
    return {
        "agent": agent,
        "manager": manager,
        "admin": admin,
        "lead": lead,
        "follow_up": follow_up,
        "email": email,
        "client": client,
        "token": token,
        "admin_client": admin_client,
        "admin_token": csrf_token(admin_client),
    }


def filled(rule: str, world) -> str:
    """The rule's URL with real ids; any other id (an appointment, a clinician) is 1: routing
    and the CSRF check answer before a view looks the row up."""
    url = (
        rule.replace("<int:lead_id>", str(world["lead"]))
        .replace("<int:follow_up_id>", str(world["follow_up"]))
        .replace("<int:email_id>", str(world["email"]))
        .replace("<int:person_id>", str(world["agent"]))
    )
    url = re.sub(r"<int:\w+>", "1", url)
    assert "<" not in url, url
    return url


def post_routes(app, world) -> list[str]:
    """Every route that changes state, with its ids filled in."""
    urls = []
    for rule in app.url_map.iter_rules():
        if "POST" not in rule.methods or rule.endpoint == "static":
            continue
        urls.append(filled(rule.rule, world))
    assert "/leads" in urls and len(urls) >= 15
    return urls


def test_get_on_every_state_changing_route_is_405(app, world):
    before = stored(app)
    readable = {rule.rule for rule in app.url_map.iter_rules() if "GET" in rule.methods}
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and rule.rule not in readable:
            url = filled(rule.rule, world)
            response = world["admin_client"].get(url)
            assert response.status_code == 405, url
            assert "POST" in response.headers["Allow"], url
            assert "Not allowed" in response.get_data(as_text=True), url
    assert stored(app) == before


@pytest.mark.parametrize("problem", ["missing", "foreign", "garbage"])
def test_every_post_without_a_good_csrf_token_is_400(app, world, problem):
    stranger = app.test_client()
    tokens = {
        "missing": None,
        "foreign": csrf_token(enter_as(stranger, app, world["agent"])),
        "garbage": "x" * 40,
    }
    before = stored(app)
    for url in post_routes(app, world):
        data = {
            "text": "note",
            "status": "contacted",
            "version": "1",
            "outcome": "answered",
            "name": "Ravi Kumar",
            "phone": "98450 12345",
            "branch": "bengaluru",
            "consent": "y",
        }
        if tokens[problem]:
            data["csrf_token"] = tokens[problem]
        response = world["admin_client"].post(url, data=data)
        assert response.status_code == 400, url
    assert stored(app) == before


def test_an_expired_csrf_token_is_400_and_the_visitor_keeps_their_input(app, world):
    app.config["WTF_CSRF_TIME_LIMIT"] = 1
    client = app.test_client()
    data = reach_out_fields(client, "/contact")
    staff_token = csrf_token(world["client"])
    time.sleep(2)
    before = stored(app)
    data.update(VALID_FIELDS, name="Meera Nair")
    response = client.post("/leads", data=data)
    assert response.status_code == 400
    assert 'value="Meera Nair"' in response.get_data(as_text=True)
    response = world["client"].post(
        f"/staff/leads/{world['lead']}/notes", data={"csrf_token": staff_token, "text": "late"}
    )
    assert response.status_code == 400
    assert stored(app) == before


@pytest.mark.parametrize("shape", ["ten-megabytes", "thousands-of-parts"])
def test_oversized_requests_are_413_everywhere(app, world, shape):
    before = stored(app)
    for url in ["/leads", f"/staff/leads/{world['lead']}/notes", "/staff/login", "/staff/users"]:
        if shape == "ten-megabytes":
            data = {"csrf_token": world["admin_token"], "text": "x" * (10 * 1024 * 1024)}
        else:
            data = {"csrf_token": world["admin_token"], **{f"f{n}": "1" for n in range(5_000)}}
        for accept, kind in (("text/html", "text/html"), ("application/json", "application/json")):
            response = world["admin_client"].post(url, data=data, headers={"Accept": accept})
            assert response.status_code == 413, (url, accept)
            assert response.mimetype == kind
            if kind == "text/html":
                assert "Too large" in response.get_data(as_text=True)
            else:
                assert response.get_json()["ok"] is False
    assert stored(app) == before


# --- Staff forms ----------------------------------------------------------------------------------


def text_forms(world) -> list[tuple[str, str, dict, str]]:
    """(url, the text field, the rest of a valid form, who posts it)."""
    lead = world["lead"]
    return [
        (f"/staff/leads/{lead}/notes", "text", {}, "client"),
        (f"/staff/leads/{lead}/calls", "note", {"outcome": "no_answer"}, "client"),
        (
            f"/staff/leads/{lead}/follow-ups",
            "note",
            {"due_at": "2099-02-01T10:00", "assignee": str(world["agent"])},
            "client",
        ),
        (
            f"/staff/leads/{lead}/follow-ups/{world['follow_up']}/complete",
            "outcome_note",
            {},
            "client",
        ),
        (
            f"/staff/users/{world['agent']}",
            "name",
            {"role": "agent", "branch": "bengaluru"},
            "admin_client",
        ),
    ]


STAFF_REFUSED = [
    ("a\x00b", "invisible or control characters"),
    ("\u202eevil", "invisible or control characters"),
    ("zero\u200bwidth", "invisible or control characters"),
    ("x" * 3_000, "Please keep it under"),
]


@pytest.mark.parametrize(("value", "message"), STAFF_REFUSED)
def test_staff_text_that_cannot_be_kept_is_refused_with_a_reason(app, world, value, message):
    for url, field, rest, who in text_forms(world):
        before = stored(app)
        token = world["token"] if who == "client" else world["admin_token"]
        response = world[who].post(url, data={"csrf_token": token, field: value, **rest})
        assert response.status_code == 422, (url, value[:10])
        assert message in response.get_data(as_text=True), url
        assert stored(app) == before, url


@pytest.mark.parametrize(
    "value",
    [
        "<script>alert(1)</script>",
        '" autofocus onfocus="alert(1)',
        "{{ 7*7 }}",
        "=cmd|' /C calc'!A0",
        "Robert'); DROP TABLE lead;--",
    ],
)
def test_staff_text_is_kept_as_typed_and_shown_escaped(app, world, value):
    for url, field, rest, who in text_forms(world)[:3]:
        token = world["token"]
        response = world[who].post(url, data={"csrf_token": token, field: value, **rest})
        assert response.status_code == 303, url
    html = world["client"].get(f"/staff/leads/{world['lead']}").get_data(as_text=True)
    assert html.count(str(escape(value))) >= 3
    assert value not in html or value == str(escape(value))
    with app.app_context():
        notes = db.session.scalars(
            select(LeadEvent.detail).where(LeadEvent.kind.in_(["note", "call"]))
        ).all()
    assert {"text": value} in notes


FORGED_CHOICES = [
    ("status", {"status": "visited' OR '1'='1", "version": "1"}),
    ("status", {"status": "contacted", "lost_reason": "bored", "version": "1"}),
    ("assign", {"assignee": "1 OR 1=1", "version": "1"}),
    ("calls", {"outcome": "<script>"}),
    ("follow-ups", {"due_at": "2099-01-01T10:00", "assignee": "999"}),
    ("follow-ups", {"due_at": "'; DROP TABLE follow_up; --", "assignee": "1"}),
    ("status", {"status": "contacted", "version": "one"}),
]


@pytest.mark.parametrize(("action", "data"), FORGED_CHOICES)
def test_forged_choices_on_the_lead_page_are_refused(app, world, action, data):
    before = stored(app)
    response = world["client"].post(
        f"/staff/leads/{world['lead']}/{action}", data={"csrf_token": world["token"], **data}
    )
    assert response.status_code == 422
    assert stored(app) == before


@pytest.mark.parametrize(
    "data",
    [
        {"action": "status", "status": "contacted", "lead_ids": ["1 OR 1=1"]},
        {"action": "status", "status": "' OR 1=1 --", "lead_ids": ["1"]},
        {"action": "delete", "lead_ids": ["1"]},
        {"action": "assign", "assignee": "999", "lead_ids": ["1"]},
        {"action": "status", "status": "contacted", "lead_ids": []},
    ],
)
def test_forged_bulk_actions_are_refused_with_a_message(app, world, data):
    before = stored(app)
    response = world["client"].post(
        "/staff/leads/bulk", data={"csrf_token": world["token"], **data}, follow_redirects=True
    )
    assert response.status_code == 200
    assert "notice--error" in response.get_data(as_text=True)
    assert stored(app) == before


@pytest.mark.parametrize(
    "data",
    [
        {"role": "owner", "branch": "bengaluru"},
        {"role": "agent", "branch": "mumbai"},
        {"role": "agent", "branch": "' OR 1=1 --"},
        {"role": "admin' --", "branch": ""},
    ],
)
def test_forged_account_changes_are_refused(app, world, data):
    before = stored(app)
    response = world["admin_client"].post(
        f"/staff/users/{world['agent']}",
        data={"csrf_token": world["admin_token"], "name": "Bala Agent", **data},
    )
    assert response.status_code == 422
    assert stored(app) == before


@pytest.mark.parametrize(
    "query",
    [
        "q=%27%20OR%201%3D1%20--",
        "status=%27%3B%20DROP%20TABLE%20lead%3B--",
        "since=2026-02-30",
        "assignee=0x41",
        "branch=%00",
        "after=%27",
        "mine=1&mine=0",
        "q=%E2%80%AE",
        "interest=%25",
    ],
)
def test_staff_pages_take_any_query_string_without_error_or_change(app, world, query):
    before = stored(app)
    for page in ["/staff/", "/staff/leads", f"/staff/leads/{world['lead']}", "/staff/users"]:
        response = world["admin_client"].get(f"{page}?{query}")
        assert response.status_code == 200, (page, query)
    assert stored(app) == before
    assert lead_state(app, world["lead"])["status"] == "new"
