"""covering indexes for the dashboard: it counts from the index without reading leads

Revision ID: 453e4a5470df
Revises: 3ea94497b83b
Create Date: 2026-11-24 01:35:00.000000

"""
from alembic import op
import sqlalchemy as sa

import crm.platform.database


# revision identifiers, used by Alembic.
revision = '453e4a5470df'
down_revision = '3ea94497b83b'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_branch_first_response')
        batch_op.drop_index('ix_lead_branch_created')
        batch_op.create_index('ix_lead_branch_created_status_source', ['branch_id', 'created_at', 'status', 'source'], unique=False)
        batch_op.create_index('ix_lead_branch_first_response_created', ['branch_id', 'first_response_at', 'created_at'], unique=False)



def downgrade():
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_branch_first_response_created')
        batch_op.drop_index('ix_lead_branch_created_status_source')
        batch_op.create_index('ix_lead_branch_first_response', ['branch_id', 'first_response_at'], unique=False)
        batch_op.create_index('ix_lead_branch_created', ['branch_id', 'created_at'], unique=False)

