"""text search indexes: part of a name, phone or email, words in messages and notes

Revision ID: 5a9e0c3d7b21
Revises: b8e4f2a9c613
Create Date: 2026-12-02 07:05:00.000000

SQLite: three FTS5 tables with the trigram tokenizer (any substring of three characters or
more is an index lookup), one row per lead, per enquiry message and per note, kept in step by
triggers so that every writer (the app, the CLI, a bulk load) updates them in the same
transaction. An erasure blanks the columns; the update triggers then drop the text from the
index. A later batch migration that rebuilds lead, enquiry or lead_event drops these triggers
with the table and must create them again (tests/test_search.py fails if it does not).

PostgreSQL: pg_trgm GIN indexes on the same expressions the search compares; nothing to keep
in step.
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '5a9e0c3d7b21'
down_revision = 'b8e4f2a9c613'
branch_labels = None
depends_on = None

# A note's words: a note's "text", a call's "note".
NOTE_KINDS = "('note', 'call')"
SQLITE_NOTE = "coalesce(json_extract({row}.detail, '$.text'), json_extract({row}.detail, '$.note'))"

# What is already there; also run by bench/dataset.py after a bulk load without the triggers.
SQLITE_BACKFILL = [
    "INSERT INTO lead_search (rowid, name, phone, email) "
    "SELECT id, name, phone, coalesce(email, '') FROM lead",
    "INSERT INTO enquiry_search (rowid, message, lead_id) "
    "SELECT id, message, lead_id FROM enquiry WHERE coalesce(message, '') <> ''",
    f"INSERT INTO note_search (rowid, body, lead_id) "
    f"SELECT id, {SQLITE_NOTE.format(row='lead_event')}, lead_id FROM lead_event "
    f"WHERE kind IN {NOTE_KINDS} AND coalesce({SQLITE_NOTE.format(row='lead_event')}, '') <> ''",
]
SQLITE_UP = [
    "CREATE VIRTUAL TABLE lead_search USING fts5(name, phone, email, tokenize='trigram')",
    "CREATE VIRTUAL TABLE enquiry_search USING fts5(message, lead_id UNINDEXED, tokenize='trigram')",
    "CREATE VIRTUAL TABLE note_search USING fts5(body, lead_id UNINDEXED, tokenize='trigram')",
    # leads
    """CREATE TRIGGER lead_search_insert AFTER INSERT ON lead BEGIN
        INSERT INTO lead_search (rowid, name, phone, email)
        VALUES (new.id, new.name, new.phone, coalesce(new.email, ''));
    END""",
    """CREATE TRIGGER lead_search_update AFTER UPDATE OF name, phone, email ON lead BEGIN
        DELETE FROM lead_search WHERE rowid = old.id;
        INSERT INTO lead_search (rowid, name, phone, email)
        VALUES (new.id, new.name, new.phone, coalesce(new.email, ''));
    END""",
    """CREATE TRIGGER lead_search_delete AFTER DELETE ON lead BEGIN
        DELETE FROM lead_search WHERE rowid = old.id;
    END""",
    # enquiry messages (a merge moves them to another lead)
    """CREATE TRIGGER enquiry_search_insert AFTER INSERT ON enquiry
        WHEN coalesce(new.message, '') <> '' BEGIN
        INSERT INTO enquiry_search (rowid, message, lead_id) VALUES (new.id, new.message, new.lead_id);
    END""",
    """CREATE TRIGGER enquiry_search_update AFTER UPDATE OF message, lead_id ON enquiry BEGIN
        DELETE FROM enquiry_search WHERE rowid = old.id;
        INSERT INTO enquiry_search (rowid, message, lead_id)
        SELECT new.id, new.message, new.lead_id WHERE coalesce(new.message, '') <> '';
    END""",
    """CREATE TRIGGER enquiry_search_delete AFTER DELETE ON enquiry BEGIN
        DELETE FROM enquiry_search WHERE rowid = old.id;
    END""",
    # notes and call notes
    f"""CREATE TRIGGER note_search_insert AFTER INSERT ON lead_event
        WHEN new.kind IN {NOTE_KINDS} AND coalesce({SQLITE_NOTE.format(row='new')}, '') <> '' BEGIN
        INSERT INTO note_search (rowid, body, lead_id)
        VALUES (new.id, {SQLITE_NOTE.format(row='new')}, new.lead_id);
    END""",
    f"""CREATE TRIGGER note_search_update AFTER UPDATE OF detail, lead_id, kind ON lead_event BEGIN
        DELETE FROM note_search WHERE rowid = old.id;
        INSERT INTO note_search (rowid, body, lead_id)
        SELECT new.id, {SQLITE_NOTE.format(row='new')}, new.lead_id
        WHERE new.kind IN {NOTE_KINDS} AND coalesce({SQLITE_NOTE.format(row='new')}, '') <> '';
    END""",
    """CREATE TRIGGER note_search_delete AFTER DELETE ON lead_event BEGIN
        DELETE FROM note_search WHERE rowid = old.id;
    END""",
    *SQLITE_BACKFILL,
]
SQLITE_DOWN = [
    *(
        f"DROP TRIGGER IF EXISTS {table}_search_{action}"
        for table in ("lead", "enquiry", "note")
        for action in ("insert", "update", "delete")
    ),
    "DROP TABLE IF EXISTS note_search",
    "DROP TABLE IF EXISTS enquiry_search",
    "DROP TABLE IF EXISTS lead_search",
]

# The expressions must be exactly those crm/leads/search.py compares, or the planner will not
# use the index.
POSTGRES_UP = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX ix_lead_name_trgm ON lead USING gin (lower(name) gin_trgm_ops)",
    "CREATE INDEX ix_lead_phone_trgm ON lead USING gin (phone gin_trgm_ops)",
    "CREATE INDEX ix_lead_email_trgm ON lead USING gin (lower(email) gin_trgm_ops)",
    "CREATE INDEX ix_enquiry_message_trgm ON enquiry USING gin (lower(message) gin_trgm_ops)",
    "CREATE INDEX ix_lead_event_note_trgm ON lead_event USING gin "
    "(lower(coalesce(detail ->> 'text', detail ->> 'note')) gin_trgm_ops) "
    f"WHERE kind IN {NOTE_KINDS}",
]
POSTGRES_DOWN = [
    "DROP INDEX IF EXISTS ix_lead_event_note_trgm",
    "DROP INDEX IF EXISTS ix_enquiry_message_trgm",
    "DROP INDEX IF EXISTS ix_lead_email_trgm",
    "DROP INDEX IF EXISTS ix_lead_phone_trgm",
    "DROP INDEX IF EXISTS ix_lead_name_trgm",
    # The extension stays: other objects may have come to use it.
]


def _run(statements):
    for statement in statements:
        op.execute(statement)


def upgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        _run(SQLITE_UP)
    elif dialect == 'postgresql':
        _run(POSTGRES_UP)


def downgrade():
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        _run(SQLITE_DOWN)
    elif dialect == 'postgresql':
        _run(POSTGRES_DOWN)
