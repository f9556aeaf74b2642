"""The consent texts the reach-out form has shown, by version (``content/consent.json``).

An enquiry stores the version its visitor agreed to; the registry is how that version is read
back as words later, so texts are only ever added to it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path

from flask import current_app

from crm.platform.config import ConfigError

REGISTRY = Path(__file__).resolve().parent.parent / "content" / "consent.json"


@dataclass(frozen=True, slots=True)
class ConsentText:
    version: str
    published: date
    label: str


class UnknownConsentVersion(ConfigError):
    """CONSENT_VERSION names a version with no text in the registry."""


@cache
def _load(path: Path) -> dict[str, ConsentText]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    texts: dict[str, ConsentText] = {}
    for entry in raw["versions"]:
        text = ConsentText(
            version=entry["version"],
            published=date.fromisoformat(entry["published"]),
            label=" ".join(entry["label"].split()),
        )
        if text.version in texts:
            raise ConfigError(f"{path.name}: consent version {text.version} is listed twice.")
        if not text.label:
            raise ConfigError(f"{path.name}: consent version {text.version} has no text.")
        texts[text.version] = text
    return texts


def consent_texts() -> dict[str, ConsentText]:
    """Every published consent text, oldest first."""
    return dict(_load(REGISTRY))


def find_consent(version: str | None) -> ConsentText | None:
    if not version:
        return None
    return _load(REGISTRY).get(version)


def check_consent_version(version: object) -> ConsentText:
    """The text for ``version``; refuses to run with a version that has none."""
    found = find_consent(version) if isinstance(version, str) else None
    if found is None:
        known = ", ".join(consent_texts()) or "none"
        raise UnknownConsentVersion(
            f"CRM_CONSENT_VERSION={version!r} has no consent text in "
            f"crm/content/consent.json (published versions: {known}). Add the text there "
            "first, or set CRM_CONSENT_VERSION to a published version."
        )
    return found


def current_consent() -> ConsentText:
    """The text the form shows now (the app refused to start if there is none)."""
    return check_consent_version(current_app.config["CONSENT_VERSION"])
