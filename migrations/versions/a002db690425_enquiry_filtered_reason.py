"""enquiry filtered reason

Revision ID: a002db690425
Revises: 0d6b2ec8b7c7
Create Date: 2026-11-23 23:10:31.414876

"""
from alembic import op
import sqlalchemy as sa

import crm.platform.database


# revision identifiers, used by Alembic.
revision = 'a002db690425'
down_revision = '0d6b2ec8b7c7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('enquiry', schema=None) as batch_op:
        batch_op.add_column(sa.Column('filtered_reason', sa.String(length=30), nullable=True))



def downgrade():
    with op.batch_alter_table('enquiry', schema=None) as batch_op:
        batch_op.drop_column('filtered_reason')

