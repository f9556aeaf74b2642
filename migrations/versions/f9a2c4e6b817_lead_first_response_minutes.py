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

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

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
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("first_response_at", sa.DateTime(timezone=True)),
    sa.column("first_response_minutes", sa.Float),
)
branch = sa.table(
    "branch",
    sa.column("id", sa.Integer),
    sa.column("time_zone", sa.String),
    sa.column("opening_hours", sa.JSON),
)


# How working minutes were counted at this revision (crm.leads.response_time.working_minutes,
# with crm.clinic.branches' opening_spans and branch_zone), copied so that later changes to
# the application cannot change what this migration writes.
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_TIME_ZONE = "Asia/Kolkata"
MAX_DAYS = 62


def _utc(value):
    """A stored time as an aware UTC datetime: SQLite keeps UTC without a zone."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _opening_spans(opening_hours, weekday):
    spans = (opening_hours or {}).get(weekday) or []
    return [(time.fromisoformat(start), time.fromisoformat(end)) for start, end in spans]


def _working_minutes(time_zone, opening_hours, start, end):
    """Minutes between ``start`` and ``end`` within the branch's opening hours."""
    if end <= start:
        return 0.0
    zone = ZoneInfo(time_zone) if time_zone else ZoneInfo(DEFAULT_TIME_ZONE)
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    day = local_start.date()
    last_day = min(local_end.date(), day + timedelta(days=MAX_DAYS))
    total = 0.0
    while day <= last_day:
        for opens, closes in _opening_spans(opening_hours, WEEKDAYS[day.weekday()]):
            span_start = datetime.combine(day, opens, zone)
            span_end = datetime.combine(day, closes, zone)
            overlap = min(span_end, local_end) - max(span_start, local_start)
            if overlap > timedelta(0):
                total += overlap.total_seconds() / 60
        day += timedelta(days=1)
    return total


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
    branches = {
        row.id: (row.time_zone, row.opening_hours) for row in connection.execute(sa.select(branch))
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
                    "minutes": _working_minutes(
                        *branches[row.branch_id],
                        _utc(row.created_at),
                        _utc(row.first_response_at),
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
