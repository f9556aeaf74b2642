"""how an enquiry reached the clinic, and who recorded it at the desk

Revision ID: 9a4c2e7b1d35
Revises: f3b8d2c6a114
Create Date: 2026-12-02 07:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9a4c2e7b1d35'
down_revision = 'f3b8d2c6a114'
branch_labels = None
depends_on = None

NOT_MERGED = "merged_into_id IS NULL"


def upgrade():
    # Every enquiry stored so far came through the website's form: "web" is true of them all.
    # Columns are added in place: a batch copy of lead or enquiry would drop tables others
    # refer to, which SQLite refuses once rows exist.
    for table in ('enquiry', 'lead'):
        op.add_column(
            table,
            sa.Column('channel', sa.String(length=20), server_default='web', nullable=False),
        )
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE enquiry ADD COLUMN recorded_by_id INTEGER "
            "CONSTRAINT fk_enquiry_recorded_by_id_staff_user REFERENCES staff_user (id)"
        )
    else:
        op.add_column('enquiry', sa.Column('recorded_by_id', sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f('fk_enquiry_recorded_by_id_staff_user'),
            'enquiry',
            'staff_user',
            ['recorded_by_id'],
            ['id'],
        )
    # The dashboard's conversion now counts by channel too: still from the index alone.
    _conversion_index(['branch_id', 'created_at', 'status', 'source', 'channel'])


def _conversion_index(columns):
    op.drop_index('ix_lead_branch_created_status_source', table_name='lead')
    op.create_index(
        'ix_lead_branch_created_status_source', 'lead', columns, unique=False,
        sqlite_where=sa.text(NOT_MERGED), postgresql_where=sa.text(NOT_MERGED),
    )


def downgrade():
    _conversion_index(['branch_id', 'created_at', 'status', 'source'])
    if op.get_bind().dialect.name == "sqlite":
        # As in upgrade: in place (SQLite 3.35+), never by copying the table.
        for table, column in (('enquiry', 'recorded_by_id'), ('enquiry', 'channel'),
                              ('lead', 'channel')):
            op.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        return
    op.drop_constraint(
        op.f('fk_enquiry_recorded_by_id_staff_user'), 'enquiry', type_='foreignkey'
    )
    op.drop_column('enquiry', 'recorded_by_id')
    op.drop_column('enquiry', 'channel')
    op.drop_column('lead', 'channel')
