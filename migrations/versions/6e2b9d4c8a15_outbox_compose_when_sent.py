"""outbox emails composed when sent: what to render, instead of rendered bodies

Revision ID: 6e2b9d4c8a15
Revises: d4b7e2a9c158
Create Date: 2026-12-02 10:00:00.000000

An enquiry's branch alert and acknowledgement were rendered from four templates inside the
intake's write transaction. They are now queued with what the worker needs to render them as
it sends (the enquiry, and whether it was a returning person's), and empty bodies.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "6e2b9d4c8a15"
down_revision = "d4b7e2a9c158"
branch_labels = None
depends_on = None


def upgrade():
    # Plain add_column, not a batch rebuild: a nullable column needs no copy of the table.
    op.add_column("outbox_email", sa.Column("compose", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("outbox_email") as batch_op:
        batch_op.drop_column("compose")
