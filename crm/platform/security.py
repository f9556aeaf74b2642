"""Headers on every response: CSP, no sniffing, no framing, no caching of staff data."""

from __future__ import annotations

from flask import Flask, Response, request

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)


# On every response, pages and static files alike (crm/platform/assets.py adds them to the latter).
BASE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "X-Frame-Options": "DENY",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


def init_app(app: Flask) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        for name, value in BASE_HEADERS.items():
            headers.setdefault(name, value)
        if request.is_secure:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.blueprint == "staff" or request.path.startswith("/staff"):
            headers["Cache-Control"] = "no-store"
        elif "Cache-Control" not in headers and response.mimetype == "text/html":
            # Pages carry a CSRF token and the visitor's session: never a shared cache.
            headers["Cache-Control"] = "private, no-cache"
        return response
