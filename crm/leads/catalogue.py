"""What visitors can tell us they need help with. Stored on leads by key."""

from __future__ import annotations

INTERESTS: dict[str, str] = {
    "back_pain": "Back pain",
    "neck_pain": "Neck or shoulder pain",
    "knee_pain": "Knee or joint pain",
    "sports_injury": "Sports injury",
    "post_surgery": "Rehabilitation after surgery",
    "acupressure": "Acupressure",
    "home_visit": "Home visit",
    "other": "Something else",
}


def interest_label(key: str | None) -> str:
    if not key:
        return "Not stated"
    return INTERESTS.get(key, key)
