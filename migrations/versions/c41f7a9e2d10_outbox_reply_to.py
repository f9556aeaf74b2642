"""outbox reply-to, and an index on recipient and time

Revision ID: c41f7a9e2d10
Revises: 8213e0d17f73
Create Date: 2026-12-01 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c41f7a9e2d10'
down_revision = '8213e0d17f73'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: emails already queued simply have no Reply-To, as before.
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reply_to', sa.String(length=254), nullable=True))
        batch_op.create_index(
            'ix_outbox_email_to_address_created', ['to_address', 'created_at'], unique=False
        )


def downgrade():
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_email_to_address_created')
        batch_op.drop_column('reply_to')
