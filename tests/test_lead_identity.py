"""The phone is the identity: every number a visitor gives is kept, an email-only match is a
lead of its own (linked), and managers merge two leads of one person by hand."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select, text

from crm.intake.forms import SUCCESS_MESSAGE
from crm.models import Appointment, Enquiry, EventKind, FollowUp, Lead, LeadEvent, OutboxEmail
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.appointment_helpers import add_appointment
from tests.export_helpers import csv_records, download
from tests.helpers import form_fields, submit_reach_out
from tests.staff_helpers import csrf_token, enter_as, make_lead, staff_cast

FAMILY = "family@example.org"
RAVI = "+919845011111"
SUNITA = "+919845022222"


@pytest.fixture
def cast(app):
    return staff_cast(app)


def as_staff(app, user_id):
    return enter_as(app.test_client(), app, user_id)


def lead_by_phone(app, phone: str) -> int:
    with app.app_context():
        return db.session.scalar(select(Lead.id).where(Lead.phone == phone))


def enquiry_phones(app) -> list[tuple[str, str | None]]:
    with app.app_context():
        rows = db.session.execute(select(Enquiry.name, Enquiry.phone).order_by(Enquiry.id)).all()
        return [tuple(row) for row in rows]


def write_in(client, *, name: str, phone: str, email: str = FAMILY, branch: str = "hyderabad"):
    response = submit_reach_out(
        client, json=True, name=name, phone=phone, email=email, branch=branch
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json() == {"ok": True, "message": SUCCESS_MESSAGE}


@pytest.fixture
def family(app, client):
    """Ravi and Sunita write in to Hyderabad, each with their own phone, one shared email."""
    write_in(client, name="Ravi Kumar", phone="+91 98450 11111")
    write_in(client, name="Sunita Rao", phone="+91 98450 22222")
    return {"ravi": lead_by_phone(app, RAVI), "sunita": lead_by_phone(app, SUNITA)}


def page(client, lead_id: int) -> str:
    response = client.get(f"/staff/leads/{lead_id}")
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def shared_email_links(html: str) -> list[int]:
    """The lead ids linked from the page's "another lead shares this email" notice."""
    found = re.search(r"<div[^>]*data-shared-email>(.*?)</div>", html, re.S)
    if found is None:
        return []
    return [int(n) for n in re.findall(r'href="/staff/leads/(\d+)"', found.group(1))]


# --- Intake: two people, two leads, both phones kept ---------------------------------------------


def test_a_family_sharing_an_email_gets_two_leads_with_both_phones(app, family, cast):
    assert family["ravi"] and family["sunita"] and family["ravi"] != family["sunita"]
    assert enquiry_phones(app) == [("Ravi Kumar", RAVI), ("Sunita Rao", SUNITA)]
    manager = as_staff(app, cast["hyd_manager"])
    ravi_page, sunita_page = page(manager, family["ravi"]), page(manager, family["sunita"])
    # Each page links the other as sharing the address, and calls its own person.
    assert shared_email_links(ravi_page) == [family["sunita"]]
    assert shared_email_links(sunita_page) == [family["ravi"]]
    assert "Another lead shares this email address" in sunita_page
    assert f'href="tel:{SUNITA}"' in sunita_page
    assert 'href="https://wa.me/919845022222"' in sunita_page


def test_the_shared_email_link_stays_within_the_viewers_scope(app, client, family, cast):
    # The same address at Bengaluru: a Bengaluru manager sees no link to Hyderabad's leads.
    write_in(client, name="Ravi Kumar", phone="+91 98450 33333", branch="bengaluru")
    bengaluru_lead = lead_by_phone(app, "+919845033333")
    bengaluru = as_staff(app, cast["blr_manager"])
    bengaluru_page = page(bengaluru, bengaluru_lead)
    assert shared_email_links(bengaluru_page) == []
    assert "Another lead shares this email address" not in bengaluru_page
    assert bengaluru.get(f"/staff/leads/{family['sunita']}").status_code == 404
    # An administrator sees every branch, so every other lead with the address.
    admin_page = page(as_staff(app, cast["admin"]), bengaluru_lead)
    assert sorted(shared_email_links(admin_page)) == sorted(family.values())


def test_one_person_writing_again_from_a_new_number_gets_a_linked_lead(app, client, cast):
    write_in(client, name="Ravi Kumar", phone="98450 11111", email="ravi@example.com")
    write_in(client, name="Ravi Kumar", phone="99000 11223", email="ravi@example.com")
    first, second = lead_by_phone(app, RAVI), lead_by_phone(app, "+919900011223")
    assert first != second
    manager = as_staff(app, cast["hyd_manager"])
    assert shared_email_links(page(manager, second)) == [first]
    # The same number again joins its lead, whatever address comes with it.
    write_in(client, name="Ravi Kumar", phone="99000 11223", email="ravi.k@example.com")
    with app.app_context():
        assert db.session.get(Lead, second).enquiry_count == 2


