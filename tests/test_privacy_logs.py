"""Logs never hold a phone number, an email address or a message in clear."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.exc import IntegrityError

from crm import PROJECT_ROOT
from crm.models import Enquiry
from crm.platform.database import utcnow, write_transaction
from crm.platform.logs import EMAIL_MARK, PHONE_MARK, REDACTED, RedactingFilter, redact
from tests.conftest import make_app
from tests.helpers import submit_reach_out

PERSON = {
    "name": "Ishaan Verghese",
    "phone": "98450 12345",
    "email": "ishaan.logs@example.com",
    "message": "Sciatica down my left leg since the monsoon trek.",
}
NEEDLES = [
    "+919845012345",
    "9845012345",
    "98450 12345",
    "98450%2012345",
    "ishaan.logs",
    "ishaan.logs%40example.com",
    "Ishaan",
    "Verghese",
    "Sciatica",
    "monsoon trek",
]


def leaks(text: str) -> list[str]:
    return [needle for needle in NEEDLES if needle.lower() in text.lower()]


@pytest.fixture
def handler_output() -> Iterator[io.StringIO]:
    """A real handler on the root logger, formatting as a production handler would."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield stream
    finally:
        root.removeHandler(handler)


@pytest.mark.parametrize(
    "text",
    [
        "+919845012345",
        "+91 98450 12345",
        "+91-98450-12345",
        "098450 12345",
        "9845012345",
        "91 9845012345",
        "0091 98450 12345",
        "080 4123 4567",
        "040-23456789",
        "+44 20 7946 0958",
    ],
)
def test_phone_numbers_are_redacted_however_written(text):
    assert redact(f"call {text} today") == f"call {PHONE_MARK} today"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail ravi.k+pt@example.co.in now", f"mail {EMAIL_MARK} now"),
        ("to=ravi%40example.com", f"to={EMAIL_MARK}"),
        (
            '"GET /staff/leads?q=98450%2012345&status=new HTTP/1.1" 200',
            f'"GET /staff/leads?q={REDACTED}&status={REDACTED} HTTP/1.1" 200',
        ),
        (
            "null value\nDETAIL:  Failing row contains (1, Ravi, knee\n\npain).\n[SQL: INSERT x]",
            f"null value\nDETAIL:  {REDACTED}\n[SQL: INSERT x]",
        ),
        (
            "[SQL: INSERT x]\n[parameters: ('Ravi', 'a]b')]\n(Background on this error at: y)",
            f"[SQL: INSERT x]\n[parameters: {REDACTED}]\n(Background on this error at: y)",
        ),
    ],
)
def test_emails_query_values_and_quoted_rows_are_redacted(text, expected):
    assert redact(text) == expected


def test_ordinary_log_text_survives():
    text = (
        "2026-11-01 10:00:00,123 GET /blog/knee-pain-stairs HTTP/1.1 404 took 123 ms "
        "lead L-000012 Chrome/120.0.0.0 WHERE lead.phone = ? AND x=?"
    )
    assert redact(text) == text


def test_network_addresses_become_a_keyed_hash(app, database_url):
    first = redact("198.51.100.7 - - and 2001:db8::7")
    assert "198.51.100.7" not in first and "2001:db8::7" not in first
    assert first.startswith("ip-") and first.count("ip-") == 2
    assert redact("198.51.100.7") == redact("198.51.100.7") != redact("198.51.100.8")
    # Keyed: not a plain digest of the address that anyone could recompute and compare.
    mark = redact("198.51.100.7")
    assert re.fullmatch(r"ip-[0-9a-f]{12}", mark)
    for digest in (
        hashlib.sha256(b"198.51.100.7").hexdigest(),
        hashlib.blake2b(b"198.51.100.7").hexdigest(),
        hashlib.blake2b(b"198.51.100.7", digest_size=32).hexdigest(),
        hashlib.sha3_256(b"198.51.100.7").hexdigest(),
    ):
        assert mark[3:] not in digest
    # The key comes from the app's SECRET_KEY: another key, another mark; the same key again
    # (a fresh app, as another worker process would be), the same mark.
    make_app(database_url, SECRET_KEY="another-secret-key")
    assert re.fullmatch(r"ip-[0-9a-f]{12}", redact("198.51.100.7"))
    assert redact("198.51.100.7") != mark
    make_app(database_url, SECRET_KEY=app.config["SECRET_KEY"])
    assert redact("198.51.100.7") == mark


def test_the_filter_redacts_records_made_without_the_factory():
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s", ("ravi@example.com",), None)
    assert RedactingFilter().filter(record)
    assert record.getMessage() == f"to {EMAIL_MARK}"


def test_a_submission_logs_nothing_personal(app, client, caplog, handler_output):
    caplog.set_level(logging.DEBUG)
    # SQLAlchemy's echo logs every statement with its parameters, unless they are hidden.
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO)
    try:
        assert submit_reach_out(client, json=True, **PERSON).status_code == 201
        app.logger.info("Enquiry from %s <%s>", PERSON["phone"], PERSON["email"])
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.WARNING)
    assert any("INSERT INTO enquiry" in r.getMessage() for r in caplog.records)
    assert "[SQL parameters hidden due to hide_parameters=True]" in caplog.text
    assert f"Enquiry from {PHONE_MARK} <{EMAIL_MARK}>" in caplog.text
    assert leaks(caplog.text) == []
    assert leaks("\n".join(r.getMessage() for r in caplog.records)) == []
    assert leaks(handler_output.getvalue()) == []


