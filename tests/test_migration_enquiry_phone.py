"""Upgrading a database that holds leads from before enquiries kept their phone."""

from __future__ import annotations

from pathlib import Path

from alembic.script import ScriptDirectory
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, select, text

from crm.leads.privacy import erase_person
from crm.models import Enquiry, Lead
from crm.platform.extensions import db
from tests.staff_helpers import enter_as, make_lead, make_staff

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
# The revision before enquiry.phone and lead.merged_into_id, whatever it is called.
BEFORE = ScriptDirectory(str(MIGRATIONS)).get_revision("7c1e5d9a2f40").down_revision


def test_upgrade_fills_in_the_phone_of_existing_enquiries(app):
    kept = make_lead(app, "hyderabad", name="Ravi Kumar", phone="+919845011111")
    erased = make_lead(app, "hyderabad", name="Asha Rao", phone="+919845044444")
    with app.app_context():
        erase_person(phone="+919845044444", operator="test")
        downgrade(revision=BEFORE)
        assert "phone" not in {
            column["name"] for column in inspect(db.engine).get_columns("enquiry")
        }
        # What the old intake did with an email-only match: another enquiry on the same lead,
        # its own number not stored anywhere.
        db.session.execute(
            text(
                "INSERT INTO enquiry (lead_id, name, email, consent_version, consented_at,"
                " submission_token, created_at)"
                " SELECT lead_id, 'Sunita Rao', email, consent_version, consented_at,"
                " 'old-token', created_at FROM enquiry WHERE lead_id = :lead"
            ),
            {"lead": kept},
        )
        db.session.commit()
        upgrade()
        db.session.remove()
        phones = db.session.execute(
            select(Enquiry.lead_id, Enquiry.name, Enquiry.phone).order_by(Enquiry.id)
        ).all()
        assert [tuple(row) for row in phones] == [
            (kept, "Ravi Kumar", "+919845011111"),
            (erased, "", None),  # erased before: no number comes back
            (kept, "Sunita Rao", "+919845011111"),
        ]
        assert db.session.scalars(select(Lead.merged_into_id)).all() == [None, None]

    # The old lead works as before: its page, the search, and a repeat joining it.
    manager = enter_as(app.test_client(), app, make_staff(app, "manager", "hyderabad"))
    assert manager.get(f"/staff/leads/{kept}").status_code == 200
    found = manager.get("/staff/leads", query_string={"q": "98450 11111"}).get_data(as_text=True)
    assert f'href="/staff/leads/{kept}"' in found
    again = make_lead(app, "hyderabad", name="Ravi Kumar", phone="+919845011111")
    assert again == kept
