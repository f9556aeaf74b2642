"""indexes for the dashboard and date filters

Revision ID: bd33ab3b25ec
Revises: a002db690425
Create Date: 2026-11-24 00:02:44.677707

"""
from alembic import op
import sqlalchemy as sa

import crm.platform.database


# revision identifiers, used by Alembic.
revision = 'bd33ab3b25ec'
down_revision = 'a002db690425'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_open_due', ['done_at', 'due_at'], unique=False)

    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.create_index('ix_lead_branch_created', ['branch_id', 'created_at'], unique=False)
        batch_op.create_index('ix_lead_branch_first_response', ['branch_id', 'first_response_at'], unique=False)



def downgrade():
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_branch_first_response')
        batch_op.drop_index('ix_lead_branch_created')

    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index('ix_follow_up_open_due')

