"""Where a visitor came from: campaign tags and referrer of the page they landed on.

Remembered in the session on arrival so an enquiry sent from a later page still credits the
campaign that brought the visitor in.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

from flask import request, session

from crm.intake.forms import UTM_MAX
from crm.leads.capture import UTM_FIELDS

UTM_KEY = "landing_utm"
REFERRER_KEY = "landing_referrer"


def remember_landing() -> None:
    """Called on every page view; records campaign tags and an outside referrer when present."""
    tags = {name: request.args.get(name, "")[:UTM_MAX] for name in UTM_FIELDS}
    if any(tags.values()):
        session[UTM_KEY] = {name: value for name, value in tags.items() if value}
    referrer = _outside_referrer(request.referrer)
    if referrer and REFERRER_KEY not in session:
        session[REFERRER_KEY] = referrer


def landing_utm() -> dict[str, str]:
    stored = session.get(UTM_KEY)
    return dict(stored) if isinstance(stored, dict) else {}


def landing_referrer() -> str | None:
    value = session.get(REFERRER_KEY)
    return value if isinstance(value, str) else None


def _outside_referrer(referrer: str | None) -> str | None:
    """Another site's address without its query string (which may hold personal data)."""
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    if parts.netloc == request.host:
        return None
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))[:500]
