"""initial schema: branches, staff, leads, enquiries, events, follow-ups, outbox

Revision ID: b5e348cfbd4a
Revises: 
Create Date: 2026-11-23 22:18:37.491054

"""
from alembic import op
import sqlalchemy as sa

import crm.platform.database


# revision identifiers, used by Alembic.
revision = 'b5e348cfbd4a'
down_revision = None
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('branch',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=40), nullable=False),
    sa.Column('city', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('notification_email', sa.String(length=254), nullable=False),
    sa.Column('time_zone', sa.String(length=64), nullable=False),
    sa.Column('opening_hours', sa.JSON(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_branch')),
    sa.UniqueConstraint('slug', name=op.f('uq_branch_slug'))
    )
    op.create_table('staff_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=20), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_login_at', crm.platform.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.CheckConstraint("role = 'admin' OR branch_id IS NOT NULL", name=op.f('ck_staff_user_branch_unless_admin')),
    sa.CheckConstraint("role IN ('admin', 'manager', 'agent')", name=op.f('ck_staff_user_role_known')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_staff_user_branch_id_branch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_user')),
    sa.UniqueConstraint('email', name=op.f('uq_staff_user_email'))
    )
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_user_branch_id'), ['branch_id'], unique=False)

    op.create_table('lead',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('branch_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('phone', sa.String(length=20), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('interest', sa.String(length=60), nullable=True),
    sa.Column('status', sa.String(length=30), nullable=False),
    sa.Column('lost_reason', sa.String(length=30), nullable=True),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('next_follow_up_at', crm.platform.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_response_at', crm.platform.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('enquiry_count', sa.Integer(), nullable=False),
    sa.Column('created_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_enquiry_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('erased_at', crm.platform.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("lost_reason IS NULL OR lost_reason IN ('unreachable', 'price', 'distance', 'chose_another_clinic', 'not_interested')", name=op.f('ck_lead_lost_reason_known')),
    sa.CheckConstraint("status IN ('new', 'contacted', 'appointment_booked', 'visited', 'lost', 'spam')", name=op.f('ck_lead_status_known')),
    sa.ForeignKeyConstraint(['assignee_id'], ['staff_user.id'], name=op.f('fk_lead_assignee_id_staff_user')),
    sa.ForeignKeyConstraint(['branch_id'], ['branch.id'], name=op.f('fk_lead_branch_id_branch')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead'))
    )
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_lead_assignee_id'), ['assignee_id'], unique=False)
        batch_op.create_index('ix_lead_branch_activity', ['branch_id', 'last_enquiry_at', 'id'], unique=False)
        batch_op.create_index('ix_lead_branch_email', ['branch_id', 'email'], unique=False)
        batch_op.create_index('ix_lead_branch_follow_up', ['branch_id', 'next_follow_up_at'], unique=False)
        batch_op.create_index('ix_lead_branch_phone', ['branch_id', 'phone'], unique=False)
        batch_op.create_index('ix_lead_branch_status_activity', ['branch_id', 'status', 'last_enquiry_at', 'id'], unique=False)

    op.create_table('enquiry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=True),
    sa.Column('interest', sa.String(length=60), nullable=True),
    sa.Column('message', sa.Text(), nullable=True),
    sa.Column('source_page', sa.String(length=500), nullable=True),
    sa.Column('referrer', sa.String(length=500), nullable=True),
    sa.Column('utm_source', sa.String(length=200), nullable=True),
    sa.Column('utm_medium', sa.String(length=200), nullable=True),
    sa.Column('utm_campaign', sa.String(length=200), nullable=True),
    sa.Column('utm_term', sa.String(length=200), nullable=True),
    sa.Column('utm_content', sa.String(length=200), nullable=True),
    sa.Column('consent_version', sa.String(length=40), nullable=False),
    sa.Column('consented_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('submission_token', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=300), nullable=True),
    sa.Column('client_address_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], name=op.f('fk_enquiry_lead_id_lead')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enquiry')),
    sa.UniqueConstraint('submission_token', name=op.f('uq_enquiry_submission_token'))
    )
    with op.batch_alter_table('enquiry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_enquiry_client_address_hash'), ['client_address_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_enquiry_lead_id'), ['lead_id'], unique=False)

    op.create_table('follow_up',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('assignee_id', sa.Integer(), nullable=True),
    sa.Column('due_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('note', sa.String(length=500), nullable=True),
    sa.Column('done_at', crm.platform.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('outcome_note', sa.Text(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['assignee_id'], ['staff_user.id'], name=op.f('fk_follow_up_assignee_id_staff_user')),
    sa.ForeignKeyConstraint(['created_by_id'], ['staff_user.id'], name=op.f('fk_follow_up_created_by_id_staff_user')),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], name=op.f('fk_follow_up_lead_id_lead')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_up'))
    )
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.create_index('ix_follow_up_assignee_open', ['assignee_id', 'done_at', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_up_lead_id'), ['lead_id'], unique=False)

    op.create_table('lead_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('created_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['staff_user.id'], name=op.f('fk_lead_event_actor_id_staff_user')),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], name=op.f('fk_lead_event_lead_id_lead')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lead_event'))
    )
    with op.batch_alter_table('lead_event', schema=None) as batch_op:
        batch_op.create_index('ix_lead_event_lead_created', ['lead_id', 'created_at'], unique=False)

    op.create_table('outbox_email',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('lead_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=30), nullable=False),
    sa.Column('to_address', sa.String(length=254), nullable=False),
    sa.Column('subject', sa.String(length=255), nullable=False),
    sa.Column('text_body', sa.Text(), nullable=False),
    sa.Column('html_body', sa.Text(), nullable=True),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('claimed_at', crm.platform.database.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.String(length=500), nullable=True),
    sa.Column('message_id', sa.String(length=255), nullable=False),
    sa.Column('created_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', crm.platform.database.UTCDateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('pending', 'sending', 'sent', 'failed')", name=op.f('ck_outbox_email_status_known')),
    sa.ForeignKeyConstraint(['lead_id'], ['lead.id'], name=op.f('fk_outbox_email_lead_id_lead')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outbox_email')),
    sa.UniqueConstraint('message_id', name=op.f('uq_outbox_email_message_id'))
    )
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_outbox_email_lead_id'), ['lead_id'], unique=False)
        batch_op.create_index('ix_outbox_email_status_due', ['status', 'next_attempt_at'], unique=False)



def downgrade():
    with op.batch_alter_table('outbox_email', schema=None) as batch_op:
        batch_op.drop_index('ix_outbox_email_status_due')
        batch_op.drop_index(batch_op.f('ix_outbox_email_lead_id'))

    op.drop_table('outbox_email')
    with op.batch_alter_table('lead_event', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_event_lead_created')

    op.drop_table('lead_event')
    with op.batch_alter_table('follow_up', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_up_lead_id'))
        batch_op.drop_index('ix_follow_up_assignee_open')

    op.drop_table('follow_up')
    with op.batch_alter_table('enquiry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_enquiry_lead_id'))
        batch_op.drop_index(batch_op.f('ix_enquiry_client_address_hash'))

    op.drop_table('enquiry')
    with op.batch_alter_table('lead', schema=None) as batch_op:
        batch_op.drop_index('ix_lead_branch_status_activity')
        batch_op.drop_index('ix_lead_branch_phone')
        batch_op.drop_index('ix_lead_branch_follow_up')
        batch_op.drop_index('ix_lead_branch_email')
        batch_op.drop_index('ix_lead_branch_activity')
        batch_op.drop_index(batch_op.f('ix_lead_assignee_id'))

    op.drop_table('lead')
    with op.batch_alter_table('staff_user', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_user_branch_id'))

    op.drop_table('staff_user')
    op.drop_table('branch')
