"""Staff search through the databases' text indexes: what it finds, and what it forgets."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import event, select, text

from crm.leads import search
from crm.leads.merge import merge_leads
from crm.leads.privacy import erase_lead
from crm.leads.workflow import add_note, log_call
from crm.models import Lead, StaffUser
from crm.platform.extensions import db
from tests.conftest import BACKEND
from tests.staff_helpers import enter_as, make_lead, make_staff

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
BEFORE = ScriptDirectory(str(MIGRATIONS)).get_revision("5a9e0c3d7b21").down_revision


def listed(html: str) -> list[int]:
    return [int(value) for value in re.findall(r'<tr data-lead="(\d+)"', html)]


@pytest.fixture
def people(app):
    manager = make_staff(app, "manager", "bengaluru", name="Bina Manager")
    admin = make_staff(app, "admin", None, name="Ada Admin")
    return {"manager": manager, "admin": admin}


# "estimated" is PostgreSQL's planner statistics deciding; SQLite has no such step to test.
MODES = ["few", "many", *(["estimated"] if BACKEND == "postgres" else [])]


@pytest.fixture(params=MODES)
def client(app, people, request, monkeypatch):
    """Signed in as a manager; "many": every text counts as common, read in the inbox's order
    rather than looked up by id, which must find exactly the same leads. "estimated": the
    same, decided by PostgreSQL's statistics before any index is read."""
    common(app, request.param, monkeypatch)
    return enter_as(app.test_client(), app, people["manager"])


def common(app, mode: str, monkeypatch) -> None:
    if mode == "many":
        monkeypatch.setattr(search, "COMMON", 1)
    elif mode == "estimated":
        monkeypatch.setattr(search, "SURELY_COMMON", 0)


def found(client, query: str) -> list[int]:
    html = client.get("/staff/leads", query_string={"q": query}).get_data(as_text=True)
    return sorted(listed(html))


def staff(app, person_id: int) -> StaffUser:
    person = db.session.get(StaffUser, person_id)
    _ = person.branch
    return person


def test_words_in_messages_notes_and_call_notes_find_the_lead(app, people, client):
    cricket = make_lead(app, name="Arjun Rao", message="Sharp pain after CRICKET practice")
    noted = make_lead(app, name="Divya Menon", message=None, email="divya.m@example.org")
    called = make_lead(app, name="Farah Ali", message=None)
    with app.app_context():
        add_note(staff(app, people["manager"]), noted, "Prefers early mornings before work")
        log_call(staff(app, people["manager"]), called, "no_answer", "Try the landline in Mysuru")
    assert found(client, "cricket") == [cricket]
    assert found(client, "after cric") == [cricket]
    assert found(client, "EARLY MORN") == [noted]
    assert found(client, "landline") == [called]
    # part of an address, with or without its "@"
    assert found(client, "divya.m") == [noted]
    assert found(client, "ya.m@ex") == [noted]
    # the name as before, whole or in part, and a text shorter than any index entry
    assert found(client, "arjun rao") == [cricket]
    assert found(client, "ra") == sorted([cricket, called])
    assert found(client, "nowhere at all") == []


@pytest.mark.skipif(
    BACKEND != "sqlite",
    reason="counts FTS5 MATCH statements; PostgreSQL reads its indexes in _postgres_ids",
)
def test_a_search_page_matches_the_text_index_once(app, people):
    """The page, its best-first ranking and its count read the leads found by id: matching a
    part of a phone or name again for each would cost a pass over its trigrams' postings."""
    phoned = make_lead(app, name="Meera Nair", phone="+919845011001", message="Knee pain")
    named = make_lead(app, name="Nair Clinic Visit", phone="+919845022002", message="Nairobi")
    client = enter_as(app.test_client(), app, people["manager"])
    matches = []

    def count_matches(_connection, _cursor, statement, *_args) -> None:
        matches.append(" MATCH " in statement)  # one statement may read several indexes

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count_matches)
    try:
        for query, expected in (("45011", [phoned]), ("nair", [phoned, named])):
            matches.clear()
            assert found(client, query) == sorted(expected), query
            assert sum(matches) == 1, query
    finally:
        with app.app_context():
            event.remove(db.engine, "before_cursor_execute", count_matches)


