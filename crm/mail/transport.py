"""SMTP with Flask-Mail's settings, a socket timeout, verified TLS and headers nobody can bend.

Messages are built with the standard library's ``EmailMessage`` rather than Flask-Mail's, whose
text parts go out as raw 8bit UTF-8 with the lines as typed: a visitor's 2,000-character
message became one line a strict server refuses (``500 Line too long``, RFC 5321 4.5.3.1.6),
sent without ``BODY=8BITMIME``. Here every part is 7bit, quoted-printable or base64, whichever
the standard library finds shortest, so no line is longer than 78 octets whatever was typed.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from types import TracebackType
from typing import Any

from flask import current_app
from flask_mail import Connection

ERROR_LIMIT = 500

# SMTP line endings; a body part too long or not ASCII is transfer-encoded instead of sent as
# 8bit, which also keeps every line within max_line_length.
WIRE_POLICY = policy.SMTP.clone(cte_type="7bit")

# One plain addr-spec: no display name, list separator, comment, quoting or white space, so the
# stored recipient can only ever be one envelope recipient and one address in the To header.
_ATOM = r'[^\s\x00-\x1f\x7f@,;:<>()\[\]"\\]+'
_ADDRESS = re.compile(f"{_ATOM}@{_ATOM}")
_ANY_ADDRESS = re.compile(r"<?[^\s<>]+@[^\s<>]+>?")


class InvalidRecipient(ValueError):
    """The stored address is not one plain address; no server will ever accept it."""


class BadHeaderError(ValueError):
    """A header value would have held a line break."""


class TimeoutConnection(Connection):
    """Flask-Mail's connection, but every socket operation gives up after ``timeout`` seconds.

    Flask-Mail 0.10 opens ``smtplib.SMTP(server, port)`` with no timeout, so a server that
    accepts and then stops answering would hold a worker forever; smtplib itself takes a
    timeout at construction, so we build the host here. Its STARTTLS and SMTPS also default to
    an unverified context; ours checks the certificate and host name.
    """

    def __init__(self, timeout: float) -> None:
        super().__init__(current_app.extensions["mail"])
        self.timeout = timeout

    def __enter__(self) -> TimeoutConnection:
        # Connect on the first send, so a server that cannot be reached fails that send (and
        # is recorded against it) instead of failing before any message is looked at.
        self.host = None
        self.num_emails = 0
        return self

    def send(self, message: EmailMessage) -> None:  # type: ignore[override]
        """Send one message built by ``build_message`` to its one recipient."""
        data = message.as_bytes(policy=WIRE_POLICY)
        # Our messages are 7bit; should one ever carry 8bit octets, the envelope says so
        # (RFC 6152) instead of leaving the server to guess.
        options = [] if data.isascii() else ["BODY=8BITMIME"]
        _name, sender = parseaddr(str(message["From"]))
        if self.host is None:
            self.host = self.configure_host()
        self.host.sendmail(sender, [str(message["To"])], data, options)

    def discard(self) -> None:
        """Drop a connection that failed; QUIT would only wait on it again."""
        if self.host is not None:
            self.host.close()
            self.host = None

    def configure_host(self) -> smtplib.SMTP:
        mail = self.mail
        context = ssl.create_default_context()
        host: smtplib.SMTP
        if mail.use_ssl:
            host = smtplib.SMTP_SSL(mail.server, mail.port, timeout=self.timeout, context=context)
        else:
            host = smtplib.SMTP(mail.server, mail.port, timeout=self.timeout)
        try:
            host.set_debuglevel(int(mail.debug))
            if mail.use_tls:
                host.starttls(context=context)
            if mail.username and mail.password:
                host.login(mail.username, mail.password)
        except BaseException:
            host.close()
            raise
        return host

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Flask-Mail's own exit calls QUIT, which raises again on a connection that just broke.
        if self.host is None:
            return
        try:
            self.host.quit()
        except (smtplib.SMTPException, OSError):
            self.host.close()
        finally:
            self.host = None


def subject_header(value: str) -> str:
    """A Subject that reads back exactly as stored.

    Anything not plain ASCII, and any literal ``=?`` a visitor typed (which mail programs would
    otherwise decode as an encoded word, line breaks included), is sent as RFC 2047 encoded
    words, so the recipient sees the characters that were typed and nothing more. The words are
    folded to fit the line with the header's name: a longer first line would be refolded on
    the way out, and that refolding drops spaces between words of non-Latin names.
    """
    if value.isascii() and "=?" not in value:
        return value
    return Header(value, "utf-8", header_name="Subject").encode(linesep="\r\n")


def check_recipient(address: str) -> str:
    """The address, if it can only mean one mailbox to every mail server and program.

    An RFC 2047 encoded word is valid text in a local part, but some parsers decode it and
    others do not, and that difference has been used to deliver mail elsewhere than intended;
    such an address is refused for good.
    """
    if not _ADDRESS.fullmatch(address) or "=?" in address:
        raise InvalidRecipient("the recipient is not one plain email address")
    return address


@dataclass(frozen=True)
class Outgoing:
    """A claimed outbox row, read once so nothing lazy-loads while the worker talks SMTP."""

    id: int
    lead_id: int | None
    kind: str
    to_address: str
    subject: str
    text_body: str
    html_body: str | None
    reply_to: str | None
    message_id: str
    attempts: int
    # The claim this worker holds: every later write checks it is still ours.
    claimed_at: datetime
    # One calendar file (RFC 5545 text), attached as text/calendar with its METHOD.
    ics: str | None = None
    # Queued to be composed when sent (``crm.mail.compose.on_compose``): what to render from.
    compose: dict[str, Any] | None = None


def build_message(email: Outgoing) -> EmailMessage:
    """The message for an outbox row, under the row's own stable Message-ID.

    Plain text first, HTML as its alternative; each body part's transfer encoding is chosen by
    ``WIRE_POLICY``, so a long line or Indian-script text is encoded, never sent as it is.
    """
    message = EmailMessage(policy=WIRE_POLICY)
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    if isinstance(sender, tuple | list):
        sender = f"{sender[0]} <{sender[1]}>"
    message["From"] = _header_line(str(sender))
    message["To"] = check_recipient(email.to_address)
    # Stored already folded and encoded (see subject_header): kept exactly as produced, since
    # the email package's own refolding loses the spaces between non-Latin words.
    message.set_raw("Subject", subject_header(_header_line(email.subject)))
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = _header_line(email.message_id)
    if email.reply_to:
        message["Reply-To"] = check_recipient(email.reply_to)
    # RFC 3834: out-of-office and other robots must not answer these.
    message["Auto-Submitted"] = "auto-generated"
    message.set_content(email.text_body, subtype="plain", charset="utf-8")
    if email.html_body is not None:
        message.add_alternative(email.html_body, subtype="html", charset="utf-8")
    if email.ics is not None:
        _attach_calendar(message, email.ics)
    return message


_METHOD = re.compile(r"^METHOD:([A-Z-]+)\r?$", re.MULTILINE)


def _attach_calendar(message: EmailMessage, ics: str) -> None:
    """The invitation as calendar programs expect it (RFC 6047): ``text/calendar`` with the
    file's own METHOD as a parameter, so Gmail and phones offer to add, move or remove it."""
    found = _METHOD.search(ics)
    params = {"charset": "utf-8"}
    if found:
        params["method"] = found.group(1)
    message.add_attachment(
        ics.encode(),
        maintype="text",
        subtype="calendar",
        filename="invite.ics",
        params=params,
    )


