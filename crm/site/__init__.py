"""The public website: home, blog, branch pages, contact and privacy notice."""

from flask import Blueprint

bp = Blueprint("site", __name__)

from crm.site import machines, pages, views  # noqa: E402,F401  (routes register on import)
