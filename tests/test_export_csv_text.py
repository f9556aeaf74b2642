"""A CSV export's bytes: quoted as the csv module quotes, times in each branch's own zone."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from click.testing import CliRunner
from sqlalchemy import update

import crm.cli
from crm import create_app
from crm.models import Branch, Lead
from crm.platform.extensions import db
from tests.export_helpers import capture, cli_export, csv_records, csv_table

AWKWARD = [
    'Joseph D\'Souza, "Joe"',
    "two\nlines",
    "a carriage\rreturn",
    "both\r\nends",
    '"quoted"',
    "comma,",
    "=1+1, with a comma",
    "tab\tinside",
    "trailing space ",
    "ఆనంద్, 🙏",
]


def test_the_csv_is_byte_for_byte_what_the_csv_module_writes(app, runner):
    for index, name in enumerate(AWKWARD):
        branch = "hyderabad" if index % 2 else "bengaluru"
        capture(app, branch, name=name, phone=f"+91990005{index:04d}", message=name)
    data = cli_export(runner, "--branch", "all")
    cells = csv_table(data)
    written = io.StringIO()
    csv.writer(written, lineterminator="\r\n").writerows(cells)
    assert data == ("\ufeff" + written.getvalue()).encode("utf-8")
    names = [row["Name"] for row in csv_records(data)]
    assert sorted(names) == sorted("'" + name if name.startswith("=") else name for name in AWKWARD)


def test_each_lead_is_dated_in_its_own_branchs_zone(app, runner):
    """Branches in two zones in one export, one of them changing its clocks."""
    with app.app_context():
        db.session.execute(
            update(Branch).where(Branch.slug == "bengaluru").values(time_zone="Europe/London")
        )
        db.session.commit()
    moments = {
        "Before the change": datetime(2026, 3, 29, 0, 59, 59, 999_999, tzinfo=UTC),
        "After the change": datetime(2026, 3, 29, 1, 0, 30, tzinfo=UTC),
        "Winter": datetime(2026, 11, 23, 8, 5, 59, 999_999, tzinfo=UTC),
        "Summer": datetime(2026, 7, 1, 23, 59, tzinfo=UTC),
    }
    for name, moment in moments.items():
        capture(app, "bengaluru", name=f"London {name}", at=moment)
        capture(app, "hyderabad", name=f"Hyderabad {name}", at=moment)
    created = {
        row["Name"]: row["Created (branch time)"]
        for row in csv_records(cli_export(runner, "--branch", "all", "--status", "any"))
    }
    assert created == {
        "London Before the change": "2026-03-29 00:59",
        "London After the change": "2026-03-29 02:00",
        "London Winter": "2026-11-23 08:05",
        "London Summer": "2026-07-02 00:59",
        "Hyderabad Before the change": "2026-03-29 06:29",
        "Hyderabad After the change": "2026-03-29 06:30",
        "Hyderabad Winter": "2026-11-23 13:35",
        "Hyderabad Summer": "2026-07-02 05:29",
    }


def test_the_crm_command_exports_from_an_app_without_its_pages(
    app, runner, database_url, tmp_path, monkeypatch
):
    """``crm export`` builds its app without the site and staff pages (a third of its
    start-up), and exports exactly what the full app exports."""
    for index, name in enumerate(AWKWARD[:4]):
        capture(app, "hyderabad", name=name, phone=f"+91990006{index:04d}")
    expected = csv_table(cli_export(runner, "--branch", "all"))
    built = []

    def recording(config=None, *, web=True):
        built.append(web)
        return create_app(config, web=web)

    monkeypatch.setattr(crm.cli, "create_app", recording)
    environment = {
        "CRM_SQLALCHEMY_DATABASE_URI": database_url,
        "CRM_SECRET_KEY": "test",
        "CRM_INSTANCE_PATH": str(tmp_path / "command"),
    }
    result = CliRunner().invoke(crm.cli.cli, ["export", "--branch", "all"], env=environment)
    assert result.exit_code == 0, result.output
    assert built == [False]
    assert csv_table(result.stdout_bytes) == expected


def test_counts_are_written_whatever_their_size(app, runner):
    """Small counts are looked up, larger ones written out, and a column of zeros is zeros."""
    one = capture(app, "bengaluru", name="Often Back", phone="+919900070001")
    other = capture(app, "bengaluru", name="Once Only", phone="+919900070002")
    with app.app_context():
        db.session.execute(update(Lead).where(Lead.id == one).values(enquiry_count=1234))
        db.session.commit()
    records = {row["Reference"]: row for row in csv_records(cli_export(runner, "--branch", "all"))}
    assert records[f"L-{one:06d}"]["Enquiries"] == "1234"
    assert records[f"L-{other:06d}"]["Enquiries"] == "1"
    assert (
        records[f"L-{other:06d}"]["Appointments attended"],
        records[f"L-{other:06d}"]["No-shows"],
    ) == ("0", "0")
