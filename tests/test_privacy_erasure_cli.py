"""Erasure from the command line: idempotent, exact about what it matches, and refusing to guess."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from crm.models import Lead
from crm.platform.extensions import db
from tests.helpers import submit_reach_out
from tests.test_privacy_erasure import (
    OTHER_TRACES,
    TARGET,
    leads_of,
    people,  # noqa: F401  (a fixture, used by every test here)
    snapshot,
    traces_of,
)

pytestmark = pytest.mark.usefixtures("people")


def test_erasing_again_changes_nothing_and_says_so(app, runner):
    first = runner.invoke(args=["leads", "erase", "--phone", "+919845012345"])
    assert first.exit_code == 0, first.output
    with app.app_context():
        after_first = snapshot(db.session)
    again = runner.invoke(args=["leads", "erase", "--phone", "09845012345"])
    assert again.exit_code == 1
    assert "Nothing to erase: no lead, enquiry or email holds that phone number" in again.output
    by_email = runner.invoke(args=["leads", "erase", "--email", TARGET["email"]])
    assert by_email.exit_code == 1
    assert "holds that email address" in by_email.output
    with app.app_context():
        assert snapshot(db.session) == after_first


def test_a_phone_or_email_never_given_matches_nothing(app, runner):
    with app.app_context():
        before = snapshot(db.session)
    for args in (["--phone", "99999 00000"], ["--email", "nobody@example.com"]):
        result = runner.invoke(args=["leads", "erase", *args])
        assert result.exit_code == 1, result.output
        assert result.output.startswith("Nothing to erase")
    with app.app_context():
        assert snapshot(db.session) == before


def test_erasing_by_email_finds_the_address_however_it_is_written(app, runner):
    result = runner.invoke(args=["leads", "erase", "--email", "  Ishaan.SECOND@Example.org "])
    assert result.exit_code == 0, result.output
    # The second address is on an enquiry of the Bengaluru lead and on the Hyderabad lead.
    assert "Erased 2 leads" in result.output
    with app.app_context():
        assert traces_of(db.session, ["ishaan.second@example.org", "Shoulder stiffness"]) == []
        assert traces_of(db.session, OTHER_TRACES)


def test_a_dry_run_reports_and_changes_nothing(app, runner):
    with app.app_context():
        before = snapshot(db.session)
    result = runner.invoke(args=["leads", "erase", "--phone", "98450 12345", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "Would erase 2 leads" in result.output
    assert "2 erasure records to add" in result.output
    with app.app_context():
        assert snapshot(db.session) == before


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Give exactly one of --phone or --email."),
        (["--phone", "98450 12345", "--email", "a@example.com"], "Give exactly one of"),
        (["--phone", "12345"], "Invalid value for --phone"),
        (["--email", "not-an-address"], "Invalid value for --email"),
        (["--phone", "98450 12345", "--by", "agent@clinic.example"], "not an active administrator"),
    ],
)
def test_the_command_refuses_unclear_requests(app, runner, args, message):
    with app.app_context():
        before = snapshot(db.session)
    result = runner.invoke(args=["leads", "erase", *args])
    assert result.exit_code == 2
    assert message in result.output
    with app.app_context():
        assert snapshot(db.session) == before


def test_a_later_enquiry_from_the_same_person_starts_a_fresh_lead(app, client, runner):
    assert runner.invoke(args=["leads", "erase", "--phone", "98450 12345"]).exit_code == 0
    assert submit_reach_out(client, json=True, **TARGET).status_code == 201
    with app.app_context():
        [fresh] = leads_of(db.session, "+919845012345")
        assert fresh.erased_at is None and fresh.status == "new" and fresh.enquiry_count == 1
        assert fresh.name == TARGET["name"]
        assert (
            db.session.scalar(select(func.count(Lead.id)).where(Lead.erased_at.is_not(None))) == 2
        )
