"""Render a marketing page by its path, so a failed form is shown on the page it came from."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request
from werkzeug.exceptions import HTTPException

from crm.http import is_own_path

# Pages that carry the reach-out form; anything else falls back to the contact page.
PAGES_WITH_FORM = frozenset(
    {
        "site.home",
        "site.blog_index",
        "site.article",
        "site.branch",
        "site.contact",
        "site.privacy",
    }
)
FALLBACK = "site.contact"


def render_page_at(path: str | None) -> str:
    endpoint, args = _resolve(path)
    view = current_app.view_functions[endpoint]
    try:
        return view(**args)
    except HTTPException:
        return current_app.view_functions[FALLBACK]()


def _resolve(path: str | None) -> tuple[str, dict[str, object]]:
    if not is_own_path(path):
        return FALLBACK, {}
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, args = adapter.match(urlsplit(path).path, method="GET")
    except HTTPException:
        return FALLBACK, {}
    if endpoint not in PAGES_WITH_FORM:
        return FALLBACK, {}
    return endpoint, args
