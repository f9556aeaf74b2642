"""The migrations build the whole model on an empty database, and match it exactly."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from crm.leads.search import is_search_object
from crm.platform.extensions import db

TABLES = {
    "appointment",
    "clinician",
    "branch",
    "staff_user",
    "lead",
    "enquiry",
    "lead_event",
    "follow_up",
    "outbox_email",
    "alembic_version",
}


def _drift(app) -> list:
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "compare_type": True,
                "render_as_batch": True,
                # As migrations/env.py: the text search objects are the migrations' alone.
                "include_name": lambda name, type_, _parents: not is_search_object(name, type_),
            },
        )
        return compare_metadata(context, db.metadata)


def test_the_migrated_database_matches_the_models_exactly(app):
    # the fixture's database was built by `upgrade` alone
    assert _drift(app) == []
    with app.app_context():
        assert set(inspect(db.engine).get_table_names()) >= TABLES


def test_downgrade_to_empty_and_upgrade_again(app):
    with app.app_context():
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert set(inspect(db.engine).get_table_names()) >= TABLES
    assert _drift(app) == []
