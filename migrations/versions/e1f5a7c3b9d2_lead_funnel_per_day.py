"""the dashboard's funnel and pages counted per branch, day, source, channel and first page

Revision ID: e1f5a7c3b9d2
Revises: c7d3e9a1f4b8
Create Date: 2026-12-02 14:30:00.000000

The funnel, the pages that bring patients and the chart looked at every lead of their window
(and, for each, at its enquiries and appointments), so their cost grew with the leads. Now:

- the lead carries what those figures need from other tables: the page of its first enquiry
  (lowest id), whether it had an appointment and whether it came to one. Triggers on enquiry
  and appointment recompute them for the leads a row change touches (so a merge, which moves
  enquiries and appointments, an erasure, which trims pages, and any other writer keep them);
- ``lead_funnel_day`` counts leads per branch, clinic day (India time, as the dashboard's
  days), source, channel and first page, with how many were contacted, booked and attended.
  Triggers on lead take a lead out of its old row and add it to its new one whenever a column
  it is counted by changes. On PostgreSQL these are deferred constraint triggers that run at
  commit, as the status counts' (3f7a1c9e5b20), so concurrent intakes do not queue on a day's
  row; they use only the lead's old and new values, so running late changes nothing.

Columns are added, never a batch rebuild: rebuilding ``lead`` on SQLite drops its triggers.
The existing data is counted in, under a lock on PostgreSQL so no write slips between the
count and the triggers.
"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "e1f5a7c3b9d2"
down_revision = "c7d3e9a1f4b8"
branch_labels = None
depends_on = None

# The dashboard's report zone (crm.leads.dashboard.REPORT_ZONE). SQLite has no zone database:
# India has kept one offset since 1945 (tests/test_lead_funnel.py checks that it still does).
ZONE = "Asia/Kolkata"
SQLITE_OFFSET = "+330 minutes"
# created_at cut to the second: SQLite rounds to the millisecond, which would put the last
# half millisecond of a day on the next one.
DAY = {
    "sqlite": "date(substr({x}.created_at, 1, 19), '" + SQLITE_OFFSET + "')",
    "postgresql": "({x}.created_at AT TIME ZONE '" + ZONE + "')::date",
}
PAGE = "CASE WHEN {x}.first_page IS NULL THEN '' WHEN {x}.first_page = '' THEN '/' ELSE {x}.first_page END"
# As crm.leads.dashboard defines the steps: booked by status or by an appointment, contacted if
# answered or booked, attended by status or by coming to an appointment.
BOOKED = "({x}.status IN ('appointment_booked', 'visited') OR {x}.had_appointment)"
STEPS = {
    "contacted": "({x}.first_response_at IS NOT NULL OR " + BOOKED + ")",
    "booked": BOOKED,
    "attended": "({x}.status = 'visited' OR {x}.attended_appointment)",
}
COUNTED = "{x}.merged_into_id IS NULL AND {x}.status <> 'spam'"
KEY = ("branch_id", "day", "source", "channel", "page")
# The lead's columns that place it in a row or move it between steps.
MOVING = (
    "branch_id",
    "created_at",
    "source",
    "channel",
    "status",
    "first_response_at",
    "merged_into_id",
    "first_page",
    "had_appointment",
    "attended_appointment",
)


def _flag(condition: str) -> str:
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def _key_values(dialect: str, x: str) -> list[str]:
    return [
        f"{x}.branch_id",
        DAY[dialect].format(x=x),
        f"{x}.source",
        f"{x}.channel",
        PAGE.format(x=x),
    ]


def _add(dialect: str) -> str:
    """Count lead ``new`` in its row."""
    values = [
        *_key_values(dialect, "new"),
        "1",
        *(_flag(step.format(x="new")) for step in STEPS.values()),
    ]
    counts = ["leads", *STEPS]
    return (
        f"INSERT INTO lead_funnel_day ({', '.join([*KEY, *counts])}) "
        f"SELECT {', '.join(values)} WHERE {COUNTED.format(x='new')} "
        f"ON CONFLICT ({', '.join(KEY)}) DO UPDATE SET "
        + ", ".join(f"{name} = lead_funnel_day.{name} + excluded.{name}" for name in counts)
    )


def _take(dialect: str) -> str:
    """Take lead ``old`` out of its row."""
    moves = ["leads = leads - 1"] + [
        f"{name} = {name} - {_flag(step.format(x='old'))}" for name, step in STEPS.items()
    ]
    where = [f"{column} = {value}" for column, value in zip(KEY, _key_values(dialect, "old"))]
    return (
        f"UPDATE lead_funnel_day SET {', '.join(moves)} "
        f"WHERE {' AND '.join(where)} AND {COUNTED.format(x='old')}"
    )


def _backfill(dialect: str) -> list[str]:
    first_page = (
        "(SELECT enquiry.source_page FROM enquiry WHERE enquiry.lead_id = lead.id "
        "ORDER BY enquiry.id LIMIT 1)"
    )
    key = _key_values(dialect, "lead")
    return [
        f"UPDATE lead SET first_page = {first_page} WHERE {first_page} IS NOT NULL",
        "UPDATE lead SET had_appointment = true WHERE id IN (SELECT lead_id FROM appointment)",
        "UPDATE lead SET attended_appointment = true "
        "WHERE id IN (SELECT lead_id FROM appointment WHERE status = 'attended')",
        f"INSERT INTO lead_funnel_day ({', '.join(KEY)}, leads, {', '.join(STEPS)}) "
        f"SELECT {', '.join(key)}, count(*), "
        + ", ".join(f"sum({_flag(step.format(x='lead'))})" for step in STEPS.values())
        + f" FROM lead WHERE {COUNTED.format(x='lead')} GROUP BY {', '.join(key)}",
    ]


# What the upgrade fills the new columns and table with from existing data; bench/dataset.py
# runs it after loading leads with the triggers set aside.
SQLITE_BACKFILL = _backfill("sqlite")


# A lead's first page and appointments, recomputed from its rows: the same answer however many
# of the lead's rows one statement changes, and in whatever order the triggers see them.
FIRST_PAGE = "(SELECT e.source_page FROM enquiry e WHERE e.lead_id = lead.id ORDER BY e.id LIMIT 1)"
HAD = "EXISTS (SELECT 1 FROM appointment a WHERE a.lead_id = lead.id)"
CAME = "EXISTS (SELECT 1 FROM appointment a WHERE a.lead_id = lead.id AND a.status = 'attended')"


def _keep_first_page(ids: str, differs: str) -> str:
    return f"UPDATE lead SET first_page = {FIRST_PAGE} WHERE id IN ({ids}) AND first_page {differs} {FIRST_PAGE}"


def _keep_appointments(ids: str, differs: str) -> str:
    return (
        f"UPDATE lead SET had_appointment = {HAD}, attended_appointment = {CAME} "
        f"WHERE id IN ({ids}) AND (had_appointment {differs} {HAD} "
        f"OR attended_appointment {differs} {CAME})"
    )


def _sqlite_up() -> list[str]:
    moved = " OR ".join(f"old.{column} IS NOT new.{column}" for column in MOVING)
    statements = [
        f"""CREATE TRIGGER lead_funnel_day_insert AFTER INSERT ON lead BEGIN
            {_add("sqlite")};
        END""",
        f"""CREATE TRIGGER lead_funnel_day_update AFTER UPDATE OF {", ".join(MOVING)} ON lead
            WHEN {moved} BEGIN
            {_take("sqlite")};
            {_add("sqlite")};
        END""",
        f"""CREATE TRIGGER lead_funnel_day_delete AFTER DELETE ON lead BEGIN
            {_take("sqlite")};
        END""",
    ]
    for table, keep, columns in (
        ("enquiry", _keep_first_page, "lead_id, source_page"),
        ("appointment", _keep_appointments, "lead_id, status"),
    ):
        statements += [
            f"""CREATE TRIGGER {table}_lead_reach_insert AFTER INSERT ON {table} BEGIN
                {keep("new.lead_id", "IS NOT")};
            END""",
            f"""CREATE TRIGGER {table}_lead_reach_update AFTER UPDATE OF {columns} ON {table}
                BEGIN
                {keep("old.lead_id, new.lead_id", "IS NOT")};
            END""",
            f"""CREATE TRIGGER {table}_lead_reach_delete AFTER DELETE ON {table} BEGIN
                {keep("old.lead_id", "IS NOT")};
            END""",
        ]
    return statements


SQLITE_DOWN = [
    f"DROP TRIGGER IF EXISTS {name}"
    for name in (
        "lead_funnel_day_insert",
        "lead_funnel_day_update",
        "lead_funnel_day_delete",
        "enquiry_lead_reach_insert",
        "enquiry_lead_reach_update",
        "enquiry_lead_reach_delete",
        "appointment_lead_reach_insert",
        "appointment_lead_reach_update",
        "appointment_lead_reach_delete",
    )
]


def _postgres_up() -> list[str]:
    moved = " OR ".join(f"old.{column} IS DISTINCT FROM new.{column}" for column in MOVING)
    statements = [
        f"""CREATE FUNCTION lead_funnel_day_keep() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                {_take("postgresql")};
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                {_add("postgresql")};
            END IF;
            RETURN NULL;
        END $$""",
        "CREATE CONSTRAINT TRIGGER lead_funnel_day_insert_delete AFTER INSERT OR DELETE ON lead "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION lead_funnel_day_keep()",
        f"CREATE CONSTRAINT TRIGGER lead_funnel_day_update AFTER UPDATE OF {', '.join(MOVING)} "
        f"ON lead DEFERRABLE INITIALLY DEFERRED FOR EACH ROW WHEN ({moved}) "
        "EXECUTE FUNCTION lead_funnel_day_keep()",
    ]
    # Not deferred: the lead's columns are right by the end of each statement, so the lead
    # trigger above sees each change of them as its own old and new values.
    for table, keep, columns in (
        ("enquiry", _keep_first_page, ("lead_id", "source_page")),
        ("appointment", _keep_appointments, ("lead_id", "status")),
    ):
        changed = " OR ".join(f"old.{column} IS DISTINCT FROM new.{column}" for column in columns)
        statements += [
            f"""CREATE FUNCTION {table}_lead_reach_keep() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF TG_OP = 'INSERT' THEN
                    {keep("new.lead_id", "IS DISTINCT FROM")};
                ELSIF TG_OP = 'DELETE' THEN
                    {keep("old.lead_id", "IS DISTINCT FROM")};
                ELSE
                    {keep("old.lead_id, new.lead_id", "IS DISTINCT FROM")};
                END IF;
                RETURN NULL;
            END $$""",
            f"CREATE TRIGGER {table}_lead_reach_insert_delete AFTER INSERT OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION {table}_lead_reach_keep()",
            f"CREATE TRIGGER {table}_lead_reach_update AFTER UPDATE OF {', '.join(columns)} "
            f"ON {table} FOR EACH ROW WHEN ({changed}) "
            f"EXECUTE FUNCTION {table}_lead_reach_keep()",
        ]
    return statements


POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS lead_funnel_day_update ON lead",
    "DROP TRIGGER IF EXISTS lead_funnel_day_insert_delete ON lead",
    "DROP FUNCTION IF EXISTS lead_funnel_day_keep()",
    "DROP TRIGGER IF EXISTS enquiry_lead_reach_update ON enquiry",
    "DROP TRIGGER IF EXISTS enquiry_lead_reach_insert_delete ON enquiry",
    "DROP FUNCTION IF EXISTS enquiry_lead_reach_keep()",
    "DROP TRIGGER IF EXISTS appointment_lead_reach_update ON appointment",
    "DROP TRIGGER IF EXISTS appointment_lead_reach_insert_delete ON appointment",
    "DROP FUNCTION IF EXISTS appointment_lead_reach_keep()",
]


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("LOCK TABLE lead, enquiry, appointment IN SHARE ROW EXCLUSIVE MODE")
    op.add_column("lead", sa.Column("first_page", sa.String(length=500), nullable=True))
    for name in ("had_appointment", "attended_appointment"):
        op.add_column(
            "lead", sa.Column(name, sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "lead_funnel_day",
        sa.Column("branch_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=100), nullable=False),
        sa.Column("channel", sa.String(length=20), nullable=False),
        sa.Column("page", sa.String(length=500), nullable=False),
        sa.Column("leads", sa.Integer(), nullable=False),
        sa.Column("contacted", sa.Integer(), nullable=False),
        sa.Column("booked", sa.Integer(), nullable=False),
        sa.Column("attended", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["branch_id"], ["branch.id"], name=op.f("fk_lead_funnel_day_branch_id_branch")
        ),
        sa.PrimaryKeyConstraint(
            "branch_id", "day", "source", "channel", "page", name=op.f("pk_lead_funnel_day")
        ),
    )
    for statement in SQLITE_BACKFILL if dialect == "sqlite" else _backfill(dialect):
        op.execute(sa.text(statement))
    for statement in _sqlite_up() if dialect == "sqlite" else _postgres_up():
        op.execute(sa.text(statement))


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == "sqlite" else POSTGRES_DOWN:
        op.execute(sa.text(statement))
    op.drop_table("lead_funnel_day")
    for name in ("attended_appointment", "had_appointment", "first_page"):
        op.drop_column("lead", name)
