"""Rate limits on what strangers can hammer: the public form and the staff sign-in.

Limits come from configuration (``CRM_RATELIMIT_*``) and use Flask-Limiter's shared storage
when ``CRM_RATELIMIT_STORAGE_URI`` points at one, so several workers count together.
The client address is the one ProxyFix trusted (see ``crm.platform.network``).
"""

from __future__ import annotations

import hashlib

from flask import current_app, request

from crm.accounts.sign_in_guard import account_digest, is_known_address
from crm.platform.contact import InvalidContact, normalise_phone
from crm.platform.network import client_address, client_address_key, hash_client_address


def _config(key: str):  # type: ignore[no-untyped-def]
    return lambda: current_app.config[key]


intake_per_address = _config("RATELIMIT_INTAKE_PER_ADDRESS")
intake_per_phone = _config("RATELIMIT_INTAKE_PER_PHONE")
login_per_address = _config("RATELIMIT_LOGIN_PER_ADDRESS")
login_per_account = _config("RATELIMIT_LOGIN_PER_ACCOUNT")
login_per_account_address = _config("RATELIMIT_LOGIN_PER_ACCOUNT_ADDRESS")


def _digest(value: str) -> str:
    # Limiter storage (e.g. Redis) need not hold phone numbers or emails in clear.
    return hashlib.sha256(value.encode()).hexdigest()[:32]


def address_key() -> str:
    return client_address_key()


def phone_key() -> str:
    """The submitted phone number, however it was written."""
    raw = request.form.get("phone", "")
    try:
        phone = normalise_phone(raw)
    except InvalidContact:
        phone = "".join(ch for ch in raw if ch.isdigit()) or "none"
    return "phone:" + _digest(phone)


def account_key() -> str:
    """The account a sign-in attempt is for, however its email was typed."""
    return "account:" + account_digest(request.form.get("email"))


def account_address_key() -> str:
    """This account from this address: where one stranger's guesses are stopped."""
    return "account-address:" + _digest(
        account_digest(request.form.get("email")) + "|" + client_address()
    )


def known_sign_in_address() -> bool:
    """The account has signed in from this address before: the per-account limit, which only
    a guesser spread over many addresses reaches, does not shut its owner out here."""
    if request.method != "POST":
        return False
    return is_known_address(request.form.get("email"), hash_client_address(client_address()))


def failed_sign_in(response) -> bool:  # type: ignore[no-untyped-def]
    """Only wrong credentials count against the sign-in limits."""
    return response.status_code == 401