def test_quotes_and_operators_are_only_text(app, client):
    lead = make_lead(app, name='Sam "The Hammer" Rao', message="knee AND back OR NOT*")
    for query in ('"The Hammer"', "AND back OR", "NOT*"):
        assert found(client, query) == [lead], query
    for query in ('r"ao', "name : x", "' OR 1=1 --"):
        assert found(client, query) == [], query


def test_a_note_added_moves_with_a_merge(app, people, client):
    survivor = make_lead(app, name="Kiran Shetty", message="first visit")
    merged = make_lead(app, name="Kiran S", message="swollen ankle since monday")
    with app.app_context():
        manager = staff(app, people["manager"])
        add_note(manager, merged, "asked about parking")
        rows = db.session.execute(select(Lead.id, Lead.version))
        versions = {row.id: row.version for row in rows}
        merge_leads(
            manager,
            survivor,
            merged,
            survivor_version=versions[survivor],
            merged_version=versions[merged],
        )
    assert found(client, "swollen ankle") == [survivor]
    assert found(client, "parking") == [survivor]


def test_erasure_takes_the_persons_text_out_of_the_index(app, people, client):
    kept = make_lead(app, name="Other Person", message="unrelated")
    erased = make_lead(
        app,
        name="Zubin Vakil",
        phone="+919845077123",
        email="zubin.v@example.com",
        message="Knee surgery in Pondicherry",
    )
    with app.app_context():
        add_note(staff(app, people["manager"]), erased, "Brother Jehangir will call back")
    assert found(client, "zubin") == [erased]
    with app.app_context():
        erase_lead(staff(app, people["admin"]), erased)
    for query in ("zubin", "Vakil", "zubin.v", "77123", "Pondicherry", "Jehangir"):
        assert found(client, query) == [], query
    assert found(client, "unrelated") == [kept]
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            return
        # Not only filtered out: gone from the index tables themselves.
        for table, word in (
            ("lead_search", "zubin"),
            ("lead_search", "77123"),
            ("enquiry_search", "pondicherry"),
            ("note_search", "jehangir"),
        ):
            count = db.session.scalar(
                text(f"SELECT count(*) FROM {table} WHERE {table} MATCH :word"),  # noqa: S608
                {"word": word},
            )
            assert count == 0, (table, word)
        stored = db.session.scalar(
            text(
                "SELECT count(*) FROM lead_search_content WHERE c0 LIKE '%zubin%'"
                " OR c2 LIKE '%zubin%'"
            )
        )
        assert stored == 0


def test_the_upgrade_indexes_what_is_already_there(app, people, client):
    lead = make_lead(app, name="Old Timer", message="hip replacement last year")
    with app.app_context():
        add_note(staff(app, people["manager"]), lead, "speaks Kannada")
        downgrade(revision=BEFORE)
        db.session.remove()
        upgrade()
        db.session.remove()
    assert found(client, "replacement") == [lead]
    assert found(client, "kannada") == [lead]
    assert found(client, "timer") == [lead]
    # and it stays in step afterwards
    later = make_lead(app, name="New Comer", message="shoulder replacement")
    assert found(client, "replacement") == sorted([lead, later])


def test_postgresql_indexes_keep_a_short_pending_list(app, people):
    """Every search reads a GIN index's whole pending list: it stays at 64 kB, not 4 MB."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("GIN indexes are PostgreSQL's")
        options = dict(
            db.session.execute(
                text("SELECT relname, reloptions FROM pg_class WHERE relname = ANY(:names)"),
                {"names": sorted(search.SEARCH_INDEXES)},
            ).all()
        )
    assert options == {name: ["gin_pending_list_limit=64"] for name in search.SEARCH_INDEXES}
    # Rows still in the pending list are found like the rest.
    client = enter_as(app.test_client(), app, people["manager"])
    lead = make_lead(app, name="Pending Person", message="tennis elbow since spring")
    assert found(client, "tennis elbow") == [lead]
    assert found(client, "pending pers") == [lead]
