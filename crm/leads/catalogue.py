"""What visitors can tell us they need help with. Stored on leads by key."""

from __future__ import annotations

from crm.platform.i18n import N_

# Stored and shown to staff in English; the public form shows them through gettext.
INTERESTS: dict[str, str] = {
    "back_pain": N_("Back pain"),
    "neck_pain": N_("Neck or shoulder pain"),
    "knee_pain": N_("Knee or joint pain"),
    "sports_injury": N_("Sports injury"),
    "post_surgery": N_("Rehabilitation after surgery"),
    "acupressure": N_("Acupressure"),
    "home_visit": N_("Home visit"),
    "other": N_("Something else"),
}


def interest_label(key: str | None) -> str:
    if not key:
        return "Not stated"
    return INTERESTS.get(key, key)
