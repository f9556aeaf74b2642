"""appointments and clinicians, and one calendar attachment per outbox email

Revision ID: 44a890acc869
Revises: 7c1e5d9a2f40
Create Date: 2026-12-02 06:19:24.435395

"""
from alembic import op
import sqlalchemy as sa

import crm.platform.database


# revision identifiers, used by Alembic.
revision = '44a890acc869'
down_revision = '7c1e5d9a2f40'
branch_labels = None
depends_on = None


def upgrade():
    # Two new, empty tables and a nullable column: emails already queued carry no calendar
    # attachment, as before, so nothing on existing data changes.
    op.create_table('clinician',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_clinician_branch_id_branch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinician')),
    sa.UniqueConstraint('branch_id', 'name', name='uq_clinician_branch_name')
    )
    with op.batch_alter_table('clinician', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_clinician_branch_id'), ['branch_id'], unique=False)

    op.create_table('appointment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('address', sa.Text(), nullable=True),
    sa.Column('clinician_id', sa.Integer(), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('cancel_reason', sa.String(length=500), nullable=True),
    sa.Column('uid', sa.String(length=120), nullable=False),
    sa.Column('sequence', sa.Integer(), nullable=False),
    sa.Column('reminder_sequence', sa.Integer(), nullable=True),
    sa.Column('reminder_sent_at', crm.platform.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("kind IN ('clinic', 'home')", name=op.f('ck_appointment_kind_known')),
    sa.CheckConstraint("status IN ('booked', 'attended', 'no_show', 'cancelled')", name=op.f('ck_appointment_status_known')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_appointment_branch_id_branch')),
    sa.ForeignKeyConstraint(['clinician_id'], ['clinician.id'], name=op.f('fk_appointment_clinician_id_clinician')),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_user.id'], name=op.f('fk_appointment_created_by_id_staff_user')),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], name=op.f('fk_appointment_lead_id_lead')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appointment')),
    sa.UniqueConstraint('uid', name=op.f('uq_appointment_uid'))
    )
    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.create_index('ix_appointment_branch_starts', ['branch_id', 'starts_at'], unique=False)
        batch_op.create_index('ix_appointment_clinician_starts', ['clinician_id', 'starts_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_lead_id'), ['lead_id'], unique=False)

    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ics', sa.Text(), nullable=True))



def downgrade():
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.drop_column('ics')

    with op.batch_alter_table('appointment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_lead_id'))
        batch_op.drop_index('ix_appointment_clinician_starts')
        batch_op.drop_index('ix_appointment_branch_starts')

    op.drop_table('appointment')
    with op.batch_alter_table('clinician', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_clinician_branch_id'))

    op.drop_table('clinician')
