"""Normalising what people type as a name, a phone number or an email address."""

from __future__ import annotations

import unicodedata
from functools import lru_cache

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from crm.platform.i18n import N_

DEFAULT_REGION = "IN"

# Joiners shape Indic scripts and emoji sequences; every other invisible format character
# (zero-width space, bidirectional overrides, byte-order marks) only hides or disguises text.
ALLOWED_FORMAT_CHARACTERS = frozenset({"\u200c", "\u200d"})
ALLOWED_CONTROL_CHARACTERS = frozenset({"\n", "\r", "\t"})


class InvalidContact(ValueError):
    """The value cannot be accepted; the message is written for the person who typed it.

    In English, marked for the catalogue: the public form shows it through ``gettext``.
    """


def unsafe_characters(value: str, *, multiline: bool = False) -> bool:
    """True if the text holds control or invisible formatting characters we will not store."""
    for ch in value:
        category = unicodedata.category(ch)
        if category == "Cc" and not (multiline and ch in ALLOWED_CONTROL_CHARACTERS):
            return True
        if category == "Cf" and ch not in ALLOWED_FORMAT_CHARACTERS:
            return True
        if category in ("Cs", "Co", "Cn"):
            return True
    return False


def clean_text(value: str | None, *, multiline: bool = False) -> str:
    """NFC-normalised and trimmed; single-line values also have their inner spaces collapsed."""
    if value is None:
        return ""
    value = unicodedata.normalize("NFC", value)
    if multiline:
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        return value.strip()
    return " ".join(value.split())


def normalise_name(raw: str | None) -> str:
    name = clean_text(raw)
    if unsafe_characters(name):
        raise InvalidContact(N_("Please remove invisible or control characters from your name."))
    if len(name) < 2:
        raise InvalidContact(N_("Please tell us your name."))
    if not any(ch.isalpha() for ch in name):
        raise InvalidContact(N_("Please write your name in letters."))
    return name


def normalise_phone(raw: str | None) -> str:
    """E.164 for an Indian number written any common way, or any valid number with +country."""
    text = clean_text(raw)
    if not text:
        raise InvalidContact(N_("Please give a phone number we can call you on."))
    if unsafe_characters(text) or len(text) > 32:
        raise InvalidContact(N_("Please enter a phone number such as 98450 12345."))
    try:
        number = phonenumbers.parse(text, DEFAULT_REGION)
    except phonenumbers.NumberParseException as error:
        raise InvalidContact(N_("Please enter a phone number such as 98450 12345.")) from error
    if not phonenumbers.is_valid_number(number):
        raise InvalidContact(
            N_("That does not look like a valid phone number. Please check the digits.")
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str | None) -> str | None:
    """The address in a canonical, lower-case form, or None when left blank."""
    text = clean_text(raw)
    if not text:
        return None
    # "=?" starts an encoded word, which mail programs would decode into something else.
    if unsafe_characters(text) or "=?" in text:
        raise InvalidContact(N_("Please enter an email address such as name@example.com."))
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as error:
        raise InvalidContact(
            N_("Please enter an email address such as name@example.com.")
        ) from error
    return result.normalized.lower()


def display_phone(e164: str | None) -> str:
    """A phone number the way a person reads it aloud: +91 98450 12345."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


@lru_cache(maxsize=64)
def display_branch_phone(e164: str | None) -> str:
    """A clinic's own number for display, cached: every public page shows the branches'
    numbers, and parsing one costs more than the rest of its line. Visitors' numbers never go
    through here, so no one's number lingers in the cache after an erasure."""
    return display_phone(e164)
