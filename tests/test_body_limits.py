"""One size limit for every body, chunked or with a Content-Length, and one limit of parts.

The Flask test client always knows a body's length, so the size tests go over a socket to
gunicorn, as production runs the app, with ``Transfer-Encoding: chunked`` written by hand.
"""

from __future__ import annotations

import http.client
import uuid
from urllib.parse import urlencode

import pytest
from sqlalchemy import create_engine, text
from werkzeug.datastructures import MultiDict

from tests.helpers import VALID_FIELDS, reach_out_fields
from tests.loadkit import Gunicorn, Visitor

LIMIT = 64 * 1024  # MAX_CONTENT_LENGTH's default


def stored_enquiries(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(text("SELECT count(*) FROM enquiry")).scalar_one()
    finally:
        engine.dispose()


def send(base: str, body: bytes, headers: dict[str, str], *, chunked: bool) -> int:
    """POST /leads; a chunked body goes out in 8 KB chunks, as a streaming client sends it."""
    host, port = base.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        connection.putrequest("POST", "/leads")
        for name, value in headers.items():
            connection.putheader(name, value)
        if chunked:
            connection.putheader("Transfer-Encoding", "chunked")
            connection.endheaders()
            for start in range(0, len(body), 8192):
                piece = body[start : start + 8192]
                connection.send(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            connection.send(b"0\r\n\r\n")
        else:
            connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@pytest.fixture
def server(database_url, tmp_path):
    with Gunicorn(database_url, tmp_path / "instance", workers=1) as running:
        yield running


def enquiry(visitor: Visitor, **extra: str) -> tuple[bytes, dict[str, str]]:
    fields = {**visitor.fields, **VALID_FIELDS, "submission_token": uuid.uuid4().hex, **extra}
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Accept": "application/json",
        "Cookie": visitor.cookie,
    }
    return urlencode(fields).encode(), headers


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_over_the_limit_is_refused_whole_however_it_is_sent(server, database_url, chunked):
    visitor = Visitor(server.base)
    visitor.open_page()
    body, headers = enquiry(visitor, padding="x" * (200 * 1024))
    assert send(server.base, body, headers, chunked=chunked) == 413
    assert stored_enquiries(database_url) == 0


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_a_body_within_the_limit_is_accepted_however_it_is_sent(server, database_url, chunked):
    visitor = Visitor(server.base)
    visitor.open_page()
    body, headers = enquiry(visitor)
    body += b"&padding=" + b"x" * (LIMIT - len(body) - len(b"&padding="))
    assert len(body) == LIMIT  # exactly at the limit: still accepted
    assert send(server.base, body, headers, chunked=chunked) == 201
    assert stored_enquiries(database_url) == 1


@pytest.mark.parametrize("name", ["utm_source", "interest", "unknown"])
def test_a_name_repeated_past_the_parts_limit_is_refused_like_as_many_names(
    client, database_url, name
):
    fields = reach_out_fields(client, "/contact")
    fields.update(VALID_FIELDS)
    pairs = [*fields.items(), *[(name, "x")] * 500]
    response = client.post("/leads", data=MultiDict(pairs), headers={"Accept": "application/json"})
    assert response.status_code == 413
    assert stored_enquiries(database_url) == 0
    distinct = MultiDict([*fields.items(), *[(f"{name}{n}", "x") for n in range(500)]])
    assert client.post("/leads", data=distinct).status_code == 413


def test_a_form_within_the_parts_limit_is_accepted(client, database_url):
    fields = reach_out_fields(client, "/contact")
    fields.update(VALID_FIELDS)
    pairs = [*fields.items(), *[("extra", "x")] * (100 - len(fields))]
    response = client.post("/leads", data=MultiDict(pairs), headers={"Accept": "application/json"})
    assert response.status_code == 201
    assert stored_enquiries(database_url) == 1