def test_the_inbox_search_finds_a_lead_by_the_second_phone(app, family, cast):
    manager = as_staff(app, cast["hyd_manager"])
    found = manager.get("/staff/leads", query_string={"q": "98450 22222"}).get_data(as_text=True)
    assert f'href="/staff/leads/{family["sunita"]}"' in found
    assert f'href="/staff/leads/{family["ravi"]}"' not in found


def test_the_export_has_both_leads_and_their_phones(app, family, cast):
    records = csv_records(download(as_staff(app, cast["hyd_manager"])).data)
    assert {(row["Name"], row["Phone"], row["Other phones"]) for row in records} == {
        # The spaced international form: spreadsheets keep it as text, with its "+".
        ("Ravi Kumar", "+91 98450 11111", ""),
        ("Sunita Rao", "+91 98450 22222", ""),
    }


# --- Merge ----------------------------------------------------------------------------------------


def review(client, lead_id: int, other: str):
    return client.get(f"/staff/leads/{lead_id}/merge", query_string={"other": other})


def merge(client, lead_id: int, other: str, *, confirm: bool = True):
    """Name the other lead on the lead page, then confirm on the review page, as a person does."""
    lookup = form_fields(page(client, lead_id), ("action", f"/staff/leads/{lead_id}/merge"))
    assert set(lookup) == {"other"}
    shown = review(client, lead_id, other)
    assert shown.status_code == 200, shown.get_data(as_text=True)
    fields = form_fields(shown.get_data(as_text=True), ("action", f"/staff/leads/{lead_id}/merge"))
    if not confirm:
        fields.pop("confirm", None)
    else:
        fields["confirm"] = "y"
    return client.post(f"/staff/leads/{lead_id}/merge", data=fields)


@pytest.fixture
def twice(app, client, cast):
    """One person, two numbers, two leads at Hyderabad; the second one has a follow-up."""
    write_in(client, name="Ravi Kumar", phone="98450 11111", email="ravi@example.com")
    write_in(client, name="Ravi K", phone="99000 11223", email="ravi@example.com")
    keep, gone = lead_by_phone(app, RAVI), lead_by_phone(app, "+919900011223")
    manager = as_staff(app, cast["hyd_manager"])
    scheduled = manager.post(
        f"/staff/leads/{gone}/follow-ups",
        data={
            "csrf_token": csrf_token(manager),
            "due_at": "2099-01-01T10:00",
            "assignee": str(cast["hyd_manager"]),
            "note": "Call back about the knee",
        },
    )
    assert scheduled.status_code == 303
    return {"keep": keep, "gone": gone, "manager": manager}


def rows_of(app, lead_id: int) -> dict[str, int]:
    with app.app_context():
        return {
            model.__tablename__: len(
                db.session.scalars(select(model.id).where(model.lead_id == lead_id)).all()
            )
            for model in (Enquiry, LeadEvent, FollowUp, OutboxEmail)
        }


def test_a_manager_merges_two_leads_of_one_person(app, twice, cast):
    keep, gone, manager = twice["keep"], twice["gone"], twice["manager"]
    before_keep, before_gone = rows_of(app, keep), rows_of(app, gone)
    assert before_gone["follow_up"] == 1 and before_gone["outbox_email"] >= 1

    response = merge(manager, keep, f"L-{gone:06d}")
    assert response.status_code == 303
    assert response.headers["Location"] == f"/staff/leads/{keep}"

    after = rows_of(app, keep)
    for table in ("enquiry", "follow_up", "outbox_email"):
        assert after[table] == before_keep[table] + before_gone[table]
    # Every event moved, plus the merge itself on each lead.
    assert after["lead_event"] == before_keep["lead_event"] + before_gone["lead_event"] + 1
    assert rows_of(app, gone) == {"enquiry": 0, "lead_event": 1, "follow_up": 0, "outbox_email": 0}
    with app.app_context():
        survivor, merged = db.session.get(Lead, keep), db.session.get(Lead, gone)
        assert merged.merged_into_id == keep
        assert survivor.enquiry_count == 2
        assert survivor.next_follow_up_at is not None
        kinds = db.session.execute(
            select(LeadEvent.lead_id, LeadEvent.actor_id)
            .where(LeadEvent.kind == EventKind.MERGED)
            .order_by(LeadEvent.lead_id)
        ).all()
        assert [tuple(row) for row in kinds] == [
            (keep, cast["hyd_manager"]),
            (gone, cast["hyd_manager"]),
        ]

    shown = page(manager, keep)
    assert f'href="tel:{RAVI}"' in shown and 'href="tel:+919900011223"' in shown
    assert 'href="https://wa.me/919900011223"' in shown
    assert f"L-{gone:06d} merged into this lead" in shown
    assert "Call back about the knee" in shown

    # The merged lead's address leads to the survivor; outside the branch it is not found.
    moved = manager.get(f"/staff/leads/{gone}")
    assert moved.status_code == 303 and moved.headers["Location"] == f"/staff/leads/{keep}"
    assert as_staff(app, cast["blr_manager"]).get(f"/staff/leads/{gone}").status_code == 404
    # Counted once: the inbox, the export and the dashboard see one lead.
    inbox = manager.get("/staff/leads").get_data(as_text=True)
    assert f'href="/staff/leads/{keep}"' in inbox and f'href="/staff/leads/{gone}"' not in inbox
    records = csv_records(download(manager).data)
    assert [(row["Reference"], row["Enquiries"], row["Other phones"]) for row in records] == [
        (f"L-{keep:06d}", "2", "+91 99000 11223")
    ]
    dashboard = manager.get("/staff/").get_data(as_text=True)
    assert 'data-figure="new-waiting">1<' in dashboard
    # The second number finds the person's lead, and a new enquiry from it joins that lead.
    found = manager.get("/staff/leads", query_string={"q": "+91 99000 11223"})
    assert f'href="/staff/leads/{keep}"' in found.get_data(as_text=True)
    write_in(app.test_client(), name="Ravi K", phone="99000 11223", email="ravi@example.com")
    with app.app_context():
        assert db.session.get(Lead, keep).enquiry_count == 3
        assert db.session.scalar(select(Enquiry.lead_id).order_by(Enquiry.id.desc())) == keep


