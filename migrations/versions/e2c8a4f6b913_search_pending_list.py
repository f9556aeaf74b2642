"""the trigram indexes keep a short pending list, so a search never reads a long one

Revision ID: e2c8a4f6b913
Revises: e1f5a7c3b9d2
Create Date: 2026-12-02 14:40:00.000000

PostgreSQL only. A GIN index adds new rows to a "pending list" and merges them into the
index later (when the list passes gin_pending_list_limit, 4 MB by default, or at VACUUM);
every search reads the whole pending list, row by row. Between two merges a busy clinic's
list holds thousands of leads, enquiries and notes, and each of the five indexes a search
asks carries its own: a search for a text found nowhere measured 2.9 ms on one index with
5,000 leads pending, against 0.03 ms with none. 64 kB (the smallest allowed) keeps that
read to a few pages; an insert still goes to the list, and the insert that fills it
merges it (a few milliseconds, every few hundred rows). Turning the list off
(fastupdate = off) made each inserted row four times as slow.
"""

from alembic import op


# revision identifiers, used by Alembic.
revision = "e2c8a4f6b913"
down_revision = "e1f5a7c3b9d2"
branch_labels = None
depends_on = None

INDEXES = (
    "ix_lead_name_trgm",
    "ix_lead_phone_trgm",
    "ix_lead_email_trgm",
    "ix_enquiry_message_trgm",
    "ix_lead_event_note_trgm",
)
PENDING_KB = 64


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} SET (gin_pending_list_limit = {PENDING_KB})")
        # What is pending now (up to the old 4 MB) is merged here, not at the next VACUUM.
        op.execute(f"SELECT gin_clean_pending_list('{index}'::regclass)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    for index in INDEXES:
        op.execute(f"ALTER INDEX {index} RESET (gin_pending_list_limit)")
