"""Every email the outbox sends is valid on the wire, whatever a visitor typed.

The longest and strangest messages the form accepts go in over HTTP, the real worker sends them
to aiosmtpd (which, like a strict mail server, answers ``500 Line too long`` to a line over 998
octets), and what arrives is read back with Python's ``email`` package.
"""

from __future__ import annotations

import unicodedata
from datetime import timedelta
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest
from markupsafe import escape
from sqlalchemy import select

from crm.accounts.staff import create_staff_user
from crm.intake.forms import MESSAGE_MAX
from crm.models import Branch, Enquiry, FollowUp, Lead, OutboxEmail
from crm.platform.database import utcnow, write_transaction
from crm.platform.extensions import db
from tests.helpers import submit_reach_out
from tests.smtp import HOST, Received, SMTPServer

BRANCH = "bengaluru@physiotattva.example"
VISITOR = "ravi@example.com"
# RFC 5321 4.5.3.1.6: at most 1000 octets a line, the CRLF included.
MAX_LINE = 998


@pytest.fixture
def app_config(smtp_server: SMTPServer) -> dict[str, object]:
    return {"MAIL_SERVER": HOST, "MAIL_PORT": smtp_server.port}


class _Titles(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.titles: list[str] = []
        self._inside = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._inside = True
            self.titles.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._inside = False

    def handle_data(self, data: str) -> None:
        if self._inside:
            self.titles[-1] += data


def html_titles(html: str) -> list[str]:
    parser = _Titles()
    parser.feed(html)
    return [" ".join(title.split()) for title in parser.titles]


def assert_valid_on_the_wire(received: Received) -> EmailMessage:
    """What a strict server and any mail program accept: short CRLF lines, 8bit only when
    declared, a message Python's parser reads without a defect, a title in every HTML part."""
    lines = received.data.split(b"\r\n")
    longest = max(len(line) for line in lines)
    assert longest <= MAX_LINE, f"a line of {longest} octets"
    assert not any(b"\r" in line or b"\n" in line for line in lines), "a bare CR or LF"
    if not received.data.isascii():
        assert "BODY=8BITMIME" in received.mail_options
    parsed = received.message
    for part in parsed.walk():
        assert not part.defects, (part.get_content_type(), part.defects)
        if part.get_content_type() == "text/html":
            titles = html_titles(part.get_content())
            assert len(titles) == 1 and titles[0], titles
    return parsed


def deliver(runner, server: SMTPServer, expected: int) -> list[Received]:
    result = runner.invoke(args=["outbox", "send"])
    assert result.exit_code == 0, result.output
    assert f"Sent {expected}, to retry later 0, failed 0." in result.output, result.output
    return server.messages


def _one_line(alphabet: str) -> str:
    text = (alphabet * (MESSAGE_MAX // len(alphabet) + 1))[:MESSAGE_MAX]
    # Never end on half an emoji sequence or a lone mark: the form would store it trimmed.
    return text[: len(text.rstrip())]


MESSAGES = {
    "ascii-one-line": _one_line("Lower back pain since the fall, worse when I sit at my desk. "),
    "indic-and-emoji-one-line": _one_line(
        "ಬೆನ್ನು ನೋವು ಎರಡು ವಾರಗಳಿಂದ 🙏 कमर में दर्द है 👨‍👩‍👧 వెన్నునొప్పి 🧘🏽‍♀️ முதுகு வலி "
    ),
    "no-spaces-at-all": "ನೋವು" * (MESSAGE_MAX // 4),
    "crlf-lines": "\r\n".join(
        [
            "Hello,",
            ".",
            "From the first of the month my knee hurts.",
            "x" * 1500 + " end",
            "Trailing spaces   ",
            "ಕೊನೆ 😀",
        ]
    ),
}


@pytest.mark.parametrize("message", list(MESSAGES.values()), ids=list(MESSAGES))
def test_the_longest_message_the_form_accepts_reaches_the_branch_intact(
    client, runner, app, smtp_server, message
):
    assert len(message) <= MESSAGE_MAX
    response = submit_reach_out(client, json=True, name="ಶ್ರೀನಿವಾಸ ರಾವ್", message=message)
    assert response.status_code == 201, response.get_json()

    received = deliver(runner, smtp_server, 2)

    by_recipient = {tuple(message.rcpt_tos): message for message in received}
    assert set(by_recipient) == {(BRANCH,), (VISITOR,)}
    for mail in received:
        assert_valid_on_the_wire(mail)
    with app.app_context():
        stored = db.session.scalars(select(Enquiry.message)).one()
        statuses = db.session.scalars(select(OutboxEmail.status)).all()
    typed = unicodedata.normalize("NFC", message.replace("\r\n", "\n")).strip()
    assert stored == typed
    alert = by_recipient[(BRANCH,)]
    assert typed in alert.part("plain")
    assert str(escape(typed)) in alert.part("html")
    assert alert.message["Subject"] == "New enquiry at Bengaluru: ಶ್ರೀನಿವಾಸ ರಾವ್"
    assert statuses == ["sent", "sent"]


def test_the_acknowledgement_answers_to_the_branch(client, runner, smtp_server):
    assert submit_reach_out(client, json=True, branch="hyderabad").status_code == 201

    received = deliver(runner, smtp_server, 2)

    by_recipient = {tuple(message.rcpt_tos): message for message in received}
    thanks = assert_valid_on_the_wire(by_recipient[(VISITOR,)])
    assert [address.addr_spec for address in thanks["Reply-To"].addresses] == [
        "hyderabad@physiotattva.example"
    ]
    # A reply to the branch alert goes to nobody but us (the sender), as before.
    assert by_recipient[("hyderabad@physiotattva.example",)].message["Reply-To"] is None


def test_the_follow_up_digest_is_valid_on_the_wire(runner, app, smtp_server):
    """Staff text (a lead's name, a long follow-up note) goes out as safely as a visitor's."""
    # The longest note a follow-up holds (500 characters), in Kannada: over 1,300 octets.
    note = ("Call after 5 pm; " + "ಮಾತನಾಡಿ " * 80)[:500].strip()
    assert len(note.encode()) > MAX_LINE
    with app.app_context():
        user = create_staff_user(
            email="asha@clinic.example", name="ಆಶಾ", role="agent", branch_slug="bengaluru",
            password="a long enough password",
        )  # fmt: skip
        with write_transaction() as session:
            branch_id = session.scalar(select(Branch.id).where(Branch.slug == "bengaluru"))
            lead = Lead(
                branch_id=branch_id, name="रवि कुमार 🙏", phone="+919845012345", status="contacted"
            )
            session.add(lead)
            session.flush()
            session.add(
                FollowUp(
                    lead_id=lead.id,
                    assignee_id=user.id,
                    due_at=utcnow() - timedelta(days=1),
                    note=note,
                )
            )
    result = runner.invoke(args=["followups", "remind"])
    assert "queued: 1;" in result.output, result.output

    [digest] = deliver(runner, smtp_server, 1)

    assert_valid_on_the_wire(digest)
    assert f"Note: {note}" in digest.part("plain")
    assert "रवि कुमार 🙏" in digest.part("html")
