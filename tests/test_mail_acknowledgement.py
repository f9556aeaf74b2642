"""The visitor's acknowledgement cannot be turned against a stranger.

It goes to whatever address was typed, which nobody has proven is the visitor's: so it carries
nothing the visitor typed, the name field takes no web or email address, and an address gets at
most one acknowledgement a day. The branch alert (to our own staff) keeps the details, as text.
"""

from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from markupsafe import escape
from sqlalchemy import select, update

from crm.intake.forms import FAILURE_MESSAGE, NAME_ADDRESS_ERROR
from crm.models import Enquiry, EventKind, Lead, LeadEvent, OutboxEmail
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.helpers import form_notice, submit_reach_out
from tests.smtp import HOST, SMTPServer, deliver
from tests.staff_helpers import enter_as, make_staff

ATTACKER_NAME = "Your account is locked - verify at https://evil.example/login today"


@pytest.fixture
def app_config(smtp_server: SMTPServer) -> dict[str, object]:
    return {"MAIL_SERVER": HOST, "MAIL_PORT": smtp_server.port}


def stored(app) -> tuple[int, int, int]:
    with app.app_context():
        return (
            len(db.session.scalars(select(Lead)).all()),
            len(db.session.scalars(select(Enquiry)).all()),
            len(db.session.scalars(select(OutboxEmail)).all()),
        )


