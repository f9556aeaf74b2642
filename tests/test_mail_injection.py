"""Nothing a visitor types can add a recipient, a header or a message at the SMTP level."""

from __future__ import annotations

import base64
from collections import Counter

import pytest
from sqlalchemy import select

from crm.mail.compose import compose_now
from crm.mail.outbox import queue_email
from crm.models import Lead, OutboxEmail
from crm.platform.extensions import db
from tests.helpers import submit_reach_out
from tests.smtp import HOST, Received, SMTPServer, deliver

BRANCH = "bengaluru@physiotattva.example"
HEADERS = Counter(
    [
        "Content-Type",
        "MIME-Version",
        "Subject",
        "From",
        "To",
        "Date",
        "Message-ID",
        "Auto-Submitted",
    ]
)
CRLF_BCC = "\r\nBcc: evil@attacker.example"


@pytest.fixture
def app_config(smtp_server: SMTPServer) -> dict[str, object]:
    return {"MAIL_SERVER": HOST, "MAIL_PORT": smtp_server.port}


def assert_clean(
    message: Received, recipient: str, subject: str, extra: tuple[str, ...] = ()
) -> None:
    """One envelope recipient, the expected headers once each, the subject exactly as stored."""
    assert message.mail_from == "no-reply@clinic.test"
    assert message.rcpt_tos == [recipient]
    parsed = message.message
    assert Counter(parsed.keys()) == HEADERS + Counter(extra)
    assert [address.addr_spec for address in parsed["To"].addresses] == [recipient]
    assert str(parsed["Subject"]) == subject
    for name in HEADERS:
        if name != "Subject":
            assert "attacker" not in str(parsed[name]), name
    # Nothing that looks like a header line starts anywhere in the header block.
    head = message.data.split(b"\r\n\r\n", 1)[0]
    assert b"\nBcc:" not in head and b"\nCc:" not in head and b"\nTo: evil" not in head


NAMES = [
    "Ravi" + CRLF_BCC,
    "Ravi\nTo: evil@attacker.example",
    "Ravi\rCc: evil@attacker.example",
    "Ravi\r\n\r\nA body of my own",
    "Ravi\u2028Bcc: evil@attacker.example",
    "Ravi\x85Bcc: evil@attacker.example",
    "=?utf-8?q?Ravi=0D=0ABcc=3A_evil=40attacker.example?=",
    "=?utf-8?b?" + base64.b64encode(f"Ravi{CRLF_BCC}".encode()).decode() + "?=",
    "Ravi =?utf-8?q?=0D=0A?= Bcc: evil@attacker.example",
    "Ravi%0D%0ABcc:%20evil@attacker.example",
    # Long names in Indian scripts: the subject is folded, and must keep every space.
    "ಶ್ರೀನಿವಾಸ ರಾಘವೇಂದ್ರ ಕುಲಕರ್ಣಿ ದೇಶಪಾಂಡೆ ಮಲ್ಲೇಶ್ವರಂ ಹನುಮಂತನಗರ",
    "रवि कुमार वर्मा बहुत लंबा नाम है जो फोल्ड होगा शायद हाँ",
]


@pytest.mark.parametrize("name", NAMES)
def test_a_name_cannot_inject_a_recipient_or_header(client, runner, app, smtp_server, name):
    response = submit_reach_out(client, json=True, name=name)
    if response.status_code == 422:
        # Refused outright (a control character, or an email address in the name): then
        # nothing at all is queued.
        assert "name" in response.get_json()["errors"]
        with app.app_context():
            assert db.session.scalars(select(OutboxEmail)).all() == []
        # the only kinds of name the form may refuse here
        assert "\x85" in name or "attacker.example" in name
        return
    assert response.status_code == 201
    with app.app_context():
        stored = db.session.scalars(select(Lead.name)).one()
    assert "\r" not in stored and "\n" not in stored

    received = deliver(runner, smtp_server)
    assert len(received) == 2
    by_recipient = {message.rcpt_tos[0]: message for message in received}
    assert sorted(by_recipient) == [BRANCH, "ravi@example.com"]
    assert_clean(by_recipient[BRANCH], BRANCH, f"New enquiry at Bengaluru: {stored}")
    assert_clean(
        by_recipient["ravi@example.com"],
        "ravi@example.com",
        "We have your message, Physiotattva Bengaluru",
        extra=("Reply-To",),
    )
    assert stored in by_recipient[BRANCH].part("plain")


