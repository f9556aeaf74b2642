"""Render a marketing page by its path, so a failed form is shown on the page it came from.

Offered to the intake when the site blueprint is registered (``crm.intake.render``): the site
calls only its own views, and the intake asks for a page by path.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request
from flask.blueprints import BlueprintSetupState
from werkzeug.exceptions import HTTPException

from crm.intake.render import offer_form_pages
from crm.platform.http import is_own_path
from crm.site import bp

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


@bp.record_once
def _offer_pages_to_the_form(state: BlueprintSetupState) -> None:
    offer_form_pages(state.app, render_page_at)