class _Links(HTMLParser):
    """Every <a>: its href and its text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[list[str]] = []
        self._open: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._open = [dict(attrs).get("href") or "", ""]
            self.links.append(self._open)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[1] += data


def links(html: str) -> list[tuple[str, str]]:
    parser = _Links()
    parser.feed(html)
    return [(href, text) for href, text in parser.links]


ADDRESS_LIKE_NAMES = [
    ATTACKER_NAME,
    "HTTPS://EVIL.EXAMPLE",
    "Ravi ravi@evil.example",
    "Ravi at evil.example",
    "Ravi www.evil",
    "Ravi x.co",
    "Ravi evil\uff0eexample",  # a full-width dot, which domain names accept
    "Ravi evil\u3002example",  # an ideographic full stop, likewise
]


@pytest.mark.parametrize("name", ADDRESS_LIKE_NAMES)
def test_a_name_holding_an_address_is_refused_with_a_field_error(client, app, name):
    response = submit_reach_out(client, json=True, name=name)

    assert response.status_code == 422
    body = response.get_json()
    assert body["message"] == FAILURE_MESSAGE
    assert body["errors"] == {"name": [NAME_ADDRESS_ERROR]}
    assert stored(app) == (0, 0, 0)


def test_the_attacker_name_reshows_the_form_with_the_reason(client, app):
    response = submit_reach_out(client, "/contact", name=ATTACKER_NAME)

    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert form_notice(html) == ("error", FAILURE_MESSAGE)
    assert f'data-error-for="name">{escape(NAME_ADDRESS_ERROR)}</p>' in html
    assert stored(app) == (0, 0, 0)


@pytest.mark.parametrize(
    "name",
    [
        "A.P.J. Abdul Kalam",
        "S.Ramesh",
        "K.S. Ravi",
        "Dr. Ravi Kumar",
        "Mary-Jane O'Brien St. John",
        "ಶ್ರೀನಿವಾಸ ರಾವ್",
        "रवि कुमार",
    ],
)
def test_peoples_names_with_dots_and_scripts_are_accepted(client, name):
    assert submit_reach_out(client, json=True, name=name).status_code == 201


def test_the_acknowledgement_carries_nothing_the_visitor_typed(client, runner, app, smtp_server):
    response = submit_reach_out(
        client,
        json=True,
        name="Meenakshi Sundaram",
        interest="sports_injury",
        message="Urgent: see https://example.org/report and call Meenakshi",
    )
    assert response.status_code == 201

    received = deliver(runner, smtp_server)

    [thanks] = [mail for mail in received if mail.rcpt_tos == ["ravi@example.com"]]
    whole = "\n".join(
        [str(thanks.message["Subject"]), thanks.part("plain"), thanks.part("html")]
    ).lower()
    for typed in ("meenakshi", "sundaram", "urgent", "example.org", "report", "sports"):
        assert typed not in whole
    assert thanks.part("plain").startswith("Hello,\n")
    # Its only links are ours: the branch phone, the privacy contact and notice.
    assert {href.split(":")[0] for href, _text in links(thanks.part("html"))} == {
        "tel",
        "mailto",
        "http",
    }


def test_the_branch_alert_shows_the_visitors_text_but_links_none_of_it(
    client, runner, app, smtp_server
):
    message = "My old physio is at https://evil.example/login, www.evil.example"
    response = submit_reach_out(
        client, json=True, message=message, source_page="https://evil.example/landing"
    )
    assert response.status_code == 201

    received = deliver(runner, smtp_server)

    [alert] = [mail for mail in received if mail.rcpt_tos == ["bengaluru@physiotattva.example"]]
    html = alert.part("html")
    assert str(escape(message)) in html
    with app.app_context():
        lead_id = db.session.scalar(select(Lead.id))
    assert links(html) == [
        ("tel:+919845012345", "+91 98450 12345"),
        (f"http://clinic.test/staff/leads/{lead_id}", "Open the lead"),
    ]


def test_one_acknowledgement_per_address_a_day_and_nothing_else_is_lost(
    client, runner, app, smtp_server
):
    first = submit_reach_out(client, json=True, email="ravi@example.com")
    second = submit_reach_out(
        client,
        "/branches/hyderabad",
        json=True,
        name="Someone Else",
        phone="98860 54321",
        email="RAVI@Example.com",
        branch="hyderabad",
    )
    assert (first.status_code, second.status_code) == (201, 201)

    with app.app_context():
        rows = db.session.execute(
            select(OutboxEmail.kind, OutboxEmail.to_address, Lead.name)
            .join(Lead, Lead.id == OutboxEmail.lead_id)
            .order_by(OutboxEmail.id)
        ).all()
        other = db.session.scalar(select(Lead).where(Lead.name == "Someone Else"))
        skipped = db.session.scalars(
            select(LeadEvent.detail).where(
                LeadEvent.lead_id == other.id, LeadEvent.kind == EventKind.EMAIL
            )
        ).all()
        other_id = other.id
    assert [tuple(row) for row in rows] == [
        ("lead_alert", "bengaluru@physiotattva.example", "Ravi Kumar"),
        ("acknowledgement", "ravi@example.com", "Ravi Kumar"),
        ("lead_alert", "hyderabad@physiotattva.example", "Someone Else"),
    ]
    assert {"kind": "acknowledgement", "status": "skipped"}.items() <= skipped[0].items()
    delivered = sorted(mail.rcpt_tos[0] for mail in deliver(runner, smtp_server))
    assert delivered == [
        "bengaluru@physiotattva.example",
        "hyderabad@physiotattva.example",
        "ravi@example.com",
    ]

    # Staff see why on the lead's timeline.
    manager = make_staff(app, "manager", "hyderabad")
    staff = enter_as(app.test_client(), app, manager)
    page = staff.get(f"/staff/leads/{other_id}").get_data(as_text=True)
    assert "Email not sent: the visitor&#39;s acknowledgement." in page
    assert "at most one a day is sent to an address" in page

    # A day later the address may be acknowledged again.
    with app.app_context():
        db.session.execute(update(OutboxEmail).values(created_at=utcnow() - timedelta(hours=24)))
        db.session.commit()
    third = submit_reach_out(client, json=True, phone="+91 91234 56780", branch="hyderabad")
    assert third.status_code == 201
    with app.app_context():
        acknowledgements = db.session.scalars(
            select(OutboxEmail.to_address).where(OutboxEmail.kind == "acknowledgement")
        ).all()
    assert acknowledgements == ["ravi@example.com", "ravi@example.com"]
