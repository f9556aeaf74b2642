"""the language an enquiry was written in, and its consent given in

Revision ID: d4b7e2a9c158
Revises: 9c4d2e7f1a36
Create Date: 2026-12-02 10:00:00.000000

Every enquiry stored so far came through English pages and an English consent text, so "en" is
true of them all. The column is added in place: a batch copy of enquiry would drop its search
and count triggers (see 5a9e0c3d7b21 and 9c4d2e7f1a36).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd4b7e2a9c158'
down_revision = '9c4d2e7f1a36'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        'enquiry',
        sa.Column('language', sa.String(length=8), server_default='en', nullable=False),
    )


def downgrade():
    if op.get_bind().dialect.name == "sqlite":
        # In place (SQLite 3.35+), never by copying the table.
        op.execute("ALTER TABLE enquiry DROP COLUMN language")
        return
    op.drop_column('enquiry', 'language')
