"""page views per public page and day, counted without personal data

Revision ID: f3b8d2c6a114
Revises: e7a1c3b5d902
Create Date: 2026-12-02 07:30:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'f3b8d2c6a114'
down_revision = 'e7a1c3b5d902'
branch_labels = None
depends_on = None


def upgrade():
    # A new table: nothing existing changes.
    op.create_table(
        'page_view_day',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('path', sa.String(length=200), nullable=False),
        sa.Column('views', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_page_view_day')),
        sa.UniqueConstraint('day', 'path', name='uq_page_view_day_day_path'),
    )


def downgrade():
    op.drop_table('page_view_day')
