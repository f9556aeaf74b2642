"""The visitor's path: POST /leads with and without JavaScript, and what gets stored."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from crm.intake.forms import FAILURE_MESSAGE, SUCCESS_MESSAGE
from crm.models import Enquiry, EventKind, Lead, LeadEvent, LeadStatus, OutboxEmail
from crm.platform.database import utcnow
from crm.platform.extensions import db
from tests.conftest import make_app
from tests.helpers import VALID_FIELDS, form_fields, form_notice, reach_out_fields, submit_reach_out
from tests.smtp import HOST, deliver
from tests.staff_helpers import enter_as, make_staff

ARTICLE = "/blog/acupressure-points-for-back-pain"


def counts(app) -> tuple[int, int, int, int]:
    with app.app_context():
        return tuple(
            db.session.scalar(select(func.count()).select_from(model))
            for model in (Lead, Enquiry, LeadEvent, OutboxEmail)
        )


def only_lead(app) -> Lead:
    with app.app_context():
        leads = db.session.scalars(select(Lead)).all()
        assert len(leads) == 1
        lead = leads[0]
        db.session.expunge(lead)
        return lead


def enquiries(app) -> list[Enquiry]:
    with app.app_context():
        rows = db.session.scalars(select(Enquiry).order_by(Enquiry.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


# --- Success, without and with JavaScript -------------------------------------------------------


def test_form_post_redirects_back_to_the_page_which_then_thanks_the_visitor(client, app):
    response = submit_reach_out(client, ARTICLE)
    assert response.status_code == 303
    assert response.headers["Location"] == f"{ARTICLE}#reach-out"

    page = client.get(ARTICLE).get_data(as_text=True)
    assert form_notice(page) == ("success", SUCCESS_MESSAGE)
    # shown once: a reload does not repeat it
    assert form_notice(client.get(ARTICLE).get_data(as_text=True)) is None

    lead = only_lead(app)
    assert lead.phone == "+919845012345"
    assert lead.name == "Ravi Kumar"
    assert lead.email == "ravi@example.com"
    assert lead.interest == "back_pain"
    assert lead.status == LeadStatus.NEW
    assert lead.enquiry_count == 1
    [enquiry] = enquiries(app)
    assert enquiry.source_page == ARTICLE
    assert enquiry.message == "Lower back pain for two weeks."
    assert enquiry.consent_version == app.config["CONSENT_VERSION"]
    assert enquiry.consented_at is not None


def test_json_post_answers_201_and_stores_one_lead(client, app):
    response = submit_reach_out(client, "/branches/hyderabad", json=True, branch="hyderabad")
    assert response.status_code == 201
    assert response.get_json() == {"ok": True, "message": SUCCESS_MESSAGE}
    lead = only_lead(app)
    with app.app_context():
        assert db.session.get(Lead, lead.id).branch.slug == "hyderabad"
    assert enquiries(app)[0].source_page == "/branches/hyderabad"


def test_campaign_tags_of_the_landing_page_are_recorded(client, app):
    landing = f"{ARTICLE}?utm_source=instagram&utm_medium=social&utm_campaign=reel-7"
    data = reach_out_fields(client, landing)
    assert data["utm_source"] == "instagram"
    # The visitor moves on and writes from another page: the landing campaign still counts.
    response = submit_reach_out(client, "/contact", json=True)
    assert response.status_code == 201
    [enquiry] = enquiries(app)
    assert enquiry.source_page == "/contact"
    assert (enquiry.utm_source, enquiry.utm_medium, enquiry.utm_campaign) == (
        "instagram",
        "social",
        "reel-7",
    )
    assert enquiry.utm_term is None


def test_outside_referrer_is_kept_without_its_query(client, app):
    client.get("/", headers={"Referer": "https://www.google.com/search?q=back+pain+clinic"})
    assert submit_reach_out(client, "/", json=True).status_code == 201
    assert enquiries(app)[0].referrer == "https://www.google.com/search"


@pytest.mark.parametrize(
    "typed",
    [
        "98450 12345",
        "9845012345",
        "098450-12345",
        "+91 98450 12345",
        "+91-98450-12345",
        "0091 98450 12345",
        "(+91) 98450 12345",
    ],
)
def test_indian_numbers_written_any_common_way_are_stored_in_e164(client, app, typed):
    assert submit_reach_out(client, json=True, phone=typed).status_code == 201
    assert only_lead(app).phone == "+919845012345"


def test_foreign_numbers_with_country_code_are_accepted(client, app):
    assert submit_reach_out(client, json=True, phone="+44 7911 123456").status_code == 201
    assert only_lead(app).phone == "+447911123456"


@pytest.mark.parametrize(
    "name", ["अनन्या शर्मा", "శ్రీనివాస్ రెడ్డి", "Zoë D'Souza-Ñúñez", "ಕಾವ್ಯ", "O'Brien"]
)
def test_unicode_names_are_welcome_and_stored_exactly(client, app, name):
    assert submit_reach_out(client, json=True, name=name).status_code == 201
    assert only_lead(app).name == name


def test_email_is_optional_and_normalised(client, app):
    assert submit_reach_out(client, json=True, email="  Ravi.K@Example.COM ").status_code == 201
    assert only_lead(app).email == "ravi.k@example.com"


def test_without_email_only_the_branch_is_told(client, app):
    assert submit_reach_out(client, json=True, email="").status_code == 201
    with app.app_context():
        emails = db.session.scalars(select(OutboxEmail)).all()
        assert [(e.kind, e.to_address) for e in emails] == [
            ("lead_alert", "bengaluru@physiotattva.example")
        ]


def test_capture_queues_the_branch_alert_and_the_acknowledgement(
    client, app, database_url, smtp_server
):
    assert submit_reach_out(client, json=True, branch="hyderabad").status_code == 201
    with app.app_context():
        emails = {e.kind: e for e in db.session.scalars(select(OutboxEmail))}
        assert set(emails) == {"lead_alert", "acknowledgement"}
        alert, thanks = emails["lead_alert"], emails["acknowledgement"]
        assert alert.to_address == "hyderabad@physiotattva.example"
        assert "Ravi Kumar" in alert.subject and "Hyderabad" in alert.subject
        lead_id = db.session.scalar(select(Lead.id))
        assert thanks.to_address == "ravi@example.com"
        assert all(e.status == "pending" and e.lead_id == lead_id for e in emails.values())
        # Rendered by the worker as it sends, not inside the enquiry's transaction.
        assert all(e.text_body == "" and e.html_body is None for e in emails.values())
        assert len({e.message_id for e in emails.values()}) == 2
        kinds = [e.kind for e in db.session.scalars(select(LeadEvent).order_by(LeadEvent.id))]
        assert kinds == [EventKind.CREATED, EventKind.ENQUIRY, EventKind.EMAIL, EventKind.EMAIL]

    sender = make_app(database_url, MAIL_SERVER=HOST, MAIL_PORT=smtp_server.port)
    sent = {
        message.rcpt_tos[0]: message for message in deliver(sender.test_cli_runner(), smtp_server)
    }
    alert_text = sent["hyderabad@physiotattva.example"].part("plain")
    assert "+91 98450 12345" in alert_text
    assert f"http://clinic.test/staff/leads/{lead_id}" in alert_text
    assert "Ravi Kumar" in sent["hyderabad@physiotattva.example"].message["Subject"]
    thanks_text = sent["ravi@example.com"].part("plain")
    assert "+91 40 4567 8900" in thanks_text
    assert "erase" in thanks_text


def test_the_client_address_is_stored_only_as_a_keyed_hash(client, app, database_url):
    client.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    assert submit_reach_out(client, json=True).status_code == 201
    [enquiry] = enquiries(app)
    assert re.fullmatch(r"[0-9a-f]{64}", enquiry.client_address_hash)
    assert "203.0.113.7" not in enquiry.client_address_hash
    # Keyed: not a plain digest anyone could recompute from the address alone...
    for algorithm in ("sha256", "sha3_256", "blake2s"):
        assert enquiry.client_address_hash != hashlib.new(algorithm, b"203.0.113.7").hexdigest()
    assert enquiry.client_address_hash != hashlib.blake2b(b"203.0.113.7").hexdigest()[:64]
    assert (
        enquiry.client_address_hash != hashlib.blake2b(b"203.0.113.7", digest_size=32).hexdigest()
    )
    # ...the same for the same address under this key, different under another app's key.
    other_app = make_app(database_url, SECRET_KEY="another-secret-key")
    other = other_app.test_client()
    other.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    assert submit_reach_out(other, json=True, phone="99000 11223", email="").status_code == 201
    client.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    assert submit_reach_out(client, json=True, phone="99000 44556", email="").status_code == 201
    other_key, same_key = enquiries(app)[1:]
    assert same_key.client_address_hash == enquiry.client_address_hash
    assert re.fullmatch(r"[0-9a-f]{64}", other_key.client_address_hash)
    assert other_key.client_address_hash != enquiry.client_address_hash
    with other_app.app_context():
        db.engine.dispose()


# --- Refusals -----------------------------------------------------------------------------------

INVALID = [
    ("name", "", "Please tell us your name."),
    ("name", "   ", "Please tell us your name."),
    ("name", "12345", "Please write your name in letters."),
    ("name", "x" * 121, "Please keep your name under 120 characters."),
    ("name", "Ravi\u202eKumar", "Please remove invisible or control characters from your name."),
    ("phone", "", "Please give a phone number we can call you on."),
    ("phone", "12345", "That does not look like a valid phone number. Please check the digits."),
    ("phone", "call me maybe", "Please enter a phone number such as 98450 12345."),
    ("phone", "9" * 40, "Please enter a phone number such as 98450 12345."),
    ("email", "ravi@", "Please enter an email address such as name@example.com."),
    ("email", "ravi example.com", "Please enter an email address such as name@example.com."),
    ("email", "a" * 250 + "@x.in", "That email address is too long."),
    (
        "email",
        "=?utf-8?q?evil?=@example.com",
        "Please enter an email address such as name@example.com.",
    ),
    ("branch", "", "Please choose the clinic nearest to you."),
    ("branch", "mumbai", "Please choose one of our clinics from the list."),
    ("interest", "astrology", "Please choose one of the options."),
    ("message", "x" * 2001, "Please keep your message under 2000 characters."),
    (
        "message",
        "hello\x00world",
        "Please remove invisible or control characters from your message.",
    ),
]


@pytest.mark.parametrize(("field", "value", "message"), INVALID)
def test_each_invalid_field_is_refused_as_json_with_its_reason(client, app, field, value, message):
    response = submit_reach_out(client, json=True, **{field: value})
    assert response.status_code == 422
    body = response.get_json()
    assert body["ok"] is False
    assert body["message"] == FAILURE_MESSAGE
    assert message in body["errors"][field]
    assert counts(app) == (0, 0, 0, 0)


@pytest.mark.parametrize(("field", "value", "message"), INVALID)
def test_each_invalid_field_reshows_the_page_with_its_reason(client, app, field, value, message):
    response = submit_reach_out(client, ARTICLE, **{field: value})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert form_notice(html) == ("error", FAILURE_MESSAGE)
    assert f'data-error-for="{field}">{escape(message)}</p>' in html
    # still the article the visitor was reading
    assert "Commanding Middle" in html
    assert counts(app) == (0, 0, 0, 0)


def test_the_refusal_says_what_to_fix_after_the_oops_each_linked_to_its_field(client):
    response = submit_reach_out(client, ARTICLE, phone="12", consent="")
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    status = re.search(r"data-form-status[^>]*>(.*?)</div>", html, re.S).group(1)
    assert status.index(FAILURE_MESSAGE) < status.index("error-summary")
    links = re.findall(r'<li><a href="#(\w+)">([^<]*)</a></li>', status)
    assert [field for field, _text in links] == ["phone", "consent"]
    assert "valid phone number" in links[0][1]


def test_a_refused_form_keeps_what_the_visitor_typed(client, app):
    response = submit_reach_out(
        client,
        "/contact",
        phone="not a phone",
        name="Meera Nair",
        message="Knee hurts <b>a lot</b>",
        branch="hyderabad",
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="Meera Nair"' in html
    assert 'value="not a phone"' in html
    assert "Knee hurts &lt;b&gt;a lot&lt;/b&gt;</textarea>" in html
    assert '<option selected value="hyderabad">' in html
    assert 'aria-invalid="true"' in html


def test_missing_consent_stores_nothing(client, app):
    response = submit_reach_out(client, json=True, omit=("consent",))
    assert response.status_code == 422
    assert response.get_json()["errors"] == {
        "consent": ["Please tick the box so we may contact you."]
    }
    assert counts(app) == (0, 0, 0, 0)


def test_honeypot_gets_the_normal_answer_and_stores_nothing(client, app):
    response = submit_reach_out(client, json=True, website="http://spam.example")
    assert response.status_code == 201
    assert response.get_json()["message"] == SUCCESS_MESSAGE
    assert counts(app) == (0, 0, 0, 0)


def test_missing_csrf_token_is_400_keeps_the_input_and_stores_nothing(client, app):
    response = submit_reach_out(client, ARTICLE, csrf_token="forged", name="Meera Nair")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    kind, text = form_notice(html)
    assert kind == "error" and text.startswith(FAILURE_MESSAGE) and "expired" in text
    assert 'value="Meera Nair"' in html
    assert counts(app) == (0, 0, 0, 0)

    response = submit_reach_out(client, json=True, omit=("csrf_token",))
    assert response.status_code == 400
    assert response.get_json()["ok"] is False
    assert response.get_json()["csrf_token"]
    assert counts(app) == (0, 0, 0, 0)


def test_source_page_off_the_site_is_not_followed(client, app):
    response = submit_reach_out(client, source_page="//evil.example/")
    assert response.status_code == 303
    assert response.headers["Location"] == "/#reach-out"
    assert enquiries(app)[0].source_page is None


def test_extra_fields_cannot_set_status_assignee_or_branch_id(client, app):
    response = submit_reach_out(
        client, json=True, status="visited", assignee_id="1", branch_id="2", lead_id="9"
    )
    assert response.status_code == 201
    lead = only_lead(app)
    assert lead.status == LeadStatus.NEW
    assert lead.assignee_id is None
    with app.app_context():
        assert db.session.get(Lead, lead.id).branch.slug == "bengaluru"


# --- Duplicates and returning people ------------------------------------------------------------


def test_a_repeated_submission_token_stores_one_enquiry_and_still_succeeds(client, app):
    data = reach_out_fields(client, "/")
    data.update(VALID_FIELDS)
    first = client.post("/leads", data=data, headers={"Accept": "application/json"})
    second = client.post("/leads", data=data, headers={"Accept": "application/json"})
    third = client.post("/leads", data=data)
    assert (first.status_code, second.status_code, third.status_code) == (201, 201, 303)
    assert counts(app)[:2] == (1, 1)
    assert counts(app)[3] == 2  # the emails were queued once


def test_repeat_phone_at_the_same_branch_adds_an_enquiry_to_the_same_lead(client, app):
    assert submit_reach_out(client, json=True, message="first").status_code == 201
    first_enquiry_at = only_lead(app).last_enquiry_at
    assert (
        submit_reach_out(
            client, json=True, phone="+91 98450 12345", email="", message="second"
        ).status_code
        == 201
    )
    lead = only_lead(app)
    assert lead.enquiry_count == 2
    assert [e.message for e in enquiries(app)] == ["first", "second"]
    assert lead.last_enquiry_at >= lead.created_at
    # The repeat moves the lead's last enquiry to the second enquiry's own time.
    first, second = enquiries(app)
    assert first_enquiry_at == first.created_at == lead.created_at
    assert lead.last_enquiry_at == second.created_at
    assert lead.last_enquiry_at > first_enquiry_at
    with app.app_context():
        repeat_flags = [
            e.detail["repeat"]
            for e in db.session.scalars(
                select(LeadEvent).where(LeadEvent.kind == EventKind.ENQUIRY).order_by(LeadEvent.id)
            )
        ]
    assert repeat_flags == [False, True]


def test_repeat_email_with_another_phone_is_a_lead_of_its_own(client, app):
    # The phone is the identity: an address shared by a family does not join two people.
    assert submit_reach_out(client, json=True).status_code == 201
    assert submit_reach_out(client, json=True, phone="99000 11223").status_code == 201
    with app.app_context():
        leads = db.session.scalars(select(Lead).order_by(Lead.id)).all()
        assert [(lead.phone, lead.enquiry_count) for lead in leads] == [
            ("+919845012345", 1),
            ("+919900011223", 1),
        ]
        stored = db.session.scalars(select(Enquiry.phone).order_by(Enquiry.id)).all()
        assert stored == ["+919845012345", "+919900011223"]


def test_repeat_with_the_same_phone_and_another_email_joins_the_lead(client, app):
    assert submit_reach_out(client, json=True).status_code == 201
    assert submit_reach_out(client, json=True, email="ravi.k@example.org").status_code == 201
    assert only_lead(app).enquiry_count == 2


def test_the_same_person_at_another_branch_is_a_separate_lead(client, app):
    assert submit_reach_out(client, json=True, branch="bengaluru").status_code == 201
    assert submit_reach_out(client, json=True, branch="hyderabad").status_code == 201
    assert counts(app)[0] == 2


def _age_only_lead(app, *, status: str, days: int) -> None:
    with app.app_context():
        lead = db.session.scalars(select(Lead)).one()
        lead.status = status
        lead.lost_reason = "unreachable" if status == LeadStatus.LOST else None
        lead.updated_at = utcnow() - timedelta(days=days)
        db.session.commit()


def test_a_lost_lead_returning_within_30_days_is_reopened(client, app):
    assert submit_reach_out(client, json=True).status_code == 201
    _age_only_lead(app, status=LeadStatus.LOST, days=10)
    assert submit_reach_out(client, json=True).status_code == 201
    lead = only_lead(app)
    assert lead.status == LeadStatus.CONTACTED
    assert lead.lost_reason is None
    assert lead.enquiry_count == 2


def test_a_closed_lead_older_than_30_days_starts_a_new_lead(client, app):
    assert submit_reach_out(client, json=True).status_code == 201
    _age_only_lead(app, status=LeadStatus.VISITED, days=45)
    assert submit_reach_out(client, json=True).status_code == 201
    assert counts(app)[0] == 2


def test_an_open_lead_collects_enquiries_however_old(client, app):
    assert submit_reach_out(client, json=True).status_code == 201
    _age_only_lead(app, status=LeadStatus.CONTACTED, days=90)
    assert submit_reach_out(client, json=True).status_code == 201
    assert only_lead(app).enquiry_count == 2


def test_a_reopening_enquiry_makes_a_staff_form_shown_before_it_stale(client, app):
    assert submit_reach_out(client, json=True).status_code == 201
    _age_only_lead(app, status=LeadStatus.LOST, days=10)
    lead_id = only_lead(app).id
    staff = enter_as(app.test_client(), app, make_staff(app, "manager", "bengaluru"))
    page = staff.get(f"/staff/leads/{lead_id}").get_data(as_text=True)
    seen = form_fields(page, ("action", f"/staff/leads/{lead_id}/status"))

    assert submit_reach_out(client, json=True).status_code == 201  # the person writes again
    # The manager's form still speaks of a lost lead: saving it must not pass unnoticed.
    response = staff.post(
        f"/staff/leads/{lead_id}/status", data={**seen, "status": "appointment_booked"}
    )
    assert response.status_code == 409
    assert "Someone else saved this lead while you had it open" in response.get_data(as_text=True)
    assert only_lead(app).status == LeadStatus.CONTACTED
