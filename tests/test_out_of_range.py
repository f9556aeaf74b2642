"""Numbers and days no record can have: a 404 or a field error, never a 500 or a broken file."""

from __future__ import annotations

import base64
import re

import pytest

from crm.models import Lead
from crm.platform.extensions import db
from tests.export_helpers import download, export_records
from tests.staff_helpers import csrf_token, enter_as, make_lead, make_staff

TOO_BIG = "99999999999999999999999"
BEYOND_BIGINT = str(2**63)  # more than any 64-bit integer
JUST_TOO_BIG = str(2**31)  # one more than our INTEGER id columns hold on PostgreSQL
LARGEST = str(2**31 - 1)
RANGE_MESSAGE = "Please choose a day between 2000-01-01 and 2099-12-31."


def listed(html: str) -> list[int]:
    return [int(value) for value in re.findall(r'<tr data-lead="(\d+)"', html)]


def cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


@pytest.fixture
def admin(app):
    return enter_as(app.test_client(), app, make_staff(app, "admin", None, name="Ada Admin"))


def assert_own_error_page(response, code: int) -> None:
    assert response.status_code == code
    assert f"Error {code}" in response.get_data(as_text=True)
    assert "default-src 'self'" in response.headers["Content-Security-Policy"]


@pytest.mark.parametrize("number", [TOO_BIG, BEYOND_BIGINT, JUST_TOO_BIG, LARGEST, "9" * 5000])
@pytest.mark.parametrize("path", ["/staff/leads/{n}", "/staff/users/{n}"])
def test_an_id_no_row_can_have_is_not_found(app, admin, path, number):
    assert_own_error_page(admin.get(path.format(n=number)), 404)


@pytest.mark.parametrize("number", [TOO_BIG, BEYOND_BIGINT, JUST_TOO_BIG])
@pytest.mark.parametrize(
    "path",
    [
        "/staff/leads/{lead}/follow-ups/{n}/complete",
        "/staff/leads/{lead}/emails/{n}/retry",
        "/staff/leads/{n}/notes",
    ],
)
def test_actions_on_an_id_no_row_can_have_are_not_found(app, admin, path, number):
    lead = make_lead(app, "hyderabad")
    response = admin.post(
        path.format(lead=lead, n=number),
        data={"csrf_token": csrf_token(admin), "text": "A note", "outcome_note": ""},
    )
    assert_own_error_page(response, 404)


@pytest.mark.parametrize(
    "token",
    [
        cursor(f"2026-01-01T00:00:00+00:00|{TOO_BIG}"),
        cursor(f"2026-01-01T00:00:00+00:00|{BEYOND_BIGINT}"),
        cursor(f"2026-01-01T00:00:00+00:00|{JUST_TOO_BIG}"),
        cursor("0001-01-01T00:00:00+05:30|1"),
        cursor("9999-12-31T23:59:59-12:00|1"),
    ],
)
def test_an_inbox_cursor_we_could_not_have_written_starts_from_the_top(app, admin, token):
    lead = make_lead(app, "hyderabad")
    response = admin.get(f"/staff/leads?after={token}")
    assert response.status_code == 200
    assert listed(response.get_data(as_text=True)) == [lead]


@pytest.mark.parametrize(
    ("query", "label"),
    [("since=0001-01-01", "From"), ("until=9999-12-31", "To"), ("since=1999-12-31", "From")],
)
def test_an_inbox_day_out_of_range_is_named_and_left_out(app, admin, query, label):
    lead = make_lead(app, "hyderabad")
    response = admin.get(f"/staff/leads?{query}")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert f"{label} ({RANGE_MESSAGE})" in html
    assert listed(html) == [lead]


def test_inbox_days_at_the_edges_of_the_range_are_accepted(app, admin):
    lead = make_lead(app, "hyderabad")
    response = admin.get("/staff/leads?since=2000-01-01&until=2099-12-31")
    assert response.status_code == 200
    assert "were not understood" not in response.get_data(as_text=True)
    assert listed(response.get_data(as_text=True)) == [lead]


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize(
    "fields", [{"since": "0001-01-01"}, {"until": "9999-12-31"}, {"since": "2100-01-01"}]
)
def test_an_export_day_out_of_range_is_a_field_error_before_anything_streams(
    app, admin, file_format, fields
):
    make_lead(app, "hyderabad", name="Lead Inside")
    response = download(admin, format=file_format, **fields)
    assert response.status_code == 422
    assert response.mimetype == "text/html"
    assert RANGE_MESSAGE in response.get_data(as_text=True)
    assert "Lead Inside" not in response.get_data(as_text=True)
    # Refused, not started: no export record (and so none left "failed").
    assert export_records(app) == []


@pytest.mark.parametrize("option", [["--since", "0001-01-01"], ["--until", "9999-12-31"]])
def test_the_command_line_refuses_a_day_out_of_range_before_writing(app, runner, option):
    make_lead(app, "hyderabad", name="Lead Inside")
    result = runner.invoke(args=["export", "--branch", "all", *option])
    assert result.exit_code == 1
    assert result.stdout_bytes == b""
    assert RANGE_MESSAGE in result.stderr
    assert export_records(app) == []


@pytest.mark.parametrize("number", [JUST_TOO_BIG, "99999999999", TOO_BIG])
def test_a_bulk_action_naming_an_id_no_row_can_have_is_refused_with_a_message(app, admin, number):
    lead = make_lead(app, "hyderabad")
    response = admin.post(
        "/staff/leads/bulk",
        data={
            "csrf_token": csrf_token(admin),
            "action": "status",
            "status": "contacted",
            "lead_ids": [str(lead), number],
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Some of the selected leads were not understood." in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Lead, lead).status == "new"


@pytest.mark.parametrize("number", [JUST_TOO_BIG, "99999999999", TOO_BIG])
def test_an_export_records_cursor_no_row_can_have_shows_the_first_page(app, admin, number):
    make_lead(app, "hyderabad")
    assert download(admin).status_code == 200
    response = admin.get(f"/staff/exports?before={number}")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count("<tr data-export=") == 1
