"""staff sessions, lead source, cross-branch activity index

Revision ID: 0d6b2ec8b7c7
Revises: b5e348cfbd4a
Create Date: 2026-11-23 22:30:14.086239

"""
from alembic import op
import sqlalchemy as sa

import crm.platform.database


# revision identifiers, used by Alembic.
revision = '0d6b2ec8b7c7'
down_revision = 'b5e348cfbd4a'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('staff_session',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('created_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', crm.platform.database.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_staff_session_user_id_staff_user')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_session')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_staff_session_token_hash'))
    )
    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_session_user_id'), ['user_id'], unique=False)

    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source', sa.String(length=100), nullable=False, server_default='direct'))
        batch_op.create_index('ix_lead_activity', ['last_enquiry_at', 'id'], unique=False)

    # Existing leads take the campaign of their first enquiry.
    op.execute(
        "UPDATE lead SET source = COALESCE(("
        " SELECT NULLIF(lower(enquiry.utm_source), '') FROM enquiry"
        " WHERE enquiry.lead_id = lead.id ORDER BY enquiry.id LIMIT 1), 'direct')"
    )



def downgrade():
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_activity')
        batch_op.drop_column('source')

    with op.batch_alter_table('staff_session', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_session_user_id'))

    op.drop_table('staff_session')
