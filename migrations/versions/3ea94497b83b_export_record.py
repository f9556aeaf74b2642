"""export record: who exported which leads, when, with which filters

Revision ID: 3ea94497b83b
Revises: bd33ab3b25ec
Create Date: 2026-11-23 22:54:33.043627

"""
from alembic import op
import sqlalchemy as sa

import crm.platform.database


# revision identifiers, used by Alembic.
revision = '3ea94497b83b'
down_revision = 'bd33ab3b25ec'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('export_record',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('ran_by', sa.String(length=300), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=True),
    sa.Column('filters', sa.JSON(), nullable=False),
    sa.Column('format', sa.String(length=10), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('row_count', sa.Integer(), nullable=False),
    sa.Column('started_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('finished_at', crm.platform.database.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("format IN ('csv', 'xlsx')", name=op.f('ck_export_record_format_known')),
    sa.CheckConstraint("status IN ('started', 'completed', 'interrupted', 'failed')", name=op.f('ck_export_record_status_known')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_export_record_branch_id_branch')),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_user.id'], name=op.f('fk_export_record_staff_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_export_record'))
    )
    with op.batch_alter_table('export_record', schema=None) as batch_op:
        batch_op.create_index('ix_export_record_branch', ['branch_id', 'id'], unique=False)



def downgrade():
    with op.batch_alter_table('export_record', schema=None) as batch_op:
        batch_op.drop_index('ix_export_record_branch')

    op.drop_table('export_record')
