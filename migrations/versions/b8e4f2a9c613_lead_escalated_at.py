"""when a lead nobody answered in time was escalated to its branch's managers

Revision ID: b8e4f2a9c613
Revises: 5d1f8c3a7e62
Create Date: 2026-12-02 07:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8e4f2a9c613'
down_revision = '5d1f8c3a7e62'
branch_labels = None
depends_on = None


def upgrade():
    # Empty for existing leads; in place, since a batch copy of lead would drop a table that
    # others refer to. The escalation looks back a week only, so the first run after this
    # does not flood managers with every lead that ever waited.
    op.add_column('lead', sa.Column('escalated_at', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    op.drop_column('lead', 'escalated_at')