def insert_enquiry_without_lead(**fields: str | None) -> None:
    """An insert the database refuses (lead_id is NOT NULL), carrying the person's words."""
    with write_transaction() as session:
        session.add(
            Enquiry(lead_id=None, consent_version="2026-11-01", consented_at=utcnow(), **fields)
        )
        session.flush()


def status_of(url: str, timeout: float = 10) -> int:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (http only)
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


@pytest.fixture
def app_config():
    # Report unhandled errors as production does (tests otherwise re-raise them).
    return {"PROPAGATE_EXCEPTIONS": False}


def test_a_database_error_during_a_submission_logs_nothing_personal(
    app, client, caplog, handler_output, monkeypatch
):
    """A constraint violation quotes the row on PostgreSQL and the parameters everywhere."""

    def failing_capture(submission):
        insert_enquiry_without_lead(
            name=submission.name,
            email=submission.email,
            message=submission.message,
            submission_token=submission.submission_token,
        )

    monkeypatch.setattr("crm.intake.views.capture_lead", failing_capture)
    caplog.set_level(logging.INFO)
    response = submit_reach_out(client, json=True, **PERSON)
    assert response.status_code == 500
    assert leaks(response.get_data(as_text=True)) == []

    [error] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert error.getMessage() == "Exception on /leads [POST]"
    assert "IntegrityError" in error.exc_text and "enquiry" in error.exc_text
    assert "[SQL parameters hidden due to hide_parameters=True]" in error.exc_text
    assert error.exc_info is None  # nothing unredacted left for a handler to render
    assert leaks(caplog.text) == []
    written = handler_output.getvalue()
    assert "Exception on /leads [POST]" in written and "IntegrityError" in written
    assert leaks(written) == []


def test_parameters_stay_hidden_even_outside_a_request(app):
    with app.app_context(), pytest.raises(IntegrityError) as failed:
        insert_enquiry_without_lead(
            name=PERSON["name"], email=None, message=PERSON["message"], submission_token="t" * 24
        )
    assert "hide_parameters=True" in str(failed.value)
    assert leaks(redact(str(failed.value))) == []


def test_werkzeug_access_lines_keep_no_query_values(live_server, caplog, handler_output):
    caplog.set_level(logging.INFO, logger="werkzeug")
    for query in (
        "q=ishaan.logs%40example.com",
        "q=98450%2012345",
        "q=%2B919845012345&status=new",
        "phone=+919845012345&email=ishaan.logs@example.com",
        "q=Ishaan%20Verghese",
    ):
        # Signed out, each search is sent on to the sign-in page, its query carried in "next":
        # both requests are logged, and neither line may hold the search.
        assert status_of(f"{live_server}/staff/leads?{query}") == 200
    lines = [r.getMessage() for r in caplog.records if r.name == "werkzeug"]
    searches = [line for line in lines if "GET /staff/leads?" in line]
    assert len(searches) == 5
    assert all(f"q={REDACTED}" in line or f"phone={REDACTED}" in line for line in searches)
    assert all(f"next={REDACTED}" in line for line in lines if "GET /staff/login?" in line)
    assert not any("127.0.0.1 - -" in line for line in lines)
    assert leaks(caplog.text) == []
    assert leaks(handler_output.getvalue()) == []


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_gunicorn_access_lines_keep_no_query_string(database_url, tmp_path: Path):
    port = _free_port()
    env = {key: value for key, value in os.environ.items() if not key.startswith("CRM_")}
    env.update(
        CRM_SQLALCHEMY_DATABASE_URI=database_url,
        CRM_SECRET_KEY="s" * 32,
        CRM_INSTANCE_PATH=str(tmp_path),
    )
    out = tmp_path / "gunicorn.log"
    with out.open("w") as log:
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "-c",
                "python:crm.platform.gunicorn_conf",
                "--no-control-socket",
                "--workers",
                "1",
                "--bind",
                f"127.0.0.1:{port}",
                "wsgi:app",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        base = f"http://127.0.0.1:{port}"
        # Wait for the worker to boot (slow on a busy machine), or for gunicorn to give up.
        deadline = time.monotonic() + 120
        while True:
            try:
                # Once the port is open the request waits in the backlog for the worker.
                status_of(f"{base}/healthz", timeout=60)
                break
            except OSError:  # refused before the port opens (URLError), or timed out
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"gunicorn did not start:\n{out.read_text()}")
                time.sleep(0.05)
        assert status_of(f"{base}/healthz?q=ishaan.logs%40example.com&p=%2B919845012345") == 200
        assert status_of(f"{base}/nowhere?q=98450%2012345&name=Ishaan%20Verghese") == 404
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    written = out.read_text()
    assert '"GET /healthz HTTP/1.1" 200' in written
    assert '"GET /nowhere HTTP/1.1" 404' in written
    assert "?" not in "".join(line for line in written.splitlines() if '"GET ' in line)
    assert "127.0.0.1 [" not in written and "ip-" in written
    assert leaks(written) == []
