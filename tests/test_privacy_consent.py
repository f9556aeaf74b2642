"""Consent: versioned texts, what each enquiry records, and the notice that explains it."""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
from datetime import UTC

import pytest
from sqlalchemy import select

from crm import PROJECT_ROOT
from crm.clinic.consent import UnknownConsentVersion, consent_texts, find_consent
from crm.models import Enquiry
from crm.platform.database import utcnow
from crm.platform.extensions import db
from crm.platform.i18n import LANGUAGES
from tests.conftest import make_app
from tests.helpers import submit_reach_out

NEW_TEXT = (
    "I agree that the clinic may keep what I send here and call or email me about treatment "
    "& nothing else."
)


@pytest.fixture
def two_versions(monkeypatch, tmp_path):
    """A registry with a second, newer text in every language, as if one had just been
    published."""
    registry = tmp_path / "consent.json"
    texts = [
        {
            "version": text.version,
            "language": text.language,
            "published": text.published.isoformat(),
            "label": text.label,
        }
        for text in consent_texts()["2026-11-01"].values()
    ]
    texts += [
        {
            "version": "2027-01-15",
            "language": code,
            "published": "2027-01-15",
            "label": NEW_TEXT if code == "en" else f"({code}) {NEW_TEXT}",
        }
        for code in LANGUAGES
    ]
    registry.write_text(json.dumps({"texts": texts}))
    monkeypatch.setattr("crm.clinic.consent.REGISTRY", registry)
    return registry


def stored_enquiries(app):
    with app.app_context():
        rows = db.session.scalars(select(Enquiry).order_by(Enquiry.id)).all()
        db.session.expunge_all()
        return rows


def test_the_registry_has_a_text_for_the_default_version(app):
    text = find_consent(app.config["CONSENT_VERSION"])
    assert text is not None
    assert "health" in text.label and "privacy notice" in text.label
    assert list(consent_texts()) == ["2026-11-01"]


def test_the_form_shows_the_current_text_and_links_the_notice_version(client, app):
    page = client.get("/").get_data(as_text=True)
    label = find_consent(app.config["CONSENT_VERSION"]).label
    assert f'<label for="consent">{html.escape(label)}</label>' in page
    assert "privacy notice</a> (version 2026-11-01)" in page
    assert 'aria-describedby="consent-hint consent-error"' in page


def test_an_enquiry_stores_the_consent_version_and_when_it_was_given(client, app):
    before = utcnow()
    response = submit_reach_out(client, json=True)
    after = utcnow()
    assert response.status_code == 201
    [enquiry] = stored_enquiries(app)
    assert enquiry.consent_version == "2026-11-01"
    assert enquiry.consented_at.tzinfo == UTC
    assert before <= enquiry.consented_at <= after
    assert enquiry.consented_at == enquiry.created_at


def test_a_new_version_changes_the_words_shown_and_the_version_stored(
    two_versions, database_url, tmp_path
):
    os.environ["CRM_INSTANCE_PATH"] = str(tmp_path / "instance")
    app = make_app(database_url, CONSENT_VERSION="2027-01-15")
    try:
        client = app.test_client()
        page = client.get("/privacy").get_data(as_text=True)
        assert html.escape(NEW_TEXT) in page  # the form's label and the notice's quotation
        assert page.count(html.escape(NEW_TEXT)) == 2
        assert "Version 2027-01-15" in page
        assert submit_reach_out(client, json=True).status_code == 201
        [enquiry] = stored_enquiries(app)
        assert enquiry.consent_version == "2027-01-15"
    finally:
        with app.app_context():
            db.engine.dispose()


def test_the_app_refuses_to_start_with_a_version_that_has_no_text(database_url):
    with pytest.raises(UnknownConsentVersion) as refused:
        make_app(database_url, CONSENT_VERSION="2025-01-01")
    message = str(refused.value)
    assert "CRM_CONSENT_VERSION='2025-01-01'" in message
    assert "crm/content/consent.json" in message
    assert "published versions: 2026-11-01" in message


def test_the_command_line_refuses_too(tmp_path):
    env = {key: value for key, value in os.environ.items() if not key.startswith("CRM_")} | {
        "CRM_CONSENT_VERSION": "draft",
        "CRM_INSTANCE_PATH": str(tmp_path),
        "CRM_SECRET_KEY": "x" * 32,
    }
    result = subprocess.run(
        [sys.executable, "-c", "from crm.cli import cli; cli()", "routes"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode != 0
    assert "CRM_CONSENT_VERSION='draft' has no consent text" in result.stderr


def words(page: str) -> str:
    return " ".join(page.split())


def test_the_privacy_notice_shows_its_version_and_the_words_agreed_to(client, app):
    page = client.get("/privacy").get_data(as_text=True)
    assert '<p class="meta" id="notice-version">Version 2026-11-01</p>' in page
    label = html.escape(find_consent("2026-11-01").label)
    assert f'<blockquote id="consent-text">{label}</blockquote>' in page
    text = words(page)
    for fact in [
        "your name, phone number",
        "to call you back about treatment",
        "left untouched for 180 days",
        "deleted 30 days after sending",
        "mailto:privacy@physiotattva.example",
        "Data Protection Board of India",
    ]:
        assert fact in text, fact


def test_the_notice_states_the_configured_retention_periods(database_url, tmp_path):
    os.environ["CRM_INSTANCE_PATH"] = str(tmp_path / "instance")
    app = make_app(database_url, RETENTION_DAYS=90, OUTBOX_SENT_RETENTION_DAYS=14)
    try:
        text = words(app.test_client().get("/privacy").get_data(as_text=True))
        assert "left untouched for 90 days" in text
        assert "deleted 14 days after sending" in text
    finally:
        with app.app_context():
            db.engine.dispose()
