"""Filters select exactly the right leads, and the command line and the page agree row for row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from crm.models import Lead
from crm.platform.extensions import db
from tests.export_helpers import capture, cli_export, csv_table, download, xlsx_records
from tests.staff_helpers import email_of, enter_as, make_staff


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def world(app):
    """Hyderabad leads either side of local midnights, in several states; one Bengaluru lead.

    Hyderabad is UTC+05:30: 18:29 UTC is 23:59 that day, 18:30 UTC is 00:00 the next.
    """
    agent = make_staff(app, "agent", "hyderabad", name="Hari Agent")
    manager = make_staff(app, "manager", "hyderabad", name="Hema Manager")
    admin = make_staff(app, "admin", None, name="Ada Admin")
    plan = {
        "oct31_late": ("2026-10-31T18:29:00", "new", None, None),
        "nov1_start": ("2026-10-31T18:30:00", "contacted", agent, "google"),
        "nov10": ("2026-11-10T06:00:00", "lost", agent, "google"),
        "nov23_late": ("2026-11-23T18:29:00", "appointment_booked", None, "instagram"),
        "nov24_start": ("2026-11-23T18:30:00", "spam", None, None),
        "dec": ("2026-12-05T06:00:00", "visited", agent, "google"),
    }
    leads = {}
    for number, (key, (moment, status, assignee, source)) in enumerate(plan.items()):
        lead_id = capture(
            app,
            "hyderabad",
            name=f"Lead {key}",
            phone=f"+91987650{number:04d}",
            utm={"utm_source": source} if source else None,
            at=at(moment),
        )
        with app.app_context():
            lead = db.session.get(Lead, lead_id)
            lead.status = status
            lead.lost_reason = "price" if status == "lost" else None
            lead.assignee_id = assignee
            db.session.commit()
        leads[key] = lead_id
    leads["bengaluru"] = capture(
        app, "bengaluru", name="Lead bengaluru", at=at("2026-11-10T06:00:00")
    )
    return {
        "leads": leads,
        "agent_id": str(agent),
        "agent_email": email_of(app, agent),
        "manager": enter_as(app.test_client(), app, manager),
        "admin": enter_as(app.test_client(), app, admin),
    }


CASES = [
    # No status is every status but spam, as in the inbox; "any" adds spam.
    pytest.param({}, "oct31_late nov1_start nov10 nov23_late dec", id="all-but-spam"),
    pytest.param(
        {"status": "any"}, "oct31_late nov1_start nov10 nov23_late nov24_start dec", id="everything"
    ),
    pytest.param({"status": "new"}, "oct31_late", id="status-new"),
    pytest.param({"status": "spam"}, "nov24_start", id="status-spam"),
    pytest.param({"status": "open"}, "oct31_late nov1_start nov23_late", id="status-open"),
    pytest.param({"since": "2026-11-01"}, "nov1_start nov10 nov23_late dec", id="since"),
    pytest.param(
        {"since": "2026-11-01", "status": "any"},
        "nov1_start nov10 nov23_late nov24_start dec",
        id="since-with-spam",
    ),
    pytest.param({"until": "2026-11-23"}, "oct31_late nov1_start nov10 nov23_late", id="until"),
    pytest.param(
        {"since": "2026-11-01", "until": "2026-11-23"},
        "nov1_start nov10 nov23_late",
        id="november-1-to-23",
    ),
    pytest.param({"since": "2026-11-10", "until": "2026-11-10"}, "nov10", id="one-day"),
    pytest.param({"assignee": "{agent}"}, "nov1_start nov10 dec", id="assignee"),
    pytest.param({"assignee": "none"}, "oct31_late nov23_late", id="unassigned"),
    pytest.param({"source": "google"}, "nov1_start nov10 dec", id="source"),
    pytest.param({"source": "direct"}, "oct31_late", id="source-direct"),
    pytest.param(
        {"source": "google", "status": "open", "since": "2026-11-01", "assignee": "{agent}"},
        "nov1_start",
        id="combined",
    ),
    pytest.param({"status": "visited", "until": "2026-11-30"}, "", id="nothing"),
]


def cli_args(branch: str, filters: dict[str, str]) -> list[str]:
    args = ["--branch", branch]
    for name, value in filters.items():
        args += [f"--{name}", value]
    return args


@pytest.mark.parametrize(("filters", "expected"), CASES)
def test_filters_select_exactly_the_right_leads_on_the_page_and_the_command_line(
    runner, world, filters, expected
):
    # The page names an assignee by id, as the inbox does; the command line by email.
    on_page = {name: value.format(agent=world["agent_id"]) for name, value in filters.items()}
    typed = {name: value.format(agent=world["agent_email"]) for name, value in filters.items()}
    wanted = [f"L-{world['leads'][key]:06d}" for key in expected.split()]
    page = csv_table(download(world["manager"], **on_page).data)
    assert [row[0] for row in page[1:]] == wanted
    command_line = csv_table(cli_export(runner, *cli_args("hyderabad", typed)))
    assert command_line == page


def test_all_branches_from_the_page_and_the_command_line_agree(runner, world):
    page = download(world["admin"], branch="all", since="2026-11-10", until="2026-11-10")
    command_line = cli_export(
        runner, "--branch", "all", "--since", "2026-11-10", "--until", "2026-11-10"
    )
    assert command_line == page.data
    rows = csv_table(page.data)[1:]
    assert {row[5] for row in rows} == {"Hyderabad", "Bengaluru"}
    assert len(rows) == 2


def test_xlsx_from_the_page_and_the_command_line_hold_the_same_rows(runner, world, tmp_path):
    page = xlsx_records(download(world["manager"], format="xlsx", status="open").data)
    target = tmp_path / "open.xlsx"
    result = runner.invoke(
        args=["export", "--branch", "hyderabad", "--status", "open", "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert xlsx_records(target.read_bytes()) == page
    assert len(page) == 3


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"since": "2026-11-10", "until": "2026-11-01"}, b"The end date is before the start date."),
        ({"since": "10/11/2026"}, b"Not a valid date value."),
        ({"status": "archived"}, b"Unknown status."),
        ({"format": "pdf"}, b"Choose CSV or XLSX."),
        ({"source": "x" * 101}, b"Field cannot be longer than 100 characters."),
    ],
)
def test_filters_that_do_not_make_sense_are_explained(world, fields, message):
    response = download(world["manager"], **fields)
    assert response.status_code == 422
    assert message in response.data
    assert b"Lead nov10" not in response.data
