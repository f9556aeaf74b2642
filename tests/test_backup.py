"""`crm db backup` and `crm db restore`: private, checked copies that restore and upgrade."""

from __future__ import annotations

import re
import stat

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import func, select

from crm.clinic.seed import seed_branches
from crm.models import Enquiry, Lead
from crm.platform.extensions import db
from tests.backupkit import backup_config, column, database_factory, integrity_ok
from tests.conftest import BACKEND, make_app
from tests.helpers import submit_reach_out
from tests.test_migrations import _drift

INITIAL_REVISION = "b5e348cfbd4a"
NAME = re.compile(r"^crm-\d{8}T\d{6}\.\d{6}Z\.(sqlite3\.gz|pgdump)$")


@pytest.fixture
def new_database(databases, tmp_path):
    yield from database_factory(databases, tmp_path)


@pytest.fixture
def backups(tmp_path):
    return tmp_path / "backups"


@pytest.fixture
def app_config(backups):
    return backup_config(backups)


def enquire(client, count, start=0, **fields):
    for index in range(start, start + count):
        response = submit_reach_out(
            client, json=True, phone=f"98450 {index:05d}", email=f"p{index}@example.com", **fields
        )
        assert response.status_code == 201, response.get_data(as_text=True)


def phones(database_url):
    return sorted(column(database_url, "SELECT phone FROM lead"))


def test_a_backup_is_private_and_named_by_time_and_restores_whole(
    app, client, runner, backups, database_url, new_database
):
    enquire(client, 3)
    result = runner.invoke(args=["db", "backup"])
    assert result.exit_code == 0, result.output
    assert "3 leads and 3 enquiries" in result.output or BACKEND == "postgres"
    [backup] = list(backups.iterdir())
    assert NAME.match(backup.name), backup.name
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(backups.stat().st_mode) == 0o700
    magic = b"\x1f\x8b" if BACKEND == "sqlite" else b"PGDMP"
    assert backup.read_bytes().startswith(magic)

    target_url = new_database("restored")
    target = make_app(target_url, **backup_config(backups))
    restored = target.test_cli_runner().invoke(args=["db", "restore", str(backup)])
    assert restored.exit_code == 0, restored.output
    assert "Restored 3 leads and 3 enquiries." in restored.output
    assert "crm db upgrade" not in restored.output  # the same schema: nothing to upgrade
    assert integrity_ok(target_url)
    assert _drift(target) == []
    assert (
        phones(target_url)
        == phones(database_url)
        == [
            "+919845000000",
            "+919845000001",
            "+919845000002",
        ]
    )
    with target.app_context():
        assert db.session.scalar(select(func.count(Enquiry.id))) == 3
        db.engine.dispose()


def test_restore_refuses_a_database_holding_leads_unless_forced(
    app, client, runner, backups, database_url
):
    enquire(client, 2)
    assert runner.invoke(args=["db", "backup"]).exit_code == 0
    [backup] = list(backups.iterdir())
    enquire(client, 1, start=7)  # arrived after the backup: a refused restore keeps it

    refused = runner.invoke(args=["db", "restore", str(backup)])
    assert refused.exit_code == 1
    assert "The database holds 3 leads; restoring would replace them all." in refused.output
    assert "--force" in refused.output
    assert phones(database_url) == ["+919845000000", "+919845000001", "+919845000007"]

    forced = runner.invoke(args=["db", "restore", "--force", str(backup)])
    assert forced.exit_code == 0, forced.output
    assert "Restored 2 leads and 2 enquiries (replacing 3 leads)." in forced.output
    assert phones(database_url) == ["+919845000000", "+919845000001"]
    assert integrity_ok(database_url)


def test_an_old_schema_backup_restores_and_upgrades(backups, new_database):
    old_url = new_database("old")
    old = make_app(old_url, **backup_config(backups))
    with old.app_context():
        upgrade()
        seed_branches()
    enquire(old.test_client(), 2, utm_source="Instagram")
    with old.app_context():
        # The database as an older release left it: before leads had a source column.
        downgrade(revision=INITIAL_REVISION)
        db.engine.dispose()
    output = backups / "old-release.backup"
    made = old.test_cli_runner().invoke(args=["db", "backup", "--output", str(output)])
    assert made.exit_code == 0, made.output

    target_url = new_database("upgraded")
    target = make_app(target_url, **backup_config(backups))
    cli = target.test_cli_runner()
    restored = cli.invoke(args=["db", "restore", str(output)])
    assert restored.exit_code == 0, restored.output
    assert f"The backup's schema is at revision {INITIAL_REVISION}" in restored.output
    assert "Run `crm db upgrade` now" in restored.output
    assert column(target_url, "SELECT version_num FROM alembic_version") == [INITIAL_REVISION]

    upgraded = cli.invoke(args=["db", "upgrade"])
    assert upgraded.exit_code == 0, upgraded.output
    assert _drift(target) == []
    with target.app_context():
        # The upgrade filled the new column from the restored enquiries.
        assert db.session.scalars(select(Lead.source)).all() == ["instagram", "instagram"]
        assert db.session.scalar(select(func.count(Enquiry.id))) == 2
        db.engine.dispose()
    again = cli.invoke(args=["db", "restore", str(output)])
    assert again.exit_code == 1 and "holds 2 leads" in again.output


def test_keep_removes_the_oldest_backups_and_nothing_else(app, client, runner, backups):
    enquire(client, 1)
    backups.mkdir(mode=0o700)
    (backups / "notes.txt").write_text("not a backup")
    made = []
    for _ in range(3):
        result = runner.invoke(args=["db", "backup", "--keep", "2"])
        assert result.exit_code == 0, result.output
        made.append(result.output.split("Backup written: ", 1)[1].split(" (", 1)[0])
    assert "Removed 1 older" in result.output
    assert sorted(path.name for path in backups.iterdir()) == sorted(
        ["notes.txt", *(name.rsplit("/", 1)[1] for name in made[1:])]
    )


def test_healthz_reports_the_age_of_the_newest_backup(app, client, runner):
    assert client.get("/healthz").get_json()["backup"] == {"newest_age_seconds": None}
    assert runner.invoke(args=["db", "backup"]).exit_code == 0
    age = client.get("/healthz").get_json()["backup"]["newest_age_seconds"]
    assert isinstance(age, int) and age >= 0


def test_a_file_that_is_no_backup_is_refused_and_changes_nothing(
    app, client, runner, tmp_path, database_url
):
    enquire(client, 1)
    bogus = tmp_path / "bogus.sqlite3.gz"
    bogus.write_bytes(b"not a database at all")
    result = runner.invoke(args=["db", "restore", "--force", str(bogus)])
    assert result.exit_code == 1
    assert "is not a" in result.output and "backup" in result.output
    assert phones(database_url) == ["+919845000000"]


@pytest.mark.skipif(BACKEND != "postgres", reason="pg_dump backs up PostgreSQL only")
def test_without_pg_dump_the_backup_says_what_to_install(app, runner, tmp_path, backups):
    app.config["BACKUP_PG_BIN_DIR"] = str(tmp_path)  # a folder without the client programs
    result = runner.invoke(args=["db", "backup"])
    assert result.exit_code == 1
    assert "pg_dump is not in CRM_BACKUP_PG_BIN_DIR" in result.output
    assert "apt-get install postgresql-client-15" in result.output
    assert not backups.exists() or list(backups.iterdir()) == []
