"""The staff CRM: sign-in, dashboard, triage inbox, lead page, staff accounts."""

from flask import Blueprint

bp = Blueprint("staff", __name__, url_prefix="/staff")

from crm.staff import (  # noqa: E402,F401  (routes register on import)
    access,
    appointment_views,
    auth_views,
    clinician_views,
    dashboard_views,
    desk,
    export_views,
    inbox_views,
    lead_views,
    merge_views,
    user_views,
)