def test_a_merge_needs_the_box_ticked_and_the_csrf_token(app, twice):
    keep, gone, manager = twice["keep"], twice["gone"], twice["manager"]
    before = rows_of(app, gone)
    unticked = merge(manager, keep, str(gone), confirm=False)
    assert unticked.status_code == 422
    assert "Please tick the box to confirm that they are one person." in unticked.get_data(
        as_text=True
    )
    forged = manager.post(
        f"/staff/leads/{keep}/merge",
        data={"other_id": gone, "version": 1, "other_version": 1, "confirm": "y"},
    )
    assert forged.status_code == 400
    assert rows_of(app, gone) == before


def test_a_merge_is_refused_when_either_lead_changed_after_the_review(app, twice):
    keep, gone, manager = twice["keep"], twice["gone"], twice["manager"]
    shown = review(manager, keep, f"L-{gone:06d}").get_data(as_text=True)
    fields = form_fields(shown, ("action", f"/staff/leads/{keep}/merge"))
    fields["confirm"] = "y"
    manager.post(  # someone changes the other lead meanwhile
        f"/staff/leads/{gone}/status",
        data={
            "csrf_token": csrf_token(manager),
            "version": fields["other_version"],
            "status": "contacted",
        },
    )
    response = manager.post(f"/staff/leads/{keep}/merge", data=fields)
    assert response.status_code == 409
    with app.app_context():
        assert db.session.get(Lead, gone).merged_into_id is None


def test_leads_of_two_branches_are_not_merged(app, cast):
    hyderabad = make_lead(app, "hyderabad", name="Ravi Kumar", phone=RAVI)
    bengaluru = make_lead(app, "bengaluru", name="Ravi Kumar", phone=RAVI)
    admin = as_staff(app, cast["admin"])
    refused = review(admin, hyderabad, f"L-{bengaluru:06d}")
    assert refused.status_code == 422
    assert "leads of two branches cannot be merged" in refused.get_data(as_text=True)
    # A forged confirmation is refused the same way, and nothing moves.
    forged = admin.post(
        f"/staff/leads/{hyderabad}/merge",
        data={
            "csrf_token": csrf_token(admin),
            "other_id": bengaluru,
            "version": 1,
            "other_version": 1,
            "confirm": "y",
        },
    )
    assert forged.status_code == 422
    assert "leads of two branches cannot be merged" in forged.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Lead, bengaluru).merged_into_id is None
    # A manager cannot even name the other branch's lead: it does not exist for them.
    manager = as_staff(app, cast["hyd_manager"])
    unknown = review(manager, hyderabad, f"L-{bengaluru:06d}")
    assert unknown.status_code == 422
    assert f"There is no lead L-{bengaluru:06d} in your branch." in unknown.get_data(as_text=True)