def _header_line(value: str) -> str:
    if "\r" in value or "\n" in value:
        raise BadHeaderError(value)
    return value


@dataclass(frozen=True)
class SendFailure:
    """Why a send failed, in words safe to store: what the server said, never the message."""

    reason: str
    permanent: bool


def describe_failure(error: BaseException) -> SendFailure:
    """Classify a send error: permanent failures are not retried.

    Only a refusal of this one message is permanent (5xx for the recipient or the content);
    refused connections, timeouts, a rejected login or sender are the server's or our
    configuration's problem and are retried until fixed.
    """
    if isinstance(error, InvalidRecipient):
        return SendFailure(str(error), permanent=True)
    if isinstance(error, BadHeaderError):
        return SendFailure("a header would have held a line break", permanent=True)
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        # The exception's own text repeats the recipient address; keep the server's reply only.
        replies = list(error.recipients.values())
        code, text = replies[0] if replies else (0, b"")
        return SendFailure(_reply(code, text), permanent=code >= 500)
    if isinstance(error, smtplib.SMTPDataError):
        return SendFailure(
            _reply(error.smtp_code, error.smtp_error), permanent=error.smtp_code >= 500
        )
    if isinstance(error, smtplib.SMTPResponseException):
        return SendFailure(_reply(error.smtp_code, error.smtp_error), permanent=False)
    if isinstance(error, TimeoutError):
        return SendFailure("timed out waiting for the mail server", permanent=False)
    if isinstance(error, OSError | smtplib.SMTPException):
        detail = str(error) or "no detail"
        return SendFailure(_limit(f"{type(error).__name__}: {detail}"), permanent=False)
    return SendFailure(_limit(f"{type(error).__name__}"), permanent=False)


def is_connection_failure(error: BaseException) -> bool:
    """True when the connection itself is gone or unusable, so the rest of a batch would fail."""
    per_message = (
        InvalidRecipient,
        smtplib.SMTPRecipientsRefused,
        smtplib.SMTPDataError,
        smtplib.SMTPSenderRefused,
    )
    return isinstance(error, OSError) and not isinstance(error, per_message)


def _reply(code: int, text: bytes | str) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return _limit(f"SMTP {code}: {' '.join(text.split())}")


def _limit(text: str) -> str:
    # Servers often quote the recipient back ("<ravi@...>: mailbox unavailable"); the row
    # already says who it was for, so the stored and logged reason never repeats an address.
    return _ANY_ADDRESS.sub("<address>", text)[:ERROR_LIMIT]
