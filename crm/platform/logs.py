"""Logs without personal data: no phone numbers, email addresses or message text in clear.

Three layers, because logs are written by many hands (Flask, werkzeug, gunicorn, SQLAlchemy,
Flask-Limiter, our own code):

1. Nothing logs what a visitor typed. SQLAlchemy would, in the parameters it adds to error
   messages and echo output, so ``configure_logging`` turns on ``hide_parameters``.
2. Every log record is redacted as it is created (a record factory, so it applies whatever
   handler writes it, pytest's included): query-string values, email addresses, phone numbers
   (E.164 and Indian formats), PostgreSQL's ``DETAIL`` lines (which quote a failing row) and
   SQL parameters; network addresses become a keyed hash, as in the database. Tracebacks are
   rendered and redacted then too.
3. gunicorn's access lines leave out the query string (``crm/platform/gunicorn_conf.py``).

``RedactingFilter`` applies layer 2 to a handler for setups that replace the record factory.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
from typing import Any

from flask import Flask

REDACTED = "[redacted]"
EMAIL_MARK = "[email]"
PHONE_MARK = "[phone]"

# A value in a query string: "?q=98450%2012345&status=new" -> "?q=[redacted]&status=[redacted]".
_QUERY_VALUE = re.compile(r"(?<=[?&])([\w.\-\[\]%]{1,64}=)([^&\s\"'#<>]+)")
# PostgreSQL quotes the row or key it refused ("Failing row contains (..., 'Ravi', ...)"); the
# quote may span lines, so it ends only where the next part of an error report begins.
_DETAIL = re.compile(
    r"(DETAIL:\s*).*?(?=\n\[SQL:|\n\(Background on this error|\nHINT:|\nTraceback \(most recent"
    r"|\nThe above exception|\nDuring handling of the above|\n\s+File \"|\Z)",
    re.DOTALL,
)
_PARAMETERS = re.compile(r"\[parameters: .*?(?:\](?=\n\(Background on this error)|\Z)", re.DOTALL)
_EMAIL = re.compile(r"[\w.!#$%'*+^`{|}~-]+(?:@|%40)[\w-]+(?:\.[\w-]+)+")
_SEP = r"[\s\-.()]{0,2}"
_PHONE = re.compile(
    # Every alternative starts with "+", "%" or a digit: most positions fail on this at once.
    r"(?=[+%\d])(?:"
    # International: +91 98450 12345, +919845012345, +44 20 7946 0958, %2B919845012345.
    rf"(?<![\w+%])(?:\+|%2[Bb])\d(?:{_SEP}\d){{7,14}}(?!\d)"
    # Indian mobiles: 98450 12345, 098450-12345, 91 9845012345, 0091 98450 12345.
    r"|(?<![\w+])(?:(?:00\s?)?91[\s\-]?|0)?[6-9](?:[\s\-]?\d){9}(?!\d)"
    # Indian landlines with the trunk zero: 080 4123 4567, 040-23456789.
    r"|(?<![\w+])0\d(?:[\s\-]?\d){9}(?!\d)"
    r")"
)
# At least eight digits close together: without them there is no phone number to look for.
_DIGITS = re.compile(r"\d(?:[\s\-.()]{0,2}\d){7}")
_IPV4 = re.compile(r"(?=\d)(?<![\w.:/])(?:\d{1,3}\.){3}\d{1,3}(?![\w.])")
_IPV6 = re.compile(
    r"(?<![\w:])(?=[0-9A-Fa-f:]*::|(?:[0-9A-Fa-f]{1,4}:){7})[0-9A-Fa-f:]{2,39}(?![\w:])"
)

_lock = threading.Lock()
_address_key: bytes | None = None
_formatter = logging.Formatter()


def configure_logging(app: Flask) -> None:
    """Called once from ``create_app``, before the database engine is created."""
    global _address_key
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # Bound parameters are what people typed; an error message or echo line must not carry them.
    options.setdefault("hide_parameters", True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options
    secret = str(app.config["SECRET_KEY"]).encode()
    _address_key = hmac.new(secret, b"log-address", hashlib.sha256).digest()
    install_redaction()


def install_redaction() -> None:
    """Redact every log record created from now on in this process (safe to call again)."""
    with _lock:
        previous = logging.getLogRecordFactory()
        if getattr(previous, "redacts_personal_data", False):
            return

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            redact_record(record)
            return record

        factory.redacts_personal_data = True  # type: ignore[attr-defined]
        logging.setLogRecordFactory(factory)


class RedactingFilter(logging.Filter):
    """The same redaction as a handler filter, e.g. in a ``logging.config.dictConfig``."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def redact_record(record: logging.LogRecord) -> None:
    if getattr(record, "personal_data_redacted", False):
        return
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging reports it; we still redact what we have
        message = f"{record.msg} {record.args!r}"
    record.msg = redact(message)
    record.args = None
    if record.exc_info:
        if record.exc_info[0] is not None:
            record.exc_text = redact(_formatter.formatException(record.exc_info))
        # Handlers that render the exception themselves would bypass the redaction.
        record.exc_info = None
    elif record.exc_text:
        record.exc_text = redact(record.exc_text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record.personal_data_redacted = True


def redact(text: str) -> str:
    """``text`` without query values, emails, phone numbers, quoted rows or raw addresses."""
    # Each pattern runs only when the text could hold what it looks for: most lines hold none.
    if "?" in text:
        text = _QUERY_VALUE.sub(rf"\1{REDACTED}", text)
    if "DETAIL:" in text:
        text = _DETAIL.sub(rf"\1{REDACTED}", text)
    if "[parameters: " in text:
        text = _PARAMETERS.sub(f"[parameters: {REDACTED}]", text)
    if "@" in text or "%40" in text:
        text = _EMAIL.sub(EMAIL_MARK, text)
    if _DIGITS.search(text):
        text = _PHONE.sub(PHONE_MARK, text)
    if "." in text:
        text = _IPV4.sub(_hashed_address, text)
    if "::" in text or text.count(":") >= 7:
        text = _IPV6.sub(_hashed_address, text)
    return text


def _hashed_address(match: re.Match[str]) -> str:
    """Like the database's client address hash: repeats are visible, the address is not."""
    if _address_key is None:
        return "[address]"
    digest = hmac.new(_address_key, match.group().encode(), hashlib.sha256).hexdigest()
    return f"ip-{digest[:12]}"
