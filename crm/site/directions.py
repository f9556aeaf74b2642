"""Ways to reach a branch from a phone: a maps app, a call, a WhatsApp message.

Plain links only: no map widget, iframe or script from another site (the CSP stays strict, and
a visitor's phone opens its own maps or WhatsApp app).
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from flask import current_app, g

from crm.clinic.branches import active_branches
from crm.models import Branch
from crm.platform.i18n import gettext

MAPS_DIRECTIONS = "https://www.google.com/maps/dir/?"


def has_location(branch: Branch) -> bool:
    return branch.latitude is not None and branch.longitude is not None


def directions_url(branch: Branch) -> str:
    """Turn-by-turn directions to the branch's coordinates: opens the maps app on a phone."""
    if not has_location(branch):
        return MAPS_DIRECTIONS + urlencode({"api": "1", "destination": _one_line(branch)})
    destination = f"{branch.latitude},{branch.longitude}"
    return MAPS_DIRECTIONS + urlencode({"api": "1", "destination": destination})


def geo_uri(branch: Branch) -> str:
    """RFC 5870 geo: URI, which Android hands to whichever maps app the person uses."""
    if not has_location(branch):
        return ""
    label = quote(branch.name)
    return (
        f"geo:{branch.latitude},{branch.longitude}?q={branch.latitude},{branch.longitude}({label})"
    )


def whatsapp_message(branch: Branch) -> str:
    clinic = current_app.config["CLINIC_NAME"]
    # Translators: the start of a WhatsApp message; the visitor types their name after it.
    return gettext(
        "Hello %(clinic)s %(city)s, I would like to book a physiotherapy appointment. My name is ",
        clinic=clinic,
        city=branch.city,
    )


def whatsapp_url(branch: Branch) -> str:
    """wa.me link to the branch's number with a first message the visitor only finishes."""
    number = branch.phone.lstrip("+")
    return f"https://wa.me/{number}?text={quote(whatsapp_message(branch))}"


def phone_bar_branch() -> Branch | None:
    """The branch the phone bar calls: the one whose page this is, else the first listed.

    Without asking for the visitor's location (the site never does) the page is the best
    hint of which clinic is nearest.
    """
    branches = active_branches()
    preferred = g.get("preferred_branch")
    return next((b for b in branches if b.slug == preferred), branches[0] if branches else None)


def _one_line(branch: Branch) -> str:
    return ", ".join(line.strip() for line in branch.address.splitlines() if line.strip())
