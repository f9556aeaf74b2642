"""Fixtures: an app on a fresh, migrated database per test; SQLite by default, PostgreSQL too.

``CRM_TEST_DATABASE=postgres`` runs the same tests on a throwaway PostgreSQL cluster that this
session starts on loopback and stops at the end (``make test`` does so when CRM_TEST_POSTGRES=1).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient, FlaskCliRunner
from flask_migrate import upgrade
from sqlalchemy import create_engine, text

from crm import create_app
from crm.clinic.seed import seed_branches
from crm.platform.extensions import db
from tests.smtp import SMTPServer, free_port

BACKEND = os.environ.get("CRM_TEST_DATABASE", "sqlite")

# The developer's own CRM_* settings must not leak into tests; CRM_TEST_* and
# CRM_REQUIRE_* (clients a run must not skip) configure the test run itself.
_TEST_RUN_SETTINGS = ("CRM_TEST_", "CRM_REQUIRE_")
for _name in [
    name
    for name in os.environ
    if name.startswith("CRM_") and not name.startswith(_TEST_RUN_SETTINGS)
]:
    del os.environ[_name]

BASE_CONFIG = {
    "TESTING": True,
    "SECRET_KEY": "test-secret-key",
    "SITE_URL": "http://clinic.test",
    "MAIL_SERVER": None,
    "MAIL_DEFAULT_SENDER": "Clinic <no-reply@clinic.test>",
    # Tests fill the form in at machine speed; the spam tests set their own minimum.
    "FORM_MIN_FILL_SECONDS": 0,
}


def make_app(database_url: str, **overrides: object) -> Flask:
    return create_app({**BASE_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **overrides})


def _migrate(url: str) -> None:
    app = make_app(url)
    with app.app_context():
        upgrade()
        seed_branches()
        db.engine.dispose()


class SQLiteDatabases:
    """Migrate once into a template file; every test gets its own copy."""

    def __init__(self, root: Path) -> None:
        self.template = root / "template.sqlite3"
        _migrate(f"sqlite:///{self.template}")

    def fresh(self, folder: Path) -> str:
        target = folder / "crm.sqlite3"
        shutil.copyfile(self.template, target)
        return f"sqlite:///{target}"

    def close(self) -> None:
        pass


class PostgresDatabases:
    """One migrated database; every test starts from emptied tables and seeded branches."""

    def __init__(self) -> None:
        from tests.pgcluster import PostgresCluster

        self.cluster = PostgresCluster()
        self.cluster.start()
        admin = create_engine(self.cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("CREATE DATABASE crm_test"))
        admin.dispose()
        self.url = self.cluster.url("crm_test")
        _migrate(self.url)
        engine = create_engine(self.url)
        with engine.connect() as connection:
            self.tables = [
                row[0]
                for row in connection.execute(
                    text(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                        "AND tablename <> 'alembic_version'"
                    )
                )
            ]
        engine.dispose()

    def fresh(self, _folder: Path) -> str:
        engine = create_engine(self.url)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {', '.join(self.tables)} RESTART IDENTITY CASCADE"))
        engine.dispose()
        app = make_app(self.url)
        with app.app_context():
            seed_branches()
            db.engine.dispose()
        return self.url

    def close(self) -> None:
        self.cluster.stop()


@pytest.fixture(scope="session")
def databases(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[SQLiteDatabases | PostgresDatabases]:
    if BACKEND == "postgres":
        provider: SQLiteDatabases | PostgresDatabases = PostgresDatabases()
    elif BACKEND == "sqlite":
        provider = SQLiteDatabases(tmp_path_factory.mktemp("db-template"))
    else:
        raise pytest.UsageError(f"CRM_TEST_DATABASE must be sqlite or postgres, not {BACKEND!r}")
    yield provider
    provider.close()


@pytest.fixture
def database_url(databases: SQLiteDatabases | PostgresDatabases, tmp_path: Path) -> str:
    return databases.fresh(tmp_path)


@pytest.fixture
def app_config() -> dict[str, object]:
    """Per-test overrides; a test module can redefine this fixture."""
    return {}


@pytest.fixture
def app(database_url: str, app_config: dict[str, object], tmp_path: Path) -> Iterator[Flask]:
    os.environ["CRM_INSTANCE_PATH"] = str(tmp_path / "instance")
    application = make_app(database_url, **app_config)
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> FlaskCliRunner:
    return app.test_cli_runner()


@pytest.fixture
def app_ctx(app: Flask) -> Iterator[Flask]:
    with app.app_context():
        yield app


# --- A live server ------------------------------------------------------------------------------


@pytest.fixture
def live_server(app: Flask) -> Iterator[str]:
    """The app served over real HTTP on a free loopback port, for browsers and other processes."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.socket.getsockname()[1]}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    """A real SMTP server (aiosmtpd, line limit enforced) on a free loopback port."""
    with SMTPServer(port=free_port()) as server:
        yield server