def test_agents_cannot_merge_and_other_branches_do_not_find_the_lead(app, twice, cast):
    keep, gone = twice["keep"], twice["gone"]
    agent = as_staff(app, cast["hyd_agent"])
    assert "Same person as another lead?" not in page(agent, keep)
    assert review(agent, keep, str(gone)).status_code == 403
    data = {
        "csrf_token": csrf_token(agent),
        "other_id": gone,
        "version": 1,
        "other_version": 1,
        "confirm": "y",
    }
    assert agent.post(f"/staff/leads/{keep}/merge", data=data).status_code == 403
    elsewhere = as_staff(app, cast["blr_manager"])
    data["csrf_token"] = csrf_token(elsewhere)
    assert elsewhere.post(f"/staff/leads/{keep}/merge", data=data).status_code == 404
    assert review(elsewhere, keep, str(gone)).status_code == 404
    with app.app_context():
        assert db.session.get(Lead, gone).merged_into_id is None


# --- Erasure ------------------------------------------------------------------------------------


def test_erasure_by_the_second_phone_finds_the_merged_lead_and_clears_every_phone(
    app, twice, runner
):
    keep, gone, manager = twice["keep"], twice["gone"], twice["manager"]
    assert merge(manager, keep, str(gone)).status_code == 303
    # The lead's own number is the first one; the second is only on an enquiry.
    result = runner.invoke(args=["leads", "erase", "--phone", "99000 11223"])
    assert result.exit_code == 0, result.output
    assert f"L-{keep:06d}" in result.output
    with app.app_context():
        assert db.session.get(Lead, keep).erased_at is not None
        assert db.session.get(Lead, gone).phone == ""
        leftover = db.session.execute(
            text("SELECT count(*) FROM enquiry WHERE phone IS NOT NULL")
        ).scalar()
        assert leftover == 0


def test_erasing_from_the_lead_page_clears_the_enquiry_phones(app, family, cast):
    admin = as_staff(app, cast["admin"])
    response = admin.post(
        f"/staff/leads/{family['sunita']}/erase",
        data={"csrf_token": csrf_token(admin), "confirm": "y"},
    )
    assert response.status_code == 303
    assert SUNITA not in [phone for _name, phone in enquiry_phones(app)]


def test_erasing_one_of_a_family_leaves_the_other_and_the_shared_address(app, family, cast):
    admin = as_staff(app, cast["admin"])
    response = admin.post(
        f"/staff/leads/{family['sunita']}/erase",
        data={"csrf_token": csrf_token(admin), "confirm": "y"},
    )
    assert response.status_code == 303
    with app.app_context():
        sunita, ravi = db.session.get(Lead, family["sunita"]), db.session.get(Lead, family["ravi"])
        assert sunita.erased_at is not None and sunita.email is None
        assert ravi.erased_at is None
        assert (ravi.name, ravi.phone, ravi.email) == ("Ravi Kumar", RAVI, FAMILY)
        ravis_mail = db.session.scalars(
            select(OutboxEmail.to_address).where(OutboxEmail.lead_id == family["ravi"])
        ).all()
        assert FAMILY in ravis_mail


def test_a_copy_for_one_of_a_family_holds_only_their_own_lead(app, family, cast):
    admin = as_staff(app, cast["admin"])
    response = admin.post(
        f"/staff/leads/{family['sunita']}/access",
        data={"csrf_token": csrf_token(admin), "format": "json"},
    )
    assert response.status_code == 200
    copy = response.get_json()
    assert [lead["reference"] for lead in copy["leads"]] == [f"L-{family['sunita']:06d}"]
    assert "Ravi" not in response.get_data(as_text=True)


def test_a_merge_moves_the_appointments_too(app, twice):
    keep, gone, manager = twice["keep"], twice["gone"], twice["manager"]
    booked = add_appointment(app, gone, utcnow() + timedelta(days=2))
    assert merge(manager, keep, f"L-{gone:06d}").status_code == 303
    with app.app_context():
        assert db.session.get(Appointment, booked).lead_id == keep
    assert f'data-appointment="{booked}"' in page(manager, keep)


def test_a_lead_merged_twice_leads_to_the_last_survivor(app, cast):
    first, second, third = (
        make_lead(app, "hyderabad", name="Ravi Kumar", phone=phone)
        for phone in (RAVI, "+919900011223", "+919900044556")
    )
    manager = as_staff(app, cast["hyd_manager"])
    assert merge(manager, first, f"L-{second:06d}").status_code == 303
    # Naming a merged lead says where it went, and merges nothing.
    again = review(manager, third, f"L-{second:06d}")
    assert again.status_code == 422
    assert f"L-{second:06d} was already merged into L-{first:06d}" in again.get_data(as_text=True)
    assert merge(manager, third, f"l-{first}").status_code == 303
    for gone in (first, second):
        moved = manager.get(f"/staff/leads/{gone}")
        assert (moved.status_code, moved.headers["Location"]) == (303, f"/staff/leads/{third}")
    with app.app_context():
        assert db.session.scalars(
            select(Enquiry.phone).where(Enquiry.lead_id == third).order_by(Enquiry.id)
        ).all() == [RAVI, "+919900011223", "+919900044556"]
