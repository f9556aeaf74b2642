"""Who is on the other end of a request, as far as we can trust it."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

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


def client_address_key() -> str:
    """The rate limits' key for this client: its keyed hash, so neither the limiter's storage
    (Redis, say) nor its "limit exceeded" log line holds the address in clear."""
    return "address:" + hash_client_address(client_address())[:32]


def is_loopback_caller() -> bool:
    """True when the request came from this machine: ``remote_addr`` after ProxyFix, so a
    request a trusted proxy forwarded from outside counts as the outside caller it is."""
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def bearer_token_matches(expected: str | None) -> bool:
    """The request's ``Authorization: Bearer`` token equals ``expected`` (compared in constant
    time). No token configured matches nothing."""
    if not expected:
        return False
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return False
    return hmac.compare_digest(token.strip().encode(), expected.encode())
