"""Marketing pages. Each renders the reach-out form through the base template."""

from __future__ import annotations

from flask import Response, abort, current_app, g, jsonify, render_template, url_for
from flask.typing import ResponseReturnValue
from markupsafe import Markup
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from crm.backup import backup_health
from crm.clinic.branches import active_branches, branch_by_slug, branch_choices, weekly_hours
from crm.intake.landing import remember_landing
from crm.leads.catalogue import INTERESTS
from crm.mail.status import outbox_health
from crm.models import Branch
from crm.platform.extensions import db
from crm.platform.i18n import current_language, link_to
from crm.platform.network import bearer_token_matches, is_loopback_caller
from crm.site import bp, directions, seo
from crm.site.blog import all_articles, find_article
from crm.site.page_views import count_view

HOME_ARTICLES = 3


@bp.before_request
def _remember_landing() -> None:
    remember_landing()


@bp.after_request
def _count_view(response: Response) -> Response:
    return count_view(response)


@bp.app_context_processor
def _navigation() -> dict[str, object]:
    return {
        "nav_branches": branch_choices,
        "phone_bar_branch": directions.phone_bar_branch,
        "directions_url": directions.directions_url,
        "geo_uri": directions.geo_uri,
        "whatsapp_url": directions.whatsapp_url,
    }


@bp.app_template_filter("branch_link")
def _branch_link(branch: Branch) -> Markup:
    """A clinic's town, linked to its page: for lists inside translated sentences."""
    return link_to(url_for("site.branch", slug=branch.slug), branch.city)


@bp.get("/")
def home() -> str:
    branches = active_branches()
    return render_template(
        "site/home.html",
        branches=branches,
        articles=all_articles(current_language())[:HOME_ARTICLES],
        page_meta=seo.home_page(branches),
    )


@bp.get("/blog/")
def blog_index() -> str:
    return render_template(
        "site/blog_index.html",
        articles=all_articles(current_language()),
        page_meta=seo.blog_index_page(),
    )


@bp.get("/blog/<slug>")
def article(slug: str) -> str:
    found = find_article(slug, current_language())
    if found is None:
        abort(404)
    if found.interest in INTERESTS:
        g.preferred_interest = found.interest
    return render_template(
        "site/article.html",
        article=found,
        branches=active_branches(),
        page_meta=seo.article_page(found),
    )


@bp.get("/branches/<slug>")
def branch(slug: str) -> str:
    found = branch_by_slug(slug)
    if found is None:
        abort(404)
    g.preferred_branch = found.slug
    return render_template(
        "site/branch.html",
        branch=found,
        hours=weekly_hours(found),
        page_meta=seo.branch_page(found),
    )


@bp.get("/contact")
def contact() -> str:
    branches = active_branches()
    return render_template(
        "site/contact.html",
        branches=branches,
        hours={branch.slug: weekly_hours(branch) for branch in branches},
        page_meta=seo.contact_page(branches),
    )


@bp.get("/privacy")
def privacy() -> str:
    return render_template(
        "site/privacy.html", branches=active_branches(), page_meta=seo.privacy_page()
    )


@bp.get("/healthz")
def healthz() -> ResponseReturnValue:
    """Up (200) or down (503) for anyone; the figures only for this machine or the token."""
    detailed = is_loopback_caller() or bearer_token_matches(current_app.config["HEALTH_TOKEN"])
    # The answer differs by caller: no cache may keep one caller's answer for another.
    no_store = {"Cache-Control": "no-store"}
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        db.session.rollback()
        figures = {"database": "unavailable"} if detailed else {}
        return jsonify(status="error", **figures), 503, no_store
    if not detailed:
        return jsonify(status="ok"), 200, no_store
    # A mail backlog is worth a look, not a restart: the answer stays 200 while the database is up.
    try:
        outbox: dict[str, object] | str = outbox_health().as_dict()
    except SQLAlchemyError:
        db.session.rollback()
        outbox = "unavailable"
    backup = backup_health(current_app)
    return jsonify(status="ok", database="ok", outbox=outbox, backup=backup), 200, no_store
