"""known sign-in addresses: a stranger's failures cannot lock the owner out

Revision ID: 8213e0d17f73
Revises: 453e4a5470df
Create Date: 2026-12-02 05:54:09.882567

"""
from alembic import op
import sqlalchemy as sa

import crm.platform.database


# revision identifiers, used by Alembic.
revision = '8213e0d17f73'
down_revision = '453e4a5470df'
branch_labels = None
depends_on = None


def upgrade():
    # A new, empty table: existing accounts start with no known addresses (the first sign-in
    # from each place records it), so nothing on existing data changes.
    op.create_table('staff_sign_in_address',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('address_hash', sa.String(length=64), nullable=False),
    sa.Column('last_signed_in_at', crm.platform.database.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['staff_user.id'], name=op.f('fk_staff_sign_in_address_user_id_staff_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_sign_in_address')),
    sa.UniqueConstraint('user_id', 'address_hash', name=op.f('uq_staff_sign_in_address_user_id'))
    )


def downgrade():
    op.drop_table('staff_sign_in_address')
