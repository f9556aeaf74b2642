"""branch location facts for the public site: coordinates, landmarks, parking

Revision ID: e7a1c3b5d902
Revises: 44a890acc869
Create Date: 2026-12-02 06:40:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e7a1c3b5d902'
down_revision = '44a890acc869'
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: an existing branch keeps working without them; `crm seed` fills the blanks of the
    # clinic's own branches, and a page simply leaves out what a branch does not have.
    with op.batch_alter_table('branch', schema=None) as batch_op:
        batch_op.add_column(sa.Column('latitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('longitude', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('landmarks', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('parking', sa.Text(), nullable=True))


def downgrade():
    with op.batch_alter_table('branch', schema=None) as batch_op:
        batch_op.drop_column('parking')
        batch_op.drop_column('landmarks')
        batch_op.drop_column('longitude')
        batch_op.drop_column('latitude')
