"""Staff search by part of a name, phone or email, and by words in enquiry messages and notes.

Every search here is answered from the database's own text index, never by reading every lead:
on SQLite the FTS5 trigram tables that migration 5a9e0c3d7b21 creates (kept in step by
triggers), on PostgreSQL the pg_trgm GIN indexes on the very expressions compared below.
Both match any substring of three characters or more, ignoring case; a shorter text has no
trigram to look up, so it is compared row by row, with the same meaning.

A text is looked up in the index once. On SQLite the FTS5 tables give up to ``COMMON`` lead
ids (``_sqlite_ids``), remembered for the rest of the transaction, so the bounded count and
the page read those leads by id instead of matching the text again. On PostgreSQL the
planner's statistics first say whether it is common (``_estimated_rows``), and if not, the
indexes give up to ``COMMON`` lead ids (``_postgres_ids``), from which the count and the page
are read by id. A common text is read in the inbox's order instead, on both.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    and_,
    any_,
    bindparam,
    exists,
    false,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    union_all,
)
from sqlalchemy.dialects.postgresql import ARRAY

from crm.models import Enquiry, Lead, LeadEvent
from crm.platform.extensions import db

__all__ = [
    "SEARCH_TABLES",
    "WordsMatch",
    "indexed_phone",
    "indexed_words",
    "is_search_object",
    "phone_contains",
    "words_contain",
]

TRIGRAM = 3
COMMON = 2000  # matches beyond which reading the inbox in order beats an id list
# PostgreSQL: a text its statistics put on this many rows is common without asking the index.
SURELY_COMMON = 10 * COMMON
NOTE_KINDS = ("note", "call")  # a note's "text", a call's "note"
# SQLite's FTS5 tables and the shadow tables FTS5 keeps for each (lead_search_data, ...).
SEARCH_TABLES = ("lead_search", "enquiry_search", "note_search")
# PostgreSQL's trigram indexes: expression indexes, which the models cannot declare.
SEARCH_INDEXES = frozenset(
    {
        "ix_lead_name_trgm",
        "ix_lead_phone_trgm",
        "ix_lead_email_trgm",
        "ix_enquiry_message_trgm",
        "ix_lead_event_note_trgm",
    }
)


def is_search_object(name: str | None, type_: str, _parents: object = None) -> bool:
    """Whether schema comparison leaves ``name`` alone: the migration's object, not a model's."""
    if name is None:
        return False
    if type_ == "table":
        return name.startswith(SEARCH_TABLES)
    return type_ == "index" and name in SEARCH_INDEXES


def _sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def _phrase(text: str) -> str:
    """``text`` as one FTS5 string: with trigrams, a string matches wherever it is a substring."""
    return '"' + text.replace('"', '""') + '"'


def _fts(name: str, key: str, query: str) -> Select[tuple[int]]:
    search = table(name)
    return (
        select(literal_column(f"{name}.{key}").label("lead_id"))
        .select_from(search)
        .where(literal_column(name).match(query))
    )


class _Found(NamedTuple):
    ids: list[int]  # every lead the text's index entries name
    own: list[int]  # those found by the first match (the lead's own columns)


def _sqlite_ids(text_key: tuple[str, str], matches: list[Select[tuple[int]]]) -> _Found | None:
    """The leads SQLite's FTS5 tables find for a text, or None if they hold ``COMMON`` entries
    or more (a common text, read in the inbox's order instead).

    Matched once per transaction and text: the inbox's page, its ranking and its bounded
    count all need the same ids, and each MATCH of a part of a phone or name costs a read of
    the posting lists of all its trigrams, which grow with the leads.
    """
    session = db.session()
    session.connection()  # the read transaction the answer is remembered for
    transaction = session.get_transaction()
    remembered = session.info.get("text_index_ids")
    if remembered is None or remembered[0] is not transaction:
        remembered = session.info["text_index_ids"] = (transaction, {})
    known = remembered[1]
    if text_key not in known:
        arms = union_all(
            *(match.add_columns(literal(arm)) for arm, match in enumerate(matches))
        ).limit(COMMON)
        # Repeats (a lead found by its name and its message) count towards the bound, as in _few.
        rows = session.execute(arms).all()
        known[text_key] = (
            None
            if len(rows) >= COMMON
            else _Found(
                sorted({lead_id for lead_id, _ in rows}),
                sorted({lead_id for lead_id, arm in rows if arm == 0}),
            )
        )
    return known[text_key]


def _few(matches: list[Select[tuple[int]]]) -> bool:
    """Whether the index holds fewer than ``COMMON`` entries for the text: counting stops there.

    Few matches: look the leads up by id. Many (a common name, "back pain"): the inbox's own
    order finds a page of them in the first few rows it reads, and an id list that long would
    cost more than the reading. Neither planner tells the two apart here, so this asks.
    """
    probe = union_all(*matches).limit(COMMON).subquery()
    return db.session.scalar(select(func.count()).select_from(probe)) < COMMON


def _postgres_ids(matches: list[Select[tuple[int]]]) -> list[int] | None:
    """The ids of the leads the trigram indexes find, or None if they find ``COMMON`` or more.

    The indexes are read once, here: the count and the page then look these leads up by id
    (reading the indexes again for each, a text found nowhere cost three reads of every
    posting list its trigrams touch). Each arm has its own LIMIT so that the planner weighs
    it alone: a common text (a name on a tenth of the leads, a phrase in every message) is
    then read in table order until the bound, not collected whole from the index first.
    """
    if _estimated_rows(union_all(*matches)) >= SURELY_COMMON:
        return None
    arms = union_all(*(arm.limit(COMMON) for arm in matches)).limit(COMMON)
    # Repeats (a lead found by its name and its message) count towards the bound, as in _few.
    found = list(db.session.scalars(arms))
    return None if len(found) >= COMMON else sorted(set(found))


def _estimated_rows(statement: CompoundSelect) -> float:
    """How many rows PostgreSQL's planner expects ``statement`` to return: no row is read.

    A GIN index answers only whole: to say that a name is on 100,000 leads it reads 100,000
    entries, more with each lead added. The planner's statistics (the indexed expressions'
    most common values and histogram) know it from a sample, in the same time at any size;
    a text they put on ``SURELY_COMMON`` rows matches in more than one sample value of a
    hundred, so it is common. Below that, the index is asked (``_postgres_ids``).
    """
    connection = db.session.connection()
    compiled = statement.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    plan = connection.exec_driver_sql(
        f"EXPLAIN (FORMAT JSON) {compiled}", compiled.construct_params()
    ).scalar_one()
    return float(plan[0]["Plan"]["Plan Rows"])


def _phone_matches(digits: str) -> list[Select[tuple[int]]]:
    return [_fts("lead_search", "rowid", f"phone : {_phrase(digits)}")]


def _word_matches(text: str) -> list[Select[tuple[int]]]:
    phrase = _phrase(text)
    return [
        _fts("lead_search", "rowid", f"{{name email}} : {phrase}"),
        _fts("enquiry_search", "lead_id", phrase),
        _fts("note_search", "lead_id", phrase),
    ]


def indexed_phone(digits: str) -> Select[tuple[int]] | None:
    """The ids of leads whose phone holds ``digits``, read from SQLite's index as it holds them.

    For counting up to a bound: the index yields them one by one, so a count that stops
    stops reading. None where there is no such index (PostgreSQL's are read whole).
    """
    if _sqlite() and len(digits) >= TRIGRAM:
        matches = _phone_matches(digits)
        # Known to be few: the page's condition is already an id list.
        return None if _sqlite_ids(("phone", digits), matches) is not None else matches[0]
    return None


def indexed_words(text: str) -> CompoundSelect | None:
    """As ``indexed_phone``, for ``words_contain``: a lead may come up more than once."""
    if _sqlite() and len(text) >= TRIGRAM:
        matches = _word_matches(text)
        return None if _sqlite_ids(("words", text), matches) is not None else union_all(*matches)
    return None


def phone_contains(digits: str) -> ColumnElement[bool]:
    """The lead's phone number holds ``digits``. (PostgreSQL's planner gets this one right.)"""
    if _sqlite() and len(digits) >= TRIGRAM:
        found = _sqlite_ids(("phone", digits), _phone_matches(digits))
        if found is not None:
            return Lead.id.in_(found.ids)
    return Lead.phone.contains(digits, autoescape=True)


class WordsMatch(NamedTuple):
    condition: ColumnElement[bool]
    # Set where the leads are read in the inbox's order (a common text): the match on the
    # lead's own columns alone, which a bounded count can try first (``crm.leads.inbox``).
    on_lead: ColumnElement[bool] | None = None
    # The best matches: the text is part of the lead's own name or email, not only of a
    # message or note. The inbox lists these first (``crm.leads.inbox``).
    own: ColumnElement[bool] | None = None


def words_contain(text: str) -> WordsMatch:
    """Part of the lead's name or email, or of a message they sent or a note staff took."""
    needle = text.lower()
    if _sqlite():
        note = func.coalesce(
            func.json_extract(LeadEvent.detail, "$.text"),
            func.json_extract(LeadEvent.detail, "$.note"),
        )
    else:
        # Spelled as in the index (ix_lead_event_note_trgm), keys inline, not parameters.
        note = literal_column(
            "coalesce(lead_event.detail ->> 'text', lead_event.detail ->> 'note')"
        )
    name = func.lower(Lead.name).contains(needle, autoescape=True)
    email = func.lower(Lead.email).contains(needle, autoescape=True)
    # Never NULL, so that NOT(own) keeps a lead without an email.
    own = or_(name, func.coalesce(func.lower(Lead.email), "").contains(needle, autoescape=True))
    message = func.lower(Enquiry.message).contains(needle, autoescape=True)
    noted = and_(LeadEvent.kind.in_(NOTE_KINDS), func.lower(note).contains(needle, autoescape=True))
    if len(text) >= TRIGRAM:
        if _sqlite():
            matches = _word_matches(text)
            found = _sqlite_ids(("words", text), matches)
            if found is not None:
                # One set of lead ids from the indexes, so the leads are looked up by id.
                if not found.ids:
                    return WordsMatch(false())
                return WordsMatch(Lead.id.in_(found.ids), own=Lead.id.in_(found.own))
            # Many: the best ones by id too if the names and emails hold few of them (a phrase
            # every message has), or else read in order like the rest.
            own = Lead.id.in_(matches[0]) if _few(matches[:1]) else own
        else:
            # One arm per trigram index. PostgreSQL's planner, left to choose, collects every
            # id even for a name on a sixth of all leads, so it gets the same question asked.
            ids = _postgres_ids(
                [
                    select(Lead.id).where(name),
                    select(Lead.id).where(email),
                    select(Enquiry.lead_id).where(message),
                    select(LeadEvent.lead_id).where(noted),
                ]
            )
            if ids is not None:
                if not ids:
                    return WordsMatch(false())
                found = bindparam("found_ids", ids, type_=ARRAY(Integer))
                return WordsMatch(Lead.id == any_(found), own=own)
            # Many: as on SQLite, the best ones by id if the names and emails hold few.
            own_ids = _postgres_ids([select(Lead.id).where(name), select(Lead.id).where(email)])
            if own_ids is not None:
                own_found = bindparam("own_ids", own_ids, type_=ARRAY(Integer))
                own = Lead.id == any_(own_found) if own_ids else false()
    # Each lead's own enquiries and notes (the lead_id indexes), so a scan that stops at a
    # page's worth of leads reads only theirs.
    condition = or_(
        name,
        email,
        _has(select(Enquiry.id).where(Enquiry.lead_id == Lead.id, message)),
        _has(select(LeadEvent.id).where(LeadEvent.lead_id == Lead.id, noted)),
    )
    return WordsMatch(condition, None if _sqlite() else or_(name, email), own)


def _has(rows: Select[tuple[int]]) -> ColumnElement[bool]:
    """Whether the lead has such a row, asked lead by lead.

    PostgreSQL turns an EXISTS inside an OR into a hash of every row that matches anywhere (a
    "hashed SubPlan": all enquiries read, for a phrase every message holds) even when the
    LIMIT of a page or a bounded count needs a few hundred leads; a scalar subquery it never
    hashes, so each lead costs one look-up by lead_id. SQLite asks an EXISTS lead by lead.
    """
    if _sqlite():
        return exists(rows)
    return rows.limit(1).scalar_subquery().is_not(None)
