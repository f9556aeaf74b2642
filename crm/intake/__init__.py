"""The public intake: POST /leads and the reach-out form on every page."""

from flask import Blueprint

bp = Blueprint("intake", __name__)

from crm.intake import views  # noqa: E402,F401  (routes register on import)
