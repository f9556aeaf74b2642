"""each lead keeps its working minutes to first response, so the dashboard reads one column

Revision ID: f9a2c4e6b817
Revises: e2c8a4f6b913
Create Date: 2026-12-02 15:20:00.000000

The dashboard's median first response used to recompute ``working_minutes`` in Python for
every lead answered this week (about 6,000 at a million leads). ``first_response_minutes``
is now written by ``change_lead_status`` together with ``first_response_at``, under the
branch's opening hours of that moment; this migration fills it in for the leads already
answered, under the hours in force today (the only ones known), which is what the dashboard
showed for them until now. The column is added with ALTER TABLE: the lead table is never
rebuilt on SQLite, whose rebuild drops the search and count triggers on it. The index over
the first response gains the minutes, and merged_into_id (NULL in every entry of this partial
index): without it SQLite 3.40 reads each row to check that condition, with it the week's
figures come from the index alone.
"""

from types import SimpleNamespace

import sqlalchemy as sa
from alembic import op

from crm.leads.response_time import working_minutes
from crm.platform.database import UTCDateTime

# revision identifiers, used by Alembic.
revision = "f9a2c4e6b817"
down_revision = "e2c8a4f6b913"
branch_labels = None
depends_on = None

BATCH = 5000
NOT_MERGED = {
    "sqlite_where": sa.text("merged_into_id IS NULL"),
    "postgresql_where": sa.text("merged_into_id IS NULL"),
}

lead = sa.table(
    "lead",
    sa.column("id", sa.Integer),
    sa.column("branch_id", sa.Integer),
    sa.column("created_at", UTCDateTime),
    sa.column("first_response_at", UTCDateTime),
    sa.column("first_response_minutes", sa.Float),
)
branch = sa.table(
    "branch",
    sa.column("id", sa.Integer),
    sa.column("time_zone", sa.String),
    sa.column("opening_hours", sa.JSON),
)


def upgrade():
    op.add_column("lead", sa.Column("first_response_minutes", sa.Float(), nullable=True))
    _backfill(op.get_bind())
    op.drop_index("ix_lead_branch_first_response_created", table_name="lead")
    op.create_index(
        "ix_lead_branch_first_response_minutes",
        "lead",
        [
            "branch_id",
            "first_response_at",
            "created_at",
            "first_response_minutes",
            "merged_into_id",
        ],
        unique=False,
        **NOT_MERGED,
    )


def _backfill(connection):
    """In id order, a batch at a time: memory stays flat at any number of leads. Only the new
    column is written, so no trigger on lead fires (they all name their columns)."""
    # working_minutes reads only the hours and the zone: plain rows stand in for the model.
    branches = {
        row.id: SimpleNamespace(time_zone=row.time_zone, opening_hours=row.opening_hours)
        for row in connection.execute(sa.select(branch))
    }
    update = (
        lead.update()
        .where(lead.c.id == sa.bindparam("lead_id"))
        .values(first_response_minutes=sa.bindparam("minutes"))
    )
    after = 0
    while True:
        rows = connection.execute(
            sa.select(lead.c.id, lead.c.branch_id, lead.c.created_at, lead.c.first_response_at)
            .where(lead.c.id > after, lead.c.first_response_at.is_not(None))
            .order_by(lead.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        connection.execute(
            update,
            [
                {
                    "lead_id": row.id,
                    "minutes": working_minutes(
                        branches[row.branch_id], row.created_at, row.first_response_at
                    ),
                }
                for row in rows
            ],
        )
        after = rows[-1].id


def downgrade():
    op.drop_index("ix_lead_branch_first_response_minutes", table_name="lead", **NOT_MERGED)
    op.create_index(
        "ix_lead_branch_first_response_created",
        "lead",
        ["branch_id", "first_response_at", "created_at"],
        unique=False,
        **NOT_MERGED,
    )
    # DROP COLUMN without a rebuild (SQLite 3.35+): the triggers on lead stay.
    op.drop_column("lead", "first_response_minutes")