REFUSED_EMAILS = [
    "ravi@example.com" + CRLF_BCC,
    "ravi@example.com\nRCPT TO:<evil@attacker.example>",
    "ravi@example.com,evil@attacker.example",
    "ravi@example.com; evil@attacker.example",
    "Ravi <ravi@example.com>",
    "ravi@example.com%0d%0abcc:evil@attacker.example",
    '"ravi\r\nbcc: evil@attacker.example"@example.com',
]


@pytest.mark.parametrize("email", REFUSED_EMAILS)
def test_an_email_field_carrying_headers_or_recipients_is_refused(
    client, runner, app, smtp_server, email
):
    response = submit_reach_out(client, json=True, email=email)
    assert response.status_code == 422
    assert "email" in response.get_json()["errors"]
    assert deliver(runner, smtp_server) == []
    with app.app_context():
        assert db.session.scalars(select(OutboxEmail)).all() == []


@pytest.mark.parametrize(
    "email",
    [
        "=?utf-8?q?evil=40attacker.example?=@example.com",
        "=?utf-8?b?ZXZpbEBhdHRhY2tlci5leGFtcGxl?=@example.com",
    ],
)
def test_an_encoded_word_in_an_address_never_reaches_the_server(
    client, runner, app, smtp_server, email
):
    """Mail servers disagree on what such an address means (aiosmtpd, for one, decodes it into
    a different address). The form refuses it, and an email already queued to one (stored
    before that rule, say) is never sent."""
    response = submit_reach_out(client, json=True, email=email)
    assert response.status_code == 422
    assert "email" in response.get_json()["errors"]
    with app.app_context():
        assert db.session.scalars(select(Lead)).all() == []
        queue_email(db.session, kind="acknowledgement", to=email, subject="Hello", text_body="Hi")
        db.session.commit()

    assert deliver(runner, smtp_server) == []
    with app.app_context():
        row = db.session.scalars(select(OutboxEmail)).one()
    assert (row.status, row.last_error) == (
        "failed",
        "the recipient is not one plain email address",
    )


@pytest.mark.parametrize(
    "message",
    [
        "Hi\r\n.\r\nMAIL FROM:<x@attacker.example>\r\nRCPT TO:<evil@attacker.example>\r\n"
        "DATA\r\nSubject: smuggled\r\n\r\nhello\r\n.\r\nQUIT\r\n",
        "Hi\n.\nRCPT TO:<evil@attacker.example>\nDATA\nsmuggled\n.\n",
        "Hi\r\n.\rRCPT TO:<evil@attacker.example>\r.\r\n",
    ],
    ids=["crlf-dot-crlf", "lf-dot-lf", "mixed"],
)
def test_a_message_cannot_end_the_mail_early_and_start_another(
    client, runner, app, smtp_server, message
):
    assert submit_reach_out(client, json=True, message=message).status_code == 201
    received = deliver(runner, smtp_server)
    assert sorted(message.rcpt_tos for message in received) == [[BRANCH], ["ravi@example.com"]]
    alert = next(message for message in received if message.rcpt_tos == [BRANCH])
    assert "RCPT TO:<evil@attacker.example>" in alert.part("plain")
    with app.app_context():
        # What the worker rendered for it, as it sent it, arrived whole.
        row = db.session.scalars(select(OutboxEmail).order_by(OutboxEmail.id)).first()
        rendered = compose_now(db.session, row.kind, row.lead_id, row.compose).text_body
    assert alert.part("plain") == rendered.replace("\r\n", "\n")
