"""Small request helpers shared by the blueprints."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import request


def wants_json() -> bool:
    """True when the caller asked for JSON (our form script does) rather than a page."""
    if request.is_json:
        return True
    accept = request.accept_mimetypes
    return accept.best_match(["text/html", "application/json"]) == "application/json" and (
        accept["application/json"] > accept["text/html"]
    )


def is_own_path(target: str | None) -> bool:
    """True for a path on this site ("/blog/x?y"), never for anything that leaves it.

    Rejects scheme-relative ("//evil"), backslash tricks ("/\\evil"), schemes ("https:evil",
    "javascript:"), control characters and anything with a host part.
    """
    if not target or len(target) > 500 or not target.startswith("/"):
        return False
    if target.startswith(("//", "/\\")) or "\\" in target:
        return False
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc
