"""lead counts per branch and status, kept by triggers, for the dashboard

Revision ID: 9c4d2e7f1a36
Revises: 5a9e0c3d7b21
Create Date: 2026-12-02 07:15:00.000000

The dashboard counted a branch's leads by status on every view, reading the whole branch's
index (130 ms at a million leads). Triggers on lead keep the counts in the same transaction as
any insert, status or branch change, merge (a merged lead stops counting) or delete, whoever
writes. A later batch migration that rebuilds the lead table drops the SQLite triggers with it
and must create them again (tests/test_lead_counts.py fails if it does not).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9c4d2e7f1a36'
down_revision = '5a9e0c3d7b21'
branch_labels = None
depends_on = None

ADD = (
    "INSERT INTO lead_status_count (branch_id, status, leads) {rows} "
    "ON CONFLICT (branch_id, status) DO UPDATE SET leads = lead_status_count.leads + 1"
)
TAKE = (
    "UPDATE lead_status_count SET leads = leads - 1 "
    "WHERE branch_id = old.branch_id AND status = old.status"
)

SQLITE_UP = [
    f"""CREATE TRIGGER lead_status_count_insert AFTER INSERT ON lead
        WHEN new.merged_into_id IS NULL BEGIN
        {ADD.format(rows="VALUES (new.branch_id, new.status, 1)")};
    END""",
    f"""CREATE TRIGGER lead_status_count_update
        AFTER UPDATE OF branch_id, status, merged_into_id ON lead BEGIN
        {TAKE} AND old.merged_into_id IS NULL;
        {ADD.format(rows="SELECT new.branch_id, new.status, 1 WHERE new.merged_into_id IS NULL")};
    END""",
    f"""CREATE TRIGGER lead_status_count_delete AFTER DELETE ON lead
        WHEN old.merged_into_id IS NULL BEGIN
        {TAKE};
    END""",
]
SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS lead_status_count_delete",
    "DROP TRIGGER IF EXISTS lead_status_count_update",
    "DROP TRIGGER IF EXISTS lead_status_count_insert",
]
POSTGRES_UP = [
    f"""CREATE FUNCTION lead_status_count_keep() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') AND old.merged_into_id IS NULL THEN
            {TAKE};
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') AND new.merged_into_id IS NULL THEN
            {ADD.format(rows="VALUES (new.branch_id, new.status, 1)")};
        END IF;
        RETURN NULL;
    END $$""",
    "CREATE TRIGGER lead_status_count_insert_delete AFTER INSERT OR DELETE ON lead "
    "FOR EACH ROW EXECUTE FUNCTION lead_status_count_keep()",
    "CREATE TRIGGER lead_status_count_update AFTER UPDATE OF branch_id, status, merged_into_id "
    "ON lead FOR EACH ROW WHEN (old.branch_id IS DISTINCT FROM new.branch_id "
    "OR old.status IS DISTINCT FROM new.status "
    "OR old.merged_into_id IS DISTINCT FROM new.merged_into_id) "
    "EXECUTE FUNCTION lead_status_count_keep()",
]
POSTGRES_DOWN = [
    "DROP TRIGGER IF EXISTS lead_status_count_update ON lead",
    "DROP TRIGGER IF EXISTS lead_status_count_insert_delete ON lead",
    "DROP FUNCTION IF EXISTS lead_status_count_keep()",
]
BACKFILL = (
    "INSERT INTO lead_status_count (branch_id, status, leads) "
    "SELECT branch_id, status, count(*) FROM lead WHERE merged_into_id IS NULL "
    "GROUP BY branch_id, status"
)
# Also run by bench/dataset.py after a bulk load without the triggers.
SQLITE_BACKFILL = [BACKFILL]


def upgrade():
    op.create_table(
        'lead_status_count',
        sa.Column('branch_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=30), nullable=False),
        sa.Column('leads', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_lead_status_count_branch_id_branch')),
        sa.PrimaryKeyConstraint('branch_id', 'status', name=op.f('pk_lead_status_count')),
    )
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_UP if dialect == 'sqlite' else POSTGRES_UP:
        op.execute(sa.text(statement))
    op.execute(BACKFILL)


def downgrade():
    dialect = op.get_bind().dialect.name
    for statement in SQLITE_DOWN if dialect == 'sqlite' else POSTGRES_DOWN:
        op.execute(sa.text(statement))
    op.drop_table('lead_status_count')
