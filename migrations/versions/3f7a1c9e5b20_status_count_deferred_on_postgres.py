"""PostgreSQL: lead counts per branch and status move at commit, not at the change

Revision ID: 3f7a1c9e5b20
Revises: 6e2b9d4c8a15
Create Date: 2026-12-02 10:20:00.000000

Every new lead adds one to its branch's "new" count. As an ordinary trigger that UPDATE ran at
the lead's INSERT, early in the intake's transaction, and its row lock was held until commit:
concurrent intakes for one branch waited for each other for the whole of their transactions
(sampled under load, nearly every waiting backend was waiting there). As deferred constraint
triggers the same function runs when the transaction commits, so the row is held only for
the commit itself. SQLite, which admits one writer at a time anyway, is left as it is.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f7a1c9e5b20'
down_revision = '6e2b9d4c8a15'
branch_labels = None
depends_on = None

DROP = [
    "DROP TRIGGER IF EXISTS lead_status_count_update ON lead",
    "DROP TRIGGER IF EXISTS lead_status_count_insert_delete ON lead",
]
WHEN_MOVED = (
    "WHEN (old.branch_id IS DISTINCT FROM new.branch_id "
    "OR old.status IS DISTINCT FROM new.status "
    "OR old.merged_into_id IS DISTINCT FROM new.merged_into_id) "
)


def _triggers(kind: str) -> list[str]:
    """The two triggers of migration 9c4d2e7f1a36, as ``kind`` ("CONSTRAINT TRIGGER" deferred
    to commit, or plain "TRIGGER" as they were)."""
    deferred = "DEFERRABLE INITIALLY DEFERRED " if kind == "CONSTRAINT TRIGGER" else ""
    return [
        f"CREATE {kind} lead_status_count_insert_delete AFTER INSERT OR DELETE ON lead "
        f"{deferred}FOR EACH ROW EXECUTE FUNCTION lead_status_count_keep()",
        f"CREATE {kind} lead_status_count_update "
        "AFTER UPDATE OF branch_id, status, merged_into_id ON lead "
        f"{deferred}FOR EACH ROW {WHEN_MOVED}EXECUTE FUNCTION lead_status_count_keep()",
    ]


def upgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for statement in [*DROP, *_triggers("CONSTRAINT TRIGGER")]:
        op.execute(sa.text(statement))


def downgrade():
    if op.get_bind().dialect.name != 'postgresql':
        return
    for statement in [*DROP, *_triggers("TRIGGER")]:
        op.execute(sa.text(statement))
