"""Telling people from bots without a third-party CAPTCHA.

- a honeypot field people never see (handled in the view: nothing is stored);
- a signed time the form was shown: a form sent back sooner than a person could fill it, or
  with no valid signature, is kept aside as filtered for staff to review, never alerted;
- a cap on links in the message (a clear validation error, since people paste links too);
- the rate limits in ``crm.intake.limits``;
- and a phone or email staff marked as spam, recognised by the intake (``crm.leads.capture``).
"""

from __future__ import annotations

import re
import time

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from crm.leads.capture import FilterReason

_SALT = "reach-out-form-shown-at"
_LINK = re.compile(
    r"(?:https?://|www\.)|\b[a-z0-9-]+\.(?:com|net|org|info|xyz|ru|top|biz|io)\b", re.I
)


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def sign_shown_at(moment: float | None = None) -> str:
    """The value of the form's hidden ``shown_at`` field: when it was rendered, signed."""
    return _serializer().dumps(round(moment if moment is not None else time.time(), 3))


def fill_reason(token: str | None, now: float | None = None) -> str | None:
    """Why a submission looks automated, or None when a person could have sent it."""
    if not token:
        return FilterReason.UNSIGNED
    try:
        shown_at = float(_serializer().loads(token))
    except (BadSignature, TypeError, ValueError):
        return FilterReason.UNSIGNED
    elapsed = (now if now is not None else time.time()) - shown_at
    if elapsed < float(current_app.config["FORM_MIN_FILL_SECONDS"]):
        return FilterReason.TOO_FAST
    return None


def link_count(text: str | None) -> int:
    return len(_LINK.findall(text or ""))
