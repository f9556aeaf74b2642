"""indexes for "my day": a person's new leads, and the day's booked appointments

Revision ID: c7d3e9a1f4b8
Revises: 3f7a1c9e5b20
Create Date: 2026-12-02 11:05:00.000000

"My day" read its lists through the branch's indexes (every lead of the branch), so its cost
grew with the branch. These make each list a range bounded by the person or by the day. Plain
CREATE INDEX, no batch rebuild: rebuilding ``lead`` on SQLite would drop its triggers.
"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "c7d3e9a1f4b8"
down_revision = "3f7a1c9e5b20"
branch_labels = None
depends_on = None

NOT_MERGED = sa.text("merged_into_id IS NULL")


def upgrade():
    op.create_index(
        "ix_lead_assignee_status_created",
        "lead",
        ["assignee_id", "status", "created_at"],
        unique=False,
        sqlite_where=NOT_MERGED,
        postgresql_where=NOT_MERGED,
    )
    op.create_index(
        "ix_appointment_status_starts", "appointment", ["status", "starts_at"], unique=False
    )


def downgrade():
    op.drop_index("ix_appointment_status_starts", table_name="appointment")
    op.drop_index("ix_lead_assignee_status_created", table_name="lead")
