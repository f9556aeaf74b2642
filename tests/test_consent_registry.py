"""The consent registry by version and language: what each page shows, what the app refuses."""

from __future__ import annotations

import hashlib
import html
import json
from datetime import date

import pytest

from crm.clinic.consent import UnknownConsentVersion, consent_texts, find_consent
from crm.platform.config import ConfigError
from crm.platform.i18n import LANGUAGES
from tests.conftest import make_app

# Every text ever published, by (version, language): the words an enquiry's consent was given
# to are read back from the registry, so a published text may never change. Publishing one is
# adding its fingerprint here, deliberately.
PUBLISHED = {
    ("2026-11-01", "en"): "6702fa523e507e978cf7775766e6921fa00195fdeff6a0edd5f0552c2e473694",
    ("2026-11-01", "kn"): "9308aa7df00f048c8f65e4ec85d3953ab85776c7142bd4b47b705fc71abb3407",
    ("2026-11-01", "te"): "97942c62a5424eaa99b083127010158c587d07fde5919fc5f6111e2ce1d5be1d",
    ("2026-11-01", "hi"): "b5310254cff2f8184a55a8f27f3776d26e9aa4d62be8ff5912c6c864a89a618c",
}


def test_no_published_text_ever_changes():
    found = {
        (text.version, text.language): hashlib.sha256(text.label.encode()).hexdigest()
        for texts in consent_texts().values()
        for text in texts.values()
    }
    assert found == PUBLISHED


def test_a_version_gains_a_language_with_its_own_date():
    english = find_consent("2026-11-01", "en")
    assert english.published == date(2026, 11, 1)
    for code in ("kn", "te", "hi"):
        translated = find_consent("2026-11-01", code)
        assert translated.published == date(2026, 12, 2), code
        assert translated.label != english.label
    assert find_consent("2026-11-01", "ta") is None
    assert find_consent("2025-01-01", "te") is None


@pytest.mark.parametrize("code", ["en", "kn", "te", "hi"])
def test_the_form_shows_the_consent_in_the_page_language(client, app, code):
    prefix = "" if code == "en" else f"/{code}"
    label = html.escape(find_consent(app.config["CONSENT_VERSION"], code).label)
    page = client.get(f"{prefix}/contact").get_data(as_text=True)
    assert f'<label for="consent">{label}</label>' in page
    notice = client.get(f"{prefix}/privacy").get_data(as_text=True)
    assert f'<blockquote id="consent-text">{label}</blockquote>' in notice


def _registry(tmp_path, monkeypatch, texts: list[dict[str, str]]) -> None:
    registry = tmp_path / "consent.json"
    registry.write_text(json.dumps({"texts": texts}, ensure_ascii=False), encoding="utf-8")
    monkeypatch.setattr("crm.clinic.consent.REGISTRY", registry)


def _current(languages) -> list[dict[str, str]]:
    return [
        {
            "version": text.version,
            "language": text.language,
            "published": text.published.isoformat(),
            "label": text.label,
        }
        for code, text in consent_texts()["2026-11-01"].items()
        if code in languages
    ]


def test_the_app_refuses_to_start_when_a_language_lacks_the_current_version(
    database_url, tmp_path, monkeypatch
):
    _registry(tmp_path, monkeypatch, _current({"en", "kn", "te"}))
    with pytest.raises(UnknownConsentVersion) as refused:
        make_app(database_url)
    message = str(refused.value)
    assert "CRM_CONSENT_VERSION='2026-11-01' has no consent text in Hindi (hi)" in message
    assert "crm/content/consent.json" in message


def test_a_new_version_in_english_only_is_refused_too(database_url, tmp_path, monkeypatch):
    texts = [
        *_current(set(LANGUAGES)),
        {"version": "2027-01-15", "language": "en", "published": "2027-01-15", "label": "New."},
    ]
    _registry(tmp_path, monkeypatch, texts)
    with pytest.raises(UnknownConsentVersion) as refused:
        make_app(database_url, CONSENT_VERSION="2027-01-15")
    assert "Kannada (kn), Telugu (te), Hindi (hi)" in str(refused.value)


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"language": "ta"}, "not a language of the site"),
        ({"version": "2027-01-15", "label": "  "}, "has no text"),
        ({"language": "en"}, "is listed twice"),
    ],
)
def test_a_broken_registry_is_refused_at_start(
    database_url, tmp_path, monkeypatch, change, complaint
):
    texts = _current(set(LANGUAGES))
    texts.append({**texts[-1], **change})
    _registry(tmp_path, monkeypatch, texts)
    with pytest.raises(ConfigError, match=complaint):
        make_app(database_url)
