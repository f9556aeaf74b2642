"""a branch's automatic assignment of new leads, and whose turn it is

Revision ID: 5d1f8c3a7e62
Revises: 9a4c2e7b1d35
Create Date: 2026-12-02 07:10:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5d1f8c3a7e62'
down_revision = '9a4c2e7b1d35'
branch_labels = None
depends_on = None


def upgrade():
    # Off for every existing branch: nobody is handed work they did not expect. Added in
    # place: a batch copy of branch would drop a table every lead refers to.
    op.add_column(
        'branch',
        sa.Column('auto_assign', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    )
    op.add_column('branch', sa.Column('last_auto_assignee_id', sa.Integer(), nullable=True))


def downgrade():
    # In place on SQLite (3.35+) too, for the same reason.
    op.drop_column('branch', 'last_auto_assignee_id')
    op.drop_column('branch', 'auto_assign')
