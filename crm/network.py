"""Who is on the other end of a request, as far as we can trust it."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, request


def client_address() -> str:
    """The client's address; ``X-Forwarded-For`` counts only through ``TRUSTED_PROXIES`` hops.

    ``create_app`` wraps the WSGI app in ProxyFix with that many hops, so ``remote_addr`` is
    already the right value here and a forged header from the client changes nothing.
    """
    return request.remote_addr or "unknown"


def hash_client_address(address: str) -> str:
    """A keyed hash of an address: lets us count repeats without storing the address itself."""
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, b"client-address:" + address.encode(), hashlib.sha256).hexdigest()
