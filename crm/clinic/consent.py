"""The consent texts the reach-out form has shown, by version and language (content/consent.json).

An enquiry stores the version its visitor agreed to and the language they read it in; the
registry is how that pair is read back as the exact words later. So texts are only ever added:
a new version (then CONSENT_VERSION points at it), or a version's text in another language, each
with the date it was first shown. A published text is never edited or removed
(tests/test_consent_registry.py holds a fingerprint of each).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from flask import current_app

from crm.platform.config import ConfigError
from crm.platform.i18n import DEFAULT_LANGUAGE, LANGUAGES, current_language

REGISTRY = Path(__file__).resolve().parent.parent / "content" / "consent.json"


@dataclass(frozen=True, slots=True)
class ConsentText:
    version: str
    language: str
    published: date
    label: str


class UnknownConsentVersion(ConfigError):
    """CONSENT_VERSION names a version with no text in the registry, or none in a language
    the site is offered in."""


@cache
def _load(path: Path) -> dict[str, dict[str, ConsentText]]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    texts: dict[str, dict[str, ConsentText]] = {}
    for entry in raw["texts"]:
        text = ConsentText(
            version=entry["version"],
            language=entry["language"],
            published=date.fromisoformat(entry["published"]),
            label=" ".join(entry["label"].split()),
        )
        where = f"{path.name}: consent version {text.version} in {text.language!r}"
        if text.language not in LANGUAGES:
            raise ConfigError(f"{where}: not a language of the site ({', '.join(LANGUAGES)}).")
        if text.language in texts.get(text.version, {}):
            raise ConfigError(f"{where} is listed twice.")
        if not text.label:
            raise ConfigError(f"{where} has no text.")
        texts.setdefault(text.version, {})[text.language] = text
    return texts


def consent_texts() -> dict[str, dict[str, ConsentText]]:
    """Every published consent text: by version (oldest first), then by language."""
    return {version: dict(texts) for version, texts in _load(REGISTRY).items()}


def find_consent(version: str | None, language: str = DEFAULT_LANGUAGE) -> ConsentText | None:
    """The words of ``version`` as shown in ``language``; None if that text was never shown."""
    if not version:
        return None
    return _load(REGISTRY).get(version, {}).get(language)


def check_consent_version(version: object) -> ConsentText:
    """The English text of ``version``; refuses to run with a version that lacks a text in any
    language the site is offered in (a visitor would be asked to agree to words we do not keep).
    """
    texts = _load(REGISTRY).get(version, {}) if isinstance(version, str) else {}
    if not texts:
        known = ", ".join(consent_texts()) or "none"
        raise UnknownConsentVersion(
            f"CRM_CONSENT_VERSION={version!r} has no consent text in "
            f"crm/content/consent.json (published versions: {known}). Add the text there "
            "first, or set CRM_CONSENT_VERSION to a published version."
        )
    missing = [language for code, language in LANGUAGES.items() if code not in texts]
    if missing:
        names = ", ".join(f"{language.english_name} ({language.code})" for language in missing)
        raise UnknownConsentVersion(
            f"CRM_CONSENT_VERSION={version!r} has no consent text in {names} in "
            "crm/content/consent.json, and the site is offered in every language of "
            "crm/platform/i18n.py. Publish the translations there first, or keep "
            "CRM_CONSENT_VERSION at a version that has them all."
        )
    return texts[DEFAULT_LANGUAGE]


def current_consent(language: str | None = None) -> ConsentText:
    """The text the form shows now, in ``language`` (by default the page's).

    The app refused to start unless the current version has a text in every language.
    """
    version = current_app.config["CONSENT_VERSION"]
    check_consent_version(version)
    return _load(REGISTRY)[version][language or current_language()]
