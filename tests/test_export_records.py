"""Every export is recorded (who, when, filters, rows, format) and administrators can read it."""

from __future__ import annotations

import getpass
import re
import stat

import pytest

from crm.models import ExportStatus
from tests.export_helpers import (
    capture,
    cli_export,
    csv_records,
    download,
    export_records,
    xlsx_records,
)
from tests.staff_helpers import email_of, enter_as, make_staff


@pytest.fixture
def world(app):
    people = {
        "hyd_manager": make_staff(app, "manager", "hyderabad", name="Hema Manager"),
        "blr_manager": make_staff(app, "manager", "bengaluru", name="Bina Manager"),
        "admin": make_staff(app, "admin", None, name="Ada Admin"),
    }
    for n in range(3):
        capture(app, "hyderabad", name=f"Hyderabad {n}", phone=f"+91990003{n:04d}")
    capture(app, "bengaluru", name="Bengaluru 0", phone="+919900040000")
    clients = {who: enter_as(app.test_client(), app, pid) for who, pid in people.items()}
    return {"people": people, "clients": clients}


def record_rows(html: str) -> list[str]:
    """The export record table's rows, as text."""
    body = html.split('id="record-title"', 1)[1]
    rows = re.findall(r'<tr data-export="\d+">(.*?)</tr>', body, re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", row).split()) for row in rows]


def test_a_web_export_is_recorded_with_who_what_and_how_many(app, world):
    response = download(world["clients"]["hyd_manager"], status="new", since="2026-01-01")
    assert len(csv_records(response.data)) == 3
    (record,) = export_records(app)
    assert record.staff_id == world["people"]["hyd_manager"]
    assert record.ran_by == email_of(app, world["people"]["hyd_manager"])
    assert record.filters == {"branch": "hyderabad", "status": "new", "since": "2026-01-01"}
    assert (record.format, record.status, record.row_count) == ("csv", ExportStatus.COMPLETED, 3)
    assert record.started_at <= record.finished_at


def test_a_command_line_export_names_the_operating_system_account(app, runner, world):
    rows = csv_records(cli_export(runner, "--branch", "all", "--source", "direct"))
    assert len(rows) == 4
    (record,) = export_records(app)
    assert record.staff_id is None and record.branch_id is None
    assert record.ran_by.startswith(f"command line: {getpass.getuser()}@")
    assert record.filters == {"branch": "all", "source": "direct"}
    assert (record.format, record.status, record.row_count) == ("csv", ExportStatus.COMPLETED, 4)


def test_the_command_line_writes_a_private_file_or_explains_a_refusal(app, runner, tmp_path):
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "leads.xlsx"
    result = runner.invoke(args=["export", "--branch", "hyderabad", "--output", str(target)])
    assert result.exit_code == 0, result.output
    assert "Exported 0 leads to" in result.stderr
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert xlsx_records(target.read_bytes()) == []  # the extension chose XLSX
    assert [path.name for path in folder.iterdir()] == ["leads.xlsx"]  # no draft left behind
    for args, message in [
        (["--branch", "mysuru"], "There is no branch 'mysuru'."),
        (["--branch", "hyderabad", "--assignee", "nobody@clinic.example"], "no staff member"),
        (["--branch", "hyderabad", "--since", "2026-11-02", "--until", "2026-11-01"], "after"),
    ]:
        refused = runner.invoke(args=["export", *args])
        assert refused.exit_code == 1
        assert message in refused.output
    assert [record.format for record in export_records(app)] == ["xlsx"]


def test_admins_see_every_export_and_managers_only_their_branch(app, runner, world):
    clients = world["clients"]
    download(clients["hyd_manager"]).get_data()
    download(clients["blr_manager"], format="xlsx").get_data()
    download(clients["admin"], branch="all", status="open").get_data()
    cli_export(runner, "--branch", "hyderabad")

    admin_view = record_rows(clients["admin"].get("/staff/exports").get_data(as_text=True))
    assert len(admin_view) == 4
    assert admin_view[0].startswith(tuple("0123456789"))  # a date first
    assert "command line:" in admin_view[0] and "Hyderabad" in admin_view[0]
    assert "Ada Admin" in admin_view[1] and "All branches" in admin_view[1]
    assert "status: open" in admin_view[1]
    assert "Bina Manager" in admin_view[2] and "XLSX" in admin_view[2] and " 1 " in admin_view[2]
    assert "Hema Manager" in admin_view[3] and "completed" in admin_view[3]

    hyderabad_view = record_rows(
        clients["hyd_manager"].get("/staff/exports").get_data(as_text=True)
    )
    assert len(hyderabad_view) == 2
    assert not any("Bina Manager" in row or "All branches" in row for row in hyderabad_view)
    bengaluru_view = record_rows(
        clients["blr_manager"].get("/staff/exports").get_data(as_text=True)
    )
    assert len(bengaluru_view) == 1 and "Bina Manager" in bengaluru_view[0]


@pytest.mark.parametrize("app_config", [{"EXPORT_RECORDS_PAGE_SIZE": 2}])
def test_older_exports_are_a_page_away(app, runner, world):
    for _ in range(3):
        cli_export(runner, "--branch", "bengaluru")
    client = world["clients"]["admin"]
    first = client.get("/staff/exports").get_data(as_text=True)
    assert len(record_rows(first)) == 2
    older = re.search(r'href="(/staff/exports\?before=\d+)"', first).group(1)
    second = client.get(older).get_data(as_text=True)
    assert len(record_rows(second)) == 1
    assert "Older exports" not in second

    # A last page that is exactly full offers no link to an empty one.
    cli_export(runner, "--branch", "bengaluru")
    first = client.get("/staff/exports").get_data(as_text=True)
    older = re.search(r'href="(/staff/exports\?before=\d+)"', first).group(1)
    second = client.get(older).get_data(as_text=True)
    assert len(record_rows(second)) == 2
    assert "Older exports" not in second
